//! End-to-end encryption on a conversation's page: the state of this
//! browser's keys ([`provide_keys`], [`KeysPanel`]: set up, the recovery key
//! shown once, the recovery key asked for, reset, keys that changed), each
//! encrypted message's text ([`EncryptedBody`]) and the button that makes a
//! conversation encrypted ([`EncryptButton`]). The work is `crate::e2ee`'s.
//!
//! Without JavaScript, an encrypted conversation's messages show
//! [`ENCRYPTED_WITHOUT_SCRIPT`] and nothing can be sent to it (the server
//! refuses plain text there, and says why).

use crate::e2ee::ENCRYPTED_WITHOUT_SCRIPT;
use leptos::prelude::*;

/// Where this browser's keys stand for the conversation on screen.
#[derive(Debug, Clone, PartialEq)]
pub enum KeysStatus {
    /// Not looked at yet (the server's page; the page before hydration).
    Waiting,
    Ready,
    /// Keys were just made here: the recovery key, shown once.
    NewRecoveryKey(String),
    /// The person's identity is on another device: the recovery key, please.
    NeedsRecoveryKey {
        wrong: bool,
    },
    Failed(String),
}

impl KeysStatus {
    #[cfg(feature = "hydrate")]
    fn can_read(&self) -> bool {
        matches!(self, KeysStatus::Ready | KeysStatus::NewRecoveryKey(_))
    }
}

/// The encrypted conversation on screen, for its messages and composers.
#[derive(Clone, Copy)]
pub struct Keys {
    pub me: i64,
    pub conversation: i64,
    pub status: RwSignal<KeysStatus>,
    /// Counts the times the keys were brought up to date: what could not
    /// be read is tried again after each.
    pub synced: RwSignal<u32>,
    /// Whether this browser's device takes part in the conversation yet.
    pub joined: RwSignal<bool>,
    /// People whose keys changed while the page was open.
    pub changed: RwSignal<Vec<String>>,
}

/// Where the recovery key made while a conversation was being encrypted
/// waits for the page that follows (this tab's session storage, never the server).
#[cfg(feature = "hydrate")]
const RECOVERY_KEY_ONCE: &str = "parley-recovery-key-once";

/// For an encrypted conversation: makes [`Keys`] available to the page, and
/// in the browser opens the keys and follows the conversation's changes of keys.
pub fn provide_keys(me_id: &str, channel_id: &str, end_to_end: bool) {
    let (Ok(me), Ok(conversation)) = (me_id.parse::<i64>(), channel_id.parse::<i64>()) else { return };
    if !end_to_end {
        return;
    }
    let keys = Keys {
        me,
        conversation,
        status: RwSignal::new(KeysStatus::Waiting),
        synced: RwSignal::new(0),
        joined: RwSignal::new(false),
        changed: RwSignal::new(Vec::new()),
    };
    provide_context(keys);
    #[cfg(feature = "hydrate")]
    {
        use crate::live::{LiveEvent, subscribe};
        use crate::wire::GatewayEvent;
        // After hydration, which must find what the server rendered.
        Effect::new(move || {
            if let Some(text) = session_take(RECOVERY_KEY_ONCE) {
                keys.status.set(KeysStatus::NewRecoveryKey(text));
            }
            open(keys);
        });
        let channel = channel_id.to_string();
        let subscription = subscribe(move |event| match event {
            LiveEvent::Gateway(GatewayEvent::GroupCommit { commit }) if commit.channel_id == channel => {
                open(keys)
            }
            LiveEvent::Gateway(GatewayEvent::Welcome { welcome }) if welcome.channel_id == channel => {
                open(keys)
            }
            LiveEvent::Gateway(GatewayEvent::DevicesUpdate { channel_id, .. }) if *channel_id == channel => {
                open(keys)
            }
            LiveEvent::Gateway(GatewayEvent::IdentityUpdate { channel_id, user_id })
                if *channel_id == channel =>
            {
                keys.changed.update(|list| {
                    if !list.contains(user_id) {
                        list.push(user_id.clone());
                    }
                });
                open(keys);
            }
            LiveEvent::Connected => open(keys),
            _ => {}
        });
        on_cleanup(move || subscription.cancel());
    }
}

