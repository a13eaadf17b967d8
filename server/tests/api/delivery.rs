//! Notifications beyond the bell, against real peers on loopback: an SMTP
//! server receives digests (and a restart in the middle of one sends it
//! once), a push service receives Web Push messages that decrypt with the
//! browser's keys, an SMS provider receives Twilio-style requests; templates,
//! preferences, channel levels, quiet hours and scheduled notifications.

use crate::helpers::{TestApp, User, join, json_of, say, until, workspace};
use crate::mail::SmtpSink;
use crate::sink::HttpSink;
use aes_gcm::aead::Aead;
use aes_gcm::{Aes128Gcm, KeyInit, Nonce};
use app::wire::PushDto;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// The example browser of RFC 8291: its private key, public key and auth secret.
pub const UA_PRIVATE: &str = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
pub const UA_PUBLIC: &str =
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
pub const UA_AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";

/// The browser's side of RFC 8291: the salt and the sender's key from the
/// header, the same derivation with the subscription's private key.
pub fn decrypt(body: &[u8], ua_private: &str, auth: &str) -> Vec<u8> {
    let salt = &body[..16];
    assert_eq!(u32::from_be_bytes(body[16..20].try_into().unwrap()), 4096, "record size");
    let idlen = body[20] as usize;
    let (sender, sealed) = body[21..].split_at(idlen);
    let ua = p256::SecretKey::from_slice(&B64.decode(ua_private).unwrap()).unwrap();
    let sender_key = p256::PublicKey::from_sec1_bytes(sender).unwrap();
    let shared = p256::ecdh::diffie_hellman(ua.to_nonzero_scalar(), sender_key.as_affine());
    let ua_public = B64.decode(UA_PUBLIC).unwrap();
    let info = [b"WebPush: info\0".as_slice(), &ua_public, sender].concat();
    let mut ikm = [0u8; 32];
    hkdf::Hkdf::<sha2::Sha256>::new(Some(&B64.decode(auth).unwrap()), shared.raw_secret_bytes())
        .expand(&info, &mut ikm)
        .unwrap();
    let prk = hkdf::Hkdf::<sha2::Sha256>::new(Some(salt), &ikm);
    let (mut cek, mut nonce) = ([0u8; 16], [0u8; 12]);
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek).unwrap();
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce).unwrap();
    let mut plain =
        Aes128Gcm::new(&cek.into()).decrypt(Nonce::from_slice(&nonce), sealed).expect("it decrypts");
    while plain.last() == Some(&0) {
        plain.pop();
    }
    assert_eq!(plain.pop(), Some(2), "a single, last record");
    plain
}

