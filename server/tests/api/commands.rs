//! Slash commands through `POST /api/communication/channels/{id}/commands/`
//! (and the message box's server function): the built-ins doing what their
//! counterparts elsewhere do, with the same permissions; a workspace's own
//! commands called with Slack's form fields, signed, against a receiver on
//! loopback, their answers shown or posted, and later answers through the
//! response URL.

use crate::gateway::{Ws, connect_as, next_of};
use crate::helpers::{TestApp, User, assert_error, channel, join, json_of, until, workspace};
use crate::sink::{Captured, HttpSink};
use app::wire::{
    AuditEntryDto, ChannelDto, CommandListingDto, CommandReplyDto, CommandUseDto, CreatedSlashCommandDto,
    GatewayEvent, MemberDto, MessagePageDto, NotificationDto, NotificationPreferencesDto, PresenceStatus,
    SlashCommandDto,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;

fn commands_of(channel: &str) -> String {
    format!("/api/communication/channels/{channel}/commands/")
}

/// `who` types `command` in `channel`; what it answers.
async fn run(app: &TestApp, who: &User, channel: &str, command: &str) -> reqwest::Response {
    who.post(app, &commands_of(channel), json!({"command": command})).await
}

/// `who` types `command` in `channel`, which works; what it replied.
async fn ran(app: &TestApp, who: &User, channel: &str, command: &str) -> CommandReplyDto {
    serde_json::from_value(json_of(run(app, who, channel, command).await, StatusCode::OK).await).unwrap()
}

async fn messages(app: &TestApp, who: &User, channel: &str) -> MessagePageDto {
    let res = who.get(app, &format!("/api/communication/messages/?channel_id={channel}")).await;
    serde_json::from_value(json_of(res, StatusCode::OK).await).unwrap()
}

async fn channel_of(app: &TestApp, who: &User, channel: &str) -> ChannelDto {
    let res = who.get(app, &format!("/api/communication/channels/{channel}/")).await;
    serde_json::from_value(json_of(res, StatusCode::OK).await).unwrap()
}

async fn me_and_shrug_post_as_the_person(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let (_, general) = workspace(&app, &ana, false).await;
    let me = ran(&app, &ana, &general, "/me waves").await;
    let posted = me.message.expect("posted");
    assert_eq!((posted.body.as_str(), posted.author.username.as_str()), ("_waves_", "ana"));
    assert!(me.ephemeral.is_none());
    let shrug = ran(&app, &ana, &general, "/shrug no idea").await.message.expect("posted");
    assert!(shrug.html.contains(r"no idea ¯\_(ツ)_/¯"), "{}", shrug.html);
    let page = messages(&app, &ana, &general).await;
    assert_eq!(page.messages.len(), 2);
    app
}

async fn topic_invite_kick_and_leave_change_the_channel(app: TestApp) -> TestApp {
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (ws, _) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let secret = channel(&app, &ana, &ws, "secret", true).await;

    let said = ran(&app, &ana, &secret, "/topic Launch on Friday").await;
    assert_eq!(said.ephemeral.as_deref(), Some("The topic of #secret is now: Launch on Friday"));
    assert_eq!(channel_of(&app, &ana, &secret).await.topic, "Launch on Friday");

    let said = ran(&app, &ana, &secret, "/invite @bob").await;
    assert_eq!(said.ephemeral.as_deref(), Some("Added @bob to #secret."));
    assert_eq!(channel_of(&app, &bob, &secret).await.name, "secret", "bob sees it now");
    let e =
        assert_error(run(&app, &bob, &secret, "/kick @ana").await, StatusCode::FORBIDDEN, "forbidden", None)
            .await;
    assert!(e["message"].as_str().unwrap().contains("remove people from this channel"), "{e}");

    let said = ran(&app, &ana, &secret, "/kick @bob").await;
    assert_eq!(said.ephemeral.as_deref(), Some("@bob is no longer in #secret."));
    let gone = bob.get(&app, &format!("/api/communication/channels/{secret}/")).await;
    assert_error(gone, StatusCode::NOT_FOUND, "not_found", None).await;
    let res = run(&app, &ana, &secret, "/kick @bob").await;
    let e = assert_error(res, StatusCode::BAD_REQUEST, "invalid", Some("username")).await;
    assert_eq!(e["message"], "@bob is not in this channel.");

    let audit = ana.get(&app, &format!("/api/communication/workspaces/{ws}/audit_log/")).await;
    let audit: Vec<AuditEntryDto> = serde_json::from_value(json_of(audit, StatusCode::OK).await).unwrap();
    assert!(audit.iter().any(|e| e.action == "channel.member_remove"), "the removal is audited");

    let left = ran(&app, &ana, &secret, "/leave").await;
    assert_eq!(left.go_to, Some(format!("/w/{ws}")));
    let res = ana.get(&app, &format!("/api/communication/channels/{secret}/")).await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found", None).await;
    app
}

async fn mute_turns_the_channel_off_and_on_again(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let (_, general) = workspace(&app, &ana, false).await;
    let said = ran(&app, &ana, &general, "/mute").await;
    assert!(said.ephemeral.unwrap().starts_with("#general is muted"));
    assert_eq!(channel_level(&app, &ana, &general).await.as_deref(), Some("muted"));
    let said = ran(&app, &ana, &general, "/mute").await;
    assert_eq!(said.ephemeral.as_deref(), Some("#general is unmuted."));
    assert_eq!(channel_level(&app, &ana, &general).await, None, "back to the default");
    app
}

/// `who`'s level for `channel`, when they set one.
async fn channel_level(app: &TestApp, who: &User, channel: &str) -> Option<String> {
    let res = who.get(app, "/api/communication/notification_preferences/").await;
    let prefs: NotificationPreferencesDto =
        serde_json::from_value(json_of(res, StatusCode::OK).await).unwrap();
    prefs.channel_levels.into_iter().find(|l| l.channel_id == channel).map(|l| l.level)
}

async fn msg_sends_a_direct_message(app: TestApp) -> TestApp {
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let said = ran(&app, &ana, &general, "/msg @bob Lunch at noon?").await;
    assert_eq!(said.ephemeral.as_deref(), Some("Sent to @bob."));
    let dm = said.message.expect("posted");
    assert_ne!(dm.channel_id, general, "not in the channel it was typed in");
    let theirs = messages(&app, &bob, &dm.channel_id).await;
    assert_eq!(theirs.messages[0].body, "Lunch at noon?");
    assert!(messages(&app, &ana, &general).await.messages.is_empty());
    app
}

async fn remind_notifies_the_person_when_the_time_comes(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let (_, general) = workspace(&app, &ana, false).await;
    let said = ran(&app, &ana, &general, "/remind me in 1 second to stretch").await;
    assert!(said.ephemeral.unwrap().starts_with("I will remind you at "), "says when");
    let notifications = || async {
        let res = ana.get(&app, "/api/communication/notifications/").await;
        serde_json::from_value::<Vec<NotificationDto>>(json_of(res, StatusCode::OK).await).unwrap()
    };
    until(10, "the reminder", || async { !notifications().await.is_empty() }).await;
    let n = &notifications().await[0];
    assert_eq!((n.kind.as_str(), n.title.as_str()), ("reminder", "Reminder: stretch"));
    assert!(n.url.as_deref().is_some_and(|u| u.contains(&general)), "leads back to where it was asked");
    app
}

async fn status(app: &TestApp, who: &User, ws: &str, of: &User) -> PresenceStatus {
    let res = who.get(app, &format!("/api/workspaces/{ws}/members")).await;
    let members: Vec<MemberDto> = serde_json::from_value(json_of(res, StatusCode::OK).await).unwrap();
    members.into_iter().find(|m| m.user.id == of.id).expect("a member").status
}

async fn away_shows_the_person_away_until_they_are_back(app: TestApp) -> TestApp {
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let _online = connect_as(&app, &ana).await;
    until(5, "ana online", || async { status(&app, &bob, &ws, &ana).await == PresenceStatus::Online }).await;
    let mut watching = connect_as(&app, &bob).await;

    let said = ran(&app, &ana, &general, "/away").await;
    assert!(said.ephemeral.unwrap().starts_with("You are shown as away"));
    assert_eq!(status(&app, &bob, &ws, &ana).await, PresenceStatus::Away);
    let seen = presence_of(&mut watching, &ana).await;
    assert_eq!(seen, PresenceStatus::Away, "others are told at once");

    let said = ran(&app, &ana, &general, "/away").await;
    assert!(said.ephemeral.unwrap().starts_with("Welcome back"));
    assert_eq!(status(&app, &bob, &ws, &ana).await, PresenceStatus::Online);
    assert_eq!(presence_of(&mut watching, &ana).await, PresenceStatus::Online);
    app
}

/// The next presence update about `whose` on `ws`.
async fn presence_of(ws: &mut Ws, whose: &User) -> PresenceStatus {
    loop {
        let e = crate::gateway::next_any_event(ws).await;
        if e["type"] == "PRESENCE_UPDATE"
            && let Ok(GatewayEvent::PresenceUpdate { user_id, status, .. }) = serde_json::from_value(e)
            && user_id == whose.id
        {
            return status;
        }
    }
}

async fn dnd_pauses_notifications_and_says_until_when(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let (_, general) = workspace(&app, &ana, false).await;
    let said = ran(&app, &ana, &general, "/dnd 2h").await;
    assert!(said.ephemeral.unwrap().starts_with("Notifications are paused until "));
    let paused = paused_until(&app, &ana).await.expect("paused");
    let in_two_hours = domain::now_ms() + 2 * 3_600_000;
    assert!((paused - in_two_hours).abs() < 60_000, "about two hours from now");
    let said = ran(&app, &ana, &general, "/dnd off").await;
    assert_eq!(said.ephemeral.as_deref(), Some("Notifications are back on."));
    assert_eq!(paused_until(&app, &ana).await, None);
    app
}

/// What the pause held goes out when it is lifted, not when it would have ended.
async fn dnd_off_sends_what_the_pause_held(app: TestApp) -> TestApp {
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    ran(&app, &bob, &general, "/dnd 2h").await;
    crate::helpers::say(&app, &ana, &general, "@bob the held mention").await;
    ran(&app, &bob, &general, "/dnd off").await;
    let mail = crate::delivery::outbox_email(&app, "the held mention").await;
    assert!(mail.contains("bob@"), "to bob: {mail}");
    app
}

async fn paused_until(app: &TestApp, who: &User) -> Option<i64> {
    let res = who.get(app, "/api/communication/notification_preferences/").await;
    let prefs: NotificationPreferencesDto =
        serde_json::from_value(json_of(res, StatusCode::OK).await).unwrap();
    prefs.paused_until
}

async fn search_and_call_tell_the_client_where_to_go(app: TestApp) -> TestApp {
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let said = ran(&app, &ana, &general, "/search release notes").await;
    assert_eq!(said.go_to, Some(format!("/w/{ws}/search?q=release%20notes")));
    let e = assert_error(run(&app, &ana, &general, "/call").await, StatusCode::BAD_REQUEST, "invalid", None)
        .await;
    assert!(e["message"].as_str().unwrap().contains("voice channels and direct conversations"), "{e}");
    let body = json!({"workspace_id": ws, "usernames": ["bob"]});
    let dm = ana.post(&app, "/api/communication/channels/create_direct/", body).await;
    let dm = json_of(dm, StatusCode::OK).await["id"].as_str().unwrap().to_string();
    assert_eq!(ran(&app, &ana, &dm, "/call").await.join_call, Some(dm));
    app
}

async fn help_lists_the_built_ins_and_the_workspaces_own(app: TestApp) -> TestApp {
    let sink = HttpSink::start(200).await;
    let ana = app.user("ana").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    make(&app, &ana, &ws, "deploy", &sink.url("/deploy")).await;
    let listed = ana.get(&app, &commands_of(&general)).await;
    let listed: Vec<CommandListingDto> =
        serde_json::from_value(json_of(listed, StatusCode::OK).await).unwrap();
    let names: Vec<&str> = listed.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(&names[..3], ["me", "shrug", "msg"]);
    let own = listed.iter().find(|c| c.name == "deploy").expect("the workspace's own");
    assert!(own.custom && !listed[0].custom);
    let help = ran(&app, &ana, &general, "/help").await.ephemeral.unwrap();
    assert!(help.contains("`/remind me in 10 minutes to …` — Get a notification later"), "{help}");
    assert!(help.contains("`/deploy [environment]` — Deploy a branch"), "{help}");
    assert!(help.contains("start it with //"), "{help}");
    app
}

async fn what_is_not_a_command_says_how_to_write_one(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let (_, general) = workspace(&app, &ana, false).await;
    let cases = [
        ("/nosuch thing", "There is no /nosuch command here"),
        ("/msg @ana", "Write the message after the name"),
        ("/remind me in ten minutes to stretch", "/remind me in 10 minutes to stretch"),
        ("/usr/bin/env", "start it with //"),
        ("hello", "A command starts with a slash"),
    ];
    for (typed, says) in cases {
        let e =
            assert_error(run(&app, &ana, &general, typed).await, StatusCode::BAD_REQUEST, "invalid", None)
                .await;
        assert!(e["message"].as_str().unwrap().contains(says), "{typed}: {e}");
    }
    assert!(messages(&app, &ana, &general).await.messages.is_empty(), "nothing posted");
    app
}

/// The message box's server function runs commands and posts the rest;
/// `//` posts text that starts with a slash.
async fn the_message_box_runs_commands_and_posts_the_rest(app: TestApp) -> TestApp {
    use leptos::server_fn::ServerFn;
    let ana = app.user("ana").await;
    let (_, general) = workspace(&app, &ana, false).await;
    let send = |body: &'static str| {
        let (ana, general) = (&ana, general.clone());
        let url = app.url(app::api::PostMessage::PATH);
        async move {
            let res = ana
                .client
                .post(url)
                .bearer_auth(&ana.token)
                .header("accept", "application/json")
                .form(&[("channel_id", general.as_str()), ("body", body)])
                .send()
                .await
                .unwrap();
            serde_json::from_value::<app::wire::SentDto>(json_of(res, StatusCode::OK).await).unwrap()
        }
    };
    let app::wire::SentDto::Command(reply) = send("/shrug").await else { panic!("a command") };
    assert!(reply.message.is_some());
    let app::wire::SentDto::Message(msg) = send("//shrug is a command").await else { panic!("a message") };
    assert_eq!(msg.body, "/shrug is a command");
    app
}

