//! Outgoing webhooks against a receiver on loopback: what they are called
//! for and with (Slack's fields, signed with the webhook's secret), trigger
//! words, answers posted as the webhook's bot, retries, the log and
//! sending a call again, and who may make them and what they may hear.

use crate::helpers::{TestApp, User, assert_error, channel, join, json_of, say, until, workspace};
use crate::sink::{Captured, HttpSink};
use app::wire::{
    AuditEntryDto, CreatedOutgoingWebhookDto, MessagePageDto, OutgoingWebhookDto, WebhookDeliveryDto,
};
use domain::Backend;
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use server::config::Config;
use std::sync::Arc;

/// A call's body as Slack's outgoing webhooks send it, with the event as
/// Slack's Events API shows it.
#[derive(Debug, Deserialize)]
struct SlackCall {
    token: String,
    team_id: String,
    channel_id: String,
    channel_name: String,
    user_id: String,
    user_name: String,
    text: String,
    trigger_word: String,
    event_type: String,
    event: SlackEvent,
}

#[derive(Debug, Deserialize)]
struct SlackEvent {
    #[serde(rename = "type")]
    kind: String,
    channel: String,
    user: String,
    #[serde(default)]
    reaction: Option<String>,
}

fn outgoing_of(ws: &str) -> String {
    format!("/api/communication/workspaces/{ws}/outgoing-webhooks/")
}

/// `who` makes an outgoing webhook calling `url`; `extra` adds to or
/// replaces the defaults (messages, every public channel).
async fn make(app: &TestApp, who: &User, ws: &str, url: &str, extra: Value) -> CreatedOutgoingWebhookDto {
    let mut body = json!({"name": "Deploy bot", "url": url, "events": ["message_posted"]});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let res = who.post(app, &outgoing_of(ws), body).await;
    serde_json::from_value(json_of(res, StatusCode::CREATED).await).unwrap()
}

/// Checks that `call` is signed with `secret` as Slack signs: `v0=` and the
/// HMAC-SHA256 of `v0:<timestamp>:<body>`, under both header names.
fn assert_signed(call: &Captured, secret: &str) {
    let ts: i64 = call.header("x-parley-request-timestamp").parse().expect("a timestamp");
    assert!((domain::now_ms() / 1000 - ts).abs() < 60, "signed just now");
    let expected = domain::hub::sign_webhook_call(secret, ts, &call.body);
    assert_eq!(call.header("x-parley-signature"), expected);
    assert_eq!(call.header("x-slack-signature"), expected);
    assert_eq!(call.header("x-slack-request-timestamp"), ts.to_string());
}

fn slack_call(call: &Captured) -> SlackCall {
    serde_json::from_slice(&call.body).expect("Slack's JSON payload")
}

async fn log_of(app: &TestApp, who: &User, id: &str) -> Vec<WebhookDeliveryDto> {
    let res = who.get(app, &format!("/api/communication/outgoing-webhooks/{id}/deliveries/")).await;
    serde_json::from_value(json_of(res, StatusCode::OK).await).unwrap()
}

/// Waits until webhook `id`'s log holds a call whose payload contains
/// `marker`, then returns the whole log.
async fn log_with(app: &TestApp, who: &User, id: &str, marker: &str) -> Vec<WebhookDeliveryDto> {
    until(10, &format!("a call with {marker:?} in the log"), || async {
        log_of(app, who, id).await.iter().any(|c| c.payload.contains(marker))
    })
    .await;
    log_of(app, who, id).await
}

async fn a_message_calls_the_webhook_signed_with_slacks_fields(app: TestApp) -> TestApp {
    let mut sink = HttpSink::start(200).await;
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let made = make(&app, &ana, &ws, &sink.url("/parley"), json!({"channel_ids": [general]})).await;
    assert!(made.token.starts_with("owt_") && made.signing_secret.starts_with("owsec_"));
    assert_eq!(made.webhook.channels[0].name, "general");

    let said = say(&app, &bob, &general, "hello *world*").await;
    let got = sink.next().await;
    assert_eq!(got.path, "/parley");
    assert_eq!(got.header("content-type"), "application/json");
    assert_signed(&got, &made.signing_secret);
    let call = slack_call(&got);
    assert_eq!((call.token.as_str(), call.team_id.as_str()), (made.token.as_str(), ws.as_str()));
    assert_eq!((call.channel_id.as_str(), call.channel_name.as_str()), (general.as_str(), "general"));
    assert_eq!((call.user_id.as_str(), call.user_name.as_str()), (bob.id.as_str(), "bob"));
    assert_eq!((call.text.as_str(), call.trigger_word.as_str()), ("hello *world*", ""));
    assert_eq!((call.event_type.as_str(), call.event.kind.as_str()), ("message_posted", "message"));
    assert_eq!((call.event.channel.as_str(), call.event.user.as_str()), (general.as_str(), bob.id.as_str()));
    assert!(String::from_utf8_lossy(&got.body).contains(said["id"].as_str().unwrap()), "names the message");
    app
}