/// Checks a VAPID `Authorization` header as a push service would: the JWT
/// is signed by `key` and addressed to `origin`.
fn check_vapid(authorization: &str, key: &str, origin: &str) {
    use p256::ecdsa::signature::Verifier;
    let (t, k) = authorization.strip_prefix("vapid t=").unwrap().split_once(", k=").unwrap();
    assert_eq!(k, key, "the header names the server's public key");
    let (input, sig) = t.rsplit_once('.').unwrap();
    let verifying = p256::ecdsa::VerifyingKey::from_sec1_bytes(&B64.decode(k).unwrap()).unwrap();
    let sig = p256::ecdsa::Signature::from_slice(&B64.decode(sig).unwrap()).unwrap();
    verifying.verify(input.as_bytes(), &sig).expect("the token is signed by the server's key");
    let claims: Value =
        serde_json::from_slice(&B64.decode(input.split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert_eq!(claims["aud"], origin);
    assert!(claims["exp"].as_i64().unwrap() > domain::now_ms() / 1000);
    assert!(claims["sub"].as_str().unwrap().starts_with("mailto:"));
}

/// The first `.eml` file in the outbox that contains `needle` (quoted-printable
/// undone), waiting at most 10 s.
pub async fn outbox_email(app: &TestApp, needle: &str) -> String {
    let dir = app.data.0.join("outbox");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries.flatten() {
                if e.path().extension().is_some_and(|x| x == "eml") {
                    let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                    let text = text.replace("=\r\n", "").replace("=3D", "=");
                    if text.contains(needle) {
                        return text;
                    }
                }
            }
        }
        assert!(tokio::time::Instant::now() < deadline, "an email with {needle:?} in the outbox within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn preferences(app: &TestApp, who: &User) -> Value {
    json_of(who.get(app, "/api/communication/notification_preferences/").await, StatusCode::OK).await
}

/// Reads `who`'s preferences, changes them with `change`, and saves them.
async fn change_preferences(app: &TestApp, who: &User, change: impl FnOnce(&mut Value)) -> reqwest::Response {
    let mut p = preferences(app, who).await;
    change(&mut p);
    who.put(app, "/api/communication/notification_preferences/", p).await
}

fn set_switch(p: &mut Value, kind: &str, channel: &str, on: bool) {
    let s = p["switches"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| s["type"] == kind && s["channel"] == channel)
        .expect("the switch is listed");
    s["enabled"] = json!(on);
}

/// Quiet all day, every day, in UTC.
fn always_quiet(p: &mut Value) {
    p["quiet_hours_enabled"] = json!(true);
    p["quiet_start"] = json!("00:00");
    p["quiet_end"] = json!("00:00");
    p["quiet_days"] = json!(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]);
}

async fn notifications_of(app: &TestApp, who: &User) -> Vec<Value> {
    let list = json_of(who.get(app, "/api/communication/notifications/").await, StatusCode::OK).await;
    list.as_array().unwrap().clone()
}

async fn store(app: &TestApp) -> domain::Store {
    app.store().await
}

async fn a_digest_gathers_what_arrives_and_a_restart_sends_it_once(backend: domain::Backend) {
    let sink = SmtpSink::start(0).await;
    let smtp = sink.settings();
    let mut sink = sink;
    let mut app = TestApp::spawn_with(
        backend,
        Arc::new(move |c: &mut server::config::Config| {
            c.mail.smtp = Some(smtp.clone());
            c.notify.digest_window = Duration::from_secs(8);
        }),
    )
    .await;
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    say(&app, &ana, &general, "@bob first thing").await;
    say(&app, &ana, &general, "@bob second thing").await;
    let db = store(&app).await;
    let waiting = db.deliveries_to("bob@example.com").await.unwrap();
    assert_eq!(waiting.len(), 1, "both wait in one digest: {waiting:?}");
    assert!(waiting[0].sent_at.is_none() && waiting[0].due_at > domain::now_ms());

    // The server restarts before the digest is due; what arrives after joins it.
    app.restart().await;
    say(&app, &ana, &general, "@bob third thing").await;
    let mail = tokio::time::timeout(Duration::from_secs(30), sink.received.recv())
        .await
        .expect("the digest within 30 s")
        .unwrap();
    assert_eq!(mail.to, ["bob@example.com"]);
    let text = mail.text();
    assert!(text.contains("Subject: 3 new notifications in Parley"), "{text}");
    for thing in ["first thing", "second thing", "third thing"] {
        assert!(text.contains(thing), "the digest has {thing:?}: {text}");
    }
    assert!(text.contains("text/html") && text.contains("<ul>"), "{text}");
    until(10, "the digest is marked sent", || async {
        db.deliveries_to("bob@example.com").await.unwrap().iter().all(|d| d.sent_at.is_some())
    })
    .await;
    assert_eq!(db.deliveries_to("bob@example.com").await.unwrap().len(), 1);
    assert!(sink.received.try_recv().is_err(), "one email, sent once");
    db.close().await;
    app.finish().await;
}

async fn a_push_reaches_the_push_service_encrypted_for_the_browser(backend: domain::Backend) {
    let mut push = HttpSink::start(201).await;
    let app = TestApp::spawn(backend).await;
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let key = preferences(&app, &bob).await["push_public_key"].as_str().expect("push is on").to_string();
    let endpoint = format!("http://127.0.0.1:{}/push/bob-laptop", push.port);
    let sub = json_of(
        bob.post(
            &app,
            "/api/communication/push_subscriptions/",
            json!({"endpoint": endpoint, "keys": {"p256dh": UA_PUBLIC, "auth": UA_AUTH}}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    // A subscription with keys that are not a browser's is refused.
    let bad = bob
        .post(
            &app,
            "/api/communication/push_subscriptions/",
            json!({"endpoint": endpoint, "keys": {"p256dh": "AAAA", "auth": UA_AUTH}}),
        )
        .await;
    assert_eq!(json_of(bad, StatusCode::BAD_REQUEST).await["field"], "p256dh");

    say(&app, &ana, &general, "@bob look at this").await;
    let got = push.next().await;
    assert_eq!(got.path, "/push/bob-laptop");
    assert_eq!(got.header("content-encoding"), "aes128gcm");
    assert_eq!(got.header("ttl"), "86400");
    assert_eq!(got.header("urgency"), "normal");
    assert_eq!(got.header("topic"), format!("ch-{general}"), "one topic per channel");
    check_vapid(got.header("authorization"), &key, &format!("http://127.0.0.1:{}", push.port));
    let payload: PushDto = serde_json::from_slice(&decrypt(&got.body, UA_PRIVATE, UA_AUTH)).unwrap();
    assert_eq!(payload.title, "ana D mentioned you in #general");
    assert_eq!(payload.body, "@bob look at this");
    assert_eq!((payload.count, payload.tag.as_str()), (1, format!("ch:{general}").as_str()));
    assert_eq!(payload.encrypted, None, "the message is quoted: nothing to decrypt");
    let url = &payload.url;
    assert!(url.starts_with(&app.base) && url.contains(&format!("/c/{general}")), "{url}");

    // In quiet hours, pushes of one channel gather into one that waits.
    assert_eq!(change_preferences(&app, &bob, always_quiet).await.status(), StatusCode::OK);
    say(&app, &ana, &general, "@bob one").await;
    say(&app, &ana, &general, "@bob two").await;
    let db = store(&app).await;
    let sub_id = sub["id"].as_str().unwrap();
    let held: Vec<_> =
        db.deliveries_to(sub_id).await.unwrap().into_iter().filter(|d| d.sent_at.is_none()).collect();
    assert_eq!(held.len(), 1, "one push for the channel: {held:?}");
    assert!(held[0].due_at > domain::now_ms() + 24 * 3600 * 1000, "held until quiet hours end");
    assert_eq!(db.delivery_items(held[0].id).await.unwrap().len(), 2);

    // An urgent one breaks through; the push service says the browser is
    // gone, and the subscription is removed.
    push.answer(410, "");
    let body = json!({"workspace_id": ws, "recipients": ["bob"], "title": "Server down", "content": "Stop deploys.",
        "priority": "urgent", "channels": ["in_app", "push"]});
    json_of(ana.post(&app, "/api/communication/notifications/", body).await, StatusCode::CREATED).await;
    let got = push.next().await;
    assert_eq!(got.header("urgency"), "high");
    let payload: PushDto = serde_json::from_slice(&decrypt(&got.body, UA_PRIVATE, UA_AUTH)).unwrap();
    assert_eq!(payload.title, "Server down");
    until(10, "the gone subscription is removed", || async {
        preferences(&app, &bob).await["push_subscriptions"].as_array().unwrap().is_empty()
    })
    .await;
    db.close().await;
    app.finish().await;
}

async fn an_sms_reaches_a_twilio_compatible_provider(backend: domain::Backend) {
    let mut sms = HttpSink::start(201).await;
    let base = format!("http://127.0.0.1:{}", sms.port);
    let app = TestApp::spawn_with(
        backend,
        Arc::new(move |c: &mut server::config::Config| {
            c.notify.sms = Some(domain::notify::sms::SmsConfig {
                base_url: base.clone(),
                account_sid: "AC123".into(),
                auth_token: "s3cret".into(),
                from: "+15550001111".into(),
            });
        }),
    )
    .await;
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    assert_eq!(preferences(&app, &bob).await["sms_available"], true);
    let bad = change_preferences(&app, &bob, |p| p["phone"] = json!("020 7946 0958")).await;
    assert_eq!(json_of(bad, StatusCode::BAD_REQUEST).await["field"], "phone");
    let saved = change_preferences(&app, &bob, |p| {
        p["phone"] = json!("+44 20 7946 0958");
        set_switch(p, "mention", "sms", true);
    })
    .await;
    assert_eq!(json_of(saved, StatusCode::OK).await["phone"], "+442079460958");

    say(&app, &ana, &general, "@bob call me").await;
    let got = sms.next().await;
    assert_eq!(got.path, "/2010-04-01/Accounts/AC123/Messages.json");
    assert_eq!(got.header("authorization"), format!("Basic {}", STANDARD.encode("AC123:s3cret")));
    assert!(got.header("content-type").starts_with("application/x-www-form-urlencoded"));
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(&got.body).into_owned().collect();
    assert_eq!(form["To"], "+442079460958");
    assert_eq!(form["From"], "+15550001111");
    assert!(
        form["Body"].starts_with("ana D mentioned you in #general: @bob call me http"),
        "{}",
        form["Body"]
    );
    app.finish().await;
}

async fn without_a_provider_sms_is_unavailable(backend: domain::Backend) {
    let app = TestApp::spawn(backend).await;
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (ws, _) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    assert_eq!(preferences(&app, &bob).await["sms_available"], false);
    let saved = change_preferences(&app, &bob, |p| set_switch(p, "mention", "sms", true)).await;
    let saved = json_of(saved, StatusCode::OK).await;
    let sms_on =
        saved["switches"].as_array().unwrap().iter().any(|s| s["channel"] == "sms" && s["enabled"] == true);
    assert!(!sms_on, "SMS cannot be switched on without a provider");
    let body = json!({"workspace_id": ws, "recipients": ["bob"], "title": "T", "channels": ["sms"]});
    let err =
        json_of(ana.post(&app, "/api/communication/notifications/", body).await, StatusCode::BAD_REQUEST)
            .await;
    assert_eq!(err["field"], "channels");
    assert!(err["message"].as_str().unwrap().contains("SMS is not configured"), "{err}");
    app.finish().await;
}

async fn templates_shape_what_is_sent_and_admins_edit_them(backend: domain::Backend) {
    let app = TestApp::spawn(backend).await;
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (ws, _) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let path = format!("/api/communication/workspaces/{ws}/notification_templates/");
    let list = json_of(ana.get(&app, &path).await, StatusCode::OK).await;
    let list = list.as_array().unwrap();
    let kinds = domain::notify::KINDS.len();
    assert_eq!(list.len(), kinds * 3 + 1, "each type on email, push and SMS, and the digest");
    assert!(list.iter().all(|t| t["is_default"] == true));
    assert_eq!(bob.get(&app, &path).await.status(), StatusCode::FORBIDDEN);

    let bad = ana
        .post(&app, &path, json!({"name": "task_assigned", "channel": "email", "body": "Hi {{ name"}))
        .await;
    assert_eq!(json_of(bad, StatusCode::BAD_REQUEST).await["field"], "body");
    let bad = ana.post(&app, &path, json!({"name": "task_assigned", "channel": "fax", "body": "Hi"})).await;
    assert_eq!(json_of(bad, StatusCode::BAD_REQUEST).await["field"], "channel");
    for (channel, subject, body) in [
        (
            "email",
            "Task: {{task_title}}",
            "{{assigner_name}} assigned you {{task_title}}, due {{due_date}}.\n{{url}}",
        ),
        ("in_app", "New task: {{task_title}}", "Due {{due_date}}"),
    ] {
        let t = json!({"name": "task_assigned", "channel": channel, "subject": subject, "body": body});
        json_of(ana.post(&app, &path, t).await, StatusCode::OK).await;
    }

    // Seed 000's send_notification with a template and its data.
    let body = json!({"workspace_id": ws, "recipients": ["bob"], "type": "TASK_ASSIGNED", "priority": "high",
        "channels": ["in_app", "email"], "template_id": "task_assigned",
        "template_data": {"task_title": "Review Q4 Proposal", "due_date": "2024-12-15", "assigner_name": "John Doe"}});
    let sent =
        json_of(ana.post(&app, "/api/communication/notifications/", body).await, StatusCode::CREATED).await;
    assert_eq!(sent[0]["title"], "New task: Review Q4 Proposal");
    assert_eq!(sent[0]["content"], "Due 2024-12-15");
    let mail = outbox_email(&app, "Subject: Task: Review Q4 Proposal").await;
    assert!(mail.contains("John Doe assigned you Review Q4 Proposal, due 2024-12-15."), "{mail}");
    let unknown = json!({"workspace_id": ws, "recipients": ["bob"], "title": "T", "template_id": "nope"});
    let err =
        json_of(ana.post(&app, "/api/communication/notifications/", unknown).await, StatusCode::BAD_REQUEST)
            .await;
    assert_eq!(err["field"], "template_id");

    // The defaults, stored for editing; a second time adds nothing.
    let defaults = format!("{path}create_defaults/");
    assert_eq!(
        json_of(ana.post(&app, &defaults, json!({})).await, StatusCode::OK).await["added"],
        kinds * 3 + 1
    );
    assert_eq!(json_of(ana.post(&app, &defaults, json!({})).await, StatusCode::OK).await["added"], 0);
    let list = json_of(ana.get(&app, &path).await, StatusCode::OK).await;
    let digest = list.as_array().unwrap().iter().find(|t| t["name"] == "digest").unwrap().clone();
    assert_eq!(digest["is_default"], false);
    let id = digest["id"].as_str().unwrap();
    assert_eq!(ana.delete(&app, &format!("{path}{id}/")).await.status(), StatusCode::NO_CONTENT);
    // The server binary's command stores it again.
    let config = server::config::Config::for_tests(app.db.url.clone(), app.data.0.clone());
    assert_eq!(server::cli::create_default_templates(&config).await, std::process::ExitCode::SUCCESS);
    let list = json_of(ana.get(&app, &path).await, StatusCode::OK).await;
    assert!(list.as_array().unwrap().iter().all(|t| t["is_default"] == false));
    app.finish().await;
}

async fn scheduled_notifications_fire_once_across_a_restart(backend: domain::Backend) {
    let mut app = TestApp::spawn_with(
        backend,
        Arc::new(|c: &mut server::config::Config| c.notify.reminder_minutes = 1),
    )
    .await;
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (ws, _) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let send_at = domain::calendar::rfc3339(domain::now_ms() + 3000);
    let body =
        json!({"workspace_id": ws, "recipients": ["bob"], "title": "Standup moved", "send_at": send_at});
    let res = ana.post(&app, "/api/communication/notifications/", body).await;
    assert_eq!(json_of(res, StatusCode::ACCEPTED).await, json!([]));
    assert!(notifications_of(&app, &bob).await.is_empty(), "not before its time");
    let bad = json!({"workspace_id": ws, "recipients": ["bob"], "title": "T", "send_at": "tomorrow"});
    let err =
        json_of(ana.post(&app, "/api/communication/notifications/", bad).await, StatusCode::BAD_REQUEST)
            .await;
    assert_eq!(err["field"], "send_at");

    // A meeting a minute and two seconds away: its reminder is due in two
    // seconds. Another is ended before its reminder, which then never comes.
    let meeting = |title: &str| {
        json!({"workspace_id": ws, "title": title, "participants": ["bob"],
            "scheduled_start": domain::calendar::rfc3339(domain::now_ms() + 62_000),
            "scheduled_end": domain::calendar::rfc3339(domain::now_ms() + 3_600_000)})
    };
    json_of(ana.post(&app, "/api/communication/meetings/", meeting("Sync")).await, StatusCode::CREATED).await;
    let cancelled = json_of(
        ana.post(&app, "/api/communication/meetings/", meeting("Cancelled")).await,
        StatusCode::CREATED,
    )
    .await;
    let end = format!("/api/communication/meetings/{}/end/", cancelled["id"].as_str().unwrap());
    json_of(ana.post(&app, &end, json!({})).await, StatusCode::OK).await;

    app.restart().await;
    until(20, "the scheduled notification and the reminder arrive", || async {
        let list = notifications_of(&app, &bob).await;
        list.iter().any(|n| n["title"] == "Standup moved")
            && list.iter().any(|n| n["type"] == "meeting_reminder")
    })
    .await;
    let db = store(&app).await;
    until(10, "nothing is left to fire", || async { db.pending_schedules().await.unwrap().is_empty() }).await;
    let list = notifications_of(&app, &bob).await;
    assert_eq!(list.iter().filter(|n| n["title"] == "Standup moved").count(), 1, "once: {list:?}");
    let reminders: Vec<_> = list.iter().filter(|n| n["type"] == "meeting_reminder").collect();
    assert_eq!(reminders.len(), 1, "the ended meeting has no reminder: {reminders:?}");
    assert_eq!(reminders[0]["title"], "Sync starts in 1 minute");
    assert!(reminders[0]["content"].as_str().unwrap().ends_with("UTC"), "{}", reminders[0]);
    let ana_list = notifications_of(&app, &ana).await;
    assert!(
        ana_list.iter().any(|n| n["title"] == "Sync starts in 1 minute"),
        "the organizer is reminded too"
    );
    db.close().await;
    app.finish().await;
}

async fn preferences_levels_and_quiet_hours_decide_who_hears(backend: domain::Backend) {
    let app = TestApp::spawn(backend).await;
    let (ana, bob, carol) = (app.user("ana").await, app.user("bob").await, app.user("carol").await);
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    join(&app, &carol, &ws).await;
    let p = preferences(&app, &bob).await;
    assert_eq!(p["time_zone"], "UTC");
    assert_eq!(p["quiet_hours_enabled"], false);
    let on = |p: &Value, kind: &str, channel: &str| {
        p["switches"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["type"] == kind && s["channel"] == channel && s["enabled"] == true)
    };
    assert!(on(&p, "mention", "email") && !on(&p, "reaction", "email") && on(&p, "reaction", "in_app"));

    // Clear refusals.
    for (change, field) in [
        (json!({"time_zone": "Mars/Olympus"}), "time_zone"),
        (json!({"quiet_start": "25:00"}), "quiet_start"),
        (json!({"quiet_hours_enabled": true, "quiet_days": []}), "quiet_days"),
    ] {
        let res = change_preferences(&app, &bob, |p| {
            p.as_object_mut().unwrap().extend(change.as_object().unwrap().clone())
        })
        .await;
        assert_eq!(json_of(res, StatusCode::BAD_REQUEST).await["field"], field);
    }

    // Email off for mentions: the bell still rings, no email is queued.
    let db = store(&app).await;
    json_of(
        change_preferences(&app, &bob, |p| set_switch(p, "mention", "email", false)).await,
        StatusCode::OK,
    )
    .await;
    say(&app, &ana, &general, "@bob hi").await;
    assert_eq!(notifications_of(&app, &bob).await.len(), 1);
    assert!(db.deliveries_to("bob@example.com").await.unwrap().is_empty());

    // Channel levels: nothing, then all.
    let level = format!("/api/communication/channels/{general}/notification_level/");
    json_of(bob.post(&app, &level, json!({"level": "nothing"})).await, StatusCode::OK).await;
    say(&app, &ana, &general, "@bob again").await;
    assert_eq!(notifications_of(&app, &bob).await.len(), 1, "nothing from a channel set to nothing");
    json_of(bob.post(&app, &level, json!({"level": "all"})).await, StatusCode::OK).await;
    say(&app, &ana, &general, "plain news").await;
    let list = notifications_of(&app, &bob).await;
    assert_eq!(list[0]["type"], "message");
    assert_eq!(list[0]["title"], "ana D posted in #general");
    json_of(bob.post(&app, &level, json!({"level": "muted"})).await, StatusCode::OK).await;
    let channels = json_of(
        bob.get(&app, &format!("/api/communication/channels/?workspace_id={ws}")).await,
        StatusCode::OK,
    )
    .await;
    let mine = channels.as_array().unwrap().iter().find(|c| c["id"] == general.as_str()).unwrap().clone();
    assert_eq!(mine["notify_level"], "muted");
    let bad = bob.post(&app, &level, json!({"level": "loud"})).await;
    assert_eq!(json_of(bad, StatusCode::BAD_REQUEST).await["field"], "level");
    json_of(bob.post(&app, &level, json!({"level": "mentions"})).await, StatusCode::OK).await;

    // @channel reaches every member; @here only those online.
    let before = (notifications_of(&app, &bob).await.len(), notifications_of(&app, &carol).await.len());
    say(&app, &ana, &general, "@channel lunch is here").await;
    let (b, c) = (notifications_of(&app, &bob).await, notifications_of(&app, &carol).await);
    assert_eq!((b.len(), c.len()), (before.0 + 1, before.1 + 1));
    assert_eq!(c[0]["title"], "ana D mentioned @channel in #general");
    let _carol_online = crate::gateway::connect_as(&app, &carol).await;
    say(&app, &ana, &general, "@here quick question").await;
    let (b2, c2) = (notifications_of(&app, &bob).await, notifications_of(&app, &carol).await);
    assert_eq!(b2.len(), b.len(), "bob is offline");
    assert_eq!(c2[0]["title"], "ana D mentioned @here in #general");

    // Quiet hours hold routine email; urgent breaks through only when allowed.
    json_of(
        change_preferences(&app, &bob, |p| {
            always_quiet(p);
            set_switch(p, "mention", "email", true);
        })
        .await,
        StatusCode::OK,
    )
    .await;
    say(&app, &ana, &general, "@bob late").await;
    let urgent = json!({"workspace_id": ws, "recipients": ["bob"], "title": "Urgent", "priority": "urgent",
        "channels": ["in_app", "email"]});
    json_of(ana.post(&app, "/api/communication/notifications/", urgent.clone()).await, StatusCode::CREATED)
        .await;
    let now = domain::now_ms();
    let mails = db.deliveries_to("bob@example.com").await.unwrap();
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert!(mails[0].due_at > now + 6 * 24 * 3600 * 1000, "the routine one waits: {:?}", mails[0]);
    assert!(mails[1].due_at <= now, "the urgent one goes now: {:?}", mails[1]);
    json_of(
        change_preferences(&app, &bob, |p| p["urgent_breaks_through"] = json!(false)).await,
        StatusCode::OK,
    )
    .await;
    json_of(ana.post(&app, "/api/communication/notifications/", urgent).await, StatusCode::CREATED).await;
    let mails = db.deliveries_to("bob@example.com").await.unwrap();
    assert!(mails[2].due_at > now + 6 * 24 * 3600 * 1000, "held too now: {:?}", mails[2]);
    db.close().await;
    app.finish().await;
}

crate::on_each_backend!(
    a_digest_gathers_what_arrives_and_a_restart_sends_it_once,
    a_push_reaches_the_push_service_encrypted_for_the_browser,
    an_sms_reaches_a_twilio_compatible_provider,
    without_a_provider_sms_is_unavailable,
    templates_shape_what_is_sent_and_admins_edit_them,
    scheduled_notifications_fire_once_across_a_restart,
    preferences_levels_and_quiet_hours_decide_who_hears,
);
