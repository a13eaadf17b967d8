//! End-to-end encrypted conversations through the real server: devices
//! (the `e2ee` client, as a browser or bot runs it) register, publish key
//! packages, add each other by commits the server orders one per epoch,
//! join from welcomes, and exchange ciphertext the server stores and
//! delivers but cannot read.

use crate::helpers::{TestApp, User, assert_error, channel, join, json_of, workspace};
use app::wire::{
    ApiError, ChannelDto, ClaimedKeyPackageDto, ConversationDevicesDto, DeviceDto, EncryptedArchiveDto,
    EncryptionPolicyDto, GatewayEvent, GroupCommitDto, IdentityKeyDto, KeyBackupDto, KeyPackageCountDto,
    MessageDto, MessagePageDto, NotificationDto, PushDto, PushedMessageDto, SearchHitDto, WelcomeDto,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use e2ee::{
    Backup, Claimed, Content, Device, DeviceKeys, DeviceRef, FileKey, Identity, Received, RecoveryKey,
};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

/// Each person's identity (saved), by their API token: what their own
/// devices keep (the identity signs each new device of theirs).
static IDENTITIES: LazyLock<Mutex<HashMap<String, Vec<u8>>>> = LazyLock::new(Default::default);

/// `who`'s identity: made and its public key set on the server the first time.
async fn identity_of(app: &TestApp, who: &User) -> Identity {
    if let Some(saved) = IDENTITIES.lock().unwrap().get(&who.token) {
        return Identity::restore(saved).unwrap();
    }
    let identity = Identity::generate().unwrap();
    let body = json!({"public_key": B64.encode(identity.public())});
    let set: IdentityKeyDto =
        typed(who.put(app, "/api/communication/identity/", body).await, StatusCode::OK).await;
    assert_eq!(set.public_key, B64.encode(identity.public()));
    IDENTITIES.lock().unwrap().insert(who.token.clone(), identity.save().unwrap());
    identity
}

pub(crate) async fn typed<T: DeserializeOwned>(res: reqwest::Response, status: StatusCode) -> T {
    serde_json::from_value(json_of(res, status).await).expect("the documented shape")
}

pub(crate) fn number(id: &str) -> i64 {
    id.parse().expect("an id")
}

/// A person's device as the app runs it: its keys, and what it has read.
pub(crate) struct Phone {
    pub(crate) device: Device,
    pub(crate) id: String,
    pub(crate) owner: User,
    /// Plain text by message id (a device cannot decrypt a message twice,
    /// nor its own: it keeps what it sent).
    pub(crate) read: HashMap<String, String>,
}

impl Phone {
    /// Registers a device of `owner` and publishes five key packages and a
    /// last-resort one.
    pub(crate) async fn register(app: &TestApp, owner: &User, name: &str) -> Phone {
        let keys = DeviceKeys::generate().unwrap();
        let signature = identity_of(app, owner).await.sign_device(number(&owner.id), &keys.public()).unwrap();
        let body = json!({"name": name, "signature_key": B64.encode(keys.public()),
            "identity_signature": B64.encode(signature)});
        let made: DeviceDto =
            typed(owner.post(app, "/api/communication/devices/", body).await, StatusCode::CREATED).await;
        let me = DeviceRef { user: number(&owner.id), device: number(&made.id) };
        let device = Device::new(me, keys).unwrap();
        let packages: Vec<String> = device.key_packages(5).unwrap().iter().map(|p| B64.encode(p)).collect();
        let last = B64.encode(device.last_resort_key_package().unwrap());
        let path = format!("/api/communication/devices/{}/key_packages/", made.id);
        let count: KeyPackageCountDto = typed(
            owner.post(app, &path, json!({"key_packages": packages, "last_resort": last})).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(count.key_packages, 5);
        let owner = User { client: owner.client.clone(), token: owner.token.clone(), id: owner.id.clone() };
        Phone { device, id: made.id, owner, read: HashMap::new() }
    }

    /// Joins the conversations it was welcomed to, applies the changes of
    /// keys it missed, then brings `channel`'s keys in line with its
    /// members' devices (what the app does on every event about them).
    pub(crate) async fn sync(&mut self, app: &TestApp, channel: &str) {
        let conversation = number(channel);
        let welcomes_path = format!("/api/communication/devices/{}/welcomes/", self.id);
        let welcomes: Vec<WelcomeDto> =
            typed(self.owner.get(app, &welcomes_path).await, StatusCode::OK).await;
        for w in welcomes {
            if !self.device.is_in(number(&w.channel_id)) {
                self.device.join(&B64.decode(&w.welcome).unwrap()).unwrap();
            }
            let used = format!("{welcomes_path}{}/", w.id);
            assert_eq!(self.owner.delete(app, &used).await.status(), StatusCode::NO_CONTENT);
        }
        loop {
            self.apply_commits(app, channel).await;
            let path = format!("/api/communication/channels/{channel}/devices/");
            let now: ConversationDevicesDto = typed(self.owner.get(app, &path).await, StatusCode::OK).await;
            if !self.device.is_in(conversation) {
                if now.epoch > 0 {
                    return; // Someone else's device started it: this one waits for its welcome.
                }
                self.device.start(conversation).unwrap();
            }
            let expected: Vec<DeviceRef> = now
                .devices
                .iter()
                .map(|d| DeviceRef { user: number(&d.user_id), device: number(&d.id) })
                .collect();
            let plan = self.device.plan(conversation, &expected).unwrap();
            if plan.is_empty() {
                return;
            }
            let claimed = self.claim(app, channel, &plan.add).await;
            let commit = self.device.change_members(conversation, &claimed, &plan.remove).unwrap();
            let body = json!({
                "device_id": self.id,
                "epoch": commit.epoch,
                "commit": B64.encode(&commit.commit),
                "welcome": commit.welcome.as_ref().map(|w| B64.encode(w)),
                "welcomed": commit.welcomed.iter().map(|d| d.device.to_string()).collect::<Vec<_>>(),
            });
            let path = format!("/api/communication/channels/{channel}/commits/");
            let res = self.owner.post(app, &path, body).await;
            match res.status() {
                StatusCode::CREATED => {
                    self.device.commit_accepted(conversation).unwrap();
                    return;
                }
                StatusCode::CONFLICT => self.device.commit_refused(conversation).unwrap(),
                other => panic!("commit answered {other}: {}", res.text().await.unwrap()),
            }
        }
    }

    /// Applies the conversation's accepted commits from this device's epoch on.
    async fn apply_commits(&mut self, app: &TestApp, channel: &str) {
        let conversation = number(channel);
        let Ok(from) = self.device.epoch(conversation) else { return };
        let path = format!("/api/communication/channels/{channel}/commits/?from={from}");
        let commits: Vec<GroupCommitDto> = typed(self.owner.get(app, &path).await, StatusCode::OK).await;
        for c in commits {
            if !self.device.is_in(conversation) {
                break; // Removed by the commit before.
            }
            assert!(matches!(
                self.device.receive(conversation, &B64.decode(&c.commit).unwrap()).unwrap(),
                Received::Commit { .. }
            ));
        }
    }

    async fn claim(&self, app: &TestApp, channel: &str, devices: &[DeviceRef]) -> Vec<Claimed> {
        if devices.is_empty() {
            return Vec::new();
        }
        let path = format!("/api/communication/channels/{channel}/key_packages/");
        let mut claimed: Vec<ClaimedKeyPackageDto> = Vec::new();
        for some in devices.chunks(app::wire::KEY_PACKAGES_PER_CLAIM) {
            let ids: Vec<String> = some.iter().map(|d| d.device.to_string()).collect();
            let body = json!({"device_ids": ids});
            claimed.extend(
                typed::<Vec<ClaimedKeyPackageDto>>(self.owner.post(app, &path, body).await, StatusCode::OK)
                    .await,
            );
        }
        claimed
            .into_iter()
            .map(|c| Claimed {
                device: DeviceRef { user: number(&c.device.user_id), device: number(&c.device.id) },
                signature_key: B64.decode(&c.device.signature_key).unwrap(),
                key_package: B64.decode(&c.key_package).unwrap(),
                identity_key: B64.decode(&c.identity_key).unwrap(),
                identity_signature: B64.decode(&c.device.identity_signature).unwrap(),
            })
            .collect()
    }

    /// Encrypts and sends `text`, telling the server whom it mentions as
    /// the browser does; returns the message as stored.
    pub(crate) async fn send(&mut self, app: &TestApp, channel: &str, text: &str) -> MessageDto {
        let mentions = domain::markdown::mentions(text);
        let sent: MessageDto =
            typed(self.post(app, channel, text, &mentions).await, StatusCode::CREATED).await;
        self.read.insert(sent.id.clone(), text.to_string());
        sent
    }

    /// Sends `text` encrypted, declaring `mentions`; the answer as it is.
    async fn post(
        &mut self,
        app: &TestApp,
        channel: &str,
        text: &str,
        mentions: &[String],
    ) -> reqwest::Response {
        let ciphertext = self.device.encrypt(number(channel), &Content::of_text(text)).unwrap();
        let encrypted =
            json!({"ciphertext": B64.encode(ciphertext), "device_id": self.id, "mentions": mentions});
        let body = json!({"channel_id": channel, "encrypted": encrypted});
        self.owner.post(app, "/api/communication/messages/", body).await
    }

    /// Encrypts `files` (name, type, bytes) each with its own key, and
    /// sends them with `text` (whose content carries the keys), as the
    /// browser does: `multipart/form-data`, the ciphertext before the files.
    async fn send_files(
        &mut self,
        app: &TestApp,
        channel: &str,
        text: &str,
        files: &[(&str, &str, &[u8])],
    ) -> reqwest::Response {
        let mut content = Content::of_text(text);
        let mut form = reqwest::multipart::Form::new()
            .text("channel_id", channel.to_string())
            .text("device_id", self.id.clone());
        let mut parts = Vec::new();
        for (name, mime, bytes) in files {
            let (key, sealed) = FileKey::seal(name, mime, bytes).unwrap();
            content.files.push(key);
            parts.push(reqwest::multipart::Part::bytes(sealed).file_name("blob"));
        }
        let ciphertext = self.device.encrypt(number(channel), &content).unwrap();
        form = form.text("ciphertext", B64.encode(ciphertext));
        for name in domain::markdown::mentions(text) {
            form = form.text("mentions", name);
        }
        for part in parts {
            form = form.part("file", part);
        }
        let req = self
            .owner
            .client
            .post(app.url("/api/communication/messages/"))
            .header("accept", "application/json")
            .multipart(form);
        self.owner.send(app, "POST", req).await
    }

    /// The conversation's messages as this device reads them, oldest first:
    /// the text, or why it could not decrypt it.
    pub(crate) async fn messages(&mut self, app: &TestApp, channel: &str) -> Vec<Result<String, String>> {
        self.apply_commits(app, channel).await;
        let path = format!("/api/communication/messages/?channel_id={channel}");
        let page: MessagePageDto = typed(self.owner.get(app, &path).await, StatusCode::OK).await;
        let mut out = Vec::new();
        for m in page.messages.iter().rev() {
            out.push(self.open(channel, m));
        }
        out
    }

    fn open(&mut self, channel: &str, m: &MessageDto) -> Result<String, String> {
        if let Some(text) = self.read.get(&m.id) {
            return Ok(text.clone());
        }
        assert!(m.sent_from.is_some(), "every message of an encrypted conversation is ciphertext");
        let bytes = B64.decode(&m.body).map_err(|e| e.to_string())?;
        match self.device.receive(number(channel), &bytes) {
            Ok(Received::Message { content, .. }) => {
                self.read.insert(m.id.clone(), content.text.clone());
                Ok(content.text)
            }
            Ok(other) => Err(format!("not a message: {other:?}")),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// A direct conversation between ana and bob, made end-to-end encrypted.
async fn encrypted_dm(app: &TestApp, ana: &User, bob: &User) -> String {
    let (ws, _) = workspace(app, ana, false).await;
    join(app, bob, &ws).await;
    let create = "/api/communication/channels/create_direct/";
    let dm: ChannelDto =
        typed(ana.post(app, create, json!({"workspace_id": ws, "usernames": ["bob"]})).await, StatusCode::OK)
            .await;
    let path = format!("/api/communication/channels/{}/end_to_end/", dm.id);
    let made: ChannelDto = typed(bob.post(app, &path, json!({})).await, StatusCode::OK).await;
    assert!(made.end_to_end);
    dm.id
}

/// Joining the call of an encrypted conversation tells the browser so (it
/// then encrypts its media, and never joins without); the server, which
/// relays media it cannot read, refuses to record it.
async fn an_encrypted_conversations_call_is_said_to_be_encrypted_and_not_recorded(app: TestApp) -> TestApp {
    use crate::gateway::{connect_as, next_of};
    use futures::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let dm = encrypted_dm(&app, &ana, &bob).await;
    let mut ws = connect_as(&app, &ana).await;
    let join = json!({"type": "VOICE_JOIN", "channel_id": dm}).to_string();
    ws.send(Message::Text(join.into())).await.unwrap();
    let joined: GatewayEvent = serde_json::from_value(next_of(&mut ws, "VOICE_JOINED").await).unwrap();
    assert!(matches!(joined, GatewayEvent::VoiceJoined { end_to_end: true, .. }), "{joined:?}");
    let record = json!({"type": "VOICE_RECORD", "recording": true}).to_string();
    ws.send(Message::Text(record.into())).await.unwrap();
    let refused: GatewayEvent = serde_json::from_value(next_of(&mut ws, "COMMAND_ERROR").await).unwrap();
    let GatewayEvent::CommandError { command, error, .. } = refused else { unreachable!() };
    assert_eq!((command.as_str(), error.code), ("VOICE_RECORD", app::wire::ErrorCode::Conflict));
    assert!(error.message.contains("cannot record it"), "{}", error.message);
    app
}

/// An encrypted direct conversation of ana and bob, with a device each
/// that has joined it.
async fn synced_dm(app: &TestApp, ana: &User, bob: &User) -> (String, Phone, Phone) {
    let dm = encrypted_dm(app, ana, bob).await;
    let (mut anas, mut bobs) =
        (Phone::register(app, ana, "laptop").await, Phone::register(app, bob, "phone").await);
    anas.sync(app, &dm).await;
    bobs.sync(app, &dm).await;
    (dm, anas, bobs)
}

async fn an_encrypted_conversation_carries_only_ciphertext(app: TestApp) -> TestApp {
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (dm, mut anas, mut bobs) = synced_dm(&app, &ana, &bob).await;
    assert!(bobs.device.is_in(number(&dm)), "bob's device joined from its welcome");

    let sent = anas.send(&app, &dm, "the door code is marigold").await;
    assert_eq!(sent.sent_from.as_deref(), Some(anas.id.as_str()));
    assert!(sent.html.is_empty());
    assert!(!sent.body.contains("marigold"), "the server holds ciphertext");
    assert_eq!(bobs.messages(&app, &dm).await, [Ok("the door code is marigold".to_string())]);
    bobs.send(&app, &dm, "thanks").await;
    assert_eq!(anas.messages(&app, &dm).await, [Ok("the door code is marigold".into()), Ok("thanks".into())]);

    // Search finds nothing of it, and notifications do not quote it.
    let hits: Vec<SearchHitDto> = typed(
        bob.post(&app, "/api/communication/messages/search/", json!({"query": "marigold"})).await,
        StatusCode::OK,
    )
    .await;
    assert!(hits.is_empty());
    // (Notifications are stored with the message.)
    let notes: Vec<NotificationDto> =
        typed(bob.get(&app, "/api/communication/notifications/").await, StatusCode::OK).await;
    assert!(!notes.is_empty(), "bob is notified of the direct message");
    assert!(
        notes.iter().all(|n| !n.content.contains("marigold") && n.content.contains("end-to-end encrypted"))
    );
    app
}

/// A push about an encrypted message says to open it, and carries what
/// the person's service worker needs to decrypt it: ids, never its text.
async fn a_push_for_an_encrypted_message_carries_its_ids_not_its_text(app: TestApp) -> TestApp {
    use crate::delivery::{UA_AUTH, UA_PRIVATE, UA_PUBLIC, decrypt};
    let mut push = crate::sink::HttpSink::start(201).await;
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (dm, mut anas, _bobs) = synced_dm(&app, &ana, &bob).await;
    let endpoint = format!("http://127.0.0.1:{}/push/bob-laptop", push.port);
    let keys = json!({"p256dh": UA_PUBLIC, "auth": UA_AUTH});
    let subscribed =
        bob.post(&app, "/api/communication/push_subscriptions/", json!({"endpoint": endpoint, "keys": keys}));
    assert_eq!(subscribed.await.status(), StatusCode::CREATED);

    let sent = anas.send(&app, &dm, "the door code is marigold").await;
    let got = push.next().await;
    let text = String::from_utf8(decrypt(&got.body, UA_PRIVATE, UA_AUTH)).unwrap();
    assert!(!text.contains("marigold"), "{text}");
    let payload: PushDto = serde_json::from_str(&text).unwrap();
    assert_eq!(payload.title, "ana D sent you a message");
    assert!(payload.body.contains("end-to-end encrypted"), "{}", payload.body);
    assert_eq!(
        payload.encrypted,
        Some(PushedMessageDto {
            user_id: bob.id.clone(),
            channel_id: dm.clone(),
            message_id: sent.id.clone(),
        })
    );
    app
}

async fn an_encrypted_message_is_edited_with_new_ciphertext(app: TestApp) -> TestApp {
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (dm, mut anas, mut bobs) = synced_dm(&app, &ana, &bob).await;
    let sent = anas.send(&app, &dm, "lunch at 12").await;
    assert_eq!(bobs.messages(&app, &dm).await, [Ok("lunch at 12".to_string())]);

    let path = format!("/api/communication/messages/{}/", sent.id);
    let plain = ana.put(&app, &path, json!({"body": "lunch at 1"})).await;
    assert_error(plain, StatusCode::CONFLICT, "conflict", Some("content")).await;
    let ciphertext = anas.device.encrypt(number(&dm), &Content::of_text("lunch at 1")).unwrap();
    let body = json!({"encrypted": {"ciphertext": B64.encode(ciphertext), "device_id": anas.id}});
    let edited: MessageDto = typed(ana.put(&app, &path, body).await, StatusCode::OK).await;
    assert!(edited.edited_at.is_some());
    assert_ne!(edited.body, sent.body);
    bobs.read.remove(&sent.id); // What bob's device read before is replaced.
    assert_eq!(bobs.messages(&app, &dm).await, [Ok("lunch at 1".to_string())]);
    app
}

async fn plain_text_is_refused_in_an_encrypted_conversation(app: TestApp) -> TestApp {
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let dm = encrypted_dm(&app, &ana, &bob).await;
    let res = ana
        .post(&app, "/api/communication/messages/", json!({"channel_id": dm, "body": "in the clear"}))
        .await;
    assert_error(res, StatusCode::CONFLICT, "conflict", Some("content")).await;

    // Nor does a plain conversation take ciphertext.
    let (ws, _) = workspace(&app, &ana, false).await;
    let plain = channel(&app, &ana, &ws, "plain", true).await;
    let phone = Phone::register(&app, &ana, "laptop").await;
    let body =
        json!({"channel_id": plain, "encrypted": {"ciphertext": B64.encode(b"x"), "device_id": phone.id}});
    let res = ana.post(&app, "/api/communication/messages/", body).await;
    assert_error(res, StatusCode::CONFLICT, "conflict", Some("ciphertext")).await;
    // And a device of someone else's is not the sender's.
    let bobs = Phone::register(&app, &bob, "phone").await;
    let body = json!({"channel_id": dm, "encrypted": {"ciphertext": B64.encode(b"x"), "device_id": bobs.id}});
    assert_error(
        ana.post(&app, "/api/communication/messages/", body).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;
    app
}

async fn of_two_devices_changing_the_keys_at_once_one_is_refused_and_catches_up(app: TestApp) -> TestApp {
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let dm = encrypted_dm(&app, &ana, &bob).await;
    let (mut anas, mut bobs) =
        (Phone::register(&app, &ana, "laptop").await, Phone::register(&app, &bob, "phone").await);
    let conversation = number(&dm);
    // Both start the conversation's keys and commit for epoch 0.
    let mut commits = Vec::new();
    let (ana_device, bob_device) = (anas.device.me(), bobs.device.me());
    for (phone, other) in [(&mut anas, bob_device), (&mut bobs, ana_device)] {
        phone.device.start(conversation).unwrap();
        let claimed = phone.claim(&app, &dm, &[other]).await;
        let c = phone.device.change_members(conversation, &claimed, &[]).unwrap();
        commits.push((c.commit, c.welcome.unwrap(), other));
    }
    let post = |phone: &Phone, (commit, welcome, other): &(Vec<u8>, Vec<u8>, DeviceRef)| {
        json!({"device_id": phone.id, "epoch": 0, "commit": B64.encode(commit), "welcome": B64.encode(welcome),
            "welcomed": [other.device.to_string()]})
    };
    let path = format!("/api/communication/channels/{dm}/commits/");
    let first: GroupCommitDto =
        typed(ana.post(&app, &path, post(&anas, &commits[0])).await, StatusCode::CREATED).await;
    assert_eq!((first.epoch, first.device_id.as_str()), (0, anas.id.as_str()));
    let refused = bob.post(&app, &path, post(&bobs, &commits[1])).await;
    assert_error(refused, StatusCode::CONFLICT, "conflict", Some("epoch")).await;
    anas.device.commit_accepted(conversation).unwrap();
    bobs.device.commit_refused(conversation).unwrap();

    bobs.sync(&app, &dm).await;
    assert_eq!(bobs.device.epoch(conversation).unwrap(), 1);
    anas.send(&app, &dm, "one conversation").await;
    assert_eq!(bobs.messages(&app, &dm).await, [Ok("one conversation".to_string())]);
    app
}

/// A private channel `#secret` of ana, bob and cat, made end-to-end
/// encrypted, with a device each that has joined it.
async fn synced_private_channel(app: &TestApp, ana: &User, bob: &User, cat: &User) -> (String, [Phone; 3]) {
    let (ws, _) = workspace(app, ana, false).await;
    join(app, bob, &ws).await;
    join(app, cat, &ws).await;
    let secret = channel(app, ana, &ws, "secret", true).await;
    let add = format!("/api/communication/channels/{secret}/add_members/");
    json_of(ana.post(app, &add, json!({"usernames": ["bob", "cat"]})).await, StatusCode::OK).await;
    let path = format!("/api/communication/channels/{secret}/end_to_end/");
    json_of(ana.post(app, &path, json!({})).await, StatusCode::OK).await;
    let mut phones = [
        Phone::register(app, ana, "laptop").await,
        Phone::register(app, bob, "phone").await,
        Phone::register(app, cat, "tablet").await,
    ];
    for p in &mut phones {
        p.sync(app, &secret).await;
    }
    (secret, phones)
}

async fn a_member_removed_from_a_private_channel_cannot_read_what_follows(app: TestApp) -> TestApp {
    let (ana, bob, cat) = (app.user("ana").await, app.user("bob").await, app.user("cat").await);
    let (secret, [mut anas, mut bobs, mut cats]) = synced_private_channel(&app, &ana, &bob, &cat).await;
    anas.send(&app, &secret, "before").await;
    assert_eq!(cats.messages(&app, &secret).await, [Ok("before".to_string())]);
    let before: MessagePageDto = typed(
        cat.get(&app, &format!("/api/communication/messages/?channel_id={secret}")).await,
        StatusCode::OK,
    )
    .await;

    let left = cat.post(&app, &format!("/api/communication/channels/{secret}/leave/"), json!({})).await;
    assert_eq!(left.status(), StatusCode::NO_CONTENT);
    anas.sync(&app, &secret).await; // Removes cat's device.
    assert_eq!(anas.device.members(number(&secret)).unwrap(), vec![anas.device.me(), bobs.device.me()]);
    let after = anas.send(&app, &secret, "after cat left").await;
    assert_eq!(bobs.messages(&app, &secret).await, [Ok("before".into()), Ok("after cat left".into())]);

    // Cat no longer gets the conversation's messages or keys; and given the
    // ciphertext, cat's device cannot read it.
    let path = format!("/api/communication/messages/?channel_id={secret}");
    assert_eq!(cat.get(&app, &path).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        cat.get(&app, &format!("/api/communication/channels/{secret}/commits/")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert!(before.messages.iter().all(|m| m.id != after.id));
    let removal: Vec<GroupCommitDto> = typed(
        ana.get(&app, &format!("/api/communication/channels/{secret}/commits/?from=1")).await,
        StatusCode::OK,
    )
    .await;
    let conversation = number(&secret);
    cats.device.receive(conversation, &B64.decode(&removal[0].commit).unwrap()).unwrap();
    assert!(!cats.device.is_in(conversation));
    assert!(cats.open(&secret, &after).is_err());
    app
}

/// In a private channel, where members are told only of mentions, the one
/// an encrypted message mentions is told of it (the sender's device names
/// them), and the others are not; the server still never sees the text.
async fn whom_an_encrypted_message_mentions_is_told_of_it(app: TestApp) -> TestApp {
    let (ana, bob, cat) = (app.user("ana").await, app.user("bob").await, app.user("cat").await);
    let (secret, [mut anas, ..]) = synced_private_channel(&app, &ana, &bob, &cat).await;
    anas.send(&app, &secret, "the figures are in").await;
    anas.send(&app, &secret, "@bob can you check the figures?").await;

    let notes = async |who: &User| {
        typed::<Vec<NotificationDto>>(
            who.get(&app, "/api/communication/notifications/").await,
            StatusCode::OK,
        )
        .await
    };
    let told = notes(&bob).await;
    assert_eq!(told.len(), 1, "bob is told only of the message that mentions him");
    assert_eq!(
        (told[0].kind.as_str(), told[0].title.as_str()),
        ("mention", "ana D mentioned you in #secret")
    );
    assert!(!told[0].content.contains("figures"), "{}", told[0].content);
    assert!(notes(&cat).await.is_empty(), "cat was not mentioned");
    // (A message with files names them as fields of its form.)
    let res =
        anas.send_files(&app, &secret, "@cat the draft", &[("draft.txt", "text/plain", b"draft")]).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let told_cat = notes(&cat).await;
    assert_eq!((told_cat.len(), told_cat[0].kind.as_str()), (1, "mention"));
    let ws = told[0].workspace_id.clone().unwrap();
    let listed: Vec<ChannelDto> = typed(
        bob.get(&app, &format!("/api/communication/channels/?workspace_id={ws}")).await,
        StatusCode::OK,
    )
    .await;
    let listed = listed.iter().find(|c| c.id == secret).expect("bob's channel");
    assert_eq!((listed.unread, listed.mentions), (3, 1));

    let wrong = anas.post(&app, &secret, "hello", &["not a name".to_string()]).await;
    assert_error(wrong, StatusCode::BAD_REQUEST, "invalid", Some("mentions")).await;
    app
}

/// A message's copy for its author, sealed by their browser with their
/// recovery key, is kept and handed back with the message (replaced by an
/// edit's), so that after every device is lost they read what they sent.
async fn an_authors_own_copy_is_kept_so_what_they_sent_reads_after_every_device_is_lost(
    app: TestApp,
) -> TestApp {
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (dm, mut anas, _bobs) = synced_dm(&app, &ana, &bob).await;
    let recovery = RecoveryKey::generate().unwrap();
    let mut post = |text: &str| {
        let content = Content::of_text(text);
        let sealed = anas.device.encrypt(number(&dm), &content);
        let own = content.seal_own(&recovery, number(&dm)).unwrap();
        json!({"ciphertext": B64.encode(sealed.unwrap()), "device_id": anas.id, "own_copy": B64.encode(own)})
    };
    let body = json!({"channel_id": dm, "encrypted": post("the keys are under the doormat")});
    let sent: MessageDto =
        typed(ana.post(&app, "/api/communication/messages/", body).await, StatusCode::CREATED).await;
    assert!(!sent.own_copy.as_deref().unwrap().contains("doormat"));

    // Every device lost: the recovery key, typed again, opens the copy the page lists.
    let typed_again = RecoveryKey::parse(&recovery.to_text()).unwrap();
    let page: MessagePageDto =
        typed(ana.get(&app, &format!("/api/communication/messages/?channel_id={dm}")).await, StatusCode::OK)
            .await;
    let own = B64.decode(page.messages[0].own_copy.as_deref().expect("kept")).unwrap();
    assert_eq!(
        Content::open_own(&own, &typed_again, number(&dm)).unwrap().text,
        "the keys are under the doormat"
    );

    // An edit replaces it (the earlier text is no longer the message's).
    let path = format!("/api/communication/messages/{}/", sent.id);
    let edited: MessageDto =
        typed(ana.put(&app, &path, json!({"encrypted": post("under the flowerpot")})).await, StatusCode::OK)
            .await;
    let own = B64.decode(edited.own_copy.unwrap()).unwrap();
    assert_eq!(Content::open_own(&own, &typed_again, number(&dm)).unwrap().text, "under the flowerpot");

    let mut bad = post("x");
    bad["own_copy"] = json!("not base64!");
    let refused =
        ana.post(&app, "/api/communication/messages/", json!({"channel_id": dm, "encrypted": bad})).await;
    assert_error(refused, StatusCode::BAD_REQUEST, "invalid", Some("own_copy")).await;
    app
}

async fn a_new_device_is_added_by_the_others_and_reads_from_then_on(app: TestApp) -> TestApp {
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (dm, mut anas, mut bobs) = synced_dm(&app, &ana, &bob).await;
    anas.send(&app, &dm, "before the tablet").await;

    let mut tablet = Phone::register(&app, &bob, "tablet").await;
    tablet.sync(&app, &dm).await;
    assert!(!tablet.device.is_in(number(&dm)), "a new device waits to be added");
    anas.sync(&app, &dm).await; // Sees bob's new device and adds it.
    tablet.sync(&app, &dm).await;
    assert!(tablet.device.is_in(number(&dm)));
    anas.send(&app, &dm, "after the tablet").await;
    let read = tablet.messages(&app, &dm).await;
    assert!(read[0].is_err(), "sent before the tablet joined: {read:?}");
    assert_eq!(read[1], Ok("after the tablet".to_string()));
    assert_eq!(
        bobs.messages(&app, &dm).await,
        [Ok("before the tablet".into()), Ok("after the tablet".into())]
    );
    app
}

async fn key_packages_are_used_once_then_the_last_resort(app: TestApp) -> TestApp {
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let dm = encrypted_dm(&app, &ana, &bob).await;
    let bobs = Phone::register(&app, &bob, "phone").await;
    let path = format!("/api/communication/channels/{dm}/key_packages/");
    let mut seen = Vec::new();
    for _ in 0..7 {
        let claimed: Vec<ClaimedKeyPackageDto> =
            typed(ana.post(&app, &path, json!({"device_ids": [bobs.id]})).await, StatusCode::OK).await;
        assert_eq!(claimed.len(), 1);
        seen.push(claimed[0].key_package.clone());
    }
    let distinct: std::collections::HashSet<_> = seen[..5].iter().collect();
    assert_eq!(distinct.len(), 5, "each single-use package once");
    assert_eq!(seen[5], seen[6], "then the last-resort one");
    assert!(!seen[..5].contains(&seen[5]));
    let left: KeyPackageCountDto = typed(
        bob.get(&app, &format!("/api/communication/devices/{}/key_packages/", bobs.id)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(left.key_packages, 0);
    app
}

async fn only_members_take_part_in_a_conversations_keys(app: TestApp) -> TestApp {
    let (ana, bob, eve) = (app.user("ana").await, app.user("bob").await, app.user("eve").await);
    let dm = encrypted_dm(&app, &ana, &bob).await;
    let bobs = Phone::register(&app, &bob, "phone").await;
    let eves = Phone::register(&app, &eve, "laptop").await;
    let claim = format!("/api/communication/channels/{dm}/key_packages/");
    let res = eve.post(&app, &claim, json!({"device_ids": [bobs.id]})).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        eve.get(&app, &format!("/api/communication/channels/{dm}/devices/")).await.status(),
        StatusCode::NOT_FOUND
    );
    // A member cannot claim a package of a device outside the conversation.
    let res = ana.post(&app, &claim, json!({"device_ids": [eves.id]})).await;
    assert_error(res, StatusCode::CONFLICT, "conflict", Some("device_ids")).await;
    // Nor welcome one into it.
    let anas = Phone::register(&app, &ana, "laptop").await;
    let body = json!({"device_id": anas.id, "epoch": 0, "commit": B64.encode(b"commit"),
        "welcome": B64.encode(b"welcome"), "welcomed": [eves.id]});
    let res = ana.post(&app, &format!("/api/communication/channels/{dm}/commits/"), body).await;
    assert_error(res, StatusCode::CONFLICT, "conflict", Some("device_ids")).await;
    // Nor use someone else's device, or read its welcomes.
    let res = ana.get(&app, &format!("/api/communication/devices/{}/welcomes/", bobs.id)).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    app
}

async fn a_public_channel_cannot_be_made_end_to_end_encrypted(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let (_, general) = workspace(&app, &ana, false).await;
    let res = ana.post(&app, &format!("/api/communication/channels/{general}/end_to_end/"), json!({})).await;
    let error = assert_error(res, StatusCode::FORBIDDEN, "forbidden", None).await;
    assert!(error["message"].as_str().unwrap().contains("public channel"));
    app
}

async fn a_device_is_listed_to_people_sharing_a_workspace_and_removed_by_its_owner(app: TestApp) -> TestApp {
    let (ana, bob, stranger) = (app.user("ana").await, app.user("bob").await, app.user("stranger").await);
    let (ws, _) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let phone = Phone::register(&app, &bob, "phone").await;
    let path = format!("/api/communication/devices/?user_id={}", bob.id);
    let listed: Vec<DeviceDto> = typed(ana.get(&app, &path).await, StatusCode::OK).await;
    assert_eq!(
        listed.iter().map(|d| (d.id.as_str(), d.name.as_str())).collect::<Vec<_>>(),
        [(phone.id.as_str(), "phone")]
    );
    assert_eq!(listed[0].signature_key, B64.encode(phone.device.signature_key()));
    assert_eq!(stranger.get(&app, &path).await.status(), StatusCode::NOT_FOUND);
    let device = format!("/api/communication/devices/{}/", phone.id);
    assert_eq!(ana.delete(&app, &device).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(bob.delete(&app, &device).await.status(), StatusCode::NO_CONTENT);
    let listed: Vec<DeviceDto> = typed(ana.get(&app, &path).await, StatusCode::OK).await;
    assert!(listed.is_empty());
    let bad = json!({"name": "x", "signature_key": B64.encode([1u8; 31]), "identity_signature": B64.encode([2u8; 64])});
    assert_error(
        bob.post(&app, "/api/communication/devices/", bad).await,
        StatusCode::BAD_REQUEST,
        "invalid",
        Some("signature_key"),
    )
    .await;
    app
}

async fn a_device_signed_by_another_identity_is_not_added(app: TestApp) -> TestApp {
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let dm = encrypted_dm(&app, &ana, &bob).await;
    // Without an identity key, a device cannot be registered.
    let keys = DeviceKeys::generate().unwrap();
    let body = json!({"name": "phone", "signature_key": B64.encode(keys.public()),
        "identity_signature": B64.encode([0u8; 64])});
    let res = bob.post(&app, "/api/communication/devices/", body.clone()).await;
    assert_error(res, StatusCode::CONFLICT, "conflict", Some("identity_signature")).await;
    // With one, the server stores what it is given; bob's person's key did
    // not sign this device, and ana's device will not add it.
    identity_of(&app, &bob).await;
    let forged: DeviceDto =
        typed(bob.post(&app, "/api/communication/devices/", body).await, StatusCode::CREATED).await;
    let path = format!("/api/communication/devices/{}/key_packages/", forged.id);
    let impostor =
        Device::new(DeviceRef { user: number(&bob.id), device: number(&forged.id) }, keys).unwrap();
    let packages = vec![B64.encode(impostor.key_packages(1).unwrap().remove(0))];
    json_of(bob.post(&app, &path, json!({"key_packages": packages})).await, StatusCode::OK).await;
    let mut anas = Phone::register(&app, &ana, "laptop").await;
    anas.device.start(number(&dm)).unwrap();
    let claimed = anas.claim(&app, &dm, &[impostor.me()]).await;
    let refused = anas.device.change_members(number(&dm), &claimed, &[]);
    assert!(matches!(refused, Err(e2ee::Error::UnsignedDevice(d)) if d == impostor.me()));
    app
}

async fn a_replaced_identity_removes_the_devices_and_tells_the_conversation(app: TestApp) -> TestApp {
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let dm = encrypted_dm(&app, &ana, &bob).await;
    let bobs = Phone::register(&app, &bob, "phone").await;
    let mut socket = crate::gateway::connect_as(&app, &ana).await;
    let new = Identity::generate().unwrap();
    let body = json!({"public_key": B64.encode(new.public())});
    json_of(bob.put(&app, "/api/communication/identity/", body).await, StatusCode::OK).await;
    loop {
        if let GatewayEvent::IdentityUpdate { channel_id, user_id } =
            crate::gateway::next_wire(&mut socket).await
        {
            assert_eq!((channel_id, user_id), (dm.clone(), bob.id.clone()));
            break;
        }
    }
    let path = format!("/api/communication/identity/?user_id={}", bob.id);
    let seen: IdentityKeyDto = typed(ana.get(&app, &path).await, StatusCode::OK).await;
    assert_eq!(seen.public_key, B64.encode(new.public()));
    let devices: Vec<DeviceDto> = typed(
        ana.get(&app, &format!("/api/communication/devices/?user_id={}", bob.id)).await,
        StatusCode::OK,
    )
    .await;
    assert!(devices.iter().all(|d| d.id != bobs.id), "the device the old key signed is gone");
    app
}

async fn a_lost_device_comes_back_from_the_key_backup_with_the_recovery_key(app: TestApp) -> TestApp {
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (dm, anas, mut bobs) = synced_dm(&app, &ana, &bob).await;
    // Ana's browser backs up her identity and device under a recovery key
    // it shows her once.
    let recovery = RecoveryKey::generate().unwrap();
    let shown = recovery.to_text();
    let backup = Backup {
        identity: identity_of(&app, &ana).await.save().unwrap(),
        device: Some(anas.device.save().unwrap()),
    };
    let body = json!({"version": 0, "backup": B64.encode(backup.seal(&recovery).unwrap())});
    let saved: KeyBackupDto =
        typed(ana.put(&app, "/api/communication/key_backup/", body).await, StatusCode::OK).await;
    assert_eq!(saved.version, 1);
    drop(anas); // The laptop is lost.
    bobs.send(&app, &dm, "while you were away").await;

    // On a new browser, she types the key she wrote down.
    let kept: KeyBackupDto =
        typed(ana.get(&app, "/api/communication/key_backup/").await, StatusCode::OK).await;
    let sealed = B64.decode(&kept.backup).unwrap();
    let wrong = RecoveryKey::generate().unwrap();
    assert!(matches!(Backup::open(&sealed, &wrong), Err(e2ee::Error::WrongRecoveryKey)));
    let opened = Backup::open(&sealed, &RecoveryKey::parse(&shown).unwrap()).unwrap();
    let device = Device::restore(&opened.device.unwrap()).unwrap();
    let id = device.me().device.to_string();
    let mut again = Phone {
        device,
        id,
        owner: User { client: ana.client.clone(), token: ana.token.clone(), id: ana.id.clone() },
        read: HashMap::new(),
    };
    again.sync(&app, &dm).await;
    let read = again.messages(&app, &dm).await;
    assert_eq!(read.last(), Some(&Ok("while you were away".to_string())));

    // A backup saved meanwhile by another device is not overwritten unseen.
    let stale = json!({"version": 0, "backup": B64.encode(b"older")});
    assert_error(
        ana.put(&app, "/api/communication/key_backup/", stale).await,
        StatusCode::CONFLICT,
        "conflict",
        Some("version"),
    )
    .await;
    app
}

async fn direct_conversations_open_encrypted_where_the_admins_require_it(app: TestApp) -> TestApp {
    let (ana, bob, cy) = (app.user("ana").await, app.user("bob").await, app.user("cy").await);
    let (ws, _) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    join(&app, &cy, &ws).await;
    let create = "/api/communication/channels/create_direct/";
    let before: ChannelDto = typed(
        ana.post(&app, create, json!({"workspace_id": ws, "usernames": ["bob"]})).await,
        StatusCode::OK,
    )
    .await;
    assert!(!before.end_to_end);

    let policy = format!("/api/communication/workspaces/{ws}/encryption/");
    // A member who does not manage the workspace may read the policy, not set it.
    let refused = bob.put(&app, &policy, json!({"encrypt_direct": true})).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let set: EncryptionPolicyDto =
        typed(ana.put(&app, &policy, json!({"encrypt_direct": true})).await, StatusCode::OK).await;
    assert!(set.encrypt_direct);
    let seen: EncryptionPolicyDto = typed(bob.get(&app, &policy).await, StatusCode::OK).await;
    assert!(seen.encrypt_direct);

    // A conversation opened now is encrypted from the start; the one opened before is as it was.
    let after: ChannelDto =
        typed(bob.post(&app, create, json!({"workspace_id": ws, "usernames": ["cy"]})).await, StatusCode::OK)
            .await;
    assert!(after.end_to_end);
    let again: ChannelDto = typed(
        bob.post(&app, create, json!({"workspace_id": ws, "usernames": ["ana"]})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again.id, before.id);
    assert!(!again.end_to_end);
    let plain =
        bob.post(&app, "/api/communication/messages/", json!({"channel_id": after.id, "body": "hi"})).await;
    assert_eq!(plain.status(), StatusCode::CONFLICT);
    app
}

/// A workspace of ana's where bob and arc are members, with an encrypted
/// direct conversation of ana and bob opened before anyone archives it.
async fn archived_workspace(app: &TestApp, ana: &User, bob: &User, arc: &User) -> (String, String) {
    let (ws, _) = workspace(app, ana, false).await;
    join(app, bob, &ws).await;
    join(app, arc, &ws).await;
    let create = "/api/communication/channels/create_direct/";
    let dm: ChannelDto =
        typed(ana.post(app, create, json!({"workspace_id": ws, "usernames": ["bob"]})).await, StatusCode::OK)
            .await;
    let path = format!("/api/communication/channels/{}/end_to_end/", dm.id);
    let _: ChannelDto = typed(ana.post(app, &path, json!({})).await, StatusCode::OK).await;
    (ws, dm.id)
}

/// Whether `who` is among the members of the conversation `channel` (as
/// the listing of its workspace's channels shows them).
async fn is_member_of(app: &TestApp, who: &User, ws: &str, channel: &str) -> bool {
    let path = format!("/api/communication/channels/?workspace_id={ws}");
    let listed: Vec<ChannelDto> = typed(who.get(app, &path).await, StatusCode::OK).await;
    listed.iter().any(|c| c.id == channel)
}

async fn the_archiving_member_named_by_an_admin_joins_every_encrypted_conversation_until_another_is_named(
    app: TestApp,
) -> TestApp {
    let (ana, bob, arc) = (app.user("ana").await, app.user("bob").await, app.user("arc").await);
    let (ws, dm) = archived_workspace(&app, &ana, &bob, &arc).await;
    let path = format!("/api/communication/workspaces/{ws}/encryption/archive/");
    let none: EncryptedArchiveDto = typed(bob.get(&app, &path).await, StatusCode::OK).await;
    assert_eq!(none.archivist, None);

    // Only who manages the workspace names it; a guest or a stranger cannot be it.
    let refused = bob.put(&app, &path, json!({"username": "bob"})).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_error(
        ana.put(&app, &path, json!({"username": "nobody_here"})).await,
        StatusCode::CONFLICT,
        "conflict",
        Some("username"),
    )
    .await;
    assert_error(
        ana.put(&app, &path, json!({"username": ""})).await,
        StatusCode::BAD_REQUEST,
        "invalid",
        None,
    )
    .await;
    assert!(!is_member_of(&app, &arc, &ws, &dm).await);

    let named: EncryptedArchiveDto =
        typed(ana.put(&app, &path, json!({"username": "@arc"})).await, StatusCode::OK).await;
    assert_eq!(named.archivist.map(|a| a.id), Some(arc.id.clone()));
    // The conversation encrypted before is archived too, and one encrypted after.
    assert!(is_member_of(&app, &arc, &ws, &dm).await);
    let private = channel(&app, &bob, &ws, "payroll", true).await;
    assert!(!is_member_of(&app, &arc, &ws, &private).await);
    let encrypt = format!("/api/communication/channels/{private}/end_to_end/");
    let _: ChannelDto = typed(bob.post(&app, &encrypt, json!({})).await, StatusCode::OK).await;
    assert!(is_member_of(&app, &arc, &ws, &private).await);

    // It stays while it is named: it cannot leave, nor be removed.
    let leave = format!("/api/communication/channels/{private}/leave/");
    let kept: ApiError = typed(arc.post(&app, &leave, json!({})).await, StatusCode::FORBIDDEN).await;
    assert!(kept.message.contains("archiving member"), "{}", kept.message);
    assert!(is_member_of(&app, &arc, &ws, &private).await);

    // Each person agrees to the one named: naming another asks again.
    let consent = format!("/api/communication/workspaces/{ws}/encryption/archive/consent/");
    let agreed: EncryptedArchiveDto = typed(bob.post(&app, &consent, json!({})).await, StatusCode::OK).await;
    assert!(agreed.consented);
    let _: EncryptedArchiveDto =
        typed(ana.put(&app, &path, json!({"username": "ana"})).await, StatusCode::OK).await;
    let again: EncryptedArchiveDto = typed(bob.get(&app, &path).await, StatusCode::OK).await;
    assert!(!again.consented);
    // The one named before leaves what it was in as the archive, and may go.
    assert!(!is_member_of(&app, &arc, &ws, &dm).await);
    assert!(!is_member_of(&app, &arc, &ws, &private).await);

    // Naming nobody stops it.
    let stopped: EncryptedArchiveDto =
        typed(ana.put(&app, &path, json!({"username": null})).await, StatusCode::OK).await;
    assert_eq!(stopped.archivist, None);
    app
}

async fn an_archiving_member_who_leaves_the_workspace_archives_nothing_there(app: TestApp) -> TestApp {
    let (ana, bob, arc) = (app.user("ana").await, app.user("bob").await, app.user("arc").await);
    let (ws, _) = archived_workspace(&app, &ana, &bob, &arc).await;
    let path = format!("/api/communication/workspaces/{ws}/encryption/archive/");
    let _: EncryptedArchiveDto =
        typed(ana.put(&app, &path, json!({"username": "arc"})).await, StatusCode::OK).await;
    let leave = format!("/api/workspaces/{ws}/leave");
    assert_eq!(arc.post(&app, &leave, json!({})).await.status(), StatusCode::NO_CONTENT);
    let seen: EncryptedArchiveDto = typed(bob.get(&app, &path).await, StatusCode::OK).await;
    assert_eq!(seen.archivist, None, "nobody is asked to agree to an archive that is not there");
    app
}

/// `archived_workspace` with arc named its archiving member, and a device
/// each of ana, bob and arc in the conversation's keys. Returns the
/// conversation, the workspace's archive route, and the three devices.
async fn archived_and_keyed(
    app: &TestApp,
    ana: &User,
    bob: &User,
    arc: &User,
) -> (String, String, [Phone; 3]) {
    let (ws, dm) = archived_workspace(app, ana, bob, arc).await;
    let path = format!("/api/communication/workspaces/{ws}/encryption/archive/");
    let _: EncryptedArchiveDto =
        typed(ana.put(app, &path, json!({"username": "arc"})).await, StatusCode::OK).await;
    let mut phones = [
        Phone::register(app, ana, "laptop").await,
        Phone::register(app, bob, "phone").await,
        Phone::register(app, arc, "archive").await,
    ];
    // The archive's device is given the keys as any member's is.
    for phone in &mut phones {
        phone.sync(app, &dm).await;
    }
    (dm, path, phones)
}

async fn a_member_sends_in_an_archived_conversation_after_agreeing_and_the_archive_reads_it(
    app: TestApp,
) -> TestApp {
    let (ana, bob, arc) = (app.user("ana").await, app.user("bob").await, app.user("arc").await);
    let (dm, path, [mut anas, mut bobs, mut arcs]) = archived_and_keyed(&app, &ana, &bob, &arc).await;
    let refused: ApiError =
        typed(bobs.post(&app, &dm, "the merger closes friday", &[]).await, StatusCode::FORBIDDEN).await;
    assert!(refused.message.contains("@arc"), "{}", refused.message);
    let seen: EncryptedArchiveDto = typed(bob.get(&app, &path).await, StatusCode::OK).await;
    assert!(!seen.consented);

    let consent = format!("{path}consent/");
    let agreed: EncryptedArchiveDto = typed(bob.post(&app, &consent, json!({})).await, StatusCode::OK).await;
    assert!(agreed.consented);
    bobs.send(&app, &dm, "the merger closes friday").await;
    assert_eq!(arcs.messages(&app, &dm).await, vec![Ok("the merger closes friday".to_string())]);
    assert_eq!(anas.messages(&app, &dm).await, vec![Ok("the merger closes friday".to_string())]);
    app
}

async fn a_former_archive_leaves_the_keys_and_cannot_read_what_follows(app: TestApp) -> TestApp {
    let (ana, bob, arc) = (app.user("ana").await, app.user("bob").await, app.user("arc").await);
    let (dm, path, [mut anas, mut bobs, mut arcs]) = archived_and_keyed(&app, &ana, &bob, &arc).await;
    let _: EncryptedArchiveDto =
        typed(ana.put(&app, &path, json!({"username": null})).await, StatusCode::OK).await;
    // At the members' next change of keys, its device is taken out.
    anas.sync(&app, &dm).await;
    bobs.sync(&app, &dm).await;
    let after = bobs.send(&app, &dm, "the archive is gone").await;
    assert_eq!(anas.messages(&app, &dm).await.last(), Some(&Ok("the archive is gone".to_string())));
    let listing = format!("/api/communication/messages/?channel_id={dm}");
    assert_eq!(arc.get(&app, &listing).await.status(), StatusCode::NOT_FOUND);
    assert!(arcs.open(&dm, &after).is_err(), "the former archive read a message sent after it left");
    app
}

/// A file sent in an encrypted conversation is encrypted in the browser:
/// the server keeps ciphertext under a name of its own, and the other
/// person's device downloads it and opens it with the key inside the message.
async fn an_encrypted_file_is_kept_as_ciphertext_and_opens_for_the_other_person(app: TestApp) -> TestApp {
    let (ana, bob, eve) = (app.user("ana").await, app.user("bob").await, app.user("eve").await);
    let (dm, mut anas, mut bobs) = synced_dm(&app, &ana, &bob).await;
    let report = b"salaries 2027: confidential".repeat(40);
    let res = anas.send_files(&app, &dm, "the figures", &[("salaries.txt", "text/plain", &report)]).await;
    let sent: MessageDto = typed(res, StatusCode::CREATED).await;
    let [file] = sent.attachments.as_slice() else { panic!("one attachment: {sent:?}") };
    assert_eq!(file.file_name, domain::files::ENCRYPTED_FILE_NAME, "the server does not learn its name");
    assert_eq!((file.content_type.as_str(), file.is_image), ("application/octet-stream", false));
    assert_eq!(file.size as u64, report.len() as u64 + domain::files::ENCRYPTED_FILE_OVERHEAD);
    assert_eq!(domain::files::ENCRYPTED_FILE_OVERHEAD, e2ee::FILE_OVERHEAD);
    assert!(!serde_json::to_string(&sent).unwrap().contains("salaries"));

    bobs.apply_commits(&app, &dm).await;
    let Received::Message { content, .. } =
        bobs.device.receive(number(&dm), &B64.decode(&sent.body).unwrap()).unwrap()
    else {
        panic!("a message")
    };
    assert_eq!(content.text, "the figures");
    let key = &content.files[0];
    assert_eq!((key.name.as_str(), key.mime.as_str(), key.size), ("salaries.txt", "text/plain", 1080));
    let got = bob.client.get(app.url(&file.url)).bearer_auth(&bob.token).send().await.unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    let uploaded = got.bytes().await.unwrap();
    assert!(!uploaded.windows(9).any(|w| w == b"salaries "), "the server serves ciphertext");
    assert_eq!(key.open(&uploaded).unwrap(), report);
    let outsider = eve.client.get(app.url(&file.url)).bearer_auth(&eve.token).send().await.unwrap();
    assert_eq!(outsider.status(), StatusCode::NOT_FOUND);
    app
}

/// An encrypted message's files are sent with its ciphertext, and a plain
/// message's with its text: neither goes where the other belongs.
async fn files_go_encrypted_only_to_an_encrypted_conversation(app: TestApp) -> TestApp {
    use reqwest::multipart::{Form, Part};
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (dm, mut anas, _bobs) = synced_dm(&app, &ana, &bob).await;
    let post = |form: Form| {
        let req = ana
            .client
            .post(app.url("/api/communication/messages/"))
            .header("accept", "application/json")
            .multipart(form);
        ana.send(&app, "POST", req)
    };
    let file = || Part::bytes(b"in the clear".to_vec()).file_name("notes.txt");
    let plain = Form::new().text("channel_id", dm.clone()).text("body", "notes").part("file", file());
    assert_error(post(plain).await, StatusCode::CONFLICT, "conflict", Some("content")).await;
    let late = Form::new()
        .text("channel_id", dm.clone())
        .text("device_id", anas.id.clone())
        .part("file", file())
        .text("ciphertext", B64.encode(b"x"));
    assert_error(post(late).await, StatusCode::BAD_REQUEST, "invalid", Some("ciphertext")).await;
    let (ws, _) = workspace(&app, &ana, false).await;
    let open = channel(&app, &ana, &ws, "open", true).await;
    let phone = Phone::register(&app, &ana, "tablet").await;
    let sealed = Form::new()
        .text("channel_id", open.clone())
        .text("device_id", phone.id.clone())
        .text("ciphertext", B64.encode(b"x"))
        .part("file", Part::bytes(b"x".to_vec()).file_name("blob"));
    assert_error(post(sealed).await, StatusCode::CONFLICT, "conflict", Some("ciphertext")).await;
    let leftovers = std::fs::read_dir(app.data.0.join("files/tmp")).map(|d| d.count()).unwrap_or(0);
    assert_eq!(leftovers, 0, "refused uploads leave nothing behind");
    // And a sealed file of any name is taken where it belongs.
    let res = anas.send_files(&app, &dm, "", &[("tool.exe", "application/x-msdownload", b"MZ")]).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    app
}

/// A compliance export lists an encrypted conversation's messages with
/// who wrote them and when, edits included, but none of their text: not
/// the plain text (the server never had it), nor the ciphertext.
async fn an_export_holds_encrypted_messages_without_their_text(app: TestApp) -> TestApp {
    use std::io::Read;
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let archive = ana.put(&app, "/api/admin/compliance-archive/", json!({"enabled": true})).await;
    assert_eq!(archive.status(), StatusCode::OK, "archiving keeps every edit's text before it");
    let (dm, mut anas, _bobs) = synced_dm(&app, &ana, &bob).await;
    let sent = anas.send(&app, &dm, "the door code is marigold").await;
    let ciphertext = anas.device.encrypt(number(&dm), &Content::of_text("the door code is sesame")).unwrap();
    let edit = json!({"encrypted": {"ciphertext": B64.encode(ciphertext), "device_id": anas.id}});
    let edited: MessageDto = typed(
        ana.put(&app, &format!("/api/communication/messages/{}/", sent.id), edit).await,
        StatusCode::OK,
    )
    .await;
    let with_file = anas.send_files(&app, &dm, "", &[("plan.txt", "text/plain", b"the floor plan")]).await;
    let with_file: MessageDto = typed(with_file, StatusCode::CREATED).await;
    let uploaded = &with_file.attachments[0];

    let today = domain::export::day_of(domain::now_ms());
    let body = json!({"format": "json", "from": today, "to": today});
    let asked: app::wire::ComplianceExportDto =
        typed(ana.post(&app, "/api/admin/exports/", body).await, StatusCode::ACCEPTED).await;
    let done = crate::exports::finished(&app, &ana, &asked.id).await;
    let bytes =
        ana.get(&app, &format!("/api/admin/exports/{}/archive", done.id)).await.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut files = HashMap::new();
    for i in 0..zip.len() {
        let mut file = zip.by_index(i).unwrap();
        let mut text = String::new();
        file.read_to_string(&mut text).unwrap();
        files.insert(file.name().unwrap().to_string(), text);
    }
    for (name, text) in &files {
        for secret in ["marigold", "sesame", sent.body.as_str(), edited.body.as_str()] {
            assert!(!text.contains(secret), "{name} holds {secret:?}");
        }
    }
    let (_, day) = files
        .iter()
        .find(|(name, _)| name.contains(&format!("/direct-{dm}/")))
        .expect("the encrypted conversation's day is in the export");
    assert!(
        files.keys().all(|name| !name.contains(&uploaded.id)),
        "an encrypted file's bytes are not copied into the export"
    );
    assert!(files.values().all(|text| !text.contains("floor plan")));
    let day: Vec<serde_json::Value> = serde_json::from_str(day).unwrap();
    assert_eq!(day.len(), 2, "{day:?}");
    let listed = &day[1]["files"][0];
    assert_eq!(listed["name"], domain::files::ENCRYPTED_FILE_NAME);
    assert!(listed["path"].as_str().unwrap().contains("end-to-end encrypted file"), "{listed}");
    assert_eq!(day[0]["user"], ana.id.as_str());
    assert_eq!(day[0]["text"], domain::export::ENCRYPTED_TEXT);
    let history: Vec<(&str, &str)> = day[0]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["event"].as_str().unwrap(), e["text"].as_str().unwrap()))
        .collect();
    let hidden = domain::export::ENCRYPTED_TEXT;
    assert_eq!(history, [("posted", hidden), ("edited", hidden)]);
    let channels: Vec<serde_json::Value> = serde_json::from_str(&files["channels.json"]).unwrap();
    let listed = channels.iter().find(|c| c["id"] == dm.as_str()).expect("the conversation is listed");
    assert_eq!(listed["end_to_end"], true);
    app
}

/// A conversation of 200 devices, keyed by one commit: the commit (every
/// added device's key package) and its welcome (the group's tree) are each
/// larger than an ordinary request. The delivery service takes them, and
/// the last device added joins from the welcome and reads what follows.
async fn a_large_conversation_is_keyed_in_one_commit_larger_than_an_ordinary_request(
    backend: domain::Backend,
) {
    const PEOPLE: usize = 10;
    let app = TestApp::spawn_with(backend, crate::helpers::without_rate_limits()).await;
    let ana = app.user("ana").await;
    let (ws, _) = workspace(&app, &ana, false).await;
    let crowd = channel(&app, &ana, &ws, "crowd", true).await;
    let mut people = Vec::new();
    for i in 0..PEOPLE {
        let person = app.user(&format!("person{i}")).await;
        join(&app, &person, &ws).await;
        people.push(person);
    }
    let usernames: Vec<String> = (0..PEOPLE).map(|i| format!("person{i}")).collect();
    let add = format!("/api/communication/channels/{crowd}/add_members/");
    json_of(ana.post(&app, &add, json!({"usernames": usernames})).await, StatusCode::OK).await;
    let encrypt = format!("/api/communication/channels/{crowd}/end_to_end/");
    json_of(ana.post(&app, &encrypt, json!({})).await, StatusCode::OK).await;
    let mut phones = Vec::new();
    for person in &people {
        for d in 0..domain::hub::MAX_DEVICES {
            phones.push(Phone::register(&app, person, &format!("device {d}")).await);
        }
    }
    let mut anas = Phone::register(&app, &ana, "laptop").await;

    anas.sync(&app, &crowd).await;
    assert_eq!(anas.device.members(number(&crowd)).unwrap().len(), 1 + PEOPLE * domain::hub::MAX_DEVICES);
    let commits: Vec<GroupCommitDto> =
        typed(ana.get(&app, &format!("/api/communication/channels/{crowd}/commits/")).await, StatusCode::OK)
            .await;
    let ordinary = server::config::DEFAULT_MAX_BODY;
    assert!(commits[0].commit.len() > ordinary, "the commit is {} bytes of base64", commits[0].commit.len());
    let last = phones.last_mut().unwrap();
    let welcomes: Vec<WelcomeDto> = typed(
        last.owner.get(&app, &format!("/api/communication/devices/{}/welcomes/", last.id)).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        welcomes[0].welcome.len() > ordinary,
        "the welcome is {} bytes of base64",
        welcomes[0].welcome.len()
    );
    last.sync(&app, &crowd).await;
    anas.send(&app, &crowd, "welcome, all of you").await;
    assert_eq!(last.messages(&app, &crowd).await, [Ok("welcome, all of you".to_string())]);
    app.finish().await;
}

/// (On each backend, with rate limits off: 200 devices register.)
mod large {
    use super::*;
    crate::on_each_backend!(a_large_conversation_is_keyed_in_one_commit_larger_than_an_ordinary_request);
}

crate::on_both_backends! {
    an_encrypted_conversations_call_is_said_to_be_encrypted_and_not_recorded => an_encrypted_conversations_call_is_said_to_be_encrypted_and_not_recorded;
    the_archiving_member_named_by_an_admin_joins_every_encrypted_conversation_until_another_is_named => the_archiving_member_named_by_an_admin_joins_every_encrypted_conversation_until_another_is_named;
    a_member_sends_in_an_archived_conversation_after_agreeing_and_the_archive_reads_it => a_member_sends_in_an_archived_conversation_after_agreeing_and_the_archive_reads_it;
    a_former_archive_leaves_the_keys_and_cannot_read_what_follows => a_former_archive_leaves_the_keys_and_cannot_read_what_follows;
    an_archiving_member_who_leaves_the_workspace_archives_nothing_there => an_archiving_member_who_leaves_the_workspace_archives_nothing_there;
    a_push_for_an_encrypted_message_carries_its_ids_not_its_text => a_push_for_an_encrypted_message_carries_its_ids_not_its_text;
    an_export_holds_encrypted_messages_without_their_text => an_export_holds_encrypted_messages_without_their_text;
    an_encrypted_file_is_kept_as_ciphertext_and_opens_for_the_other_person => an_encrypted_file_is_kept_as_ciphertext_and_opens_for_the_other_person;
    files_go_encrypted_only_to_an_encrypted_conversation => files_go_encrypted_only_to_an_encrypted_conversation;
    direct_conversations_open_encrypted_where_the_admins_require_it => direct_conversations_open_encrypted_where_the_admins_require_it;
    a_lost_device_comes_back_from_the_key_backup_with_the_recovery_key => a_lost_device_comes_back_from_the_key_backup_with_the_recovery_key;
    a_device_signed_by_another_identity_is_not_added => a_device_signed_by_another_identity_is_not_added;
    a_replaced_identity_removes_the_devices_and_tells_the_conversation => a_replaced_identity_removes_the_devices_and_tells_the_conversation;
    an_encrypted_conversation_carries_only_ciphertext => an_encrypted_conversation_carries_only_ciphertext;
    plain_text_is_refused_in_an_encrypted_conversation => plain_text_is_refused_in_an_encrypted_conversation;
    an_encrypted_message_is_edited_with_new_ciphertext => an_encrypted_message_is_edited_with_new_ciphertext;
    of_two_devices_changing_the_keys_at_once_one_is_refused_and_catches_up => of_two_devices_changing_the_keys_at_once_one_is_refused_and_catches_up;
    a_member_removed_from_a_private_channel_cannot_read_what_follows => a_member_removed_from_a_private_channel_cannot_read_what_follows;
    whom_an_encrypted_message_mentions_is_told_of_it => whom_an_encrypted_message_mentions_is_told_of_it;
    an_authors_own_copy_is_kept_so_what_they_sent_reads_after_every_device_is_lost => an_authors_own_copy_is_kept_so_what_they_sent_reads_after_every_device_is_lost;
    a_new_device_is_added_by_the_others_and_reads_from_then_on => a_new_device_is_added_by_the_others_and_reads_from_then_on;
    key_packages_are_used_once_then_the_last_resort => key_packages_are_used_once_then_the_last_resort;
    only_members_take_part_in_a_conversations_keys => only_members_take_part_in_a_conversations_keys;
    a_public_channel_cannot_be_made_end_to_end_encrypted => a_public_channel_cannot_be_made_end_to_end_encrypted;
    a_device_is_listed_to_people_sharing_a_workspace_and_removed_by_its_owner => a_device_is_listed_to_people_sharing_a_workspace_and_removed_by_its_owner;
}