// A workspace's own commands.

fn own_commands_of(ws: &str) -> String {
    format!("/api/communication/workspaces/{ws}/slash-commands/")
}

async fn make(app: &TestApp, who: &User, ws: &str, name: &str, url: &str) -> CreatedSlashCommandDto {
    let body =
        json!({"name": name, "url": url, "description": "Deploy a branch", "usage_hint": "[environment]"});
    let res = who.post(app, &own_commands_of(ws), body).await;
    serde_json::from_value(json_of(res, StatusCode::CREATED).await).unwrap()
}

/// A call's form fields.
fn fields(call: &Captured) -> HashMap<String, String> {
    url::form_urlencoded::parse(&call.body).into_owned().collect()
}

fn assert_signed(call: &Captured, secret: &str) {
    let ts: i64 = call.header("x-parley-request-timestamp").parse().expect("a timestamp");
    let expected = domain::hub::sign_webhook_call(secret, ts, &call.body);
    assert_eq!(call.header("x-parley-signature"), expected);
    assert_eq!(call.header("x-slack-signature"), expected);
}

async fn a_workspace_command_gets_slacks_fields_signed_and_its_answer_shows_to_the_person(
    app: TestApp,
) -> TestApp {
    let mut sink = HttpSink::start(200).await;
    sink.answer(200, r#"{"text": "Deploying *staging*"}"#);
    let ana = app.user("ana").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    let made = make(&app, &ana, &ws, "Deploy", &sink.url("/deploy")).await;
    assert_eq!(made.command.name, "deploy");
    assert!(made.token.starts_with("sct_") && made.signing_secret.starts_with("scsec_"));

    let said = ran(&app, &ana, &general, "/deploy staging now").await;
    assert_eq!(said.ephemeral.as_deref(), Some("Deploying **staging**"), "Slack's markup as Markdown");
    assert!(said.ephemeral_html.unwrap().contains("<strong>staging</strong>"));
    assert!(said.message.is_none(), "shown, not posted");
    let call = sink.next().await;
    assert_eq!(call.path, "/deploy");
    assert_eq!(call.header("content-type"), "application/x-www-form-urlencoded");
    assert_signed(&call, &made.signing_secret);
    let f = fields(&call);
    assert_eq!(f["token"], made.token);
    assert_eq!((f["command"].as_str(), f["text"].as_str()), ("/deploy", "staging now"));
    assert_eq!((f["team_id"].as_str(), f["channel_id"].as_str()), (ws.as_str(), general.as_str()));
    assert_eq!(
        (f["user_id"].as_str(), f["user_name"].as_str(), f["channel_name"].as_str()),
        (ana.id.as_str(), "ana", "general")
    );
    assert!(f["response_url"].contains("/api/communication/commands/answers/scr_"), "{}", f["response_url"]);
    assert!(!f["trigger_id"].is_empty());
    assert!(messages(&app, &ana, &general).await.messages.is_empty());
    app
}

async fn an_in_channel_answer_is_posted_as_the_commands_bot(app: TestApp) -> TestApp {
    let sink = HttpSink::start(200).await;
    sink.answer(200, r#"{"response_type": "in_channel", "text": "Deployed main"}"#);
    let ana = app.user("ana").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    make(&app, &ana, &ws, "deploy", &sink.url("/deploy")).await;
    let posted = ran(&app, &ana, &general, "/deploy").await.message.expect("posted");
    assert_eq!((posted.body.as_str(), posted.author.display_name.as_str()), ("Deployed main", "/deploy"));
    assert!(posted.author.is_bot, "with a BOT tag");
    assert_eq!(messages(&app, &ana, &general).await.messages[0].id, posted.id);
    app
}

async fn the_response_url_takes_five_later_answers(app: TestApp) -> TestApp {
    let mut sink = HttpSink::start(200).await;
    let ana = app.user("ana").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    make(&app, &ana, &ws, "deploy", &sink.url("/deploy")).await;
    let mut live = connect_as(&app, &ana).await;
    let said = ran(&app, &ana, &general, "/deploy").await;
    assert_eq!(said, CommandReplyDto::default(), "an empty answer says nothing");
    let response_url = fields(&sink.next().await)["response_url"].clone();
    let client = reqwest::Client::new();
    let answer = |body: Value| client.post(&response_url).json(&body).send();

    let res = answer(json!({"text": "Still going…"})).await.unwrap();
    assert_eq!((res.status(), res.text().await.unwrap().as_str()), (StatusCode::OK, "ok"));
    let shown: GatewayEvent = serde_json::from_value(next_of(&mut live, "COMMAND_ANSWER").await).unwrap();
    let GatewayEvent::CommandAnswer { channel_id, command, html, .. } = shown else { unreachable!() };
    assert_eq!((channel_id.as_str(), command.as_str()), (general.as_str(), "/deploy"));
    assert!(html.contains("Still going…"), "{html}");

    let res = answer(json!({"text": "Done", "response_type": "in_channel"})).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    until(5, "the answer posted", || async {
        messages(&app, &ana, &general).await.messages.iter().any(|m| m.body == "Done")
    })
    .await;
    for _ in 0..3 {
        assert_eq!(answer(json!({"text": "more"})).await.unwrap().status(), StatusCode::OK);
    }
    let res = answer(json!({"text": "a sixth"})).await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "five answers at most");
    let res =
        client.post(app.url("/api/communication/commands/answers/scr_made_up/")).json(&json!({"text": "x"}));
    assert_eq!(res.send().await.unwrap().status(), StatusCode::NOT_FOUND);
    app
}

async fn a_failing_command_says_what_went_wrong(app: TestApp) -> TestApp {
    let sink = HttpSink::start(500).await;
    let ana = app.user("ana").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    make(&app, &ana, &ws, "deploy", &sink.url("/deploy")).await;
    let said = ran(&app, &ana, &general, "/deploy").await;
    assert_eq!(
        said.ephemeral.as_deref(),
        Some("/deploy failed: it answered with HTTP 500. Tell whoever runs it.")
    );
    app
}

/// A command's log: who typed what, and how its call answered, newest
/// first, for who manages the workspace's commands only.
async fn a_commands_uses_say_who_typed_what_and_how_it_answered(app: TestApp) -> TestApp {
    let sink = HttpSink::start(500).await;
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let made = make(&app, &ana, &ws, "deploy", &sink.url("/deploy")).await;
    ran(&app, &bob, &general, "/deploy staging").await;
    sink.answer(200, r#"{"text": "Deploying production"}"#);
    ran(&app, &ana, &general, "/deploy production").await;

    let path = format!("/api/communication/slash-commands/{}/uses/", made.command.id);
    let uses: Vec<CommandUseDto> =
        serde_json::from_value(json_of(ana.get(&app, &path).await, StatusCode::OK).await).unwrap();
    let seen: Vec<(&str, &str, Option<i64>)> =
        uses.iter().map(|u| (u.user.username.as_str(), u.text.as_str(), u.status_code)).collect();
    assert_eq!(seen, [("ana", "production", Some(200)), ("bob", "staging", Some(500))]);
    assert!(uses[0].excerpt.contains("Deploying production"), "{}", uses[0].excerpt);
    assert_error(bob.get(&app, &path).await, StatusCode::FORBIDDEN, "forbidden", None).await;
    app
}

async fn managing_commands_takes_manage_webhooks(app: TestApp) -> TestApp {
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (ws, _) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let body = json!({"name": "deploy", "url": "https://example.com/deploy"});
    assert_error(
        bob.post(&app, &own_commands_of(&ws), body.clone()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    )
    .await;
    let made = make(&app, &ana, &ws, "deploy", "https://example.com/deploy").await;
    let res = ana.post(&app, &own_commands_of(&ws), body).await;
    assert_error(res, StatusCode::CONFLICT, "conflict", Some("name")).await;
    for (name, field) in [("shrug", "name"), ("two words", "name")] {
        let res =
            ana.post(&app, &own_commands_of(&ws), json!({"name": name, "url": "https://example.com/"})).await;
        assert_error(res, StatusCode::BAD_REQUEST, "invalid", Some(field)).await;
    }
    let listed = ana.get(&app, &own_commands_of(&ws)).await;
    let listed: Vec<SlashCommandDto> = serde_json::from_value(json_of(listed, StatusCode::OK).await).unwrap();
    assert_eq!(listed, vec![made.command.clone()]);
    let path = format!("/api/communication/slash-commands/{}/", made.command.id);
    assert_error(bob.delete(&app, &path).await, StatusCode::FORBIDDEN, "forbidden", None).await;
    assert_eq!(ana.delete(&app, &path).await.status(), StatusCode::NO_CONTENT);
    let audit = ana.get(&app, &format!("/api/communication/workspaces/{ws}/audit_log/")).await;
    let audit: Vec<AuditEntryDto> = serde_json::from_value(json_of(audit, StatusCode::OK).await).unwrap();
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"slash_command.create") && actions.contains(&"slash_command.delete"));
    app
}

crate::on_both_backends! {
    me_and_shrug_post_as_the_person => me_and_shrug_post_as_the_person;
    topic_invite_kick_and_leave_change_the_channel => topic_invite_kick_and_leave_change_the_channel;
    mute_turns_the_channel_off_and_on_again => mute_turns_the_channel_off_and_on_again;
    msg_sends_a_direct_message => msg_sends_a_direct_message;
    remind_notifies_the_person_when_the_time_comes => remind_notifies_the_person_when_the_time_comes;
    away_shows_the_person_away_until_they_are_back => away_shows_the_person_away_until_they_are_back;
    dnd_pauses_notifications_and_says_until_when => dnd_pauses_notifications_and_says_until_when;
    dnd_off_sends_what_the_pause_held => dnd_off_sends_what_the_pause_held;
    search_and_call_tell_the_client_where_to_go => search_and_call_tell_the_client_where_to_go;
    help_lists_the_built_ins_and_the_workspaces_own => help_lists_the_built_ins_and_the_workspaces_own;
    what_is_not_a_command_says_how_to_write_one => what_is_not_a_command_says_how_to_write_one;
    the_message_box_runs_commands_and_posts_the_rest => the_message_box_runs_commands_and_posts_the_rest;
    a_workspace_command_gets_slacks_fields_signed_and_its_answer_shows_to_the_person => a_workspace_command_gets_slacks_fields_signed_and_its_answer_shows_to_the_person;
    an_in_channel_answer_is_posted_as_the_commands_bot => an_in_channel_answer_is_posted_as_the_commands_bot;
    the_response_url_takes_five_later_answers => the_response_url_takes_five_later_answers;
    a_failing_command_says_what_went_wrong => a_failing_command_says_what_went_wrong;
    managing_commands_takes_manage_webhooks => managing_commands_takes_manage_webhooks;
    a_commands_uses_say_who_typed_what_and_how_it_answered => a_commands_uses_say_who_typed_what_and_how_it_answered;
}
