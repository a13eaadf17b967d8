use crate::api::workspace_entry;
use crate::components::errors::page_error;
use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_params_map;

/// `/w/:ws` opens the workspace's first channel.
#[component]
pub fn WorkspacePage() -> impl IntoView {
    let params = use_params_map();
    let target =
        crate::codec::page_data(move || params.read().get("ws").unwrap_or_default(), workspace_entry);
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match target.await {
                    Ok(path) => view! { <Redirect path /> }.into_any(),
                    Err(e) => page_error(e),
                }
            })}
        </Suspense>
    }
}
