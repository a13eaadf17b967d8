//! The parts of a conversation's encryption interface that only the browser
//! shows, loaded on demand: [`mount`] is `#[lazy]`, so the release build
//! splits them, and the views only they build, off the WebAssembly every
//! page loads. The server renders their containers ([`super::LazySlot`]).

use super::{Keys, KeysStatus, RECOVERY_KEY_ONCE, open};
use crate::e2ee::Ciphertext;
use crate::e2ee::client::{Done, Op, Problem, run};
use leptos::prelude::*;

/// A part, with what it shows.
pub enum Part {
    /// The keys panel's content: the recovery key shown once, the recovery
    /// key asked for (or a reset), keys that changed, the safety number.
    KeysPanel {
        keys: Keys,
        /// Display names by user id, for keys that changed.
        names: Vec<(String, String)>,
        /// In a conversation of two: the other person (id, display name),
        /// whose safety number is offered.
        other: Option<(String, String)>,
    },
    /// The button that encrypts a conversation, and why it could not.
    EncryptButton { me: i64, conversation: i64 },
    /// The edit box of the reader's own encrypted message.
    EditMessage {
        keys: Keys,
        message: i64,
        edited_at: Option<i64>,
        ciphertext: Ciphertext,
        attachments: usize,
    },
    /// An encrypted message's files: each one's key, and where its
    /// encrypted bytes are.
    Files { me: i64, files: Vec<(e2ee::FileKey, String)> },
}

/// Mounts `part` in `container` under `owner` (the page's: the part reads
/// its context and goes with it). Dropping what it returns unmounts it.
#[leptos::lazy]
pub fn mount(container: web_sys::HtmlElement, owner: Owner, part: Part) -> Box<dyn std::any::Any> {
    use leptos::mount::mount_to;
    owner.with(move || -> Box<dyn std::any::Any> {
        match part {
            Part::KeysPanel { keys, names, other } => {
                Box::new(mount_to(container, move || keys_panel(keys, names, other)))
            }
            Part::EncryptButton { me, conversation } => {
                Box::new(mount_to(container, move || encrypt_button(me, conversation)))
            }
            Part::EditMessage { keys, message, edited_at, ciphertext, attachments } => {
                Box::new(mount_to(container, move || {
                    edit_message(keys, message, edited_at, ciphertext, attachments)
                }))
            }
            Part::Files { me, files } => Box::new(mount_to(container, move || file_list(me, files))),
        }
    })
}

fn keys_panel(keys: Keys, names: Vec<(String, String)>, other: Option<(String, String)>) -> impl IntoView {
    let verify = other.map(|(id, name)| super::safety::safety_number(keys, id, name));
    let typed = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let submit = move |reset: bool| {
        busy.set(true);
        let op = match reset {
            true => Op::Reset { me: keys.me },
            false => Op::Restore { me: keys.me, recovery_key: typed.get_untracked() },
        };
        leptos::task::spawn_local(async move {
            let status = match run(op).await {
                Ok(Done::RecoveryKey { text, .. }) => Some(KeysStatus::NewRecoveryKey(text)),
                Ok(_) => None,
                Err(Problem::WrongRecoveryKey) => Some(KeysStatus::NeedsRecoveryKey { wrong: true }),
                Err(p) => Some(KeysStatus::Failed(p.explain())),
            };
            let _ = busy.try_set(false);
            // Keys restored or made: bring them up to date for the conversation.
            let ready = matches!(status, None | Some(KeysStatus::NewRecoveryKey(_)));
            if let Some(status) = status {
                let _ = keys.status.try_set(status);
            }
            if ready {
                open(keys, false);
            }
        });
    };
    let changed = move || {
        keys.changed.get().into_iter().map(|id| {
            let name = names.iter().find(|(i, _)| *i == id).map_or("Someone", |(_, n)| n.as_str()).to_string();
            view! {
                <p class="keys-changed" role="status">{format!("⚠ {name}'s keys changed: they set up their encryption again, \
                    so messages sent to their old devices are not readable on the new ones. Check with them that it was them.")}</p>
            }
        }).collect_view()
    };
    view! {
        {move || match keys.status.get() {
            KeysStatus::Waiting | KeysStatus::Ready => ().into_any(),
            KeysStatus::NewRecoveryKey(text) => view! {
                <div class="recovery-key" role="alertdialog" aria-labelledby="recovery-key-title">
                    <h2 id="recovery-key-title">"Your recovery key"</h2>
                    <p>"This browser now has your encryption keys. Write this key down and keep it safe: it is \
                        shown once, the server never sees it, and it is the only way to read your encrypted \
                        conversations on a new device or after this browser's data is cleared."</p>
                    <output class="recovery-key-text">{text}</output>
                    <button type="button" on:click=move |_| keys.status.set(KeysStatus::Ready)>"I have saved it"</button>
                </div>
            }.into_any(),
            KeysStatus::NeedsRecoveryKey { wrong } => view! {
                <form class="recovery-form" on:submit=move |ev| { ev.prevent_default(); submit(false); }>
                    <p>"Your encryption keys are on another device. Enter your recovery key to read this \
                        conversation in this browser."</p>
                    <label for="recovery-key-input">"Recovery key"</label>
                    <input id="recovery-key-input" autocomplete="off" spellcheck="false" required
                        aria-invalid=if wrong { "true" } else { "false" }
                        aria-describedby=wrong.then_some("recovery-key-error")
                        on:input=move |ev| typed.set(event_target_value(&ev)) />
                    {wrong.then(|| view! {
                        <p id="recovery-key-error" class="field-error" role="alert">
                            "That is not your recovery key: check it (52 letters and digits; dashes optional), \
                            or reset your keys if it is lost."
                        </p>
                    })}
                    <button type="submit" disabled=move || busy.get()>"Restore keys"</button>
                    <details class="reset-keys">
                        <summary>"I lost my recovery key"</summary>
                        <p>"Resetting makes new keys for you. Encrypted messages sent before today stay unreadable \
                            on your devices from now on, and the people you talk with are told that your keys changed."</p>
                        <button type="button" class="danger" disabled=move || busy.get()
                            on:click=move |_| submit(true)>"Reset my keys"</button>
                    </details>
                </form>
            }.into_any(),
            KeysStatus::Failed(why) => view! { <p class="field-error" role="alert">{why}</p> }.into_any(),
        }}
        {move || (keys.status.get() == KeysStatus::Ready && !keys.joined.get()).then(|| view! {
            <p class="keys-waiting" role="status">"This browser is waiting for the conversation's keys: another \
                member's device gives them when it is online. Until then it cannot send here, nor read what is sent."</p>
        })}
        {changed}
        {verify}
    }
}