async fn a_form_webhook_gets_slacks_form_fields(app: TestApp) -> TestApp {
    let mut sink = HttpSink::start(200).await;
    let ana = app.user("ana").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    let made = make(&app, &ana, &ws, &sink.url("/form"), json!({"format": "form"})).await;
    say(&app, &ana, &general, "as a form").await;
    let got = sink.next().await;
    assert_eq!(got.header("content-type"), "application/x-www-form-urlencoded");
    assert_signed(&got, &made.signing_secret);
    let fields: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(&got.body).into_owned().collect();
    assert_eq!(fields["token"], made.token);
    assert_eq!(fields["channel_name"], "general");
    assert_eq!(fields["user_name"], "ana");
    assert_eq!(fields["text"], "as a form");
    app
}

async fn only_messages_starting_with_a_trigger_word_are_sent(app: TestApp) -> TestApp {
    let mut sink = HttpSink::start(200).await;
    let ana = app.user("ana").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    let made = make(&app, &ana, &ws, &sink.url("/t"), json!({"trigger_words": ["deploy", "!status"]})).await;
    assert_eq!(made.webhook.trigger_words, ["deploy", "!status"]);
    say(&app, &ana, &general, "what should we deploy?").await;
    say(&app, &ana, &general, "Deploy main to staging").await;
    let call = slack_call(&sink.next().await);
    assert_eq!((call.text.as_str(), call.trigger_word.as_str()), ("Deploy main to staging", "deploy"));
    // Calls are queued in log order: the first message would be in the log by now.
    let log = log_with(&app, &ana, &made.webhook.id, "Deploy main").await;
    assert_eq!(log.len(), 1, "only the triggered message: {log:?}");
    app
}

async fn joins_and_reactions_are_sent_as_their_events(app: TestApp) -> TestApp {
    let mut sink = HttpSink::start(200).await;
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let random = channel(&app, &ana, &ws, "random", false).await;
    let events = json!({"events": ["member_joined", "reaction_added"]});
    make(&app, &ana, &ws, &sink.url("/events"), events).await;

    let joined = bob.post(&app, &format!("/api/communication/channels/{random}/join/"), json!({})).await;
    assert!(joined.status().is_success());
    let call = slack_call(&sink.next().await);
    assert_eq!(
        (call.event_type.as_str(), call.event.kind.as_str()),
        ("member_joined", "member_joined_channel")
    );
    assert_eq!((call.channel_name.as_str(), call.user_name.as_str()), ("random", "bob"));

    let said = say(&app, &ana, &general, "ship it").await;
    let react = format!("/api/communication/messages/{}/add_reaction/", said["id"].as_str().unwrap());
    assert_eq!(bob.post(&app, &react, json!({"emoji": "👍"})).await.status(), StatusCode::NO_CONTENT);
    let call = slack_call(&sink.next().await);
    assert_eq!((call.event_type.as_str(), call.event.kind.as_str()), ("reaction_added", "reaction_added"));
    assert_eq!((call.user_name.as_str(), call.event.reaction.as_deref()), ("bob", Some("👍")));
    app
}