/// Opens this browser's keys for the conversation and brings them up to date.
#[cfg(feature = "hydrate")]
fn open(keys: Keys) {
    use crate::e2ee::client::{Done, Op, Problem, run};
    leptos::task::spawn_local(async move {
        let status = match run(Op::Open { me: keys.me, conversation: keys.conversation }).await {
            Ok(Done::RecoveryKey { text, joined }) => {
                let _ = keys.joined.try_set(joined);
                KeysStatus::NewRecoveryKey(text)
            }
            Ok(done) => {
                let _ = keys.joined.try_set(matches!(done, Done::Opened { joined: true }));
                match keys.status.get_untracked() {
                    shown @ KeysStatus::NewRecoveryKey(_) => shown,
                    _ => KeysStatus::Ready,
                }
            }
            Err(Problem::NeedsRecoveryKey) => KeysStatus::NeedsRecoveryKey { wrong: false },
            Err(p) => KeysStatus::Failed(p.explain()),
        };
        if status == KeysStatus::Ready || matches!(status, KeysStatus::NewRecoveryKey(_)) {
            keys.synced.try_update(|n| *n += 1);
        }
        let _ = keys.status.try_set(status);
    });
}

#[cfg(feature = "hydrate")]
fn session_take(key: &str) -> Option<String> {
    let storage = web_sys::window()?.session_storage().ok()??;
    let value = storage.get_item(key).ok()??;
    let _ = storage.remove_item(key);
    Some(value)
}

