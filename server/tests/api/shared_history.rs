//! Sharing an encrypted conversation's history with the devices it adds,
//! through the real server: turned on by who may encrypt the
//! conversation; a member's device that adds others shares what it read,
//! encrypted for the new epoch; only the added devices are given it, once;
//! the server reads none of it.

use crate::e2ee::{Phone, number, typed};
use crate::helpers::{TestApp, User, assert_error, channel, join, json_of, workspace};
use app::wire::{ChannelDto, ConversationDevicesDto, SharedHistoryDto};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use domain::hub::SHARED_HISTORY_BYTES;
use e2ee::{Content, SharedHistory, SharedMessage};
use reqwest::StatusCode;
use serde_json::json;

/// An encrypted private channel `#secret` of ana and bob, with a device
/// each that has joined it, in a workspace dan belongs to (not the channel).
async fn secret_of_two(app: &TestApp, ana: &User, bob: &User, dan: &User) -> (String, Phone, Phone) {
    let (ws, _) = workspace(app, ana, false).await;
    join(app, bob, &ws).await;
    join(app, dan, &ws).await;
    let secret = channel(app, ana, &ws, "secret", true).await;
    let add = format!("/api/communication/channels/{secret}/add_members/");
    json_of(ana.post(app, &add, json!({"usernames": ["bob"]})).await, StatusCode::OK).await;
    let path = format!("/api/communication/channels/{secret}/end_to_end/");
    json_of(ana.post(app, &path, json!({})).await, StatusCode::OK).await;
    let (mut anas, mut bobs) =
        (Phone::register(app, ana, "laptop").await, Phone::register(app, bob, "phone").await);
    anas.sync(app, &secret).await;
    bobs.sync(app, &secret).await;
    (secret, anas, bobs)
}

async fn set_sharing(app: &TestApp, who: &User, channel: &str, on: bool) -> reqwest::Response {
    let path = format!("/api/communication/channels/{channel}/history_sharing/");
    who.put(app, &path, json!({ "on": on })).await
}

/// Adds dan to `secret` and registers a device of his, which `adder`'s
/// device then adds to the keys.
async fn dan_added(app: &TestApp, ana: &User, adder: &mut Phone, dan: &User, secret: &str) -> Phone {
    let add = format!("/api/communication/channels/{secret}/add_members/");
    json_of(ana.post(app, &add, json!({"usernames": ["dan"]})).await, StatusCode::OK).await;
    let dans = Phone::register(app, dan, "desktop").await;
    adder.sync(app, secret).await;
    dans
}

/// What `phone` read of `channel`, as a shared history of its messages.
async fn history_read_by(app: &TestApp, phone: &mut Phone, channel: &str) -> SharedHistory {
    let read = phone.messages(app, channel).await;
    let path = format!("/api/communication/messages/?channel_id={channel}");
    let page: app::wire::MessagePageDto = typed(phone.owner.get(app, &path).await, StatusCode::OK).await;
    SharedHistory {
        messages: page
            .messages
            .iter()
            .rev()
            .zip(read)
            .map(|(m, text)| SharedMessage {
                id: number(&m.id),
                edited_at: m.edited_at,
                content: Content::of_text(text.unwrap()),
            })
            .collect(),
    }
}

/// `phone` shares `history` of `channel` with `devices` at `epoch`; the answer as it is.
async fn share(
    app: &TestApp,
    phone: &mut Phone,
    channel: &str,
    epoch: i64,
    history: &SharedHistory,
    devices: &[&str],
) -> reqwest::Response {
    let sealed = B64
        .encode(phone.device.share_history(number(channel), history, SHARED_HISTORY_BYTES).unwrap().unwrap());
    post_share(app, &phone.owner, channel, (&phone.id, epoch), &sealed, devices).await
}

/// `who` posts `sealed` as the history `device` shared at `epoch`.
async fn post_share(
    app: &TestApp,
    who: &User,
    channel: &str,
    (device, epoch): (&str, i64),
    sealed: &str,
    devices: &[&str],
) -> reqwest::Response {
    let body = json!({"device_id": device, "epoch": epoch, "history": sealed, "device_ids": devices});
    who.post(app, &format!("/api/communication/channels/{channel}/shared_histories/"), body).await
}

