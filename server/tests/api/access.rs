//! Access that can be taken back: invites that expire, run out and can be
//! revoked, and that stop when their maker can no longer invite; API tokens
//! listed and revoked; signing out (here or everywhere); password change and
//! reset by email.

use crate::helpers::{TestApp, User, assert_error, join, json_of, workspace};
use crate::mail::{SmtpSink, with_smtp};
use app::wire::{ApiTokenDto, AuditEntryDto, CreatedTokenDto, InviteDto};
use domain::Backend;
use reqwest::StatusCode;
use serde_json::{Value, json};

const HOUR_MS: i64 = 3_600_000;

async fn make_invite(app: &TestApp, who: &User, ws: &str, terms: Value) -> InviteDto {
    let res = who.post(app, &format!("/api/workspaces/{ws}/invites"), terms).await;
    serde_json::from_value(json_of(res, StatusCode::CREATED).await).unwrap()
}

async fn listed(app: &TestApp, who: &User, ws: &str) -> Vec<InviteDto> {
    let res = who.get(app, &format!("/api/workspaces/{ws}/invites")).await;
    serde_json::from_value(json_of(res, StatusCode::OK).await).unwrap()
}

async fn accept(app: &TestApp, who: &User, code: &str) -> reqwest::Response {
    who.post(app, &format!("/api/invites/{code}/accept"), json!({})).await
}

/// Without terms an invite lasts a week with no limit on uses; the maker may
/// choose an hour to a year (or never) and a number of uses.
async fn invites_last_a_week_unless_told_otherwise(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let (ws, _) = workspace(&app, &ana, true).await;
    let plain = make_invite(&app, &ana, &ws, json!({})).await;
    assert_eq!(plain.expires_at, Some(plain.created_at + 7 * 24 * HOUR_MS));
    assert_eq!((plain.max_uses, plain.uses), (None, 0));
    let short = make_invite(&app, &ana, &ws, json!({"expires_in_hours": 1, "max_uses": 2})).await;
    assert_eq!((short.expires_at, short.max_uses), (Some(short.created_at + HOUR_MS), Some(2)));
    let forever = make_invite(&app, &ana, &ws, json!({"expires_in_hours": 0})).await;
    assert_eq!(forever.expires_at, None);
    for (bad, field) in [
        (json!({"expires_in_hours": -1}), "expires_in_hours"),
        (json!({"expires_in_hours": 9_999_999}), "expires_in_hours"),
        (json!({"max_uses": 100_000}), "max_uses"),
    ] {
        let res = ana.post(&app, &format!("/api/workspaces/{ws}/invites"), bad).await;
        assert_error(res, StatusCode::BAD_REQUEST, "invalid", Some(field)).await;
    }
    let codes: Vec<String> = listed(&app, &ana, &ws).await.into_iter().map(|i| i.code).collect();
    assert_eq!(codes.len(), 3);
    assert!(codes.contains(&plain.code) && codes.contains(&short.code) && codes.contains(&forever.code));
    app
}

/// An invite for one use admits one person; the next is told it is used up,
/// and it leaves the list.
async fn an_invite_admits_only_as_many_as_its_uses(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let cy = app.user("cy").await;
    let (ws, _) = workspace(&app, &ana, true).await;
    let once = make_invite(&app, &ana, &ws, json!({"max_uses": 1})).await;
    json_of(accept(&app, &bob, &once.code).await, StatusCode::OK).await;
    let refused =
        assert_error(accept(&app, &cy, &once.code).await, StatusCode::FORBIDDEN, "forbidden", None).await;
    assert!(refused["message"].as_str().unwrap().contains("used up"), "{refused}");
    assert!(listed(&app, &ana, &ws).await.is_empty());
    app
}