/// Above an encrypted conversation: what this browser's keys need from the person.
#[component]
pub fn KeysPanel(
    /// Display names by user id, for keys that changed.
    names: Vec<(String, String)>,
    /// In a conversation of two: the other person (id, display name),
    /// whose safety number is offered.
    other: Option<(String, String)>,
) -> impl IntoView {
    let Some(keys) = use_context::<Keys>() else { return ().into_any() };
    let verify = other.map(|(id, name)| view! { <SafetyNumber keys other_id=id name /> });
    let typed = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let submit = move |reset: bool| {
        #[cfg(feature = "hydrate")]
        {
            use crate::e2ee::client::{Done, Op, Problem, run};
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
                    open(keys);
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (reset, busy, typed);
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
        <section class="keys-panel" aria-label="End-to-end encryption keys"
            data-joined=move || if keys.joined.get() { "true" } else { "false" }
            data-keys=move || match keys.status.get() {
            KeysStatus::Waiting => "waiting",
            KeysStatus::Ready => "ready",
            KeysStatus::NewRecoveryKey(_) => "new-recovery-key",
            KeysStatus::NeedsRecoveryKey { .. } => "needs-recovery-key",
            KeysStatus::Failed(_) => "failed",
        }>
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
        </section>
    }
    .into_any()
}

/// The safety number of the reader and `name`, to compare with them (in
/// person or on a call): equal numbers mean nobody stands between them.
/// Worked out when opened.
#[component]
fn SafetyNumber(keys: Keys, other_id: String, name: String) -> impl IntoView {
    let number: RwSignal<Option<Result<String, String>>> = RwSignal::new(None);
    let opened = RwSignal::new(false);
    let started = StoredValue::new(false);
    // Once opened and the keys are ready (they may not be yet, just after the page loads).
    #[cfg(feature = "hydrate")]
    Effect::new(move || {
        use crate::e2ee::client::{Done, Op, run};
        if !opened.get() || !keys.status.with(KeysStatus::can_read) || started.get_value() {
            return;
        }
        let Ok(other) = other_id.parse::<i64>() else { return };
        started.set_value(true);
        leptos::task::spawn_local(async move {
            let shown = match run(Op::SafetyNumber { me: keys.me, other }).await {
                Ok(Done::SafetyNumber(digits)) => Ok(digits),
                Ok(_) => Err("No safety number came back.".to_string()),
                Err(p) => Err(p.explain()),
            };
            let _ = number.try_set(Some(shown));
        });
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (&other_id, keys, started);
    let on_toggle = move |_| opened.set(true);
    view! {
        <details class="safety-number" on:toggle=on_toggle>
            <summary>{format!("Verify {name}'s keys")}</summary>
            <p>{format!("Compare this number with {name}'s, in person or on a call. If they are the same, \
                your messages reach {name} and nobody else; if {name}'s keys change, the number does too.")}</p>
            {move || match number.get() {
                None => view! { <p class="muted">"Working out the number in this browser…"</p> }.into_any(),
                Some(Ok(digits)) => view! { <output class="safety-digits" aria-label="Safety number">{digits}</output> }.into_any(),
                Some(Err(why)) => view! { <p class="field-error" role="alert">{why}</p> }.into_any(),
            }}
        </details>
    }
}

/// An encrypted message's text, decrypted in the browser (or why it cannot be).
#[component]
pub fn EncryptedBody(message_id: String, ciphertext: String) -> impl IntoView {
    let shown: RwSignal<Option<Result<String, String>>> = RwSignal::new(None);
    #[cfg(feature = "hydrate")]
    if let (Some(keys), Ok(message)) = (use_context::<Keys>(), message_id.parse::<i64>()) {
        use crate::e2ee::Unreadable;
        use crate::e2ee::client::{Done, Op, run};
        // Tried when the keys are ready, and again after each update of
        // them until it reads (keys may arrive after the message), unless
        // what stopped it cannot change (sent before this device took
        // part, damaged).
        let settled = StoredValue::new(false);
        Effect::new(move || {
            keys.synced.track();
            match keys.status.get() {
                KeysStatus::NeedsRecoveryKey { .. } => {
                    shown.set(Some(Err(Unreadable::NoKeysHere.explain())));
                    return;
                }
                status if !status.can_read() => return,
                _ => {}
            }
            if settled.get_value() {
                return;
            }
            let op = Op::Read {
                me: keys.me,
                conversation: keys.conversation,
                message,
                ciphertext: ciphertext.clone(),
            };
            leptos::task::spawn_local(async move {
                let (text, last) = match run(op).await {
                    Ok(Done::Text { html, .. }) => (Ok(html), true),
                    Ok(_) => (Err(Unreadable::Damaged("not a message".into()).explain()), true),
                    Err(p) => (Err(p.explain()), !p.may_change()),
                };
                settled.try_set_value(last);
                let _ = shown.try_set(Some(text));
            });
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (message_id, ciphertext);
    move || match shown.get() {
        None => view! { <p class="undecryptable" data-state="encrypted">{ENCRYPTED_WITHOUT_SCRIPT}</p> }
            .into_any(),
        Some(Ok(html)) => {
            view! { <div class="body markdown" data-state="decrypted" inner_html=html></div> }.into_any()
        }
        Some(Err(why)) => view! { <p class="undecryptable" data-state="undecryptable">{why}</p> }.into_any(),
    }
}

/// For a direct conversation or private channel not yet encrypted: makes
/// it end-to-end encrypted, after saying what that changes.
#[component]
pub fn EncryptButton(me_id: String, channel_id: String) -> impl IntoView {
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let busy = RwSignal::new(false);
    let hydrated = use_context::<crate::Hydrated>().map(|h| h.0);
    let encrypt = move |_| {
        #[cfg(feature = "hydrate")]
        {
            use crate::e2ee::client::{Done, Op, Problem, run};
            let (Ok(me), Ok(conversation)) = (me_id.parse::<i64>(), channel_id.parse::<i64>()) else {
                return;
            };
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
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&me_id, &channel_id);
    };
    view! {
        <details class="encrypt-conversation">
            <summary>"🔒 Encrypt end to end"</summary>
            <p>"Messages sent from now on are readable only on the members' devices: the server cannot read \
                them, search them or quote them in notifications, and integrations do not see them. Earlier \
                messages stay as they are. This cannot be undone."</p>
            <button type="button" on:click=encrypt
                disabled=move || busy.get() || !hydrated.map(|h| h.get()).unwrap_or(false)>"Encrypt this conversation"</button>
            <noscript><p>"Encryption happens in the browser: turn JavaScript on to encrypt this conversation."</p></noscript>
            {move || error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
        </details>
    }
}
