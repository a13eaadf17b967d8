//! Bot accounts: made by who may change the workspace, driven by their own
//! API tokens on the REST API and the gateway, members like anyone (roles,
//! overrides, private channels, direct conversations), never signed in with
//! a password, and gone at once when removed.

use crate::gateway::{connect_as, next_wire};
use crate::helpers::{TestApp, User, assert_error, channel, join, json_of, workspace};
use app::wire::{
    AuditEntryDto, BotDto, CreatedTokenDto, GatewayCommand, GatewayEvent, MemberDto, MessageDto,
    MessagePageDto,
};
use reqwest::StatusCode;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

fn bots_of(ws: &str) -> String {
    format!("/api/communication/workspaces/{ws}/bots/")
}

/// `who` makes the bot `username` in `ws`, then a token for it: the bot as
/// a user of the API.
async fn make_bot(app: &TestApp, who: &User, ws: &str, username: &str) -> (BotDto, User) {
    let body = json!({"username": username, "display_name": "Deploy Bot", "emoji": ":rocket:",
        "description": "Posts deploys"});
    let bot: BotDto =
        serde_json::from_value(json_of(who.post(app, &bots_of(ws), body).await, StatusCode::CREATED).await)
            .unwrap();
    let path = format!("/api/communication/bots/{}/tokens/", bot.user.id);
    let made: CreatedTokenDto = serde_json::from_value(
        json_of(who.post(app, &path, json!({"name": "ci"})).await, StatusCode::CREATED).await,
    )
    .unwrap();
    let as_bot = User { client: app.client(), token: made.token, id: bot.user.id.clone() };
    (bot, as_bot)
}

async fn post_as(app: &TestApp, who: &User, channel: &str, body: &str) -> reqwest::Response {
    who.post(app, "/api/communication/messages/", json!({"channel_id": channel, "body": body})).await
}

async fn newest(app: &TestApp, reader: &User, channel: &str) -> MessageDto {
    let res = reader.get(app, &format!("/api/communication/messages/?channel_id={channel}")).await;
    let page: MessagePageDto = serde_json::from_value(json_of(res, StatusCode::OK).await).unwrap();
    page.messages.into_iter().last().expect("a message")
}

async fn a_bot_posts_with_its_token_once_in_the_channel(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    let (bot, as_bot) = make_bot(&app, &ana, &ws, "deploy-bot").await;
    assert!(bot.user.is_bot);
    assert_eq!((bot.emoji.as_str(), bot.owner.username.as_str()), ("🚀", "ana"));

    // A member of the workspace, with a BOT tag, in no channel yet.
    let res = ana.get(&app, &format!("/api/workspaces/{ws}/members")).await;
    let members: Vec<MemberDto> = serde_json::from_value(json_of(res, StatusCode::OK).await).unwrap();
    assert!(members.iter().any(|m| m.user.username == "deploy-bot" && m.user.is_bot));
    assert_error(post_as(&app, &as_bot, &general, "early").await, StatusCode::FORBIDDEN, "forbidden", None)
        .await;

    let add = format!("/api/communication/channels/{general}/add_members/");
    json_of(ana.post(&app, &add, json!({"usernames": ["deploy-bot"]})).await, StatusCode::OK).await;
    let posted: MessageDto = serde_json::from_value(
        json_of(post_as(&app, &as_bot, &general, "Deployed v2").await, StatusCode::CREATED).await,
    )
    .unwrap();
    assert!(posted.author.is_bot);
    let m = newest(&app, &ana, &general).await;
    assert_eq!((m.body.as_str(), m.author.username.as_str()), ("Deployed v2", "deploy-bot"));
    assert_eq!(m.shown_icon, "🚀", "its posts show its avatar");
    app
}

