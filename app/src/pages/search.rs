use crate::api::search;
use crate::components::errors::page_error;
use crate::components::time::Time;
use crate::wire::ErrorCode;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// `/w/:ws/search?q=...`: messages found in a workspace, newest first;
/// each opens in its channel at that message.
#[component]
pub fn SearchPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let ws = move || params.read().get("ws").unwrap_or_default();
    let q = move || query.read().get("q").unwrap_or_default();
    let hits = crate::codec::page_data(move || (ws(), q()), |(ws, q)| search(ws, q));
    view! {
        <Title text=move || format!("Search: {}", q()) />
        <main class="search-page">
            <p><a href=move || crate::paths::workspace(&ws())>"← Back to the workspace"</a></p>
            <form method="get" role="search" class="search-again">
                <label for="search-page-q">"Search messages"</label>
                <input id="search-page-q" name="q" type="search" value=q required />
                <button type="submit">"Search"</button>
            </form>
            <p class="help">"Filters: in:#channel, from:@user, before:YYYY-MM-DD, after:YYYY-MM-DD."</p>
            <Transition fallback=|| view! { <p class="loading">"Searching…"</p> }>
                {move || Suspend::new(async move {
                    match hits.await {
                        Ok(found) if found.hits.is_empty() => view! {
                            <p class="empty">"No messages match. Try fewer or shorter words."</p>
                            {unsearched_note(&found.unsearched)}
                        }.into_any(),
                        Ok(found) => view! {
                            {unsearched_note(&found.unsearched)}
                            <h1 class="results-title">{format!("{} result{}", found.hits.len(), if found.hits.len() == 1 { "" } else { "s" })}</h1>
                            <ol class="search-results">
                                {found.hits.into_iter().map(|h| {
                                    let href = format!("{}?at={}#m-{}", crate::paths::channel(&h.workspace_id, &h.message.channel_id), h.message.id, h.message.id);
                                    view! {
                                        <li>
                                            <div class="meta">
                                                <span class="channel">"#" {h.channel_name}</span>
                                                <span class="author">{h.message.author.display_name}</span>
                                                <Time ms=h.message.created_at />
                                            </div>
                                            <p class="snippet" inner_html=h.highlight></p>
                                            <a href=href>"Open in channel"</a>
                                        </li>
                                    }
                                }).collect_view()}
                            </ol>
                        }.into_any(),
                        Err(e) if e.code == ErrorCode::Invalid => view! {
                            <p class="field-error" role="alert">{e.message}</p>
                        }.into_any(),
                        Err(e) => page_error(e),
                    }
                })}
            </Transition>
        </main>
    }
}

/// Says which sensitive channels search left out, if any.
fn unsearched_note(names: &[String]) -> Option<impl IntoView + use<>> {
    (!names.is_empty()).then(|| {
        let list = names.iter().map(|n| format!("#{n}")).collect::<Vec<_>>().join(", ");
        let text = match names.len() {
            1 => {
                format!("{list} is a sensitive channel: its messages are not searched. Open it to read them.")
            }
            _ => format!(
                "{list} are sensitive channels: their messages are not searched. Open them to read them."
            ),
        };
        view! { <p class="hint unsearched">{text}</p> }
    })
}