async fn epoch_of(app: &TestApp, phone: &Phone, channel: &str) -> i64 {
    let path = format!("/api/communication/channels/{channel}/devices/");
    let now: ConversationDevicesDto = typed(phone.owner.get(app, &path).await, StatusCode::OK).await;
    now.epoch
}

async fn shared_with(app: &TestApp, phone: &Phone) -> Vec<SharedHistoryDto> {
    let path = format!("/api/communication/devices/{}/shared_histories/", phone.id);
    typed(phone.owner.get(app, &path).await, StatusCode::OK).await
}

/// Ana turns sharing on; after she adds dan, her device shares what she
/// read; dan's device reads it (the messages before he joined, which it
/// could not decrypt itself) and takes it once.
async fn a_device_added_where_history_is_shared_reads_the_messages_before_it(app: TestApp) -> TestApp {
    let (ana, bob, dan) = (app.user("ana").await, app.user("bob").await, app.user("dan").await);
    let (secret, mut anas, mut bobs) = secret_of_two(&app, &ana, &bob, &dan).await;
    let on: ChannelDto = typed(set_sharing(&app, &ana, &secret, true).await, StatusCode::OK).await;
    assert!(on.shares_history);
    bobs.send(&app, &secret, "the plan, before dan").await;
    anas.send(&app, &secret, "agreed").await;

    let mut dans = dan_added(&app, &ana, &mut anas, &dan, &secret).await;
    let history = history_read_by(&app, &mut anas, &secret).await;
    let epoch = epoch_of(&app, &anas, &secret).await;
    assert_eq!(
        share(&app, &mut anas, &secret, epoch, &history, &[&dans.id]).await.status(),
        StatusCode::NO_CONTENT
    );
    dans.sync(&app, &secret).await;
    let before = dans.messages(&app, &secret).await;
    assert!(before.iter().all(Result::is_err), "sent before dan's device took part: {before:?}");

    let shared = shared_with(&app, &dans).await;
    assert_eq!(shared.len(), 1);
    let h = &shared[0];
    assert_eq!(
        (h.channel_id.as_str(), h.from_user_id.as_str(), h.from_name.as_str()),
        (secret.as_str(), ana.id.as_str(), "ana D")
    );
    assert_eq!((h.from_device_id.as_str(), h.epoch), (anas.id.as_str(), epoch));
    let (from, read) = dans.device.read_history(number(&secret), &B64.decode(&h.history).unwrap()).unwrap();
    assert_eq!(from, anas.device.me());
    let texts: Vec<&str> = read.messages.iter().map(|m| m.content.text.as_str()).collect();
    assert_eq!(texts, ["the plan, before dan", "agreed"]);
    let taken = format!("/api/communication/devices/{}/shared_histories/{}/", dans.id, h.id);
    assert_eq!(dan.delete(&app, &taken).await.status(), StatusCode::NO_CONTENT);
    assert!(shared_with(&app, &dans).await.is_empty(), "taken once");
    assert_error(dan.delete(&app, &taken).await, StatusCode::NOT_FOUND, "not_found", None).await;
    app
}

/// In `secret_of_two` with sharing on, ana says `said`, adds dan, and her
/// device shares what it read with dan's: dan and his device.
async fn dan_given_history(app: &TestApp, said: &str) -> (User, Phone) {
    let (ana, bob, dan) = (app.user("ana").await, app.user("bob").await, app.user("dan").await);
    let (secret, mut anas, _bobs) = secret_of_two(app, &ana, &bob, &dan).await;
    set_sharing(app, &ana, &secret, true).await;
    anas.send(app, &secret, said).await;
    let dans = dan_added(app, &ana, &mut anas, &dan, &secret).await;
    let history = history_read_by(app, &mut anas, &secret).await;
    let epoch = epoch_of(app, &anas, &secret).await;
    let shared = share(app, &mut anas, &secret, epoch, &history, &[&dans.id]).await;
    assert_eq!(shared.status(), StatusCode::NO_CONTENT);
    (dan, dans)
}

/// The history is ciphertext to the server: what it keeps and hands out
/// holds no text.
async fn a_shared_history_reaches_the_server_only_as_ciphertext(app: TestApp) -> TestApp {
    let (_, dans) = dan_given_history(&app, "codename bluebird").await;
    let shared = shared_with(&app, &dans).await;
    assert_eq!(shared.len(), 1);
    assert!(!shared[0].history.contains("bluebird"));
    assert!(!B64.decode(&shared[0].history).unwrap().windows(8).any(|w| w == b"bluebird"));
    app
}