async fn only_who_may_change_the_workspace_makes_bots(app: TestApp) -> TestApp {
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (ws, _) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let res = bob.post(&app, &bots_of(&ws), json!({"username": "bobs-bot", "display_name": "Bob's"})).await;
    assert_error(res, StatusCode::FORBIDDEN, "forbidden", None).await;
    let (bot, _) = make_bot(&app, &ana, &ws, "helper").await;
    // Members see the bot, not its tokens; they cannot make or revoke any.
    let listed: Vec<BotDto> =
        serde_json::from_value(json_of(bob.get(&app, &bots_of(&ws)).await, StatusCode::OK).await).unwrap();
    assert_eq!(listed.iter().map(|b| b.user.username.as_str()).collect::<Vec<_>>(), ["helper"]);
    let tokens = format!("/api/communication/bots/{}/tokens/", bot.user.id);
    assert_error(bob.get(&app, &tokens).await, StatusCode::FORBIDDEN, "forbidden", None).await;
    assert_error(
        bob.post(&app, &tokens, json!({"name": "mine"})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    )
    .await;
    let taken = ana.post(&app, &bots_of(&ws), json!({"username": "bob", "display_name": "Bob two"})).await;
    assert_error(taken, StatusCode::CONFLICT, "conflict", Some("username")).await;
    let emoji = ana
        .post(&app, &bots_of(&ws), json!({"username": "x-bot", "display_name": "X", "emoji": "xyz"}))
        .await;
    assert_error(emoji, StatusCode::BAD_REQUEST, "invalid", Some("emoji")).await;
    app
}

async fn a_bot_cannot_sign_in_with_a_password(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let (ws, _) = workspace(&app, &ana, false).await;
    make_bot(&app, &ana, &ws, "no-login").await;
    for password in ["!", "", "correct horse battery"] {
        let res = app
            .client()
            .post(app.url("/api/auth/login"))
            .json(&json!({"username": "no-login", "password": password}))
            .send()
            .await
            .unwrap();
        assert!(
            res.status() == StatusCode::UNAUTHORIZED || res.status() == StatusCode::BAD_REQUEST,
            "{password:?}"
        );
    }
    app
}

async fn a_bot_in_a_private_channel_hears_it_on_the_gateway(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let (ws, _) = workspace(&app, &ana, false).await;
    let ops = channel(&app, &ana, &ws, "ops", true).await;
    let (_, as_bot) = make_bot(&app, &ana, &ws, "ops-bot").await;
    let read = format!("/api/communication/messages/?channel_id={ops}");
    assert_error(as_bot.get(&app, &read).await, StatusCode::NOT_FOUND, "not_found", None).await;
    let add = format!("/api/communication/channels/{ops}/add_members/");
    json_of(ana.post(&app, &add, json!({"usernames": ["ops-bot"]})).await, StatusCode::OK).await;

    let mut live = connect_as(&app, &as_bot).await;
    assert_eq!(post_as(&app, &ana, &ops, "disk at 91%").await.status(), StatusCode::CREATED);
    loop {
        if let GatewayEvent::MessageCreate { message } = next_wire(&mut live).await {
            assert_eq!(message.body, "disk at 91%");
            break;
        }
    }
    assert_eq!(post_as(&app, &as_bot, &ops, "ack").await.status(), StatusCode::CREATED);
    app
}

async fn a_channel_override_applies_to_a_bot(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    let (bot, as_bot) = make_bot(&app, &ana, &ws, "muted-bot").await;
    let join_path = format!("/api/communication/channels/{general}/join/");
    json_of(as_bot.post(&app, &join_path, json!({})).await, StatusCode::OK).await;
    let deny =
        json!({"target_kind": "member", "target_id": bot.user.id, "allow": [], "deny": ["send_messages"]});
    let path = format!("/api/communication/channels/{general}/permissions/");
    assert_eq!(ana.put(&app, &path, deny).await.status(), StatusCode::NO_CONTENT);
    assert_error(post_as(&app, &as_bot, &general, "hi").await, StatusCode::FORBIDDEN, "forbidden", None)
        .await;
    app
}

async fn a_direct_conversation_with_a_bot(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let (ws, _) = workspace(&app, &ana, false).await;
    let (_, as_bot) = make_bot(&app, &ana, &ws, "pal").await;
    let res = ana
        .post(
            &app,
            "/api/communication/channels/create_direct/",
            json!({"workspace_id": ws, "usernames": ["pal"]}),
        )
        .await;
    let dm = json_of(res, StatusCode::OK).await["id"].as_str().unwrap().to_string();
    assert_eq!(post_as(&app, &ana, &dm, "status?").await.status(), StatusCode::CREATED);
    assert_eq!(newest(&app, &as_bot, &dm).await.body, "status?");
    assert_eq!(post_as(&app, &as_bot, &dm, "all green").await.status(), StatusCode::CREATED);
    app
}

async fn removing_a_bot_ends_its_tokens_and_membership_and_is_audited(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    let (bot, as_bot) = make_bot(&app, &ana, &ws, "gone-bot").await;
    let join_path = format!("/api/communication/channels/{general}/join/");
    json_of(as_bot.post(&app, &join_path, json!({})).await, StatusCode::OK).await;
    assert_eq!(post_as(&app, &as_bot, &general, "last words").await.status(), StatusCode::CREATED);

    let res = ana.delete(&app, &format!("/api/communication/bots/{}/", bot.user.id)).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_error(as_bot.get(&app, "/api/auth/me").await, StatusCode::UNAUTHORIZED, "unauthenticated", None)
        .await;
    let res = ana.get(&app, &format!("/api/workspaces/{ws}/members")).await;
    let members: Vec<MemberDto> = serde_json::from_value(json_of(res, StatusCode::OK).await).unwrap();
    assert!(members.iter().all(|m| m.user.username != "gone-bot"));
    let m = newest(&app, &ana, &general).await;
    assert_eq!((m.body.as_str(), m.author.is_bot), ("last words", true), "what it posted stays");

    let path = format!("/api/communication/workspaces/{ws}/audit_log/");
    let log: Vec<AuditEntryDto> =
        serde_json::from_value(json_of(ana.get(&app, &path).await, StatusCode::OK).await).unwrap();
    let actions: Vec<&str> =
        log.iter().map(|e| e.action.as_str()).filter(|a| a.starts_with("bot.")).collect();
    assert_eq!(actions, ["bot.remove", "bot.token", "bot.create"]);
    app
}

async fn a_bot_made_without_an_avatar_or_description_gets_the_robot(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let (ws, _) = workspace(&app, &ana, false).await;
    let body = json!({"username": "plain-bot", "display_name": "Plain", "emoji": null, "description": null});
    let bot: BotDto =
        serde_json::from_value(json_of(ana.post(&app, &bots_of(&ws), body).await, StatusCode::CREATED).await)
            .unwrap();
    assert_eq!((bot.emoji.as_str(), bot.description.as_str()), (domain::hub::DEFAULT_BOT_EMOJI, ""));
    app
}

async fn a_bot_resumes_its_gateway_session_and_gets_what_it_missed(app: TestApp) -> TestApp {
    use futures::SinkExt;
    let ana = app.user("ana").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    let (_, as_bot) = make_bot(&app, &ana, &ws, "resumer").await;
    let join_path = format!("/api/communication/channels/{general}/join/");
    json_of(as_bot.post(&app, &join_path, json!({})).await, StatusCode::OK).await;
    let mut first = crate::gateway::open_as(&app, &as_bot).await;
    first.send(Message::text(r#"{"type":"IDENTIFY"}"#)).await.unwrap();
    let GatewayEvent::Ready { session_id, seq, .. } = next_wire(&mut first).await else { panic!("READY") };
    drop(first);

    assert_eq!(post_as(&app, &ana, &general, "while you were away").await.status(), StatusCode::CREATED);
    let mut again = crate::gateway::open_as(&app, &as_bot).await;
    let resume = serde_json::to_string(&GatewayCommand::Resume { session_id, seq }).unwrap();
    again.send(Message::text(resume)).await.unwrap();
    let mut missed = Vec::new();
    loop {
        match next_wire(&mut again).await {
            GatewayEvent::MessageCreate { message } => missed.push(message.body),
            GatewayEvent::Resumed { .. } => break,
            _ => {}
        }
    }
    assert_eq!(missed, ["while you were away"]);
    app
}

crate::on_both_backends! {
    a_bot_resumes_its_gateway_session_and_gets_what_it_missed => a_bot_resumes_its_gateway_session_and_gets_what_it_missed;
    a_bot_made_without_an_avatar_or_description_gets_the_robot => a_bot_made_without_an_avatar_or_description_gets_the_robot;
    a_bot_posts_with_its_token_once_in_the_channel => a_bot_posts_with_its_token_once_in_the_channel;
    only_who_may_change_the_workspace_makes_bots => only_who_may_change_the_workspace_makes_bots;
    a_bot_cannot_sign_in_with_a_password => a_bot_cannot_sign_in_with_a_password;
    a_bot_in_a_private_channel_hears_it_on_the_gateway => a_bot_in_a_private_channel_hears_it_on_the_gateway;
    a_channel_override_applies_to_a_bot => a_channel_override_applies_to_a_bot;
    a_direct_conversation_with_a_bot => a_direct_conversation_with_a_bot;
    removing_a_bot_ends_its_tokens_and_membership_and_is_audited => removing_a_bot_ends_its_tokens_and_membership_and_is_audited;
}
