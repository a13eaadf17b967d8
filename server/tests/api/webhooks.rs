//! Incoming webhooks: made and removed by who may manage them, called as a
//! script calls Slack's (JSON, a form's `payload`, signed or not), posting
//! as their bot with the right to post of the person who made them.

use crate::helpers::{TestApp, User, assert_error, channel, join, json_of, workspace};
use app::wire::{AuditEntryDto, CreatedWebhookDto, MessageDto, MessagePageDto, WebhookDto};
use domain::Backend;
use domain::limits::{Bucket, Rate};
use reqwest::StatusCode;
use serde_json::{Value, json};
use server::config::Config;
use std::sync::Arc;
use std::time::Duration;

fn hooks_of(ws: &str) -> String {
    format!("/api/communication/workspaces/{ws}/webhooks/")
}

/// `who` makes a webhook named `name` in `channel`.
async fn make(
    app: &TestApp,
    who: &User,
    ws: &str,
    channel: &str,
    name: &str,
    signed: bool,
) -> CreatedWebhookDto {
    let res =
        who.post(app, &hooks_of(ws), json!({"channel_id": channel, "name": name, "signed": signed})).await;
    serde_json::from_value(json_of(res, StatusCode::CREATED).await).unwrap()
}

/// Calls a webhook's address as a script would: no session, no token.
async fn call(app: &TestApp, made: &CreatedWebhookDto, body: Value) -> reqwest::Response {
    reqwest::Client::new().post(address(app, made)).json(&body).send().await.unwrap()
}

/// The address of `made`, on this test's server.
fn address(app: &TestApp, made: &CreatedWebhookDto) -> String {
    let path = &made.url[made.url.find("/hooks/").expect("a webhook address")..];
    app.url(path)
}

async fn newest(app: &TestApp, reader: &User, channel: &str) -> MessageDto {
    let res = reader.get(app, &format!("/api/communication/messages/?channel_id={channel}")).await;
    let page: MessagePageDto = serde_json::from_value(json_of(res, StatusCode::OK).await).unwrap();
    page.messages.into_iter().last().expect("a message")
}

