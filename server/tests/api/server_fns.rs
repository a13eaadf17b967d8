//! The server functions behind the conversation UI, called over HTTP as the
//! hydrated app calls them (form-encoded arguments, JSON answers), with bad input.

use crate::helpers::{TestApp, User, assert_error, join, json_of, workspace};
use leptos::server_fn::ServerFn;
use reqwest::StatusCode;
use serde_json::Value;

async fn call<F: ServerFn>(app: &TestApp, who: &User, args: &[(&str, &str)]) -> reqwest::Response {
    who.client
        .post(app.url(F::PATH))
        .bearer_auth(&who.token)
        .header("accept", "application/json")
        .form(args)
        .send()
        .await
        .unwrap()
}

async fn conversation_server_functions(app: TestApp) -> TestApp {
    use app::api::*;
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let eve = app.user("eve").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;

    let parent: Value = json_of(
        call::<PostMessage>(&app, &ana, &[("channel_id", &general), ("body", "Plans?")]).await,
        StatusCode::OK,
    )
    .await;
    let parent_id = parent["id"].as_str().unwrap().to_string();
    let reply = call::<PostMessage>(
        &app,
        &bob,
        &[("channel_id", &general), ("body", "Mine: sleep"), ("thread_id", &parent_id), ("nonce", "")],
    )
    .await;
    assert_eq!(json_of(reply, StatusCode::OK).await["thread_id"], parent_id.as_str());
    let bad =
        call::<PostMessage>(&app, &bob, &[("channel_id", &general), ("body", "x"), ("thread_id", "x")]).await;
    assert_error(bad, StatusCode::BAD_REQUEST, "invalid", Some("thread_id")).await;

    let thread =
        json_of(call::<ThreadView>(&app, &ana, &[("thread_id", &parent_id)]).await, StatusCode::OK).await;
    assert_eq!(thread["replies"][0]["body"], "Mine: sleep");
    assert_error(
        call::<ThreadView>(&app, &eve, &[("thread_id", &parent_id)]).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;
    let unfollow = call::<FollowThread>(&app, &ana, &[("message_id", &parent_id), ("follow", "")]).await;
    assert_eq!(unfollow.status(), StatusCode::OK);
    let view = json_of(call::<ThreadsView>(&app, &ana, &[("workspace_id", &ws)]).await, StatusCode::OK).await;
    assert_eq!(view["threads"].as_array().unwrap().len(), 0, "unfollowed");
    let view = json_of(call::<ThreadsView>(&app, &bob, &[("workspace_id", &ws)]).await, StatusCode::OK).await;
    assert_eq!(view["threads"][0]["parent"]["id"], parent_id.as_str());

    assert_eq!(call::<PinMessage>(&app, &bob, &[("message_id", &parent_id)]).await.status(), StatusCode::OK);
    assert_error(
        call::<PinMessage>(&app, &eve, &[("message_id", &parent_id)]).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;
    assert_eq!(call::<MarkRead>(&app, &bob, &[("channel_id", &general)]).await.status(), StatusCode::OK);
    let readers =
        json_of(call::<Readers>(&app, &ana, &[("message_id", &parent_id)]).await, StatusCode::OK).await;
    assert_eq!(readers[0]["username"], "bob");
    assert_error(
        call::<MarkRead>(&app, &bob, &[("channel_id", &general), ("message_id", "later")]).await,
        StatusCode::BAD_REQUEST,
        "invalid",
        Some("message_id"),
    )
    .await;

    assert_error(
        call::<SetTopic>(&app, &bob, &[("channel_id", &general), ("topic", "bob's now")]).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    )
    .await;
    assert_eq!(
        call::<SetTopic>(&app, &ana, &[("channel_id", &general), ("topic", "Company news")]).await.status(),
        StatusCode::OK
    );
    let info =
        json_of(call::<ChannelInfo>(&app, &bob, &[("channel_id", &general)]).await, StatusCode::OK).await;
    assert_eq!(info["topic"], "Company news");

    let opened = call::<OpenDirect>(&app, &ana, &[("workspace_id", &ws), ("usernames", "bob")]).await;
    assert!(opened.status().is_success() || opened.status().is_redirection(), "{}", opened.status());
    assert_error(
        call::<OpenDirect>(&app, &ana, &[("workspace_id", &ws), ("usernames", "eve")]).await,
        StatusCode::BAD_REQUEST,
        "invalid",
        Some("usernames"),
    )
    .await;
    let dms = json_of(
        bob.get(&app, &format!("/api/communication/channels/?workspace_id={ws}")).await,
        StatusCode::OK,
    )
    .await;
    assert!(dms.as_array().unwrap().iter().any(|c| c["kind"] == "direct"), "bob has the DM: {dms}");
    app
}

crate::on_both_backends! {
    conversation_server_functions => conversation_server_functions;
}
