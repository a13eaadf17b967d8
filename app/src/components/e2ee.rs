//! End-to-end encryption on a conversation's page: the state of this
//! browser's keys ([`provide_keys`], [`KeysPanel`]: set up, the recovery key
//! shown once, the recovery key asked for, reset, keys that changed), each
//! encrypted message's text ([`EncryptedBody`]) and the button that makes a
//! conversation encrypted ([`EncryptButton`]). The work is `crate::e2ee`'s.
//!
//! The panel's content and the button are only the browser's, and are
//! loaded on demand (`parts`, split off the WebAssembly every page loads):
//! the server renders their containers, and the browser mounts them there
//! once the page is hydrated (the panel) or opened (the button).
//!
//! Without JavaScript, an encrypted conversation's messages show
//! [`ENCRYPTED_WITHOUT_SCRIPT`] and nothing can be sent to it (the server
//! refuses plain text there, and says why).

use super::message_list::link_preview_view;
use crate::e2ee::{Ciphertext, ENCRYPTED_WITHOUT_SCRIPT};
use crate::wire::LinkPreviewDto;
use leptos::prelude::*;

#[cfg(feature = "hydrate")]
mod parts;
#[cfg(feature = "hydrate")]
mod safety;

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
    /// Counts the histories shared with this device that were kept: what
    /// was sent before it took part is tried again after each.
    pub histories: RwSignal<u32>,
    /// People whose keys changed while the page was open.
    pub changed: RwSignal<Vec<String>>,
    /// Where the conversation is (for what search here keeps of it).
    pub place: StoredValue<crate::e2ee::Place>,
}

/// Where the recovery key made while a conversation was being encrypted
/// waits for the page that follows (this tab's session storage, never the server).
#[cfg(feature = "hydrate")]
const RECOVERY_KEY_ONCE: &str = "parley-recovery-key-once";

/// For an encrypted conversation: makes [`Keys`] available to the page, and
/// in the browser opens the keys and follows the conversation's changes of keys.
pub fn provide_keys(me_id: &str, channel_id: &str, end_to_end: bool, place: crate::e2ee::Place) {
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
        histories: RwSignal::new(0),
        changed: RwSignal::new(Vec::new()),
        place: StoredValue::new(place),
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
            open(keys, false);
        });
        let channel = channel_id.to_string();
        let subscription = subscribe(move |event| match event {
            LiveEvent::Gateway(GatewayEvent::GroupCommit { commit }) if commit.channel_id == channel => {
                open(keys, false)
            }
            LiveEvent::Gateway(GatewayEvent::Welcome { welcome }) if welcome.channel_id == channel => {
                open(keys, false)
            }
            LiveEvent::Gateway(GatewayEvent::HistoryShare { channel_id, .. }) if *channel_id == channel => {
                open(keys, true)
            }
            LiveEvent::Gateway(GatewayEvent::DevicesUpdate { channel_id, .. }) if *channel_id == channel => {
                open(keys, false)
            }
            LiveEvent::Gateway(GatewayEvent::IdentityUpdate { channel_id, user_id })
                if *channel_id == channel =>
            {
                keys.changed.update(|list| {
                    if !list.contains(user_id) {
                        list.push(user_id.clone());
                    }
                });
                open(keys, false);
            }
            LiveEvent::Connected => open(keys, false),
            LiveEvent::Gateway(GatewayEvent::MessageDelete { channel_id, message_id, .. })
                if *channel_id == channel =>
            {
                forget(keys.me, vec![message_id.clone()])
            }
            LiveEvent::Gateway(GatewayEvent::MessagesPurge { channel_id, message_ids, .. })
                if *channel_id == channel =>
            {
                forget(keys.me, message_ids.clone())
            }
            _ => {}
        });
        on_cleanup(move || subscription.cancel());
    }
}

/// Opens this browser's keys for the conversation and brings them up to
/// date; `shared`: a history was shared with this device (kept by the
/// opening), so what was sent before it took part is read again.
#[cfg(feature = "hydrate")]
fn open(keys: Keys, shared: bool) {
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
            if shared {
                keys.histories.try_update(|n| *n += 1);
            }
        }
        let _ = keys.status.try_set(status);
    });
}

/// Takes deleted messages out of this device's search, if it is on here.
#[cfg(feature = "hydrate")]
fn forget(me: i64, ids: Vec<String>) {
    use crate::e2ee::client::{Op, run};
    if !crate::e2ee::search_on_here(me) {
        return;
    }
    let messages: Vec<i64> = ids.iter().filter_map(|id| id.parse().ok()).collect();
    leptos::task::spawn_local(async move {
        if let Err(p) = run(Op::Forget { me, messages }).await {
            leptos::logging::warn!("deleted messages stay in this device's search: {}", p.explain());
        }
    });
}

#[cfg(feature = "hydrate")]
fn session_take(key: &str) -> Option<String> {
    let storage = web_sys::window()?.session_storage().ok()??;
    let value = storage.get_item(key).ok()??;
    let _ = storage.remove_item(key);
    Some(value)
}