/// Makes the conversation end-to-end encrypted; the page is then loaded
/// again (with the recovery key, when keys were made, kept for it in this
/// tab's session storage).
fn encrypt_button(me: i64, conversation: i64) -> impl IntoView {
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let busy = RwSignal::new(false);
    let encrypt = move |_| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            let window = web_sys::window().expect("a page has a window");
            match run(Op::Encrypt { me, conversation }).await {
                // Encrypted: the page that follows shows it (and asks
                // for the recovery key where the keys are elsewhere).
                Ok(done) => {
                    if let (Done::RecoveryKey { text, .. }, Ok(Some(storage))) =
                        (done, window.session_storage())
                    {
                        let _ = storage.set_item(RECOVERY_KEY_ONCE, &text);
                    }
                    let _ = window.location().reload();
                }
                Err(Problem::NeedsRecoveryKey) => {
                    let _ = window.location().reload();
                }
                Err(p) => {
                    let _ = error.try_set(Some(p.explain()));
                    let _ = busy.try_set(false);
                }
            }
        });
    };
    view! {
        <button type="button" on:click=encrypt disabled=move || busy.get()>"Encrypt this conversation"</button>
        {move || error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
    }
}

/// The text of the reader's own `message`, as read here, to change; the
/// new text is encrypted and replaces it. The list shows the edit when the
/// server announces it.
fn edit_message(
    keys: Keys,
    message: i64,
    edited_at: Option<i64>,
    ciphertext: Ciphertext,
    attachments: usize,
) -> impl IntoView {
    let loaded: RwSignal<Option<String>> = RwSignal::new(None);
    let typed = RwSignal::new(String::new());
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let busy = RwSignal::new(false);
    let read = Op::Read {
        me: keys.me,
        conversation: keys.conversation,
        message,
        edited_at,
        ciphertext,
        about: None,
    };
    leptos::task::spawn_local(async move {
        match run(read).await {
            Ok(Done::Text { text, .. }) => {
                let _ = typed.try_set(text.clone());
                let _ = loaded.try_set(Some(text));
            }
            Ok(_) => {
                let _ = error.try_set(Some("This message has no text to edit.".into()));
            }
            Err(p) => {
                let _ = error.try_set(Some(p.explain()));
            }
        }
    });
    let save = move |_| {
        let text = typed.get_untracked();
        if text.trim().is_empty() {
            error.set(Some("Write the new text, or delete the message.".into()));
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let place = keys.place.get_value();
            let op =
                Op::Edit { me: keys.me, conversation: keys.conversation, message, text, attachments, place };
            if let Err(p) = run(op).await {
                let _ = error.try_set(Some(p.explain()));
            }
            let _ = busy.try_set(false);
        });
    };
    let field = format!("edit-{message}");
    let error_id = format!("edit-{message}-error");
    view! {
        <div class="stack" role="group" aria-label="Edit message">
            <label for=field.clone() class="visually-hidden">"New text"</label>
            <textarea id=field rows="3" aria-describedby=error_id.clone()
                disabled=move || loaded.with(Option::is_none)
                prop:value=move || loaded.get().unwrap_or_default()
                on:input=move |ev| typed.set(event_target_value(&ev))></textarea>
            <button type="button" on:click=save disabled=move || busy.get() || loaded.with(Option::is_none)>"Save"</button>
            {move || error.get().map(|e| view! { <p id=error_id.clone() class="field-error" role="alert">{e}</p> })}
        </div>
    }
}