async fn an_answer_with_text_is_posted_as_the_webhooks_bot(app: TestApp) -> TestApp {
    let mut sink = HttpSink::start(200).await;
    sink.answer(200, r#"{"text": "Deployed *main* to staging", "username": "CI"}"#);
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    make(&app, &ana, &ws, &sink.url("/answer"), json!({"trigger_words": ["deploy"]})).await;
    say(&app, &bob, &general, "deploy main").await;
    sink.next().await;
    let newest = || async {
        let res = bob.get(&app, &format!("/api/communication/messages/?channel_id={general}")).await;
        let page: MessagePageDto = serde_json::from_value(json_of(res, StatusCode::OK).await).unwrap();
        // Newest first.
        page.messages.into_iter().next().expect("a message")
    };
    until(10, "the answer posted", || async { newest().await.author.is_bot }).await;
    let answer = newest().await;
    assert_eq!(answer.body, "Deployed **main** to staging");
    assert_eq!((answer.author.display_name.as_str(), answer.shown_name.as_str()), ("Deploy bot", "CI"));
    app
}

async fn a_failed_call_is_retried_logged_and_can_be_sent_again(app: TestApp) -> TestApp {
    let mut sink = HttpSink::start(500).await;
    sink.answer(500, "down for maintenance");
    let ana = app.user("ana").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    let made = make(&app, &ana, &ws, &sink.url("/flaky"), json!({})).await;
    let id = made.webhook.id.clone();
    say(&app, &ana, &general, "retry me").await;
    // 500 twice, then 200: one more call after each failure, and no other.
    let first = sink.next().await;
    let second = sink.next().await;
    sink.answer(200, "");
    let third = sink.next().await;
    assert!(first.body == second.body && second.body == third.body, "the same payload each time");

    until(10, "the call logged as delivered", || async {
        log_of(&app, &ana, &id).await.first().is_some_and(|c| c.state == "delivered")
    })
    .await;
    let log = log_of(&app, &ana, &id).await;
    let call = &log[0];
    assert_eq!((log.len(), call.event.as_str(), call.attempts.len()), (1, "message_posted", 3));
    let codes: Vec<(Option<u16>, bool)> = call.attempts.iter().map(|a| (a.status_code, a.ok)).collect();
    assert_eq!(codes, [(Some(500), false), (Some(500), false), (Some(200), true)]);
    assert!(call.attempts[0].excerpt.contains("down for maintenance"), "{}", call.attempts[0].excerpt);
    assert!(call.attempts.iter().all(|a| a.latency_ms >= 0));

    let again = format!("/api/communication/outgoing-webhooks/{id}/deliveries/{}/redeliver/", call.id);
    let res = ana.post(&app, &again, json!({})).await;
    let queued: WebhookDeliveryDto =
        serde_json::from_value(json_of(res, StatusCode::ACCEPTED).await).unwrap();
    assert_ne!(queued.id, call.id);
    let again = sink.next().await;
    assert_eq!(again.body, first.body, "sent again as it was");
    assert_signed(&again, &made.signing_secret);
    until(10, "both calls in the log", || async { log_of(&app, &ana, &id).await.len() == 2 }).await;
    app
}

async fn bots_messages_are_not_sent(app: TestApp) -> TestApp {
    let mut sink = HttpSink::start(200).await;
    let ana = app.user("ana").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    let made = make(&app, &ana, &ws, &sink.url("/bots"), json!({})).await;
    // An incoming webhook posts as a bot.
    let res = ana
        .post(
            &app,
            &format!("/api/communication/workspaces/{ws}/webhooks/"),
            json!({"channel_id": general, "name": "CI"}),
        )
        .await;
    let incoming = json_of(res, StatusCode::CREATED).await;
    let url = incoming["url"].as_str().unwrap();
    let address = app.url(&url[url.find("/hooks/").unwrap()..]);
    let posted = reqwest::Client::new().post(address).json(&json!({"text": "build passed"})).send().await;
    assert_eq!(posted.unwrap().status(), StatusCode::OK);
    say(&app, &ana, &general, "a person's message").await;
    assert_eq!(slack_call(&sink.next().await).text, "a person's message");
    let log = log_with(&app, &ana, &made.webhook.id, "a person's message").await;
    assert_eq!(log.len(), 1, "the bot's post was not sent: {log:?}");
    app
}

async fn a_webhook_hears_only_what_its_maker_still_may(app: TestApp) -> TestApp {
    let mut sink = HttpSink::start(200).await;
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let roles = format!("/api/communication/workspaces/{ws}/roles/");
    let role = json!({"name": "Integrators", "permissions": ["manage_webhooks"]});
    let role = json_of(ana.post(&app, &roles, role).await, StatusCode::CREATED).await;
    let give = format!(
        "/api/communication/workspaces/{ws}/members/{}/roles/{}/",
        bob.id,
        role["id"].as_str().unwrap()
    );
    assert!(ana.put(&app, &give, json!({})).await.status().is_success());
    let ops = channel(&app, &ana, &ws, "ops", true).await;
    let add = format!("/api/communication/channels/{ops}/add_members/");
    json_of(ana.post(&app, &add, json!({"usernames": ["bob"]})).await, StatusCode::OK).await;
    let made = make(&app, &bob, &ws, &sink.url("/ops"), json!({"channel_ids": [ops, general]})).await;

    say(&app, &ana, &ops, "private, heard").await;
    assert_eq!(slack_call(&sink.next().await).text, "private, heard");
    let leave = format!("/api/communication/channels/{ops}/leave/");
    assert!(bob.post(&app, &leave, json!({})).await.status().is_success());
    say(&app, &ana, &ops, "private, after bob left").await;
    say(&app, &ana, &general, "in general").await;
    assert_eq!(slack_call(&sink.next().await).text, "in general");
    let log = log_with(&app, &bob, &made.webhook.id, "in general").await;
    assert!(!log.iter().any(|c| c.payload.contains("after bob left")), "{log:?}");
    app
}

async fn managing_outgoing_webhooks_takes_manage_webhooks(app: TestApp) -> TestApp {
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let body = json!({"name": "Mine", "url": "http://127.0.0.1:9/x", "events": ["message_posted"]});
    let res = bob.post(&app, &outgoing_of(&ws), body).await;
    assert_error(res, StatusCode::FORBIDDEN, "forbidden", None).await;
    assert_error(bob.get(&app, &outgoing_of(&ws)).await, StatusCode::FORBIDDEN, "forbidden", None).await;

    let made = make(&app, &ana, &ws, "http://127.0.0.1:9/x", json!({"channel_ids": [general]})).await;
    let listed: Vec<OutgoingWebhookDto> =
        serde_json::from_value(json_of(ana.get(&app, &outgoing_of(&ws)).await, StatusCode::OK).await)
            .unwrap();
    assert_eq!(listed, std::slice::from_ref(&made.webhook));
    let path = format!("/api/communication/outgoing-webhooks/{}/", made.webhook.id);
    assert_error(bob.delete(&app, &path).await, StatusCode::FORBIDDEN, "forbidden", None).await;
    assert_eq!(ana.delete(&app, &path).await.status(), StatusCode::NO_CONTENT);
    assert_error(ana.delete(&app, &path).await, StatusCode::NOT_FOUND, "not_found", None).await;

    let audit = ana.get(&app, &format!("/api/communication/workspaces/{ws}/audit_log/")).await;
    let audit: Vec<AuditEntryDto> = serde_json::from_value(json_of(audit, StatusCode::OK).await).unwrap();
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"outgoing_webhook.create") && actions.contains(&"outgoing_webhook.delete"));
    app
}

