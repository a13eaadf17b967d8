//! The server functions behind the conversation UI, called over HTTP as the
//! hydrated app calls them (form-encoded arguments, JSON answers), with bad input.

use crate::helpers::{TestApp, User, assert_error, join, json_of, workspace};
use leptos::server_fn::ServerFn;
use reqwest::StatusCode;

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

/// The message a `PostMessage` answer says was posted.
async fn posted(res: reqwest::Response) -> app::wire::MessageDto {
    match serde_json::from_value(json_of(res, StatusCode::OK).await).expect("the answer's shape") {
        app::wire::SentDto::Message(msg) => msg,
        other => panic!("a message, not {other:?}"),
    }
}

async fn conversation_server_functions(app: TestApp) -> TestApp {
    use app::api::*;
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let eve = app.user("eve").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;

    let parent_id =
        posted(call::<PostMessage>(&app, &ana, &[("channel_id", &general), ("body", "Plans?")]).await)
            .await
            .id;
    let reply = call::<PostMessage>(
        &app,
        &bob,
        &[("channel_id", &general), ("body", "Mine: sleep"), ("thread_id", &parent_id), ("nonce", "")],
    )
    .await;
    assert_eq!(posted(reply).await.thread_id, Some(parent_id.clone()));
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
    assert_eq!(call::<ReadThread>(&app, &bob, &[("thread_id", &parent_id)]).await.status(), StatusCode::OK);
    assert_error(
        call::<ReadThread>(&app, &eve, &[("thread_id", &parent_id)]).await,
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

/// Success, or the redirect a server function answers with when it moves the page on.
fn done(res: &reqwest::Response) -> bool {
    res.status().is_success() || res.status().is_redirection()
}

async fn workspace_and_channel_server_functions(app: TestApp) -> TestApp {
    use app::api::*;
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let eve = app.user("eve").await;

    // Accounts.
    let me = json_of(call::<Me>(&app, &ana, &[]).await, StatusCode::OK).await;
    assert_eq!(me["username"], "ana");
    let bad = call::<Signup>(
        &app,
        &eve,
        &[
            ("username", "z"),
            ("display_name", "Z"),
            ("email", "not-an-email"),
            ("password", "correct horse battery"),
        ],
    )
    .await;
    assert_error(bad, StatusCode::BAD_REQUEST, "invalid", None).await;
    let wrong = call::<Login>(&app, &eve, &[("username", "ana"), ("password", "wrong password")]).await;
    assert_error(wrong, StatusCode::UNAUTHORIZED, "unauthenticated", None).await;

    // Workspaces and invites.
    assert!(done(&call::<CreateWorkspace>(&app, &ana, &[("name", "Acme")]).await));
    assert_error(
        call::<CreateWorkspace>(&app, &ana, &[("name", " ")]).await,
        StatusCode::BAD_REQUEST,
        "invalid",
        Some("name"),
    )
    .await;
    let home = json_of(call::<Home>(&app, &ana, &[]).await, StatusCode::OK).await;
    let ws = home["workspaces"][0]["id"].as_str().expect("ana's workspace").to_string();
    let entry =
        json_of(call::<WorkspaceEntry>(&app, &ana, &[("workspace_id", &ws)]).await, StatusCode::OK).await;
    let general = entry.as_str().unwrap().rsplit('/').next().unwrap().to_string();
    assert!(done(&call::<JoinWorkspace>(&app, &bob, &[("workspace_id", &ws)]).await));
    assert_error(
        call::<JoinWorkspace>(&app, &bob, &[("workspace_id", "x")]).await,
        StatusCode::BAD_REQUEST,
        "invalid",
        None,
    )
    .await;
    let invite =
        json_of(call::<CreateInvite>(&app, &ana, &[("workspace_id", &ws)]).await, StatusCode::OK).await;
    let code = invite["code"].as_str().unwrap().to_string();
    let preview = json_of(call::<InvitePreview>(&app, &eve, &[("code", &code)]).await, StatusCode::OK).await;
    assert_eq!(preview["workspace"]["name"], "Acme");
    assert_error(
        call::<AcceptInvite>(&app, &eve, &[("code", "nope")]).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;
    assert!(done(&call::<AcceptInvite>(&app, &eve, &[("code", &code)]).await));
    assert!(done(&call::<LeaveWorkspace>(&app, &eve, &[("workspace_id", &ws)]).await));
    assert_error(
        call::<LeaveWorkspace>(&app, &ana, &[("workspace_id", &ws)]).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    )
    .await;

    // Channels.
    let created = call::<CreateChannel>(
        &app,
        &ana,
        &[("workspace_id", &ws), ("name", "secret"), ("is_private", "true")],
    )
    .await;
    assert!(done(&created));
    let dup = call::<CreateChannel>(&app, &ana, &[("workspace_id", &ws), ("name", "secret")]).await;
    assert_error(dup, StatusCode::CONFLICT, "conflict", Some("name")).await;
    let view = json_of(
        call::<ChannelView>(&app, &ana, &[("workspace_id", &ws), ("channel_id", &general)]).await,
        StatusCode::OK,
    )
    .await;
    let secret = view["channels"].as_array().unwrap().iter().find(|c| c["name"] == "secret").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_error(
        call::<JoinChannel>(&app, &bob, &[("channel_id", &secret)]).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;
    assert_eq!(
        call::<AddChannelMember>(&app, &ana, &[("channel_id", &secret), ("username", "bob")]).await.status(),
        StatusCode::OK
    );
    assert_error(
        call::<AddChannelMember>(&app, &ana, &[("channel_id", &secret), ("username", "eve")]).await,
        StatusCode::BAD_REQUEST,
        "invalid",
        Some("username"),
    )
    .await;
    assert!(done(&call::<LeaveChannel>(&app, &bob, &[("channel_id", &secret)]).await));
    assert_eq!(call::<JoinChannel>(&app, &bob, &[("channel_id", &general)]).await.status(), StatusCode::OK);

    // Messages.
    let id =
        posted(call::<PostMessage>(&app, &bob, &[("channel_id", &general), ("body", "typo herre")]).await)
            .await
            .id;
    let edited = json_of(
        call::<EditMessage>(&app, &bob, &[("message_id", &id), ("body", "typo here")]).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["body"], "typo here");
    assert_error(
        call::<EditMessage>(&app, &ana, &[("message_id", &id), ("body", "x")]).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    )
    .await;
    assert_eq!(
        call::<React>(&app, &ana, &[("message_id", &id), ("emoji", ":tada:")]).await.status(),
        StatusCode::OK
    );
    assert_error(
        call::<React>(&app, &ana, &[("message_id", &id), ("emoji", "nope")]).await,
        StatusCode::BAD_REQUEST,
        "invalid",
        Some("emoji"),
    )
    .await;
    let found: app::api::SearchViewDto = serde_json::from_value(
        json_of(call::<Search>(&app, &ana, &[("workspace_id", &ws), ("q", "her")]).await, StatusCode::OK)
            .await,
    )
    .unwrap();
    assert_eq!(found.hits[0].message.id, id);
    assert!(found.unsearched.is_empty());
    assert_error(
        call::<Search>(&app, &ana, &[("workspace_id", &ws), ("q", "is:x")]).await,
        StatusCode::BAD_REQUEST,
        "invalid",
        Some("q"),
    )
    .await;
    let page =
        json_of(call::<MessagePage>(&app, &ana, &[("channel_id", &general)]).await, StatusCode::OK).await;
    assert_eq!(page["messages"][0]["reactions"][0]["emoji"], "🎉");
    assert_error(
        call::<MessagePage>(&app, &ana, &[("channel_id", &general), ("before", "yesterday")]).await,
        StatusCode::BAD_REQUEST,
        "invalid",
        Some("before"),
    )
    .await;
    assert_eq!(call::<DeleteMessage>(&app, &bob, &[("message_id", &id)]).await.status(), StatusCode::OK);
    assert_error(
        call::<DeleteMessage>(&app, &bob, &[("message_id", &id)]).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;
    assert!(done(&call::<Logout>(&app, &bob, &[]).await));
    app
}

/// The ordering forms send lists that may be empty (no categories yet, no
/// channel chosen): an empty list is a list, not a missing argument.
async fn ordering_server_functions_take_empty_lists(app: TestApp) -> TestApp {
    use app::api::*;
    let ana = app.user("ana").await;
    let (ws, _general) = workspace(&app, &ana, false).await;
    let b = json_of(
        ana.post(&app, "/api/communication/channels/", serde_json::json!({"workspace_id": ws, "name": "b"}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let b = b["id"].as_str().unwrap().to_string();
    let moved = call::<ArrangeChannels>(
        &app,
        &ana,
        &[("workspace_id", &ws), ("channels[0][channel_id]", &b), ("channels[0][category_id]", "")],
    )
    .await;
    assert_eq!(moved.status(), StatusCode::OK, "{}", moved.text().await.unwrap());
    let list = json_of(
        ana.get(&app, &format!("/api/communication/channels/?workspace_id={ws}")).await,
        StatusCode::OK,
    )
    .await;
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["b", "general"], "#b moved first");
    assert_eq!(
        call::<ReorderRoles>(&app, &ana, &[("workspace_id", &ws)]).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_error(
        call::<CreateGuestInvite>(&app, &ana, &[("workspace_id", &ws)]).await,
        StatusCode::BAD_REQUEST,
        "invalid",
        Some("channels"),
    )
    .await;
    app
}

crate::on_both_backends! {
    conversation_server_functions => conversation_server_functions;
    workspace_and_channel_server_functions => workspace_and_channel_server_functions;
    ordering_server_functions_take_empty_lists => ordering_server_functions_take_empty_lists;
}
