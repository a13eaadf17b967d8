//! This browser as a device of its person's: the operations pages ask for
//! ([`Op`]), run one at a time across the browser's tabs ([`super::lock`])
//! on the keys kept in IndexedDB ([`super::idb`]), talking to the delivery
//! service under `/api/communication/`.
//!
//! Setting up (the first encrypted conversation opened by a person with no
//! identity anywhere) makes their identity, this browser's device and a
//! recovery key, shown once; the key backup on the server is sealed with it.
//! A person whose identity is on another device types the recovery key
//! here ([`Op::Restore`]): the identity comes back from the backup and signs
//! a new device for this browser, and the backed-up device is kept beside
//! it, read only, for the messages sent before (it never encrypts: two
//! copies of one device sending would reuse its keys). Or they start over
//! ([`Op::Reset`]): a new identity, whose change everyone is shown.

use super::Place;
use super::search::{self, About};
use super::{Unreadable, idb, lock};
use crate::wire::{
    ApiError, ClaimedKeyPackageDto, ConversationDevicesDto, DeviceDto, GroupCommitDto, IdentityKeyDto,
    KeyBackupDto, KeyPackageCountDto, MessageDto, MessagePageDto, SharedHistoryDto, WelcomeDto,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use e2ee::{
    Backup, Claimed, Content, Device, DeviceKeys, DeviceRef, FileKey, Identity, PagePreview, Received,
    RecoveryKey, SharedHistory, SharedMessage,
};
use gloo_net::http::{Method, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::cell::RefCell;
use web_sys::IdbDatabase;

/// What a page asks of this browser's keys, for the signed-in person `me`.
#[derive(Debug, Clone)]
pub enum Op {
    /// Have keys here (set up for a person who has none anywhere), and
    /// bring `conversation`'s keys in line with its members' devices.
    Open { me: i64, conversation: i64 },
    /// Makes `conversation` end-to-end encrypted, for good, then opens it.
    Encrypt { me: i64, conversation: i64 },
    /// A message's text (and its HTML) and its files' keys, decrypted or as
    /// read before; an edited one as of its edit `edited_at`.
    /// Kept for search here (when it is on) with what the page says `about` it.
    Read {
        me: i64,
        conversation: i64,
        message: i64,
        edited_at: Option<i64>,
        ciphertext: super::Ciphertext,
        about: Option<About>,
    },
    /// Encrypts `text` and `files` (each with a key of its own, which the
    /// message carries) and posts them.
    Send {
        me: i64,
        conversation: i64,
        text: String,
        nonce: String,
        thread_id: Option<String>,
        files: Vec<web_sys::File>,
        place: Place,
    },
    /// Encrypts `text` and replaces `me`'s own `message` with it (its
    /// `attachments` keep the keys this browser kept of them).
    Edit { me: i64, conversation: i64, message: i64, text: String, attachments: usize, place: Place },
    /// Downloads a file of an encrypted message from `url` and opens it
    /// with its `key` (needs none of the device's keys: no lock is taken).
    OpenFile { me: i64, url: String, key: FileKey },
    /// The safety number of `me` and `other`, from this browser's identity
    /// and the one the server has for them.
    SafetyNumber { me: i64, other: i64 },
    /// Brings the person's identity here from the key backup.
    Restore { me: i64, recovery_key: String },
    /// Starts over with a new identity (and recovery key).
    Reset { me: i64 },
    /// Searches `workspace`'s encrypted messages that this device keeps for search.
    Search { me: i64, workspace: String, query: String },
    /// Turns search of encrypted conversations on or off on this device.
    SearchHere { me: i64, on: bool },
    /// These messages were deleted: out of this device's search.
    Forget { me: i64, messages: Vec<i64> },
    /// The keys this device takes part in `conversation`'s calls with, at
    /// its current epoch (brought up to date first).
    CallKeys { me: i64, conversation: i64 },
}

impl Op {
    fn me(&self) -> i64 {
        match self {
            Op::Open { me, .. }
            | Op::Encrypt { me, .. }
            | Op::Read { me, .. }
            | Op::Send { me, .. }
            | Op::Edit { me, .. }
            | Op::OpenFile { me, .. }
            | Op::SafetyNumber { me, .. }
            | Op::Restore { me, .. }
            | Op::Reset { me }
            | Op::Search { me, .. }
            | Op::SearchHere { me, .. }
            | Op::Forget { me, .. }
            | Op::CallKeys { me, .. } => *me,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Done {
    Ready,
    /// The keys are up to date for the conversation; `joined`: this device
    /// takes part in it (it can send, and read what is sent from now on).
    Opened {
        joined: bool,
    },
    /// Keys were made here: the new recovery key, to show once (and
    /// `joined`, as for [`Done::Opened`]).
    RecoveryKey {
        text: String,
        joined: bool,
    },
    /// A message: its Markdown, that rendered to sanitised HTML, the keys
    /// of its files (in the order of its attachments), the previews of
    /// the pages it links to (made by its sender's browser), and who
    /// shared it with this device when it was added, if it was read from
    /// a shared history.
    Text {
        text: String,
        html: String,
        files: Vec<FileKey>,
        previews: Vec<PagePreview>,
        shared_by: Option<String>,
    },
    /// A file's bytes, opened.
    File(Vec<u8>),
    /// The message as posted, or as edited.
    Sent(Box<MessageDto>),
    /// Sixty digits, in twelve groups of five.
    SafetyNumber(String),
    /// What a search of this device's encrypted messages found.
    Found(super::search::Found),
    /// Search of encrypted conversations is not on in this browser.
    SearchOff,
    /// This device's keys of a conversation's calls (see `super::media`).
    CallKeys(e2ee::CallKeys),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// The person's identity is on another device: this browser needs the
    /// recovery key (or a reset).
    NeedsRecoveryKey,
    WrongRecoveryKey,
    /// This device has no keys for the conversation yet, so nothing sent
    /// from it could be read.
    NoKeysYet,
    /// The other person has not set up end-to-end encryption.
    NoIdentity,
    /// This device has no keys for the conversation yet, so it cannot
    /// take part in its encrypted call.
    NoCallKeysYet,
    Unreadable(Unreadable),
    /// The server refused the request, and said why (for the person).
    Refused(String),
    /// Anything else, said for the person.
    Failed(String),
}

impl Problem {
    /// Whether trying again after the keys change may succeed: not for a
    /// message sent before this device took part, nor a damaged one.
    pub fn may_change(&self) -> bool {
        !matches!(self, Problem::Unreadable(Unreadable::BeforeJoined | Unreadable::Damaged(_)))
    }

    pub fn explain(&self) -> String {
        match self {
            Problem::NeedsRecoveryKey => "Your keys are on another device. Enter your recovery key to read \
                your encrypted conversations in this browser."
                .into(),
            Problem::WrongRecoveryKey => "That is not your recovery key: check it (52 letters and digits, \
                dashes optional), or reset your keys if it is lost."
                .into(),
            Problem::NoKeysYet => "This browser does not have the conversation's keys yet, so nobody could \
                read what it sends. They are made when another member opens the conversation, or given by \
                their device when it is online; your message is kept in the box."
                .into(),
            Problem::NoCallKeysYet => "This browser does not have the conversation's keys yet, so it could \
                neither hear nor be heard in its encrypted call. They are given by another member's device \
                when it is online: open the conversation, then join again."
                .into(),
            Problem::NoIdentity => "They have not set up end-to-end encryption yet: there is nothing to \
                compare until they open an encrypted conversation."
                .into(),
            Problem::Unreadable(why) => why.explain(),
            Problem::Refused(why) => why.clone(),
            Problem::Failed(why) => {
                format!("End-to-end encryption failed: {why}. Reload the page to try again.")
            }
        }
    }
}

impl From<e2ee::Error> for Problem {
    fn from(e: e2ee::Error) -> Problem {
        match e {
            e2ee::Error::WrongRecoveryKey => Problem::WrongRecoveryKey,
            other => Problem::Failed(other.to_string()),
        }
    }
}

/// Runs `op` while this tab holds the keys. Everything this reaches is
/// loaded with it, when first called (see the module above's notes).
#[leptos::lazy]
pub async fn run(op: Op) -> Result<Done, Problem> {
    if let Op::OpenFile { url, key, .. } = op {
        return open_file(&url, &key).await.map(Done::File);
    }
    let work = async move {
        let db = idb::open().await.map_err(Problem::Failed)?;
        let done = apply(&db, op).await;
        // Closed at once, so that clearing the site's data is never blocked by it.
        db.close();
        done
    };
    lock::exclusive(work).await.unwrap_or_else(|e| Err(Problem::Failed(e)))
}

async fn apply(db: &IdbDatabase, op: Op) -> Result<Done, Problem> {
    let me = op.me();
    // Search needs none of the conversations' keys.
    match &op {
        Op::Search { workspace, query, .. } => return search::find(db, me, workspace, query).await,
        Op::SearchHere { on, .. } => return search::turn(db, me, *on).await,
        Op::Forget { messages, .. } => return search::forget(db, me, messages).await,
        _ => {}
    }
    if let Op::Read { conversation, message, edited_at, about, .. } = &op
        && let Some(Content { text, files, previews }) = kept(db, me, (*message, *edited_at)).await?
    {
        if let Some(about) = about {
            search::keep(db, me, *conversation, (*message, *edited_at), about, &text).await?;
        }
        let html = markdown::render(&text);
        let shared_by = idb::get(db, idb::READ, &shared_key(me, *message)).await.map_err(Problem::Failed)?;
        return Ok(Done::Text { text, html, files, previews, shared_by });
    }
    if let Op::Encrypt { conversation, .. } = op {
        // First, so that a person whose keys are elsewhere finds the
        // conversation asking for their recovery key.
        let path = format!("/api/communication/channels/{conversation}/end_to_end/");
        call(Method::POST, &path, Some(json!({}))).await?;
    }
    let (mut keys, made) = match op {
        Op::Restore { ref recovery_key, .. } => (Keys::restore(me, recovery_key).await?, None),
        Op::Reset { .. } => {
            let (keys, recovery) = Keys::set_up(me, true).await?;
            (keys, Some(recovery))
        }
        _ => match Keys::load(db, me).await? {
            Some(keys) => (keys, None),
            None if matches!(op, Op::Open { .. } | Op::Encrypt { .. }) => {
                let (keys, recovery) = Keys::set_up(me, false).await?;
                (keys, Some(recovery))
            }
            None => return Err(Problem::Unreadable(Unreadable::NoKeysHere)),
        },
    };
    if made.is_some() {
        keys.write(db).await?;
        idb::ask_persistent().await;
    }
    let done = keys.apply(db, op).await;
    keys.write(db).await?;
    CACHED.with(|c| *c.borrow_mut() = Some(keys));
    match (done, made) {
        (Ok(Done::Opened { joined }), Some(text)) => Ok(Done::RecoveryKey { text, joined }),
        (Ok(Done::Ready), Some(text)) => Ok(Done::RecoveryKey { text, joined: false }),
        (done, _) => done,
    }
}

/// Why a request to the delivery service failed.
struct Refusal {
    status: u16,
    message: String,
}

impl From<Refusal> for Problem {
    fn from(r: Refusal) -> Problem {
        match r.status {
            400..=499 => Problem::Refused(r.message),
            _ => Problem::Failed(r.message),
        }
    }
}

/// A request that got no answer.
fn no_answer(e: gloo_net::Error) -> Refusal {
    Refusal { status: 0, message: format!("the server could not be reached ({e})") }
}

async fn call(method: Method, path: &str, body: Option<serde_json::Value>) -> Result<Response, Refusal> {
    let builder = RequestBuilder::new(path).method(method);
    let sent = match body {
        Some(body) => builder.json(&body).map_err(no_answer)?.send().await,
        None => builder.send().await,
    };
    answered(sent.map_err(no_answer)?).await
}

/// `response` if it succeeded, else the server's reason.
async fn answered(response: Response) -> Result<Response, Refusal> {
    if response.ok() {
        return Ok(response);
    }
    let status = response.status();
    let message = match response.json::<ApiError>().await {
        Ok(e) => e.message,
        Err(_) => format!("the server answered {status}"),
    };
    Err(Refusal { status, message })
}

async fn json<T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<T, Refusal> {
    read_json(call(method, path, body).await?).await
}

async fn read_json<T: DeserializeOwned>(response: Response) -> Result<T, Refusal> {
    response
        .json()
        .await
        .map_err(|e| Refusal { status: 0, message: format!("an answer not understood ({e})") })
}

fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

fn unb64(text: &str) -> Result<Vec<u8>, Problem> {
    B64.decode(text).map_err(|e| Problem::Failed(format!("the server sent malformed base64 ({e})")))
}

fn number(id: &str) -> Result<i64, Problem> {
    id.parse().map_err(|_| Problem::Failed(format!("the server sent {id:?} for an id")))
}

/// This browser's keys for one person.
struct Keys {
    me: i64,
    identity: Identity,
    device: Device,
    device_id: String,
    /// The device restored from the key backup, for reading what was sent
    /// to it (never for sending).
    history: Option<Device>,
    recovery: RecoveryKey,
    /// The key backup's version, as last written or read here.
    backup_version: i64,
    /// Bumped at each write to IndexedDB: another tab's write since shows.
    version: u64,
}

/// [`Keys`] as IndexedDB holds them.
#[derive(Serialize, Deserialize)]
struct Saved {
    identity: String,
    device: String,
    device_id: String,
    history: Option<String>,
    recovery: String,
    backup_version: i64,
    version: u64,
}

thread_local! {
    /// The keys as this tab last wrote or read them: used again while no
    /// other tab has written since.
    static CACHED: RefCell<Option<Keys>> = const { RefCell::new(None) };
}

impl Keys {
    async fn load(db: &IdbDatabase, me: i64) -> Result<Option<Keys>, Problem> {
        let Some(text) = idb::get(db, idb::KEYS, &me.to_string()).await.map_err(Problem::Failed)? else {
            return Ok(None);
        };
        let saved: Saved = serde_json::from_str(&text)
            .map_err(|e| Problem::Failed(format!("this browser's keys are unreadable ({e})")))?;
        if let Some(cached) = CACHED.with(|c| c.borrow_mut().take())
            && cached.me == me
            && cached.version == saved.version
        {
            return Ok(Some(cached));
        }
        Ok(Some(Keys {
            me,
            identity: Identity::restore(&unb64(&saved.identity)?)?,
            device: Device::restore(&unb64(&saved.device)?)?,
            device_id: saved.device_id,
            history: saved.history.map(|h| unb64(&h).and_then(|h| Ok(Device::restore(&h)?))).transpose()?,
            recovery: RecoveryKey::parse(&saved.recovery)?,
            backup_version: saved.backup_version,
            version: saved.version,
        }))
    }

    /// Writes the keys to IndexedDB.
    async fn write(&mut self, db: &IdbDatabase) -> Result<(), Problem> {
        self.version += 1;
        let saved = Saved {
            identity: b64(&self.identity.save()?),
            device: b64(&self.device.save()?),
            device_id: self.device_id.clone(),
            history: self.history.as_ref().map(|h| h.save()).transpose()?.map(|h| b64(&h)),
            recovery: self.recovery.to_text(),
            backup_version: self.backup_version,
            version: self.version,
        };
        let text = serde_json::to_string(&saved).expect("strings and numbers serialise");
        idb::put(db, idb::KEYS, &self.me.to_string(), &text).await.map_err(Problem::Failed)
    }

    /// A new identity, device and recovery key. Unless `reset`, only for a
    /// person with no identity yet.
    async fn set_up(me: i64, reset: bool) -> Result<(Keys, String), Problem> {
        if !reset {
            match call(Method::GET, "/api/communication/identity/", None).await {
                Ok(_) => return Err(Problem::NeedsRecoveryKey),
                Err(r) if r.status == 404 => {}
                Err(r) => return Err(r.into()),
            }
        }
        let identity = Identity::generate()?;
        let body = json!({"public_key": b64(&identity.public())});
        json::<IdentityKeyDto>(Method::PUT, "/api/communication/identity/", Some(body)).await?;
        let (device, device_id) = register(me, &identity).await?;
        let recovery = RecoveryKey::generate()?;
        let backup_version = match json::<KeyBackupDto>(Method::GET, BACKUP, None).await {
            Ok(backup) => backup.version,
            Err(r) if r.status == 404 => 0,
            Err(r) => return Err(r.into()),
        };
        let text = recovery.to_text();
        let mut keys =
            Keys { me, identity, device, device_id, history: None, recovery, backup_version, version: 0 };
        keys.back_up().await?;
        Ok((keys, text))
    }

    /// The identity from the key backup, signing a new device for this browser.
    async fn restore(me: i64, recovery_key: &str) -> Result<Keys, Problem> {
        let recovery = RecoveryKey::parse(recovery_key).map_err(|_| Problem::WrongRecoveryKey)?;
        let backup = match json::<KeyBackupDto>(Method::GET, BACKUP, None).await {
            Ok(backup) => backup,
            Err(r) if r.status == 404 => {
                return Err(Problem::Failed(
                    "there is no key backup to restore: reset your keys to start again".into(),
                ));
            }
            Err(r) => return Err(r.into()),
        };
        let opened = Backup::open(&unb64(&backup.backup)?, &recovery)?;
        let identity = Identity::restore(&opened.identity)?;
        let current: IdentityKeyDto = json(Method::GET, "/api/communication/identity/", None).await?;
        if current.public_key != b64(&identity.public()) {
            return Err(Problem::Failed(
                "this backup holds keys you have since replaced: reset your keys to start again".into(),
            ));
        }
        let history = opened.device.map(|d| Device::restore(&d)).transpose()?;
        let (device, device_id) = register(me, &identity).await?;
        Ok(Keys {
            me,
            identity,
            device,
            device_id,
            history,
            recovery,
            backup_version: backup.version,
            version: 0,
        })
    }

    async fn apply(&mut self, db: &IdbDatabase, op: Op) -> Result<Done, Problem> {
        match op {
            Op::Open { conversation, .. } => {
                self.replenish().await?;
                self.sync(db, conversation).await?;
                Ok(Done::Opened { joined: self.device.is_in(conversation) })
            }
            Op::Encrypt { conversation, .. } => {
                self.sync(db, conversation).await?;
                Ok(Done::Opened { joined: self.device.is_in(conversation) })
            }
            Op::Read { conversation, message, edited_at, ciphertext, about, .. } => {
                let content = match self.own_copy(conversation, &ciphertext) {
                    Some(content) => content,
                    None => {
                        let bytes = B64
                            .decode(&ciphertext.mls)
                            .map_err(|e| Problem::Unreadable(Unreadable::Damaged(e.to_string())))?;
                        self.decrypt(conversation, &bytes).await.map_err(Problem::Unreadable)?
                    }
                };
                keep_read(db, self.me, (message, edited_at), &content).await?;
                let Content { text, files, previews } = content;
                if let Some(about) = about {
                    search::remember(db, self.me, conversation, (message, edited_at), &about).await?;
                    search::keep(db, self.me, conversation, (message, edited_at), &about, &text).await?;
                }
                let html = markdown::render(&text);
                Ok(Done::Text { text, html, files, previews, shared_by: None })
            }
            Op::Send { conversation, text, nonce, thread_id, files, place, .. } => {
                let previews = previews_of(&place.workspace, &text).await;
                let (sent, content): (MessageDto, Content) = match files.is_empty() {
                    true => {
                        let content = Content { previews, ..Content::of_text(&text) };
                        let body = json!({
                            "channel_id": conversation.to_string(),
                            "encrypted": self.seal(conversation, &content).await?,
                            "nonce": nonce,
                            "thread_id": thread_id,
                        });
                        (json(Method::POST, "/api/communication/messages/", Some(body)).await?, content)
                    }
                    false => {
                        allowed(&files).await?;
                        let (mut content, sealed) = seal_files(text.clone(), &files).await?;
                        content.previews = previews;
                        let encrypted = self.seal(conversation, &content).await?;
                        (post_with_files(conversation, encrypted, nonce, thread_id, sealed).await?, content)
                    }
                };
                let id = number(&sent.id)?;
                keep_read(db, self.me, (id, None), &content).await?;
                let about = about_sent(place, &sent);
                search::remember(db, self.me, conversation, (id, None), &about).await?;
                search::keep(db, self.me, conversation, (id, None), &about, &text).await?;
                Ok(Done::Sent(Box::new(sent)))
            }
            Op::Edit { conversation, message, text, attachments, place, .. } => {
                let files = files_read(db, self.me, message).await?;
                if files.len() != attachments {
                    return Err(Problem::Refused(
                        "This browser does not have the keys of this message's files, so they would be lost \
                         if it changed the message: edit it in the browser that sent it."
                            .into(),
                    ));
                }
                let previews = previews_of(&place.workspace, &text).await;
                let content = Content { text: text.clone(), files, previews };
                let body = json!({"encrypted": self.seal(conversation, &content).await?});
                let path = format!("/api/communication/messages/{message}/");
                let edited: MessageDto = json(Method::PUT, &path, Some(body)).await?;
                // The sender cannot decrypt its own message: what it said is kept here.
                keep_read(db, self.me, (message, edited.edited_at), &content).await?;
                let about = about_sent(place, &edited);
                search::remember(db, self.me, conversation, (message, edited.edited_at), &about).await?;
                search::keep(db, self.me, conversation, (message, edited.edited_at), &about, &text).await?;
                Ok(Done::Sent(Box::new(edited)))
            }
            Op::OpenFile { .. } => unreachable!("run opens files without the keys"),
            Op::SafetyNumber { other, .. } => {
                let path = format!("/api/communication/identity/?user_id={other}");
                let theirs = match json::<IdentityKeyDto>(Method::GET, &path, None).await {
                    Ok(key) => unb64(&key.public_key)?,
                    Err(r) if r.status == 404 => return Err(Problem::NoIdentity),
                    Err(r) => return Err(r.into()),
                };
                let mine = self.identity.public();
                Ok(Done::SafetyNumber(e2ee::safety_number((self.me, &mine), (other, &theirs))))
            }
            Op::CallKeys { conversation, .. } => {
                self.sync(db, conversation).await?;
                match self.device.is_in(conversation) {
                    true => Ok(Done::CallKeys(self.device.call_keys(conversation)?)),
                    false => Err(Problem::NoCallKeysYet),
                }
            }
            Op::Restore { .. } | Op::Reset { .. } => Ok(Done::Ready),
            Op::Search { .. } | Op::SearchHere { .. } | Op::Forget { .. } => {
                unreachable!("apply runs search before the keys are loaded")
            }
        }
    }

    /// Publishes more key packages when fewer than a few are left.
    async fn replenish(&self) -> Result<(), Problem> {
        let path = format!("/api/communication/devices/{}/key_packages/", self.device_id);
        let left: KeyPackageCountDto = json(Method::GET, &path, None).await?;
        if left.key_packages < 3 {
            publish_key_packages(&self.device, &self.device_id).await?;
        }
        Ok(())
    }

    /// Joins the conversations this device was welcomed to (keeping the
    /// histories shared with it), applies the changes of keys it missed,
    /// then brings `conversation`'s keys in line with its members' devices
    /// (sharing its history with the devices it adds, where it shares it).
    /// Backs up the device when its keys changed.
    async fn sync(&mut self, db: &IdbDatabase, conversation: i64) -> Result<(), Problem> {
        let before = self.device.epoch(conversation).ok();
        let welcomes_path = format!("/api/communication/devices/{}/welcomes/", self.device_id);
        let welcomes: Vec<WelcomeDto> = json(Method::GET, &welcomes_path, None).await?;
        for w in welcomes {
            if !self.device.is_in(number(&w.channel_id)?)
                && let Err(e) = self.device.join(&unb64(&w.welcome)?)
            {
                leptos::logging::warn!("a welcome to conversation {} was not usable: {e}", w.channel_id);
            }
            call(Method::DELETE, &format!("{welcomes_path}{}/", w.id), None).await?;
        }
        self.take_shared_histories(db).await?;
        loop {
            apply_commits(&mut self.device, conversation).await?;
            let path = format!("/api/communication/channels/{conversation}/devices/");
            let now: ConversationDevicesDto = json(Method::GET, &path, None).await?;
            let starting = !self.device.is_in(conversation);
            if starting {
                if now.epoch > 0 {
                    break; // Another device started its keys: this one waits for its welcome.
                }
                self.device.start(conversation)?;
            }
            let expected = now
                .devices
                .iter()
                .map(|d| Ok(DeviceRef { user: number(&d.user_id)?, device: number(&d.id)? }))
                .collect::<Result<Vec<_>, Problem>>()?;
            let plan = self.device.plan(conversation, &expected)?;
            if plan.is_empty() {
                if starting {
                    // Nobody else has a device yet: whoever first has
                    // someone to add starts the keys (and adds this device).
                    self.device.commit_refused(conversation)?;
                }
                break;
            }
            let claimed = claim(conversation, &plan.add).await?;
            let commit = self.device.change_members(conversation, &claimed, &plan.remove)?;
            let body = json!({
                "device_id": self.device_id,
                "epoch": commit.epoch,
                "commit": b64(&commit.commit),
                "welcome": commit.welcome.as_deref().map(b64),
                "welcomed": commit.welcomed.iter().map(|d| d.device.to_string()).collect::<Vec<_>>(),
            });
            let path = format!("/api/communication/channels/{conversation}/commits/");
            match call(Method::POST, &path, Some(body)).await {
                Ok(_) => {
                    self.device.commit_accepted(conversation)?;
                    if now.shares_history && !commit.welcomed.is_empty() {
                        self.share_history(db, conversation, &commit.welcomed).await;
                    }
                    break;
                }
                // Another device's change came first: apply it, then plan again.
                Err(r) if r.status == 409 => self.device.commit_refused(conversation)?,
                Err(r) => {
                    self.device.commit_refused(conversation)?;
                    return Err(r.into());
                }
            }
        }
        if self.device.epoch(conversation).ok() != before {
            self.back_up().await?;
        }
        Ok(())
    }

    /// Shares the latest messages of `conversation` this device can read
    /// with the devices its commit just added, encrypted for the new epoch.
    /// What fails here costs them only that history: it is logged, and the
    /// commit stands.
    async fn share_history(&mut self, db: &IdbDatabase, conversation: i64, added: &[DeviceRef]) {
        if let Err(p) = self.try_share_history(db, conversation, added).await {
            leptos::logging::warn!(
                "the history of conversation {conversation} was not shared: {}",
                p.explain()
            );
        }
    }

    async fn try_share_history(
        &mut self,
        db: &IdbDatabase,
        conversation: i64,
        added: &[DeviceRef],
    ) -> Result<(), Problem> {
        use crate::components::history_sharing::SHARED_MESSAGES;
        let path = format!("/api/communication/messages/?channel_id={conversation}&limit={SHARED_MESSAGES}");
        let page: MessagePageDto = json(Method::GET, &path, None).await?;
        let mut history = SharedHistory::default();
        // Oldest first, as they were said.
        for m in page.messages.iter().rev().filter(|m| m.sent_from.is_some()) {
            let id = number(&m.id)?;
            if let Some(content) = self.content_of(db, conversation, id, m).await? {
                history.messages.push(SharedMessage { id, edited_at: m.edited_at, content });
            }
        }
        if history.messages.is_empty() {
            return Ok(());
        }
        let epoch = self.device.epoch(conversation)?;
        let most = crate::wire::SHARED_HISTORY_BYTES;
        let Some(shared) = self.device.share_history(conversation, &history, most)? else { return Ok(()) };
        let body = json!({
            "device_id": self.device_id,
            "epoch": epoch,
            "history": b64(&shared),
            "device_ids": added.iter().map(|d| d.device.to_string()).collect::<Vec<_>>(),
        });
        let path = format!("/api/communication/channels/{conversation}/shared_histories/");
        call(Method::POST, &path, Some(body)).await?;
        Ok(())
    }

    /// What an encrypted message says, as this device read (or sent) it,
    /// from its author's own copy, or decrypted now; `None` where this
    /// device cannot read it.
    async fn content_of(
        &mut self,
        db: &IdbDatabase,
        conversation: i64,
        id: i64,
        m: &MessageDto,
    ) -> Result<Option<Content>, Problem> {
        if let Some(content) = kept(db, self.me, (id, m.edited_at)).await? {
            return Ok(Some(content));
        }
        let ciphertext = super::Ciphertext::of(m);
        if let Some(content) = self.own_copy(conversation, &ciphertext) {
            return Ok(Some(content));
        }
        let Ok(bytes) = B64.decode(&ciphertext.mls) else { return Ok(None) };
        let Ok(content) = self.decrypt(conversation, &bytes).await else { return Ok(None) };
        // Kept as read: a message decrypts once.
        keep_read(db, self.me, (id, m.edited_at), &content).await?;
        Ok(Some(content))
    }

    /// Keeps the messages of the histories shared with this device as read
    /// here (never over a message it read itself), marked with who shared
    /// them, and drops the histories from the server. One that does not
    /// read, or whose sender is not who the server says, is dropped.
    async fn take_shared_histories(&mut self, db: &IdbDatabase) -> Result<(), Problem> {
        let path = format!("/api/communication/devices/{}/shared_histories/", self.device_id);
        let shared: Vec<SharedHistoryDto> = json(Method::GET, &path, None).await?;
        for h in shared {
            if let Err(why) = self.keep_shared_history(db, &h).await {
                leptos::logging::warn!(
                    "a history shared in conversation {} was not kept: {why}",
                    h.channel_id
                );
            }
            call(Method::DELETE, &format!("{path}{}/", h.id), None).await?;
        }
        Ok(())
    }

    async fn keep_shared_history(&mut self, db: &IdbDatabase, h: &SharedHistoryDto) -> Result<(), String> {
        let conversation = number(&h.channel_id).map_err(|p| p.explain())?;
        let bytes = unb64(&h.history).map_err(|p| p.explain())?;
        let (from, history) = self.device.read_history(conversation, &bytes).map_err(|e| e.to_string())?;
        if from.user.to_string() != h.from_user_id {
            return Err(format!(
                "it was encrypted by user {}, not by its sharer {}",
                from.user, h.from_user_id
            ));
        }
        for m in history.messages {
            let version = (m.id, m.edited_at);
            if idb::get(db, idb::READ, &read_key(self.me, m.id, m.edited_at)).await?.is_some() {
                continue;
            }
            keep_read(db, self.me, version, &m.content).await.map_err(|p| p.explain())?;
            idb::put(db, idb::READ, &shared_key(self.me, m.id), &h.from_name).await?;
        }
        Ok(())
    }

    /// Seals the identity and this device with the recovery key and
    /// replaces the key backup (over another device's, if it wrote since).
    async fn back_up(&mut self) -> Result<(), Problem> {
        let backup = Backup { identity: self.identity.save()?, device: Some(self.device.save()?) };
        let sealed = b64(&backup.seal(&self.recovery)?);
        for _ in 0..2 {
            let body = json!({"version": self.backup_version, "backup": sealed});
            match json::<KeyBackupDto>(Method::PUT, BACKUP, Some(body)).await {
                Ok(written) => {
                    self.backup_version = written.version;
                    return Ok(());
                }
                Err(r) if r.status == 409 => {
                    self.backup_version = match json::<KeyBackupDto>(Method::GET, BACKUP, None).await {
                        Ok(current) => current.version,
                        Err(r) if r.status == 404 => 0,
                        Err(r) => return Err(r.into()),
                    };
                }
                Err(r) => return Err(r.into()),
            }
        }
        Err(Problem::Failed("the key backup kept changing while it was written".into()))
    }

    /// `content` encrypted for `conversation`'s members as of its latest
    /// keys, as a post or an edit carries it (`encrypted`).
    async fn seal(&mut self, conversation: i64, content: &Content) -> Result<Sealed, Problem> {
        if !self.device.is_in(conversation) {
            return Err(Problem::NoKeysYet);
        }
        apply_commits(&mut self.device, conversation).await?;
        let ciphertext = self.device.encrypt(conversation, content)?;
        Ok(Sealed {
            ciphertext: b64(&ciphertext),
            own_copy: b64(&content.seal_own(&self.recovery, conversation)?),
            device_id: self.device_id.clone(),
            mentions: markdown::mentions(&content.text).into_iter().take(markdown::MOST_MENTIONS).collect(),
        })
    }

    /// A message's content from its own copy, when the message is this
    /// person's and was sealed with their recovery key (since the last
    /// reset): what they sent, read on any of their devices.
    fn own_copy(&self, conversation: i64, ciphertext: &super::Ciphertext) -> Option<Content> {
        let sealed = B64.decode(ciphertext.own_copy.as_deref()?).ok()?;
        Content::open_own(&sealed, &self.recovery, conversation).ok()
    }

    /// A message's content: with this device's keys, else with the device
    /// restored from the backup.
    async fn decrypt(&mut self, conversation: i64, bytes: &[u8]) -> Result<Content, Unreadable> {
        let live = read_with(&mut self.device, conversation, bytes).await;
        match (live, self.history.as_mut()) {
            (Ok(text), _) => Ok(text),
            (Err(why), Some(history)) => read_with(history, conversation, bytes).await.map_err(|_| why),
            (Err(why), None) => Err(why),
        }
    }
}

/// A message as a post or an edit carries it (`encrypted`): the
/// ciphertext, its copy for its author alone, the device that encrypted
/// it, and whom it mentions (told to the server so that they are
/// notified; it cannot read the text).
#[derive(Serialize)]
struct Sealed {
    ciphertext: String,
    own_copy: String,
    device_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    mentions: Vec<String>,
}

/// Keeps what a message (as of its edit `edited_at`) says as read by this
/// device: its text, its files' keys and its previews. A message decrypts
/// once; what it said is read from here after.
async fn keep_read(
    db: &IdbDatabase,
    me: i64,
    (message, edited_at): (i64, Option<i64>),
    content: &Content,
) -> Result<(), Problem> {
    idb::put(db, idb::READ, &read_key(me, message, edited_at), &content.text)
        .await
        .map_err(Problem::Failed)?;
    keep_files(db, me, message, &content.files).await?;
    keep_previews(db, me, (message, edited_at), &content.previews).await
}

/// What this device kept of a message (as of its edit) it read or sent,
/// `None` where it kept none.
async fn kept(
    db: &IdbDatabase,
    me: i64,
    (message, edited_at): (i64, Option<i64>),
) -> Result<Option<Content>, Problem> {
    let key = read_key(me, message, edited_at);
    let Some(text) = idb::get(db, idb::READ, &key).await.map_err(Problem::Failed)? else { return Ok(None) };
    let files = files_read(db, me, message).await?;
    let previews = previews_read(db, me, message, edited_at).await?;
    Ok(Some(Content { text, files, previews }))
}

/// Where the keys of a message's files are kept (JSON), when it has any:
/// they stay the same through its edits.
fn files_key(me: i64, message: i64) -> String {
    format!("{me}:{message}:files")
}

async fn keep_files(db: &IdbDatabase, me: i64, message: i64, files: &[FileKey]) -> Result<(), Problem> {
    if files.is_empty() {
        return Ok(());
    }
    let saved = serde_json::to_string(files).map_err(|e| Problem::Failed(e.to_string()))?;
    idb::put(db, idb::READ, &files_key(me, message), &saved).await.map_err(Problem::Failed)
}

async fn files_read(db: &IdbDatabase, me: i64, message: i64) -> Result<Vec<FileKey>, Problem> {
    match idb::get(db, idb::READ, &files_key(me, message)).await.map_err(Problem::Failed)? {
        None => Ok(Vec::new()),
        Some(saved) => serde_json::from_str(&saved).map_err(|e| Problem::Failed(e.to_string())),
    }
}

/// Where the name of who shared a message with this device is kept, for
/// a message read from a shared history.
fn shared_key(me: i64, message: i64) -> String {
    format!("{me}:{message}:shared")
}

/// Where the previews a message (as of its edit `edited_at`) carried are
/// kept, when it has any.
fn previews_key(me: i64, (message, edited_at): (i64, Option<i64>)) -> String {
    format!("{}:previews", read_key(me, message, edited_at))
}

async fn keep_previews(
    db: &IdbDatabase,
    me: i64,
    version: (i64, Option<i64>),
    previews: &[PagePreview],
) -> Result<(), Problem> {
    if previews.is_empty() {
        return Ok(());
    }
    let saved = serde_json::to_string(previews).map_err(|e| Problem::Failed(e.to_string()))?;
    idb::put(db, idb::READ, &previews_key(me, version), &saved).await.map_err(Problem::Failed)
}

async fn previews_read(
    db: &IdbDatabase,
    me: i64,
    message: i64,
    edited_at: Option<i64>,
) -> Result<Vec<PagePreview>, Problem> {
    match idb::get(db, idb::READ, &previews_key(me, (message, edited_at))).await.map_err(Problem::Failed)? {
        None => Ok(Vec::new()),
        Some(saved) => serde_json::from_str(&saved).map_err(|e| Problem::Failed(e.to_string())),
    }
}

/// The previews of the pages `text` links to (the first few), asked of the
/// server for `workspace` (which learns the addresses, not the message).
/// A page without one, or a request that fails, adds none: the message
/// goes without it.
async fn previews_of(workspace: &str, text: &str) -> Vec<PagePreview> {
    const MOST: usize = 3;
    let path = format!("/api/communication/workspaces/{workspace}/link-previews/");
    let asked = markdown::links(text).into_iter().take(MOST).map(|url| {
        let path = path.clone();
        async move {
            let response = call(Method::POST, &path, Some(json!({ "url": url }))).await.ok()?;
            if response.status() != 200 {
                return None;
            }
            let p: crate::wire::LinkPreviewDto = read_json(response).await.ok()?;
            Some(PagePreview {
                url: p.url,
                title: p.title,
                description: p.description,
                site_name: p.site_name,
            })
        }
    });
    futures::future::join_all(asked).await.into_iter().flatten().collect()
}

/// Refuses `files` where the server would refuse one of them as a plain
/// upload for its type: it cannot see an encrypted file's name, so the
/// sender's browser applies its rule. (It checks the size itself.)
async fn allowed(files: &[web_sys::File]) -> Result<(), Problem> {
    let policy: crate::wire::UploadPolicyDto =
        json(Method::GET, "/api/communication/files/policy/", None).await?;
    match files.iter().find_map(|f| policy.refuses_type(&f.name())) {
        Some(why) => Err(Problem::Refused(why)),
        None => Ok(()),
    }
}

/// Reads each of `files` and encrypts it with a key of its own: the
/// message's content (`text` and the keys) and the bytes to upload.
async fn seal_files(text: String, files: &[web_sys::File]) -> Result<(Content, Vec<Vec<u8>>), Problem> {
    let mut content = Content::of_text(text);
    let mut sealed = Vec::with_capacity(files.len());
    for f in files {
        let read = wasm_bindgen_futures::JsFuture::from(f.array_buffer())
            .await
            .map_err(|e| Problem::Failed(format!("“{}” could not be read: {}", f.name(), idb::js(e))))?;
        let bytes = js_sys::Uint8Array::new(&read).to_vec();
        let (key, upload) = FileKey::seal(&f.name(), &f.type_(), &bytes)?;
        content.files.push(key);
        sealed.push(upload);
    }
    Ok((content, sealed))
}

/// Posts an encrypted message with its encrypted files, as a form: the
/// ciphertext before the files (whose names the server does not learn).
async fn post_with_files(
    conversation: i64,
    encrypted: Sealed,
    nonce: String,
    thread_id: Option<String>,
    sealed: Vec<Vec<u8>>,
) -> Result<MessageDto, Refusal> {
    let failed = |e: wasm_bindgen::JsValue| Refusal { status: 0, message: idb::js(e) };
    let form = web_sys::FormData::new().map_err(failed)?;
    let fields = [
        ("channel_id", conversation.to_string()),
        ("device_id", encrypted.device_id),
        ("ciphertext", encrypted.ciphertext),
        ("own_copy", encrypted.own_copy),
        ("nonce", nonce),
        ("thread_id", thread_id.unwrap_or_default()),
    ];
    let mentions = encrypted.mentions.into_iter().map(|name| ("mentions", name));
    for (name, value) in fields.into_iter().chain(mentions) {
        form.append_with_str(name, &value).map_err(failed)?;
    }
    for bytes in sealed {
        let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes.as_slice()));
        let blob = web_sys::Blob::new_with_u8_array_sequence(&parts).map_err(failed)?;
        form.append_with_blob_and_filename("file", &blob, "encrypted").map_err(failed)?;
    }
    let request = RequestBuilder::new("/api/communication/messages/")
        .method(Method::POST)
        .header("Accept", "application/json")
        .body(form)
        .map_err(no_answer)?;
    read_json(answered(request.send().await.map_err(no_answer)?).await?).await
}

/// Downloads the encrypted file at `url` and opens it with `key`.
async fn open_file(url: &str, key: &FileKey) -> Result<Vec<u8>, Problem> {
    let response = call(Method::GET, url, None).await?;
    let sealed =
        response.binary().await.map_err(|e| Problem::Failed(format!("the download was cut short ({e})")))?;
    key.open(&sealed).map_err(|e| Problem::Unreadable(Unreadable::Damaged(e.to_string())))
}

/// What search keeps about a message this device sent or edited.
fn about_sent(place: Place, message: &MessageDto) -> About {
    About { place, author: message.author.display_name.clone(), at: message.created_at }
}

/// Where the text of a message read (or sent) here is kept; an edited
/// one's under its edit's time (the text before it is another).
pub(super) fn read_key(me: i64, message: i64, edited_at: Option<i64>) -> String {
    match edited_at {
        None => format!("{me}:{message}"),
        Some(at) => format!("{me}:{message}:{at}"),
    }
}

const BACKUP: &str = "/api/communication/key_backup/";

/// What this browser calls itself in the person's list of devices.
fn device_name() -> String {
    let platform = web_sys::window().and_then(|w| w.navigator().platform().ok()).unwrap_or_default();
    match platform.trim() {
        "" => "Web browser".into(),
        p => format!("Web browser on {}", p.chars().take(40).collect::<String>()),
    }
}

/// Registers a new device for this browser, signed by `identity`, with its key packages.
async fn register(me: i64, identity: &Identity) -> Result<(Device, String), Problem> {
    let keys = DeviceKeys::generate()?;
    let signature = identity.sign_device(me, &keys.public())?;
    let body = json!({"name": device_name(), "signature_key": b64(&keys.public()),
        "identity_signature": b64(&signature)});
    let made: DeviceDto = json(Method::POST, "/api/communication/devices/", Some(body)).await?;
    let device = Device::new(DeviceRef { user: me, device: number(&made.id)? }, keys)?;
    publish_key_packages(&device, &made.id).await?;
    Ok((device, made.id))
}

async fn publish_key_packages(device: &Device, device_id: &str) -> Result<(), Problem> {
    let packages: Vec<String> = device.key_packages(5)?.iter().map(|p| b64(p)).collect();
    let last = b64(&device.last_resort_key_package()?);
    let path = format!("/api/communication/devices/{device_id}/key_packages/");
    json::<KeyPackageCountDto>(
        Method::POST,
        &path,
        Some(json!({"key_packages": packages, "last_resort": last})),
    )
    .await?;
    Ok(())
}

/// Applies `conversation`'s accepted changes of keys from `device`'s epoch on.
async fn apply_commits(device: &mut Device, conversation: i64) -> Result<(), Problem> {
    loop {
        let Ok(from) = device.epoch(conversation) else { return Ok(()) };
        let path = format!("/api/communication/channels/{conversation}/commits/?from={from}");
        let commits: Vec<GroupCommitDto> = json(Method::GET, &path, None).await?;
        if commits.is_empty() {
            return Ok(());
        }
        for c in commits {
            if !device.is_in(conversation) {
                return Ok(()); // Removed by the commit before.
            }
            device.receive(conversation, &unb64(&c.commit)?)?;
        }
    }
}

async fn claim(conversation: i64, devices: &[DeviceRef]) -> Result<Vec<Claimed>, Problem> {
    let path = format!("/api/communication/channels/{conversation}/key_packages/");
    let mut claimed: Vec<ClaimedKeyPackageDto> = Vec::with_capacity(devices.len());
    for some in devices.chunks(crate::wire::KEY_PACKAGES_PER_CLAIM) {
        let ids: Vec<String> = some.iter().map(|d| d.device.to_string()).collect();
        claimed.extend(
            json::<Vec<ClaimedKeyPackageDto>>(Method::POST, &path, Some(json!({"device_ids": ids}))).await?,
        );
    }
    claimed
        .into_iter()
        .map(|c| {
            Ok(Claimed {
                device: DeviceRef { user: number(&c.device.user_id)?, device: number(&c.device.id)? },
                signature_key: unb64(&c.device.signature_key)?,
                key_package: unb64(&c.key_package)?,
                identity_key: unb64(&c.identity_key)?,
                identity_signature: unb64(&c.device.identity_signature)?,
            })
        })
        .collect()
}

/// A message's text with `device`'s keys, applying changes of keys first
/// when it was sent after the device's epoch.
async fn read_with(device: &mut Device, conversation: i64, bytes: &[u8]) -> Result<Content, Unreadable> {
    if !device.is_in(conversation) {
        return Err(Unreadable::Withheld);
    }
    for attempt in 0..2 {
        match device.receive(conversation, bytes) {
            Ok(Received::Message { content, .. }) => return Ok(content),
            Ok(Received::Commit { .. }) => {
                return Err(Unreadable::Damaged("a change of keys, not a message".into()));
            }
            Err(e2ee::Error::WrongEpoch { epoch, at }) if epoch > at && attempt == 0 => {
                apply_commits(device, conversation).await.map_err(|p| Unreadable::Damaged(p.explain()))?;
            }
            // Later than every change of keys delivered yet: they are coming.
            Err(e2ee::Error::WrongEpoch { epoch, at }) if epoch > at => return Err(Unreadable::Withheld),
            Err(e2ee::Error::WrongEpoch { .. }) => return Err(Unreadable::BeforeJoined),
            Err(e2ee::Error::NotInConversation(_)) => return Err(Unreadable::Withheld),
            Err(e) => return Err(Unreadable::Damaged(e.to_string())),
        }
    }
    Err(Unreadable::Withheld)
}
