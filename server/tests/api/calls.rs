//! Calls: who is in a voice channel (limits, permissions, a connection that
//! vanishes), and media through the SFU between two peers built on the
//! `webrtc` crate, talking to the server over the gateway as browsers do.

use crate::gateway::{Ws, connect_as, next_event, next_of};
use crate::helpers::{TestApp, User, join, json_of, workspace};
use app::wire::MessageDto;
use bench::call_peer::{Peer, until};
use futures::SinkExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

async fn send(ws: &mut Ws, command: Value) {
    ws.send(Message::Text(command.to_string().into())).await.expect("the gateway takes the command");
}

/// The next VOICE_STATE for `channel` with `n` participants.
async fn state_with(ws: &mut Ws, channel: &str, n: usize) -> Value {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let e = next_of(ws, "VOICE_STATE").await;
            if e["channel_id"] == channel && e["participants"].as_array().unwrap().len() == n {
                return e;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{n} people in the call within 10 s"))
}

pub(crate) async fn voice_channel(app: &TestApp, owner: &User, ws: &str, limit: i64) -> String {
    let body = json!({"workspace_id": ws, "name": "lounge", "channel_type": "voice", "user_limit": limit});
    let res = owner.post(app, "/api/communication/channels/", body).await;
    json_of(res, StatusCode::CREATED).await["id"].as_str().unwrap().to_string()
}

async fn call_rooms(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let cat = app.user("cat").await;
    let dan = app.user("dan").await;
    let (ws, _) = workspace(&app, &ana, false).await;
    for u in [&bob, &cat, &dan] {
        join(&app, u, &ws).await;
    }
    let lounge = voice_channel(&app, &ana, &ws, 1).await;

    // Ana joins: she may speak, gets the server's offer, and is in the call.
    let mut ana_ws = connect_as(&app, &ana).await;
    let mut bob_ws = connect_as(&app, &bob).await;
    send(&mut ana_ws, json!({"type": "VOICE_JOIN", "channel_id": lounge})).await;
    let joined = next_of(&mut ana_ws, "VOICE_JOINED").await;
    assert_eq!(
        (joined["channel_id"].as_str(), joined["can_speak"].as_bool()),
        (Some(lounge.as_str()), Some(true))
    );
    assert!(next_of(&mut ana_ws, "RTC_OFFER").await["sdp"].as_str().unwrap().starts_with("v=0"));
    let state = state_with(&mut bob_ws, &lounge, 1).await;
    assert_eq!(state["participants"][0]["user"]["username"], "ana");

    // The limit is one: Bob is told the call is full.
    send(&mut bob_ws, json!({"type": "VOICE_JOIN", "channel_id": lounge})).await;
    let refused = next_of(&mut bob_ws, "COMMAND_ERROR").await;
    assert_eq!(refused["command"], "VOICE_JOIN");
    assert_eq!(refused["error"]["code"], "forbidden");
    assert!(refused["error"]["message"].as_str().unwrap().contains("full (1 of 1 people)"), "{refused}");

    // Ana's connection vanishes: the call is empty again, and Bob gets in.
    drop(ana_ws);
    state_with(&mut bob_ws, &lounge, 0).await;
    send(&mut bob_ws, json!({"type": "VOICE_JOIN", "channel_id": lounge})).await;
    // Joined (on the connection) and in the call (for everyone) come in either order.
    tokio::time::timeout(Duration::from_secs(10), async {
        let (mut joined, mut listed) = (false, false);
        while !(joined && listed) {
            let e = next_event(&mut bob_ws).await;
            joined |= e["type"] == "VOICE_JOINED";
            listed |= e["type"] == "VOICE_STATE" && e["participants"].as_array().unwrap().len() == 1;
        }
    })
    .await
    .expect("Bob is in the call within 10 s");
    // The channel list (and so the sidebar) shows who is in the call.
    let list = json_of(
        dan.get(&app, &format!("/api/communication/channels/?workspace_id={ws}")).await,
        StatusCode::OK,
    )
    .await;
    let listed = list.as_array().unwrap().iter().find(|c| c["id"] == lounge.as_str()).unwrap();
    assert_eq!(listed["call"][0]["user"]["username"], "bob", "{listed}");

    // Without speak, Cat joins but is not heard; without join_voice, Dan stays out.
    let path = format!("/api/communication/channels/{lounge}/");
    json_of(ana.put(&app, &path, json!({"user_limit": 0})).await, StatusCode::OK).await;
    let perms = format!("/api/communication/channels/{lounge}/permissions/");
    for (who, deny) in [(&cat, "speak"), (&dan, "join_voice")] {
        let body = json!({"target_kind": "member", "target_id": who.id, "allow": [], "deny": [deny]});
        assert_eq!(ana.put(&app, &perms, body).await.status(), StatusCode::NO_CONTENT);
    }
    let mut cat_ws = connect_as(&app, &cat).await;
    send(&mut cat_ws, json!({"type": "VOICE_JOIN", "channel_id": lounge})).await;
    assert_eq!(next_of(&mut cat_ws, "VOICE_JOINED").await["can_speak"], false);
    let mut dan_ws = connect_as(&app, &dan).await;
    send(&mut dan_ws, json!({"type": "VOICE_JOIN", "channel_id": lounge})).await;
    let refused = next_of(&mut dan_ws, "COMMAND_ERROR").await;
    assert_eq!(refused["error"]["code"], "forbidden", "{refused}");

    // Muting others needs mute_members: Cat may not; Ana (the owner) may, from outside the call.
    send(&mut cat_ws, json!({"type": "VOICE_MUTE", "channel_id": lounge, "user_id": bob.id, "muted": true}))
        .await;
    assert_eq!(next_of(&mut cat_ws, "COMMAND_ERROR").await["error"]["code"], "forbidden");
    let mut ana_ws = connect_as(&app, &ana).await;
    send(&mut ana_ws, json!({"type": "VOICE_MUTE", "channel_id": lounge, "user_id": bob.id, "muted": true}))
        .await;
    let muted = loop {
        let s = state_with(&mut dan_ws, &lounge, 2).await;
        if let Some(b) =
            s["participants"].as_array().unwrap().iter().find(|p| p["user"]["id"] == bob.id.as_str())
            && b["server_muted"] == true
        {
            break b.clone();
        }
    };
    assert_eq!(muted["can_speak"], true);
    let log = json_of(
        ana.get(&app, &format!("/api/communication/workspaces/{ws}/audit_log/?action=voice")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(log[0]["action"], "voice.mute", "{log}");

    // Leaving by command.
    send(&mut cat_ws, json!({"type": "VOICE_LEAVE"})).await;
    state_with(&mut dan_ws, &lounge, 1).await;

    // Kicked from the workspace, Bob is out of the call at once, and told so.
    let kick = format!("/api/communication/workspaces/{ws}/members/{}/kick/", bob.id);
    assert_eq!(ana.post(&app, &kick, json!({})).await.status(), StatusCode::NO_CONTENT);
    state_with(&mut dan_ws, &lounge, 0).await;
    let left = next_of(&mut bob_ws, "VOICE_LEFT").await;
    assert_eq!(left["channel_id"], lounge.as_str());
    app
}

/// Once the call says someone's `flag` is `value`, their audio stops
/// reaching `listener` while video goes on (45 more video packets); only
/// packets already in flight may arrive. Returns the audio count then and
/// how many leaked.
pub(crate) async fn silenced(listener: &mut Peer, flag: &str, value: bool) -> (usize, usize) {
    loop {
        let s = listener.next("VOICE_STATE").await;
        if s["participants"].as_array().unwrap().iter().any(|p| p[flag] == value) {
            break;
        }
    }
    let heard = listener.received.clone();
    let (audio_then, video_then) = (heard.audio(), heard.video());
    until(|| heard.video(), video_then + 45, "video going on").await;
    let leaked = heard.audio() - audio_then;
    assert!(leaked <= 5, "{leaked} audio packets arrived once {flag} was {value} (only those in flight may)");
    (audio_then, leaked)
}

/// Ana (the owner) in a voice channel's call, listening; Bob (a member)
/// publishing a microphone and a camera, his video already reaching her.
struct TwoInACall {
    ana: User,
    bob: User,
    lounge: String,
    /// The workspace's text channel.
    general: String,
    listener: Peer,
    speaker: Peer,
}

async fn two_in_a_call(app: &TestApp) -> TwoInACall {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let (ws, general) = workspace(app, &ana, false).await;
    join(app, &bob, &ws).await;
    let lounge = voice_channel(app, &ana, &ws, 0).await;
    let gateway = format!("ws://127.0.0.1:{}/ws", app.port);
    let mut listener = Peer::join(&gateway, &ana.token, &lounge, false).await;
    listener.next("VOICE_JOINED").await;
    let speaker = Peer::join(&gateway, &bob.token, &lounge, true).await;
    let heard = listener.received.clone();
    until(|| heard.video(), 15, "video from Bob").await;
    TwoInACall { ana, bob, lounge, general, listener, speaker }
}

async fn media_flows_through_the_sfu(app: TestApp) -> TestApp {
    let TwoInACall { ana, bob, lounge, mut listener, mut speaker, .. } = two_in_a_call(&app).await;
    let heard = listener.received.clone();
    until(|| heard.audio(), 25, "audio from Bob").await;

    // Ana (the owner) mutes Bob for everyone: his audio stops reaching her, his video does not.
    listener
        .commands
        .send(json!({"type": "VOICE_MUTE", "channel_id": lounge, "user_id": bob.id, "muted": true}))
        .unwrap();
    let (audio_then, leaked) = silenced(&mut listener, "server_muted", true).await;
    listener
        .commands
        .send(json!({"type": "VOICE_MUTE", "channel_id": lounge, "user_id": bob.id, "muted": false}))
        .unwrap();
    until(|| heard.audio(), audio_then + leaked + 25, "audio after unmuting").await;

    // Bob mutes himself, though his client keeps sending: the server holds his audio back too.
    speaker.commands.send(json!({"type": "VOICE_SELF", "muted": true, "camera": true})).unwrap();
    let (audio_then, leaked) = silenced(&mut listener, "self_muted", true).await;
    speaker.commands.send(json!({"type": "VOICE_SELF", "muted": false, "camera": true})).unwrap();
    until(|| heard.audio(), audio_then + leaked + 25, "audio after unmuting himself").await;

    // Speak taken from Bob in this channel while he talks: his audio stops reaching Ana again.
    let perms = format!("/api/communication/channels/{lounge}/permissions/");
    let deny = json!({"target_kind": "member", "target_id": bob.id, "allow": [], "deny": ["speak"]});
    assert_eq!(ana.put(&app, &perms, deny).await.status(), StatusCode::NO_CONTENT);
    silenced(&mut listener, "can_speak", false).await;

    // Bob shares his screen: a second video track reaches Ana, and flows.
    speaker.share_screen().await;
    until(|| heard.video_tracks(), 2, "a second video track (the screen)").await;
    assert_eq!(heard.screens(), 1, "the server marks the screen's stream as one");
    // One share at a time: a second is refused.
    speaker.commands.send(json!({"type": "VOICE_SCREEN", "sharing": true})).unwrap();
    let refused = speaker.next("COMMAND_ERROR").await;
    assert!(
        refused["error"]["message"].as_str().unwrap().contains("sharing your screen already"),
        "{refused}"
    );
    let video_then = heard.video();
    until(|| heard.video(), video_then + 90, "camera and screen video").await;

    // He stops sharing: the screen leaves Ana's connection; his camera goes on.
    speaker.stop_screen();
    until(|| heard.screens_ended(), 1, "the screen track to end").await;
    let video_then = heard.video();
    until(|| heard.video(), video_then + 30, "camera video after the share").await;

    // Bob's connection closes: he leaves the call, and the server lets go of his peer.
    speaker.commands.send(json!({"type": "VOICE_LEAVE"})).unwrap();
    loop {
        let s = listener.next("VOICE_STATE").await;
        if s["participants"].as_array().unwrap().len() == 1 {
            break;
        }
    }
    let _ = speaker.pc.close().await;
    let _ = listener.pc.close().await;
    app
}

/// The duration ffprobe (Debian's ffmpeg) reads from a media file, in seconds.
fn ffprobe_duration(path: &std::path::Path) -> f64 {
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .expect("ffprobe runs (scripts/test installs ffmpeg)");
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim().parse().unwrap_or_else(|_| panic!("ffprobe read no duration from {path:?}: {text:?} {out:?}"))
}

async fn a_recording_is_posted_as_files(app: TestApp) -> TestApp {
    let TwoInACall { ana, lounge, listener: mut host, speaker, .. } = two_in_a_call(&app).await;
    let heard = host.received.clone();

    // Ana (the owner) records: everyone is told who records.
    host.commands.send(json!({"type": "VOICE_RECORD", "recording": true})).unwrap();
    loop {
        let s = host.next("VOICE_STATE").await;
        if s["recording"]["id"] == ana.id.as_str() {
            break;
        }
    }
    // Two seconds of Bob's media go by, then she stops.
    let (audio_then, video_then) = (heard.audio(), heard.video());
    until(|| heard.audio(), audio_then + 100, "two seconds of audio").await;
    until(|| heard.video(), video_then + 60, "two seconds of video").await;
    host.commands.send(json!({"type": "VOICE_RECORD", "recording": false})).unwrap();

    // The files arrive in the channel as one notice from Parley naming Ana,
    // one file per track, each a media file ffprobe reads.
    let posted = posted_in(&mut host, &lounge).await;
    assert_recording(&app, &ana, &posted, "ana D").await;
    let _ = speaker.pc.close().await;
    let _ = host.pc.close().await;
    app
}

/// The newest message of `channel`, as `reader` reads it over the API.
async fn latest_in(app: &TestApp, reader: &User, channel: &str) -> MessageDto {
    let page = json_of(
        reader.get(app, &format!("/api/communication/messages/?channel_id={channel}")).await,
        StatusCode::OK,
    )
    .await;
    let page: app::wire::MessagePageDto = serde_json::from_value(page).unwrap();
    page.messages.into_iter().next().expect("a message was posted")
}

/// The next message posted in `channel`, as `peer`'s gateway tells it.
async fn posted_in(peer: &mut Peer, channel: &str) -> MessageDto {
    loop {
        let e = peer.next("MESSAGE_CREATE").await;
        if e["message"]["channel_id"] == channel {
            return serde_json::from_value(e["message"].clone()).unwrap();
        }
    }
}

/// `posted` is Parley's notice of Bob's recorded audio and camera, started by
/// `by`: each file downloads (as `reader`) and ffprobe reads a duration from it.
async fn assert_recording(app: &TestApp, reader: &User, posted: &MessageDto, by: &str) {
    assert_eq!(posted.author.display_name, "Parley", "{posted:?}");
    assert!(posted.body.contains(&format!("started by {by}")), "{}", posted.body);
    let mut names: Vec<&str> = posted.attachments.iter().map(|a| a.file_name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["bob-audio.ogg", "bob-camera.ivf"]);
    let dir = std::env::temp_dir().join(format!("parley-recording-{}", posted.id));
    std::fs::create_dir_all(&dir).unwrap();
    for a in &posted.attachments {
        let response = reader.get(app, &a.url).await;
        assert_eq!(response.status(), StatusCode::OK);
        let path = dir.join(&a.file_name);
        std::fs::write(&path, response.bytes().await.unwrap()).unwrap();
        let seconds = ffprobe_duration(&path);
        assert!(seconds > 0.5, "{path:?} lasts {seconds} s");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Starts a recording through `commands` (the recorder's connection) and
/// waits until `watcher` hears that `recorder` records; then lets two
/// seconds of Bob's media go by.
async fn record_for_two_seconds(
    commands: &tokio::sync::mpsc::UnboundedSender<Value>,
    watcher: &mut Peer,
    recorder: &User,
) {
    commands.send(json!({"type": "VOICE_RECORD", "recording": true})).unwrap();
    loop {
        let s = watcher.next("VOICE_STATE").await;
        if s["recording"]["id"] == recorder.id.as_str() {
            break;
        }
    }
    let heard = watcher.received.clone();
    let (audio_then, video_then) = (heard.audio(), heard.video());
    until(|| heard.audio(), audio_then + 100, "two seconds of audio").await;
    until(|| heard.video(), video_then + 60, "two seconds of video").await;
}

/// Bob, a moderator, records; he is kicked, and then the channel is
/// archived (as ending a meeting does), which ends the call: the recording
/// is still posted, by Parley, in the archived channel.
async fn a_recording_outlives_its_recorder_and_its_channel(app: TestApp) -> TestApp {
    let TwoInACall { ana, bob, lounge, mut listener, speaker, .. } = two_in_a_call(&app).await;
    let ws = json_of(ana.get(&app, &format!("/api/communication/channels/{lounge}/")).await, StatusCode::OK)
        .await["workspace_id"]
        .as_str()
        .unwrap()
        .to_string();
    let roles =
        json_of(ana.get(&app, &format!("/api/communication/workspaces/{ws}/roles/")).await, StatusCode::OK)
            .await;
    let moderator =
        roles.as_array().unwrap().iter().find(|r| r["builtin"] == "moderator").unwrap()["id"].clone();
    let give = format!(
        "/api/communication/workspaces/{ws}/members/{}/roles/{}/",
        bob.id,
        moderator.as_str().unwrap()
    );
    assert!(ana.put(&app, &give, json!({})).await.status().is_success());

    record_for_two_seconds(&speaker.commands, &mut listener, &bob).await;
    let kick = format!("/api/communication/workspaces/{ws}/members/{}/kick/", bob.id);
    assert_eq!(ana.post(&app, &kick, json!({})).await.status(), StatusCode::NO_CONTENT);
    let archive =
        ana.put(&app, &format!("/api/communication/channels/{lounge}/"), json!({"archived": true})).await;
    assert_eq!(archive.status(), StatusCode::OK);

    let posted = posted_in(&mut listener, &lounge).await;
    assert_recording(&app, &ana, &posted, "bob D").await;
    let _ = speaker.pc.close().await;
    let _ = listener.pc.close().await;
    app
}

/// The server is stopped (as SIGTERM does) during a call that is being
/// recorded, with an email queued: it exits within 10 s, the call's
/// connections are closed, the recording is finished and posted before it exits,
/// and the email is sent after the next start, once.
async fn a_stop_during_a_recorded_call_with_mail_queued_loses_nothing(backend: domain::Backend) {
    let mut sink = crate::mail::SmtpSink::start(0).await;
    let smtp = sink.settings();
    let mut app = TestApp::spawn_with(
        backend,
        std::sync::Arc::new(move |c: &mut server::config::Config| {
            c.mail.smtp = Some(smtp.clone());
            c.notify.digest_window = Duration::from_secs(6);
        }),
    )
    .await;
    let TwoInACall { ana, lounge, general, mut listener, speaker, .. } = two_in_a_call(&app).await;
    crate::helpers::say(&app, &ana, &general, "@bob the minutes follow by email").await;
    let store = app.store().await;
    let queued = store.deliveries_to("bob@example.com").await.unwrap();
    assert!(queued.len() == 1 && queued[0].sent_at.is_none(), "an email waits: {queued:?}");
    let commands = listener.commands.clone();
    record_for_two_seconds(&commands, &mut listener, &ana).await;

    let started = std::time::Instant::now();
    app.restart().await;
    assert!(started.elapsed() < Duration::from_secs(10), "stopped in {:?}", started.elapsed());
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while listener.events.recv().await.is_some() {}
    });
    ended.await.expect("the call's gateway connection was closed by the stop");
    let posted = &latest_in(&app, &ana, &lounge).await;
    assert_recording(&app, &ana, posted, "ana D").await;

    let mail = tokio::time::timeout(Duration::from_secs(30), sink.received.recv())
        .await
        .expect("the queued email within 30 s of the restart")
        .unwrap();
    assert_eq!(mail.to, ["bob@example.com"]);
    assert!(mail.text().contains("the minutes follow by email"), "{}", mail.text());
    let sent = store.deliveries_to("bob@example.com").await.unwrap();
    assert_eq!(sent.len(), 1);
    store.close().await;
    let _ = (speaker.pc.close().await, listener.pc.close().await);
    app.finish().await;
}

/// A server killed mid-recording (and mid-upload) leaves files behind; the
/// next start posts the recording in its channel, keeps aside and reports
/// one whose channel is gone, and removes uploads cut off and files no
/// message names.
async fn what_a_crash_left_behind_is_finished_at_the_next_start(mut app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let (ws, _) = workspace(&app, &ana, false).await;
    let lounge = voice_channel(&app, &ana, &ws, 0).await;
    let gone = json_of(
        ana.post(
            &app,
            "/api/communication/channels/",
            json!({"workspace_id": ws, "name": "gone", "channel_type": "voice"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        ana.delete(&app, &format!("/api/communication/channels/{gone}/")).await.status(),
        StatusCode::NO_CONTENT
    );

    let files = app.data.0.join("files");
    let tmp = files.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let started = domain::now_ms() - 60_000;
    let track = b"OggS recorded audio until the crash".to_vec();
    std::fs::write(tmp.join(format!("rec~{ws}~{lounge}~{started}~{}~ana-audio.ogg.part", ana.id)), &track)
        .unwrap();
    std::fs::write(tmp.join(format!("rec~{ws}~{gone}~{started}~{}~ana-audio.ogg.part", ana.id)), &track)
        .unwrap();
    std::fs::write(tmp.join("4242.part"), b"half an upload").unwrap();
    std::fs::write(files.join("777"), b"a file no message names").unwrap();

    app.restart().await;

    let posted = &latest_in(&app, &ana, &lounge).await;
    assert_eq!(posted.author.display_name, "Parley");
    assert!(posted.body.contains("started by ana D (cut short when the server stopped)"), "{}", posted.body);
    assert_eq!(posted.attachments.len(), 1);
    let download = ana.get(&app, &posted.attachments[0].url).await;
    assert_eq!(download.bytes().await.unwrap().to_vec(), track);

    let unclaimed: Vec<_> =
        std::fs::read_dir(files.join("unclaimed")).unwrap().map(|f| f.unwrap().path()).collect();
    assert_eq!(unclaimed.len(), 1, "the recording of the deleted channel is kept aside");
    let audit = json_of(
        ana.get(&app, &format!("/api/communication/workspaces/{ws}/audit_log/?action=recording")).await,
        StatusCode::OK,
    )
    .await;
    let audit: Vec<app::wire::AuditEntryDto> = serde_json::from_value(audit).unwrap();
    assert_eq!(audit.len(), 1);
    assert!(audit[0].summary.contains("kept on the server"), "{}", audit[0].summary);
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().map(|f| f.unwrap().file_name()).collect();
    assert!(left.is_empty(), "nothing is left in files/tmp: {left:?}");
    assert!(!files.join("777").exists(), "a file no message names is removed");
    app
}

crate::on_both_backends! {
    what_a_crash_left_behind_is_finished_at_the_next_start => what_a_crash_left_behind_is_finished_at_the_next_start;
    a_recording_outlives_its_recorder_and_its_channel => a_recording_outlives_its_recorder_and_its_channel;
    call_rooms => call_rooms;
    media_flows_through_the_sfu => media_flows_through_the_sfu;
    a_recording_is_posted_as_files => a_recording_is_posted_as_files;
}

mod stops {
    crate::on_each_backend!(a_stop_during_a_recorded_call_with_mail_queued_loses_nothing);
    use super::*;
}