/// Refused, each with its reason: where the conversation does not share
/// its history (a conflict), for a device that is not of its members
/// (a conflict), from an epoch the keys have left (a conflict), from
/// another person's device (not found); and another person cannot read
/// or take what was shared with a device of dan's (not found).
async fn a_history_is_shared_only_where_it_is_on_and_only_with_the_conversations_devices(
    app: TestApp,
) -> TestApp {
    let (ana, bob, dan) = (app.user("ana").await, app.user("bob").await, app.user("dan").await);
    let (secret, mut anas, _bobs) = secret_of_two(&app, &ana, &bob, &dan).await;
    anas.send(&app, &secret, "before dan").await;
    let dans = dan_added(&app, &ana, &mut anas, &dan, &secret).await;
    let history = history_read_by(&app, &mut anas, &secret).await;
    let epoch = epoch_of(&app, &anas, &secret).await;

    let sealed = B64
        .encode(anas.device.share_history(number(&secret), &history, SHARED_HISTORY_BYTES).unwrap().unwrap());
    let from = (anas.id.as_str(), epoch);
    let off = post_share(&app, &ana, &secret, from, &sealed, &[&dans.id]).await;
    assert_error(off, StatusCode::CONFLICT, "conflict", Some("channel")).await;
    set_sharing(&app, &ana, &secret, true).await;
    let other = Phone::register(&app, &dan, "not in the keys").await;
    let outsider = Phone::register(&app, &app.user("eve").await, "elsewhere").await;
    let foreign = post_share(&app, &ana, &secret, from, &sealed, &[&outsider.id]).await;
    assert_error(foreign, StatusCode::CONFLICT, "conflict", Some("device_ids")).await;
    let stale = post_share(&app, &ana, &secret, (&anas.id, epoch - 1), &sealed, &[&dans.id]).await;
    assert_error(stale, StatusCode::CONFLICT, "conflict", Some("epoch")).await;
    let not_theirs = post_share(&app, &bob, &secret, from, &sealed, &[&dans.id]).await;
    assert_error(not_theirs, StatusCode::NOT_FOUND, "not_found", None).await;

    let shared = post_share(&app, &ana, &secret, from, &sealed, &[&dans.id]).await;
    assert_eq!(shared.status(), StatusCode::NO_CONTENT);
    assert!(shared_with(&app, &other).await.is_empty(), "only for the device it names");
    let path = format!("/api/communication/devices/{}/shared_histories/", dans.id);
    assert_error(bob.get(&app, &path).await, StatusCode::NOT_FOUND, "not_found", None).await;
    let id = &shared_with(&app, &dans).await[0].id;
    let take = format!("{path}{id}/");
    assert_error(bob.delete(&app, &take).await, StatusCode::NOT_FOUND, "not_found", None).await;
    app
}

/// A history of 100 long messages is larger than an ordinary request: the
/// server takes it, and the added device reads all of it; one past the
/// size the server keeps is refused as such.
async fn a_history_larger_than_an_ordinary_request_is_taken_up_to_its_limit(app: TestApp) -> TestApp {
    let (ana, bob, dan) = (app.user("ana").await, app.user("bob").await, app.user("dan").await);
    let (secret, mut anas, _bobs) = secret_of_two(&app, &ana, &bob, &dan).await;
    set_sharing(&app, &ana, &secret, true).await;
    let mut dans = dan_added(&app, &ana, &mut anas, &dan, &secret).await;
    let long = "the minutes, word for word. ".repeat(80); // 2,240 bytes each
    let history = SharedHistory {
        messages: (0..100)
            .map(|id| SharedMessage { id, edited_at: None, content: Content::of_text(&long) })
            .collect(),
    };
    let epoch = epoch_of(&app, &anas, &secret).await;
    let shared = share(&app, &mut anas, &secret, epoch, &history, &[&dans.id]).await;
    assert_eq!(shared.status(), StatusCode::NO_CONTENT);
    dans.sync(&app, &secret).await;
    let kept = shared_with(&app, &dans).await;
    assert!(kept[0].history.len() > 200_000, "{} bytes of base64", kept[0].history.len());
    let (_, read) =
        dans.device.read_history(number(&secret), &B64.decode(&kept[0].history).unwrap()).unwrap();
    assert_eq!(read, history);

    let past = B64.encode(vec![7u8; domain::hub::SHARED_HISTORY_BYTES + 1]);
    let refused = post_share(&app, &ana, &secret, (&anas.id, epoch), &past, &[&dans.id]).await;
    assert_error(refused, StatusCode::BAD_REQUEST, "invalid", Some("history")).await;
    app
}