/// Above an encrypted conversation: what this browser's keys need from the
/// person. Its state is in its attributes (`data-keys`, `data-joined`); its
/// content is mounted in the browser.
#[component]
pub fn KeysPanel(
    /// Display names by user id, for keys that changed.
    names: Vec<(String, String)>,
    /// In a conversation of two: the other person (id, display name),
    /// whose safety number is offered.
    other: Option<(String, String)>,
) -> impl IntoView {
    let Some(keys) = use_context::<Keys>() else { return ().into_any() };
    let slot = LazySlot::new();
    #[cfg(feature = "hydrate")]
    {
        // After hydration, which must find what the server rendered.
        let mut part = Some(parts::Part::KeysPanel { keys, names, other });
        Effect::new(move || {
            if slot.container.get().is_some()
                && let Some(part) = part.take()
            {
                slot.fill(part);
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (names, other);
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
            <div node_ref=slot.container></div>
        </section>
    }
    .into_any()
}

/// For a direct conversation or private channel not yet encrypted: makes
/// it end-to-end encrypted, after saying what that changes. The button is
/// mounted when this is opened.
#[component]
pub fn EncryptButton(me_id: String, channel_id: String) -> impl IntoView {
    let slot = LazySlot::new();
    let on_toggle = move |_| {
        #[cfg(feature = "hydrate")]
        if let (Ok(me), Ok(conversation)) = (me_id.parse::<i64>(), channel_id.parse::<i64>()) {
            slot.fill(parts::Part::EncryptButton { me, conversation });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&me_id, &channel_id);
    };
    view! {
        <details class="encrypt-conversation" on:toggle=on_toggle>
            <summary>"🔒 Encrypt end to end"</summary>
            <p>"Messages sent from now on are readable only on the members' devices: the server cannot read \
                them, search them or quote them in notifications, and integrations do not see them. Earlier \
                messages stay as they are. This cannot be undone."</p>
            <div node_ref=slot.container>
                <noscript><p>"Encryption happens in the browser: turn JavaScript on to encrypt this conversation."</p></noscript>
            </div>
        </details>
    }
}

/// The edit box of the viewer's own encrypted message: its text is read,
/// and the new one encrypted, in the browser (mounted when opened).
#[component]
pub fn EncryptedEdit(
    message_id: String,
    edited_at: Option<i64>,
    ciphertext: Ciphertext,
    /// How many files the message has (an edit keeps their keys).
    attachments: usize,
) -> impl IntoView {
    let Some(keys) = use_context::<Keys>() else { return ().into_any() };
    let slot = LazySlot::new();
    let on_toggle = move |_| {
        #[cfg(feature = "hydrate")]
        if let Ok(message) = message_id.parse::<i64>() {
            slot.fill(parts::Part::EditMessage {
                keys,
                message,
                edited_at,
                ciphertext: ciphertext.clone(),
                attachments,
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&message_id, edited_at, &ciphertext, keys, attachments);
    };
    view! {
        <details class="edit" on:toggle=on_toggle>
            <summary>"Edit"</summary>
            <div node_ref=slot.container>
                <noscript><p>"Encrypted messages are edited in the browser: turn JavaScript on to edit this one."</p></noscript>
            </div>
        </details>
    }
    .into_any()
}

/// A container the server renders (nearly) empty, which the browser fills
/// with a part of the interface loaded on demand (`parts`). The part goes
/// with the page.
#[derive(Clone, Copy)]
struct LazySlot {
    container: NodeRef<leptos::html::Div>,
    #[cfg(feature = "hydrate")]
    state: StoredValue<SlotState, LocalStorage>,
}

#[cfg(feature = "hydrate")]
struct SlotState {
    /// The page's owner, under which the part is mounted.
    owner: Owner,
    started: bool,
    /// What unmounts the part when dropped (with the page).
    _mounted: Option<Box<dyn std::any::Any>>,
}

impl LazySlot {
    fn new() -> Self {
        LazySlot {
            container: NodeRef::new(),
            #[cfg(feature = "hydrate")]
            state: StoredValue::new_local(SlotState {
                owner: Owner::current().unwrap_or_default(),
                started: false,
                _mounted: None,
            }),
        }
    }

    /// Loads `part` and mounts it in the container, once; the container
    /// must be on the page.
    #[cfg(feature = "hydrate")]
    fn fill(self, part: parts::Part) {
        let Some(container) = self.container.get_untracked() else { return };
        let Some(owner) = self
            .state
            .try_update_value(|s| (!std::mem::replace(&mut s.started, true)).then(|| s.owner.clone()))
            .flatten()
        else {
            return;
        };
        leptos::task::spawn_local(async move {
            let mounted = parts::mount(container.into(), owner, part).await;
            // Kept until the page goes; dropped (unmounted) at once if it went meanwhile.
            let _ = self.state.try_update_value(|s| s._mounted = Some(mounted));
        });
    }
}

/// An encrypted message's text, decrypted in the browser (or why it cannot
/// be), and its files, opened in the browser when asked for.
#[component]
pub fn EncryptedBody(
    message_id: String,
    /// Its author's name and when it was sent, as the page shows them.
    author: String,
    at: i64,
    /// When it was last edited (its text then is another than before).
    edited_at: Option<i64>,
    ciphertext: Ciphertext,
    /// Where its files' encrypted bytes are (their keys are in the message).
    attachments: Vec<String>,
) -> impl IntoView {
    let message_id_shown = message_id.clone();
    let shown: RwSignal<Option<Result<String, String>>> = RwSignal::new(None);
    // Who shared it with this device, when it was read from a shared history.
    let shared_by: RwSignal<Option<String>> = RwSignal::new(None);
    // The previews its sender's browser made of the pages it links to.
    let previews: RwSignal<Vec<LinkPreviewDto>> = RwSignal::new(Vec::new());
    let file_slot = LazySlot::new();
    #[cfg(feature = "hydrate")]
    if let (Some(keys), Ok(message)) = (use_context::<Keys>(), message_id.parse::<i64>()) {
        use crate::e2ee::Unreadable;
        use crate::e2ee::client::{Done, Op, Problem, run};
        use crate::e2ee::search::About;
        // Tried when the keys are ready, and again after each update of
        // them until it reads (keys may arrive after the message), unless
        // what stopped it cannot change (damaged); one sent before this
        // device took part, again only when a history is shared with it.
        let settled = StoredValue::new(false);
        let before_joined: StoredValue<Option<u32>> = StoredValue::new(None);
        // Its files (key and download address), listed once it is read.
        let listed: RwSignal<Vec<(e2ee::FileKey, String)>> = RwSignal::new(Vec::new());
        Effect::new(move || {
            if !listed.with(Vec::is_empty) && file_slot.container.get().is_some() {
                file_slot.fill(parts::Part::Files { me: keys.me, files: listed.get_untracked() });
            }
        });
        Effect::new(move || {
            keys.synced.track();
            let histories = keys.histories.get();
            match keys.status.get() {
                KeysStatus::NeedsRecoveryKey { .. } => {
                    shown.set(Some(Err(Unreadable::NoKeysHere.explain())));
                    return;
                }
                status if !status.can_read() => return,
                _ => {}
            }
            if settled.get_value() || before_joined.get_value() == Some(histories) {
                return;
            }
            let op = Op::Read {
                me: keys.me,
                conversation: keys.conversation,
                message,
                edited_at,
                ciphertext: ciphertext.clone(),
                about: Some(About { place: keys.place.get_value(), author: author.clone(), at }),
            };
            let attachments = attachments.clone();
            leptos::task::spawn_local(async move {
                let (text, last) = match run(op).await {
                    Ok(Done::Text { html, files, previews: made, shared_by: sharer, .. }) => {
                        let _ = listed.try_set(files.into_iter().zip(attachments).collect());
                        let _ = previews.try_set(made.into_iter().enumerate().map(preview_shown).collect());
                        let _ = shared_by.try_set(sharer);
                        (Ok(html), true)
                    }
                    Ok(_) => (Err(Unreadable::Damaged("not a message".into()).explain()), true),
                    Err(Problem::Unreadable(Unreadable::BeforeJoined)) => {
                        before_joined.try_set_value(Some(histories));
                        (Err(Unreadable::BeforeJoined.explain()), false)
                    }
                    Err(p) => (Err(p.explain()), !p.may_change()),
                };
                settled.try_set_value(last);
                let _ = shown.try_set(Some(text));
            });
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (message_id, author, at, edited_at, ciphertext, attachments);
    view! {
        {move || match shown.get() {
            None => view! { <p class="undecryptable" data-state="encrypted">{ENCRYPTED_WITHOUT_SCRIPT}</p> }
                .into_any(),
            Some(Ok(html)) => {
                view! { <div class="body markdown" data-state="decrypted" inner_html=html></div> }.into_any()
            }
            Some(Err(why)) => view! { <p class="undecryptable" data-state="undecryptable">{why}</p> }.into_any(),
        }}
        {move || shared_by.get().map(|name| view! {
            <p class="shared-history" title="Read from the history this person's device shared with yours when you were added: it says what their device read.">
                {format!("Shared with you by {name}")}
            </p>
        })}
        <div class="encrypted-files" node_ref=file_slot.container></div>
        {move || {
            let id = message_id_shown.clone();
            previews.with(|all| all.iter().map(|p| link_preview_view(&id, p, None)).collect_view())
        }}
    }
}

/// A preview in an encrypted message as the page shows it (with no image:
/// Parley keeps none for it, and the reader never loads the linked site's).
#[cfg(feature = "hydrate")]
fn preview_shown((position, p): (usize, e2ee::PagePreview)) -> LinkPreviewDto {
    LinkPreviewDto {
        position: position as i64,
        url: p.url,
        title: p.title,
        description: p.description,
        site_name: p.site_name,
        image_url: None,
    }
}