async fn slack_text_posts_as_the_webhooks_bot(app: TestApp) -> TestApp {
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let made = make(&app, &ana, &ws, &general, "Deploys", false).await;
    assert!(made.url.contains("/hooks/wh_"), "{}", made.url);
    assert_eq!(made.signing_secret, None);

    let res = call(
        &app,
        &made,
        json!({"text": "Deploy *done* <!here>", "username": "CI", "icon_emoji": ":rocket:"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), "ok");

    let m = newest(&app, &bob, &general).await;
    assert_eq!(m.body, "Deploy **done** @here");
    assert!(m.html.contains("<strong>done</strong>"), "{}", m.html);
    assert!(m.author.is_bot, "posted by a bot");
    assert_eq!(m.author.display_name, "Deploys");
    assert_eq!((m.shown_name.as_str(), m.shown_icon.as_str()), ("CI", "🚀"));
    assert_eq!(m.mentions, ["here"]);
    app
}

async fn a_forms_payload_field_posts_too(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    let made = make(&app, &ana, &ws, &general, "Forms", false).await;
    let form = [("payload", r#"{"content": "From a **form**"}"#)];
    let res = reqwest::Client::new().post(address(&app, &made)).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(newest(&app, &ana, &general).await.body, "From a **form**");

    let res = reqwest::Client::new().post(address(&app, &made)).form(&[("text", "x")]).send().await.unwrap();
    assert_error(res, StatusCode::BAD_REQUEST, "invalid", None).await;
    app
}

async fn a_payload_that_says_nothing_is_refused(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    let made = make(&app, &ana, &ws, &general, "Empty", false).await;
    assert_error(
        call(&app, &made, json!({"text": " "})).await,
        StatusCode::BAD_REQUEST,
        "invalid",
        Some("text"),
    )
    .await;
    let res = reqwest::Client::new().post(address(&app, &made)).body("not json").send().await.unwrap();
    assert_error(res, StatusCode::BAD_REQUEST, "invalid", Some("payload")).await;
    app
}

async fn adding_a_webhook_takes_manage_webhooks(app: TestApp) -> TestApp {
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let res = bob.post(&app, &hooks_of(&ws), json!({"channel_id": general, "name": "Mine"})).await;
    assert_error(res, StatusCode::FORBIDDEN, "forbidden", None).await;

    // An override on the channel lets a member manage its webhooks.
    let me: Value = json_of(bob.get(&app, "/api/auth/me").await, StatusCode::OK).await;
    let grant =
        json!({"target_kind": "member", "target_id": me["id"], "allow": ["manage_webhooks"], "deny": []});
    let path = format!("/api/communication/channels/{general}/permissions/");
    assert_eq!(ana.put(&app, &path, grant).await.status(), StatusCode::NO_CONTENT);
    let made = make(&app, &bob, &ws, &general, "Mine", false).await;
    assert_eq!(made.webhook.created_by.username, "bob");
    let listed: Vec<WebhookDto> =
        serde_json::from_value(json_of(bob.get(&app, &hooks_of(&ws)).await, StatusCode::OK).await).unwrap();
    assert_eq!(listed.iter().map(|w| w.bot.display_name.as_str()).collect::<Vec<_>>(), ["Mine"]);
    assert_eq!(listed[0].channel_label, "#general");
    app
}

async fn a_signed_webhook_takes_only_calls_signed_with_its_secret(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    let made = make(&app, &ana, &ws, &general, "Signed", true).await;
    let secret = made.signing_secret.clone().expect("a signing secret, shown once");
    assert!(made.webhook.signed);

    let body = r#"{"text": "signed hello"}"#;
    let unsigned = call(&app, &made, serde_json::from_str(body).unwrap()).await;
    assert_error(unsigned, StatusCode::UNAUTHORIZED, "unauthenticated", None).await;

    let now = (domain::now_ms() / 1000).to_string();
    let send = |timestamp: String, signature: String| {
        reqwest::Client::new()
            .post(address(&app, &made))
            .header("content-type", "application/json")
            // Slack's header names, as a script written for Slack sends them.
            .header("x-slack-request-timestamp", timestamp)
            .header("x-slack-signature", signature)
            .body(body)
            .send()
    };
    let wrong = domain::hub::sign_webhook_call("whsec_not_it", now.parse().unwrap(), body.as_bytes());
    let res = send(now.clone(), wrong).await.unwrap();
    assert_error(res, StatusCode::UNAUTHORIZED, "unauthenticated", None).await;
    let old = (domain::now_ms() / 1000 - 600).to_string();
    let stale = domain::hub::sign_webhook_call(&secret, old.parse().unwrap(), body.as_bytes());
    assert_error(send(old, stale).await.unwrap(), StatusCode::UNAUTHORIZED, "unauthenticated", None).await;

    let right = domain::hub::sign_webhook_call(&secret, now.parse().unwrap(), body.as_bytes());
    assert_eq!(send(now, right).await.unwrap().status(), StatusCode::OK);
    assert_eq!(newest(&app, &ana, &general).await.body, "signed hello");
    app
}

async fn a_removed_webhooks_address_stops_working_and_both_are_audited(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    let made = make(&app, &ana, &ws, &general, "Short-lived", false).await;
    assert_eq!(call(&app, &made, json!({"text": "one"})).await.status(), StatusCode::OK);
    let res = ana.delete(&app, &format!("/api/communication/webhooks/{}/", made.webhook.id)).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_error(call(&app, &made, json!({"text": "two"})).await, StatusCode::NOT_FOUND, "not_found", None)
        .await;
    assert_eq!(newest(&app, &ana, &general).await.body, "one", "what it posted stays");

    let path = format!("/api/communication/workspaces/{ws}/audit_log/");
    let log: Vec<AuditEntryDto> =
        serde_json::from_value(json_of(ana.get(&app, &path).await, StatusCode::OK).await).unwrap();
    let actions: Vec<&str> =
        log.iter().map(|e| e.action.as_str()).filter(|a| a.starts_with("webhook.")).collect();
    assert_eq!(actions, ["webhook.delete", "webhook.create"]);
    assert!(log.iter().any(|e| e.summary.contains("“Short-lived”")));
    app
}

async fn a_webhook_stops_when_its_maker_can_no_longer_post(app: TestApp) -> TestApp {
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (ws, _) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let ops = channel(&app, &ana, &ws, "ops", true).await;
    let add = format!("/api/communication/channels/{ops}/add_members/");
    json_of(ana.post(&app, &add, json!({"usernames": ["bob"]})).await, StatusCode::OK).await;
    let made = make(&app, &ana, &ws, &ops, "Alerts", false).await;
    assert_eq!(call(&app, &made, json!({"text": "private alert"})).await.status(), StatusCode::OK);
    assert_eq!(newest(&app, &bob, &ops).await.body, "private alert", "private channels take webhooks");

    let leave = format!("/api/communication/channels/{ops}/leave/");
    assert!(ana.post(&app, &leave, json!({})).await.status().is_success());
    let refused = call(&app, &made, json!({"text": "after"})).await;
    let e = assert_error(refused, StatusCode::FORBIDDEN, "forbidden", None).await;
    assert!(e["message"].as_str().unwrap().contains("can no longer post"), "{e}");
    app
}

async fn a_direct_conversation_takes_a_webhook_its_members_make(app: TestApp) -> TestApp {
    let (ana, bob, eve) = (app.user("ana").await, app.user("bob").await, app.user("eve").await);
    let (ws, _) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    join(&app, &eve, &ws).await;
    let res = bob
        .post(
            &app,
            "/api/communication/channels/create_direct/",
            json!({"workspace_id": ws, "usernames": ["ana"]}),
        )
        .await;
    let dm = json_of(res, StatusCode::OK).await["id"].as_str().unwrap().to_string();
    // Bob holds no manage_webhooks: the conversation is his.
    let made = make(&app, &bob, &ws, &dm, "Reminders", false).await;
    assert_eq!(call(&app, &made, json!({"text": "stand-up in 5"})).await.status(), StatusCode::OK);
    let m = newest(&app, &ana, &dm).await;
    assert_eq!((m.body.as_str(), m.author.is_bot), ("stand-up in 5", true));

    let listed: Vec<WebhookDto> =
        serde_json::from_value(json_of(ana.get(&app, &hooks_of(&ws)).await, StatusCode::OK).await).unwrap();
    assert_eq!(listed.len(), 1);
    assert!(
        listed[0].channel_label.contains("ana D") && listed[0].channel_label.contains("bob D"),
        "{:?}",
        listed[0]
    );
    let theirs: Vec<WebhookDto> =
        serde_json::from_value(json_of(eve.get(&app, &hooks_of(&ws)).await, StatusCode::OK).await).unwrap();
    assert!(theirs.is_empty(), "others do not see it");
    let res = eve.delete(&app, &format!("/api/communication/webhooks/{}/", made.webhook.id)).await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found", None).await;
    app
}

/// With posting limited to 3 a minute (one back every 20 s, longer than
/// the test), the fourth call at once is refused with when to try again.
async fn a_webhook_is_rate_limited_like_a_person(backend: Backend) {
    let slow = Rate::new(3, Duration::from_secs(60));
    let app =
        TestApp::spawn_with(backend, Arc::new(move |c: &mut Config| c.limits.rates.set(Bucket::Post, slow)))
            .await;
    let ana = app.user("ana").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    let made = make(&app, &ana, &ws, &general, "Chatty", false).await;
    for i in 0..3 {
        assert_eq!(call(&app, &made, json!({"text": format!("n{i}")})).await.status(), StatusCode::OK);
    }
    let res = call(&app, &made, json!({"text": "one too many"})).await;
    assert!(res.headers().contains_key("retry-after"));
    assert_error(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited", None).await;
    app.finish().await;
}

mod limits {
    crate::on_each_backend!(a_webhook_is_rate_limited_like_a_person,);
    use super::*;
}

crate::on_both_backends! {
    slack_text_posts_as_the_webhooks_bot => slack_text_posts_as_the_webhooks_bot;
    a_forms_payload_field_posts_too => a_forms_payload_field_posts_too;
    a_payload_that_says_nothing_is_refused => a_payload_that_says_nothing_is_refused;
    adding_a_webhook_takes_manage_webhooks => adding_a_webhook_takes_manage_webhooks;
    a_signed_webhook_takes_only_calls_signed_with_its_secret => a_signed_webhook_takes_only_calls_signed_with_its_secret;
    a_removed_webhooks_address_stops_working_and_both_are_audited => a_removed_webhooks_address_stops_working_and_both_are_audited;
    a_webhook_stops_when_its_maker_can_no_longer_post => a_webhook_stops_when_its_maker_can_no_longer_post;
    a_direct_conversation_takes_a_webhook_its_members_make => a_direct_conversation_takes_a_webhook_its_members_make;
}