/// A device its owner removes is left nothing shared with it.
async fn a_removed_device_keeps_no_history_shared_with_it(app: TestApp) -> TestApp {
    let (dan, dans) = dan_given_history(&app, "before dan").await;
    assert_eq!(shared_with(&app, &dans).await.len(), 1);
    let removed = dan.delete(&app, &format!("/api/communication/devices/{}/", dans.id)).await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let path = format!("/api/communication/devices/{}/shared_histories/", dans.id);
    assert_error(dan.get(&app, &path).await, StatusCode::NOT_FOUND, "not_found", None).await;
    let left = app.store().await.shared_histories_for(domain::id::Id(number(&dans.id))).await.unwrap();
    assert!(left.is_empty(), "dropped with the device: {left:?}");
    app
}

/// Who may make the conversation encrypted turns sharing on: in a private
/// channel its managers (its creator here), not any member; in a direct
/// conversation either person. A conversation that is not encrypted has
/// nothing to share this way.
async fn history_sharing_is_changed_by_who_may_encrypt_the_conversation(app: TestApp) -> TestApp {
    let (ana, bob, dan) = (app.user("ana").await, app.user("bob").await, app.user("dan").await);
    let (secret, _anas, _bobs) = secret_of_two(&app, &ana, &bob, &dan).await;
    assert_error(set_sharing(&app, &bob, &secret, true).await, StatusCode::FORBIDDEN, "forbidden", None)
        .await;
    let on: ChannelDto = typed(set_sharing(&app, &ana, &secret, true).await, StatusCode::OK).await;
    assert!(on.shares_history);
    let path = format!("/api/communication/channels/{secret}/devices/");
    let keys: ConversationDevicesDto = typed(bob.get(&app, &path).await, StatusCode::OK).await;
    assert!(keys.shares_history, "members' devices learn it with the conversation's devices");
    let off: ChannelDto = typed(set_sharing(&app, &ana, &secret, false).await, StatusCode::OK).await;
    assert!(!off.shares_history);

    let ws = on.workspace_id.clone();
    let plain = channel(&app, &ana, &ws, "plain", true).await;
    assert_error(
        set_sharing(&app, &ana, &plain, true).await,
        StatusCode::CONFLICT,
        "conflict",
        Some("channel"),
    )
    .await;
    let create = "/api/communication/channels/create_direct/";
    let dm: ChannelDto = typed(
        ana.post(&app, create, json!({"workspace_id": ws, "usernames": ["bob"]})).await,
        StatusCode::OK,
    )
    .await;
    json_of(
        bob.post(&app, &format!("/api/communication/channels/{}/end_to_end/", dm.id), json!({})).await,
        StatusCode::OK,
    )
    .await;
    let shared: ChannelDto = typed(set_sharing(&app, &bob, &dm.id, true).await, StatusCode::OK).await;
    assert!(shared.shares_history);
    app
}

crate::on_both_backends! {
    a_device_added_where_history_is_shared_reads_the_messages_before_it => a_device_added_where_history_is_shared_reads_the_messages_before_it;
    a_shared_history_reaches_the_server_only_as_ciphertext => a_shared_history_reaches_the_server_only_as_ciphertext;
    a_history_is_shared_only_where_it_is_on_and_only_with_the_conversations_devices => a_history_is_shared_only_where_it_is_on_and_only_with_the_conversations_devices;
    history_sharing_is_changed_by_who_may_encrypt_the_conversation => history_sharing_is_changed_by_who_may_encrypt_the_conversation;
    a_removed_device_keeps_no_history_shared_with_it => a_removed_device_keeps_no_history_shared_with_it;
    a_history_larger_than_an_ordinary_request_is_taken_up_to_its_limit => a_history_larger_than_an_ordinary_request_is_taken_up_to_its_limit;
}