/// Pictures up to this size are opened at once and shown; other files when asked for.
const SHOWN_INLINE: u64 = 10 * 1024 * 1024;

/// An encrypted message's files, as its readers know them: each downloaded
/// and opened in the browser, then saved under its own name (a picture is
/// shown as well).
fn file_list(me: i64, files: Vec<(e2ee::FileKey, String)>) -> impl IntoView {
    let items = files
        .into_iter()
        .map(|(key, url)| {
            let picture = key.mime.starts_with("image/") && key.size <= SHOWN_INLINE;
            let opened: RwSignal<Option<ObjectUrl>, LocalStorage> = RwSignal::new_local(None);
            let error: RwSignal<Option<String>> = RwSignal::new(None);
            let busy = RwSignal::new(false);
            let (name, size) = (key.name.clone(), crate::components::message_list::human_size(key.size as i64));
            let fetch = {
                let (key, url) = (key.clone(), url.clone());
                move |then_save: bool| {
                    let had = opened.with_untracked(|o| {
                        o.as_ref().map(|object| then_save.then(|| object.save(&key.name))).is_some()
                    });
                    if had {
                        return;
                    }
                    busy.set(true);
                    let (key, url) = (key.clone(), url.clone());
                    leptos::task::spawn_local(async move {
                        match run(Op::OpenFile { me, url, key: key.clone() }).await {
                            Ok(Done::File(bytes)) => match ObjectUrl::new(&bytes, &key.mime) {
                                Some(object) => {
                                    if then_save {
                                        object.save(&key.name);
                                    }
                                    let _ = opened.try_set(Some(object));
                                }
                                None => {
                                    let _ = error.try_set(Some("The browser could not keep the file.".into()));
                                }
                            },
                            Ok(_) => {}
                            Err(p) => {
                                let _ = error.try_set(Some(p.explain()));
                            }
                        }
                        let _ = busy.try_set(false);
                    });
                }
            };
            if picture {
                fetch(false);
            }
            let label = format!("Download {name} ({size})");
            view! {
                <li class="attachment file" class:image=picture>
                    {move || opened.with(|o| o.as_ref().filter(|_| picture).map(|o| o.url.clone())).map(|src| {
                        view! { <img src=src alt=key.name.clone() /> }
                    })}
                    <button type="button" class="link" aria-label=label disabled=move || busy.get()
                        on:click=move |_| fetch(true)>
                        <span aria-hidden="true">"📎 "</span><span class="file-name">{name}</span>
                    </button>
                    " " <span class="file-size">{size}</span>
                    {move || error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
                </li>
            }
        })
        .collect_view();
    view! { <ul class="attachments" aria-label="Encrypted files">{items}</ul> }
}

/// A file opened in the browser, at an address of its own (`blob:`), let go
/// with the message.
struct ObjectUrl {
    url: String,
}

impl ObjectUrl {
    fn new(bytes: &[u8], mime: &str) -> Option<ObjectUrl> {
        let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
        let options = web_sys::BlobPropertyBag::new();
        options.set_type(mime);
        let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).ok()?;
        Some(ObjectUrl { url: web_sys::Url::create_object_url_with_blob(&blob).ok()? })
    }

    /// Saves it as `name`, as a download.
    fn save(&self, name: &str) {
        use wasm_bindgen::JsCast;
        let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
        let Some(link) =
            document.create_element("a").ok().and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok())
        else {
            return;
        };
        link.set_href(&self.url);
        link.set_download(name);
        link.click();
    }
}

impl Drop for ObjectUrl {
    fn drop(&mut self) {
        let _ = web_sys::Url::revoke_object_url(&self.url);
    }
}
