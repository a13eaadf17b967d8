use crate::api::{ThreadsViewDto, threads_view};
use crate::components::sidebar::Sidebar;
use crate::components::time::Time;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// The threads the reader follows in a workspace, most recently answered
/// first, with how many replies they have not seen.
#[component]
pub fn ThreadsPage() -> impl IntoView {
    let params = use_params_map();
    let data = crate::codec::page_data(move || params.read().get("ws").unwrap_or_default(), threads_view);
    view! {
        {super::page_screen(data, threads_screen)}
    }
}

fn threads_screen(view: ThreadsViewDto) -> impl IntoView {
    let ThreadsViewDto { me, workspace, channels, threads } = view;
    let channels = RwSignal::new(channels);
    let title = format!("Threads · {}", workspace.name);
    let items = threads
        .into_iter()
        .map(|t| {
            let p = &t.parent;
            let href = crate::paths::thread(&workspace.id, &p.channel_id, &p.id);
            let replies = p.thread.as_ref().map_or(0, |s| s.reply_count);
            let last = p.thread.as_ref().map_or(p.created_at, |s| s.last_reply_at);
            let body = if p.deleted {
                view! { <p class="placeholder">"This message was deleted."</p> }.into_any()
            } else {
                match p.sent_from.is_some() {
                    true => view! { <p class="undecryptable">{crate::components::message_list::READ_IN_CONVERSATION}</p> }
                        .into_any(),
                    false => view! { <div class="body markdown" inner_html=p.html.clone()></div> }.into_any(),
                }
            };
            let unread = t.unread > 0;
            view! {
                <li class="followed-thread" class:unread=unread>
                    <a href=href>
                        <span class="channel">"#" {t.channel_name.clone()}</span>
                        <span class="author">{p.author.display_name.clone()}</span>
                        {body}
                        <span class="reply-count">{format!("{replies} {}", if replies == 1 { "reply" } else { "replies" })}</span>
                        " · last reply " <Time ms=last />
                        {(t.unread > 0).then(|| view! { <span class="badge new-replies">{format!("{} new", t.unread)}</span> })}
                    </a>
                </li>
            }
        })
        .collect_view();
    view! {
        <Title text=title />
        <div class="app">
            <Sidebar workspace=workspace.clone() channels current="threads".to_string() me=me.clone() />
            <main class="threads-view" aria-labelledby="threads-title">
                <h1 id="threads-title">"Threads"</h1>
                <p class="hint">"Threads you started, replied to or follow."</p>
                <ul class="followed-threads">{items}</ul>
            </main>
        </div>
    }
}
