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
                            <EncryptedSearch ws=ws() q=q() me_id=found.me_id />
                        }.into_any(),
                        Ok(found) => view! {
                            {unsearched_note(&found.unsearched)}
                            <EncryptedSearch ws=ws() q=q() me_id=found.me_id.clone() />
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

/// Where search of encrypted conversations stands in this browser.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Encrypted {
    /// As the server renders it (and as it stays without JavaScript).
    NotHere,
    Off,
    Searching,
    Found {
        hits: Vec<EncryptedHit>,
        searched: usize,
    },
    Failed(String),
}

/// A message found in an encrypted conversation, by this browser.
#[derive(Debug, Clone, PartialEq)]
struct EncryptedHit {
    href: String,
    label: String,
    author: String,
    at: i64,
    snippet: String,
}

/// How much of a found encrypted message is shown.
#[cfg(feature = "hydrate")]
const SNIPPET_CHARS: usize = 200;

/// Encrypted conversations, searched in this browser (the server cannot):
/// where the person turned it on here, over what this browser has shown of
/// them; else a note of what was not searched, and the switch.
#[component]
fn EncryptedSearch(ws: String, q: String, me_id: String) -> impl IntoView {
    let state = RwSignal::new(Encrypted::NotHere);
    #[cfg(feature = "hydrate")]
    let turn = {
        let me = me_id.parse::<i64>().unwrap_or_default();
        let search = move || {
            let (ws, q) = (ws.clone(), q.clone());
            leptos::task::spawn_local(async move {
                let _ = state.try_set(find_encrypted(me, ws, q).await);
            });
        };
        let first = search.clone();
        Effect::new(move || match crate::e2ee::search_on_here(me) {
            true => {
                state.set(Encrypted::Searching);
                first();
            }
            false => state.set(Encrypted::Off),
        });
        move |on: bool| {
            use crate::e2ee::client::{Op, run};
            let search = search.clone();
            state.set(Encrypted::Searching);
            leptos::task::spawn_local(async move {
                match run(Op::SearchHere { me, on }).await {
                    Ok(_) => crate::e2ee::note_search_here(me, on),
                    Err(p) => {
                        let _ = state.try_set(Encrypted::Failed(p.explain()));
                        return;
                    }
                }
                match on {
                    true => search(),
                    false => {
                        let _ = state.try_set(Encrypted::Off);
                    }
                }
            });
        }
    };
    #[cfg(not(feature = "hydrate"))]
    let turn = {
        let _ = (ws, q, me_id);
        |_: bool| {}
    };
    let turn = StoredValue::new(turn);
    view! {
        <section class="encrypted-search" aria-live="polite"
            data-state=move || match state.get() {
                Encrypted::NotHere => "not-here",
                Encrypted::Off => "off",
                Encrypted::Searching => "searching",
                Encrypted::Found { .. } => "found",
                Encrypted::Failed(_) => "failed",
            }>
            <h2>"Encrypted conversations"</h2>
            {move || match state.get() {
                Encrypted::NotHere => view! {
                    <p class="hint">"The server cannot search end-to-end encrypted conversations. With JavaScript on, \
                        a browser where you turn it on searches the ones it has shown."</p>
                }.into_any(),
                Encrypted::Off => view! {
                    <p class="hint">"Not searched: search of encrypted conversations is off in this browser. Turned on, \
                        it keeps what this browser shows of them, encrypted and here only, and searches that."</p>
                    <button type="button" on:click=move |_| turn.with_value(|t| t(true))>
                        "Search encrypted conversations in this browser"
                    </button>
                }.into_any(),
                Encrypted::Searching => view! { <p class="loading">"Searching in this browser…"</p> }.into_any(),
                Encrypted::Failed(why) => view! { <p class="field-error" role="alert">{why}</p> }.into_any(),
                Encrypted::Found { hits, searched } => view! {
                    <p class="hint">{format!(
                        "Searched in this browser: {searched} encrypted message{} it has shown since search was turned on here. \
                         Open a conversation to add its messages.",
                        if searched == 1 { "" } else { "s" },
                    )}</p>
                    {match hits.is_empty() {
                        true => view! { <p class="empty">"No encrypted messages here match."</p> }.into_any(),
                        false => view! {
                            <ol class="search-results encrypted-results">
                                {hits.into_iter().map(|h| view! {
                                    <li>
                                        <div class="meta">
                                            <span class="channel">{h.label}</span>
                                            <span class="author">{h.author}</span>
                                            <Time ms=h.at />
                                        </div>
                                        <p class="snippet">{h.snippet}</p>
                                        <a href=h.href>"Open in conversation"</a>
                                    </li>
                                }).collect_view()}
                            </ol>
                        }.into_any(),
                    }}
                    <button type="button" class="secondary" on:click=move |_| turn.with_value(|t| t(false))>
                        "Turn off (forget what this browser kept for search)"
                    </button>
                }.into_any(),
            }}
        </section>
    }
}

/// Searches `ws`'s encrypted conversations in this browser.
#[cfg(feature = "hydrate")]
async fn find_encrypted(me: i64, ws: String, q: String) -> Encrypted {
    use crate::e2ee::client::{Done, Op, run};
    match run(Op::Search { me, workspace: ws.clone(), query: q }).await {
        Ok(Done::Found(found)) => Encrypted::Found {
            searched: found.searched,
            hits: found
                .hits
                .into_iter()
                .map(|e| EncryptedHit {
                    href: format!(
                        "{}?at={}#m-{}",
                        crate::paths::channel(&ws, &e.conversation.to_string()),
                        e.message,
                        e.message
                    ),
                    label: e.label,
                    author: e.author,
                    at: e.at,
                    snippet: e.text.chars().take(SNIPPET_CHARS).collect(),
                })
                .collect(),
        },
        Ok(_) => {
            // Its storage was cleared: search is off here after all.
            crate::e2ee::note_search_here(me, false);
            Encrypted::Off
        }
        Err(p) => Encrypted::Failed(p.explain()),
    }
}