async fn bad_webhooks_are_refused_with_what_to_fix(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let (ws, _) = workspace(&app, &ana, false).await;
    let cases = [
        (json!({"name": "x", "url": "ftp://example.com/", "events": ["message_posted"]}), "url"),
        (json!({"name": "x", "url": "https://example.com/", "events": []}), "events"),
        (json!({"name": " ", "url": "https://example.com/", "events": ["message_posted"]}), "name"),
        (
            json!({"name": "x", "url": "https://example.com/", "events": ["reaction_added"], "trigger_words": ["go"]}),
            "trigger_words",
        ),
    ];
    for (body, field) in cases {
        let res = ana.post(&app, &outgoing_of(&ws), body).await;
        assert_error(res, StatusCode::BAD_REQUEST, "invalid", Some(field)).await;
    }
    let res = ana
        .post(
            &app,
            &outgoing_of(&ws),
            json!({"name": "x", "url": "https://example.com/", "events": ["typing"]}),
        )
        .await;
    let e = assert_error(res, StatusCode::BAD_REQUEST, "invalid", None).await;
    assert!(e["message"].as_str().unwrap().contains("message_posted"), "{e}");
    app
}

/// Where the operator has not allowed private addresses, a webhook cannot
/// be pointed into the server's own network.
async fn a_private_address_is_refused_unless_the_server_allows_it(backend: Backend) {
    let app =
        TestApp::spawn_with(backend, Arc::new(|c: &mut Config| c.notify.push_allow_private = false)).await;
    let ana = app.user("ana").await;
    let (ws, _) = workspace(&app, &ana, false).await;
    for url in ["http://127.0.0.1:8080/hook", "http://169.254.169.254/latest", "http://[::1]/"] {
        let body = json!({"name": "x", "url": url, "events": ["message_posted"]});
        let e = assert_error(
            ana.post(&app, &outgoing_of(&ws), body).await,
            StatusCode::BAD_REQUEST,
            "invalid",
            Some("url"),
        )
        .await;
        assert!(e["message"].as_str().unwrap().contains("not a public address"), "{e}");
    }
    app.finish().await;
}

mod guard {
    crate::on_each_backend!(a_private_address_is_refused_unless_the_server_allows_it,);
    use super::*;
}

crate::on_both_backends! {
    a_message_calls_the_webhook_signed_with_slacks_fields => a_message_calls_the_webhook_signed_with_slacks_fields;
    a_form_webhook_gets_slacks_form_fields => a_form_webhook_gets_slacks_form_fields;
    only_messages_starting_with_a_trigger_word_are_sent => only_messages_starting_with_a_trigger_word_are_sent;
    joins_and_reactions_are_sent_as_their_events => joins_and_reactions_are_sent_as_their_events;
    an_answer_with_text_is_posted_as_the_webhooks_bot => an_answer_with_text_is_posted_as_the_webhooks_bot;
    a_failed_call_is_retried_logged_and_can_be_sent_again => a_failed_call_is_retried_logged_and_can_be_sent_again;
    bots_messages_are_not_sent => bots_messages_are_not_sent;
    a_webhook_hears_only_what_its_maker_still_may => a_webhook_hears_only_what_its_maker_still_may;
    managing_outgoing_webhooks_takes_manage_webhooks => managing_outgoing_webhooks_takes_manage_webhooks;
    bad_webhooks_are_refused_with_what_to_fix => bad_webhooks_are_refused_with_what_to_fix;
}