/// A revoked link stops at once; members see and revoke only their own
/// invites, who may change the workspace sees and revokes all; the audit log
/// records it.
async fn a_revoked_invite_stops_at_once(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let cy = app.user("cy").await;
    let (ws, _) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let anas = make_invite(&app, &ana, &ws, json!({})).await;
    let bobs = make_invite(&app, &bob, &ws, json!({})).await;

    let bob_sees: Vec<String> = listed(&app, &bob, &ws).await.into_iter().map(|i| i.code).collect();
    assert_eq!(bob_sees, [bobs.code.as_str()], "a member sees only their own invites");
    assert_eq!(listed(&app, &ana, &ws).await.len(), 2, "the owner sees every invite");
    assert_error(
        bob.delete(&app, &format!("/api/invites/{}", anas.code)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    )
    .await;
    assert_error(
        cy.delete(&app, &format!("/api/invites/{}", anas.code)).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;

    let res = ana.delete(&app, &format!("/api/invites/{}", bobs.code)).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_error(
        cy.get(&app, &format!("/api/invites/{}", bobs.code)).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;
    assert_error(accept(&app, &cy, &bobs.code).await, StatusCode::NOT_FOUND, "not_found", None).await;
    let left: Vec<String> = listed(&app, &ana, &ws).await.into_iter().map(|i| i.code).collect();
    assert_eq!(left, [anas.code.as_str()]);

    let audit = json_of(
        ana.get(&app, &format!("/api/communication/workspaces/{ws}/audit_log/?action=invite")).await,
        StatusCode::OK,
    )
    .await;
    let audit: Vec<AuditEntryDto> = serde_json::from_value(audit).unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "invite.revoke");
    assert_eq!(audit[0].target_user.as_ref().map(|u| u.id.as_str()), Some(bob.id.as_str()));
    app
}

/// An invite speaks for its maker: once they are removed from the
/// workspace, it admits no one.
async fn an_invite_stops_when_its_maker_cannot_invite(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let cy = app.user("cy").await;
    let (ws, _) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let bobs = make_invite(&app, &bob, &ws, json!({})).await;
    let kick = format!("/api/communication/workspaces/{ws}/members/{}/kick/", bob.id);
    assert_eq!(ana.post(&app, &kick, json!({})).await.status(), StatusCode::NO_CONTENT);
    let refused =
        assert_error(accept(&app, &cy, &bobs.code).await, StatusCode::FORBIDDEN, "forbidden", None).await;
    assert!(refused["message"].as_str().unwrap().contains("no longer"), "{refused}");
    let mine = json_of(cy.get(&app, "/api/workspaces").await, StatusCode::OK).await;
    assert_eq!(mine.as_array().unwrap().len(), 0, "cy did not join");
    app
}

/// Signs `username` in with `password` on `browser` (which keeps the
/// session cookie); the answer's status.
async fn sign_in(app: &TestApp, browser: &reqwest::Client, username: &str, password: &str) -> StatusCode {
    let body = json!({"username": username, "password": password});
    browser.post(app.url("/api/auth/login")).json(&body).send().await.unwrap().status()
}

async fn change_password(app: &TestApp, who: &User, current: &str, new: &str) -> reqwest::Response {
    who.post(app, "/api/auth/password", json!({"current_password": current, "new_password": new})).await
}

/// Whether `token` still opens the API.
async fn token_works(app: &TestApp, token: &str) -> bool {
    let res = reqwest::Client::new().get(app.url("/api/auth/me")).bearer_auth(token).send().await.unwrap();
    match res.status() {
        StatusCode::OK => true,
        StatusCode::UNAUTHORIZED => false,
        other => panic!("unexpected {other}"),
    }
}

async fn tokens_of(app: &TestApp, who: &User) -> Vec<ApiTokenDto> {
    serde_json::from_value(json_of(who.get(app, "/api/auth/tokens").await, StatusCode::OK).await).unwrap()
}

/// A person names tokens for their scripts, sees them listed (never the
/// secret), and revokes one: it stops at once, the others keep working.
async fn api_tokens_are_named_listed_and_revocable(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let res = ana.post(&app, "/api/auth/tokens", json!({"name": "deploy bot", "expires_in_days": 30})).await;
    let bot: CreatedTokenDto = serde_json::from_value(json_of(res, StatusCode::CREATED).await).unwrap();
    assert_eq!(bot.info.expires_at, Some(bot.info.created_at + 30 * 24 * HOUR_MS));
    assert!(token_works(&app, &bot.token).await);
    let listed = tokens_of(&app, &ana).await;
    let names: Vec<&str> = listed.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["deploy bot", "sign-in"]);
    let shown = serde_json::to_string(&listed).unwrap();
    assert!(!shown.contains(&bot.token) && !shown.contains(&ana.token), "no secret is listed");
    for (bad, field) in
        [(json!({"name": " "}), "name"), (json!({"name": "x", "expires_in_days": 400}), "expires_in_days")]
    {
        assert_error(
            ana.post(&app, "/api/auth/tokens", bad).await,
            StatusCode::BAD_REQUEST,
            "invalid",
            Some(field),
        )
        .await;
    }
    // Someone else's token id is not found.
    let path = format!("/api/auth/tokens/{}", bot.info.id);
    assert_error(bob.delete(&app, &path).await, StatusCode::NOT_FOUND, "not_found", None).await;
    assert_eq!(ana.delete(&app, &path).await.status(), StatusCode::NO_CONTENT);
    assert!(!token_works(&app, &bot.token).await);
    assert!(token_works(&app, &ana.token).await);
    assert_eq!(tokens_of(&app, &ana).await.len(), 1);
    app
}

/// Signing out ends the token it was made with, and only that one.
async fn signing_out_ends_its_own_token(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let res = ana.post(&app, "/api/auth/tokens", json!({"name": "cron"})).await;
    let cron: CreatedTokenDto = serde_json::from_value(json_of(res, StatusCode::CREATED).await).unwrap();
    assert_eq!(ana.post(&app, "/api/auth/logout", json!({})).await.status(), StatusCode::NO_CONTENT);
    assert!(!token_works(&app, &ana.token).await);
    assert!(token_works(&app, &cron.token).await, "other tokens keep working");
    app
}

/// "Sign out everywhere" ends every browser session and every token.
async fn signing_out_everywhere_ends_every_session_and_token(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    // A second browser: a session cookie from signing in.
    let laptop = app.client();
    assert_eq!(sign_in(&app, &laptop, "ana", "correct horse battery").await, StatusCode::OK);
    assert_eq!(laptop.get(app.url("/api/auth/me")).send().await.unwrap().status(), StatusCode::OK);
    let res = ana.post(&app, "/api/auth/tokens", json!({"name": "cron"})).await;
    let cron: CreatedTokenDto = serde_json::from_value(json_of(res, StatusCode::CREATED).await).unwrap();

    assert_eq!(
        ana.post(&app, "/api/auth/logout_everywhere", json!({})).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(laptop.get(app.url("/api/auth/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert!(!token_works(&app, &cron.token).await && !token_works(&app, &ana.token).await);
    app
}

/// A new password needs the current one; afterwards the old one fails, the
/// new one signs in, and other sessions and tokens are out.
async fn changing_the_password_signs_out_the_rest(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let laptop = app.client();
    assert_eq!(sign_in(&app, &laptop, "ana", "correct horse battery").await, StatusCode::OK);
    let wrong = change_password(&app, &ana, "guess", "a new long one").await;
    assert_error(wrong, StatusCode::BAD_REQUEST, "invalid", Some("current_password")).await;
    let short = change_password(&app, &ana, "correct horse battery", "short").await;
    assert_error(short, StatusCode::BAD_REQUEST, "invalid", Some("new_password")).await;
    let res = change_password(&app, &ana, "correct horse battery", "a new long one").await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(sign_in(&app, &app.client(), "ana", "correct horse battery").await, StatusCode::UNAUTHORIZED);
    assert_eq!(sign_in(&app, &app.client(), "ana", "a new long one").await, StatusCode::OK);
    assert_eq!(laptop.get(app.url("/api/auth/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert!(!token_works(&app, &ana.token).await);
    app
}

/// A reset link arrives by email (caught by an SMTP server on loopback),
/// works once, and signs the account out everywhere; an unknown address gets
/// the same answer and no email.
async fn a_password_reset_link_works_once(backend: Backend) {
    let mut sink = SmtpSink::start(0).await;
    let app = TestApp::spawn_with(backend, with_smtp(sink.settings())).await;
    let ana = app.user("ana").await;
    let ask = |email: &'static str| {
        let app = &app;
        async move {
            app.client()
                .post(app.url("/api/auth/password_reset"))
                .json(&json!({"email": email}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(ask("nobody@example.com").await, StatusCode::ACCEPTED);
    assert_eq!(ask("ana@example.com").await, StatusCode::ACCEPTED);
    let mail = sink.next().await;
    assert_eq!(mail.to, ["ana@example.com"], "only the account's address gets an email");
    let text = mail.text();
    let token = text
        .split("/reset-password?token=")
        .nth(1)
        .map(|rest| rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>())
        .expect("the email has the link");
    assert!(text.contains("within 30 minutes"), "{text}");

    let confirm = |new: &'static str| {
        let (app, token) = (&app, token.clone());
        async move {
            app.client()
                .post(app.url("/api/auth/password_reset/confirm"))
                .json(&json!({"token": token, "new_password": new}))
                .send()
                .await
                .unwrap()
        }
    };
    assert_error(confirm("short").await, StatusCode::BAD_REQUEST, "invalid", Some("new_password")).await;
    assert_eq!(confirm("reset and long").await.status(), StatusCode::NO_CONTENT);
    assert_error(confirm("again and long").await, StatusCode::FORBIDDEN, "forbidden", None).await;
    assert!(!token_works(&app, &ana.token).await, "the reset signed the account out everywhere");
    assert_eq!(sign_in(&app, &app.client(), "ana", "reset and long").await, StatusCode::OK);
    assert!(sink.received.try_recv().is_err(), "no email for the unknown address");
    app.finish().await;
}

/// A browser's push subscription ends when that browser signs out; one
/// made with an API token is left alone.
async fn a_browsers_push_subscription_ends_with_its_sign_out(app: TestApp) -> TestApp {
    use crate::delivery::{UA_AUTH, UA_PUBLIC};
    let ana = app.user("ana").await;
    let browser = app.client();
    assert_eq!(sign_in(&app, &browser, "ana", "correct horse battery").await, StatusCode::OK);
    let subscribe = |request: reqwest::RequestBuilder, name: &str| {
        let endpoint = format!("http://127.0.0.1:9/push/{name}");
        request
            .header("origin", &app.base)
            .json(&json!({"endpoint": endpoint, "keys": {"p256dh": UA_PUBLIC, "auth": UA_AUTH}}))
            .send()
    };
    let path = app.url("/api/communication/push_subscriptions/");
    assert_eq!(subscribe(browser.post(&path), "laptop").await.unwrap().status(), StatusCode::CREATED);
    let with_token = subscribe(app.client().post(&path).bearer_auth(&ana.token), "script").await.unwrap();
    assert_eq!(with_token.status(), StatusCode::CREATED);
    let endpoints = || async {
        let prefs =
            json_of(ana.get(&app, "/api/communication/notification_preferences/").await, StatusCode::OK)
                .await;
        let prefs: app::wire::NotificationPreferencesDto = serde_json::from_value(prefs).unwrap();
        prefs.push_subscriptions.into_iter().map(|s| s.endpoint).collect::<Vec<_>>()
    };
    assert_eq!(endpoints().await.len(), 2);
    let out = browser.post(app.url("/api/auth/logout")).header("origin", &app.base).send().await.unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert_eq!(endpoints().await, ["http://127.0.0.1:9/push/script"]);
    app
}

/// A guest hears only the external channels they were invited to (the
/// gateway never subscribes them to another), and cannot be put in a
/// meeting or another channel.
async fn guests_hear_and_join_only_their_external_channels(app: TestApp) -> TestApp {
    use crate::gateway::{connect_as, next_of};
    let ana = app.user("ana").await;
    let gus = app.user("gus").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    let external = json_of(
        ana.post(
            &app,
            "/api/communication/channels/",
            json!({"workspace_id": ws, "name": "client", "channel_type": "external"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let external = external["id"].as_str().unwrap().to_string();
    let invite = make_invite(&app, &ana, &ws, json!({"guest": true, "channel_ids": [external]})).await;
    json_of(accept(&app, &gus, &invite.code).await, StatusCode::OK).await;

    let mut socket = connect_as(&app, &gus).await;
    crate::helpers::say(&app, &ana, &general, "members only").await;
    crate::helpers::say(&app, &ana, &external, "hello client").await;
    // Events arrive in order: the first message gus hears is the external one.
    let heard = next_of(&mut socket, "MESSAGE_CREATE").await;
    let heard: app::wire::GatewayEvent = serde_json::from_value(heard).unwrap();
    match heard {
        app::wire::GatewayEvent::MessageCreate { message } => assert_eq!(message.body, "hello client"),
        other => panic!("unexpected {other:?}"),
    }

    let meeting = json!({"workspace_id": ws, "participants": ["gus"]});
    let refused = ana.post(&app, "/api/communication/meetings/instant/", meeting).await;
    let refused = assert_error(refused, StatusCode::BAD_REQUEST, "invalid", Some("participants")).await;
    assert!(refused["message"].as_str().unwrap().contains("guest"), "{refused}");
    let add = ana
        .post(
            &app,
            &format!("/api/communication/channels/{general}/add_members/"),
            json!({"usernames": ["gus"]}),
        )
        .await;
    assert!(add.status().is_client_error(), "a guest is not added to #general");
    let seen = json_of(
        gus.get(&app, &format!("/api/communication/channels/?workspace_id={ws}")).await,
        StatusCode::OK,
    )
    .await;
    let ids: Vec<&str> = seen.as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [external.as_str()]);
    app
}

async fn audit_of(app: &TestApp, who: &User, ws: &str) -> Vec<AuditEntryDto> {
    let path = format!("/api/communication/workspaces/{ws}/audit_log/?action=message");
    serde_json::from_value(json_of(who.get(app, &path).await, StatusCode::OK).await).unwrap()
}

/// Someone who may read the audit log but not a private channel sees that
/// something happened there, not the channel's name nor what was said.
async fn the_audit_log_keeps_private_channels_private(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let (ws, _) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    join(&app, &carol, &ws).await;
    let roles = format!("/api/communication/workspaces/{ws}/roles/");
    let auditor = json_of(
        ana.post(&app, &roles, json!({"name": "Auditor", "permissions": ["view_audit_log"]})).await,
        StatusCode::CREATED,
    )
    .await;
    let give = format!(
        "/api/communication/workspaces/{ws}/members/{}/roles/{}/",
        carol.id,
        auditor["id"].as_str().unwrap()
    );
    assert!(ana.put(&app, &give, json!({})).await.status().is_success());

    let secret = crate::helpers::channel(&app, &ana, &ws, "acquisition", true).await;
    let add = format!("/api/communication/channels/{secret}/add_members/");
    assert!(ana.post(&app, &add, json!({"usernames": ["bob"]})).await.status().is_success());
    let said = crate::helpers::say(&app, &bob, &secret, "the price is 40 million").await;
    let delete = format!("/api/communication/messages/{}/", said["id"].as_str().unwrap());
    assert_eq!(ana.delete(&app, &delete).await.status(), StatusCode::NO_CONTENT);

    let owner_sees = audit_of(&app, &ana, &ws).await;
    assert_eq!(owner_sees.len(), 1);
    assert!(owner_sees[0].summary.contains("40 million"), "{:?}", owner_sees[0]);
    let auditor_sees = audit_of(&app, &carol, &ws).await;
    assert_eq!(auditor_sees.len(), 1, "the entry is there");
    let shown = serde_json::to_string(&auditor_sees).unwrap();
    assert!(!shown.contains("40 million") && !shown.contains("acquisition"), "{shown}");
    assert_eq!(auditor_sees[0].target_id, None);
    app
}

mod reset {
    crate::on_each_backend!(a_password_reset_link_works_once);
    use super::a_password_reset_link_works_once;
}

crate::on_both_backends! {
    the_audit_log_keeps_private_channels_private => the_audit_log_keeps_private_channels_private;
    guests_hear_and_join_only_their_external_channels => guests_hear_and_join_only_their_external_channels;
    a_browsers_push_subscription_ends_with_its_sign_out => a_browsers_push_subscription_ends_with_its_sign_out;
    api_tokens_are_named_listed_and_revocable => api_tokens_are_named_listed_and_revocable;
    signing_out_ends_its_own_token => signing_out_ends_its_own_token;
    signing_out_everywhere_ends_every_session_and_token => signing_out_everywhere_ends_every_session_and_token;
    changing_the_password_signs_out_the_rest => changing_the_password_signs_out_the_rest;
    invites_last_a_week_unless_told_otherwise => invites_last_a_week_unless_told_otherwise;
    an_invite_admits_only_as_many_as_its_uses => an_invite_admits_only_as_many_as_its_uses;
    a_revoked_invite_stops_at_once => a_revoked_invite_stops_at_once;
    an_invite_stops_when_its_maker_cannot_invite => an_invite_stops_when_its_maker_cannot_invite;
}
