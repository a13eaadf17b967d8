use crate::helpers::{TestApp, assert_error, channel, join, json_of, say, workspace};
use reqwest::StatusCode;
use serde_json::json;

async fn private_workspace_by_invite(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let (ws, general) = workspace(&app, &ana, true).await;
    let discover = json_of(bob.get(&app, "/api/workspaces/discover").await, StatusCode::OK).await;
    assert_eq!(discover.as_array().unwrap().len(), 0, "private workspaces are not listed");
    assert_error(
        bob.post(&app, &format!("/api/workspaces/{ws}/join"), json!({})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    )
    .await;
    assert_error(
        bob.get(&app, &format!("/api/communication/messages/?channel_id={general}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;

    let secret = json_of(
        ana.post(
            &app,
            "/api/communication/channels/",
            json!({"workspace_id": ws, "name": "Plans", "channel_type": "private"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let secret_id = secret["id"].as_str().unwrap();
    assert_eq!(secret["name"], "plans");
    assert_error(
        ana.post(&app, "/api/communication/channels/", json!({"workspace_id": ws, "name": "plans"})).await,
        StatusCode::CONFLICT,
        "conflict",
        Some("name"),
    )
    .await;

    let invite = json_of(
        ana.post(&app, &format!("/api/workspaces/{ws}/invites"), json!({"channel_id": secret_id})).await,
        StatusCode::CREATED,
    )
    .await;
    let code = invite["code"].as_str().unwrap();
    assert_eq!(invite["url"], app.url(&format!("/invite/{code}")));
    let preview = json_of(bob.get(&app, &format!("/api/invites/{code}")).await, StatusCode::OK).await;
    assert_eq!(preview["workspace"]["name"], "Acme");
    let accepted =
        json_of(bob.post(&app, &format!("/api/invites/{code}/accept"), json!({})).await, StatusCode::OK)
            .await;
    assert_eq!(accepted["channel"]["id"], secret_id);
    let channels = json_of(
        bob.get(&app, &format!("/api/communication/channels/?workspace_id={ws}")).await,
        StatusCode::OK,
    )
    .await;
    let names: Vec<&str> = channels.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["general", "plans"]);
    let members =
        json_of(bob.get(&app, &format!("/api/workspaces/{ws}/members")).await, StatusCode::OK).await;
    assert_eq!(members.as_array().unwrap().len(), 2);
    assert_error(
        bob.post(&app, "/api/invites/nosuchcode/accept", json!({})).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;
    app
}

async fn public_workspace_and_channels(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let (ws, _) = workspace(&app, &ana, false).await;
    let found = json_of(bob.get(&app, "/api/workspaces/discover").await, StatusCode::OK).await;
    assert_eq!(found[0]["id"], ws.as_str());
    join(&app, &bob, &ws).await;

    let secret = channel(&app, &ana, &ws, "secret", true).await;
    let secret = secret.as_str();
    let open = channel(&app, &ana, &ws, "open", false).await;
    let open = open.as_str();

    // Bob sees the public channel, not the private one.
    let seen = json_of(
        bob.get(&app, &format!("/api/communication/channels/?workspace_id={ws}")).await,
        StatusCode::OK,
    )
    .await;
    assert!(seen.as_array().unwrap().iter().all(|c| c["id"] != secret));
    assert_error(
        bob.post(&app, &format!("/api/communication/channels/{secret}/join/"), json!({})).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;
    assert_error(
        bob.post(&app, "/api/communication/messages/", json!({"channel_id": open, "body": "hi"})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    )
    .await;
    json_of(
        bob.post(&app, &format!("/api/communication/channels/{open}/join/"), json!({})).await,
        StatusCode::OK,
    )
    .await;
    say(&app, &bob, open, "hi").await;

    // A member adds Bob to the private channel; Carol (not in the workspace) cannot be added.
    assert_error(
        ana.post(
            &app,
            &format!("/api/communication/channels/{secret}/add_members/"),
            json!({"usernames": ["carol"]}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid",
        Some("username"),
    )
    .await;
    let res = ana
        .post(
            &app,
            &format!("/api/communication/channels/{secret}/add_members/"),
            json!({"usernames": ["bob"]}),
        )
        .await;
    let added = json_of(res, StatusCode::OK).await;
    assert_eq!(added["id"], secret);
    json_of(
        bob.get(&app, &format!("/api/communication/messages/?channel_id={secret}")).await,
        StatusCode::OK,
    )
    .await;
    assert_error(
        carol.get(&app, &format!("/api/communication/messages/?channel_id={secret}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;

    // Leaving.
    let res = bob.post(&app, &format!("/api/communication/channels/{secret}/leave/"), json!({})).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_error(
        bob.get(&app, &format!("/api/communication/channels/{secret}/")).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;
    assert_error(
        ana.post(&app, &format!("/api/workspaces/{ws}/leave"), json!({})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    )
    .await;
    assert_eq!(
        bob.post(&app, &format!("/api/workspaces/{ws}/leave"), json!({})).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_error(
        bob.get(&app, &format!("/api/workspaces/{ws}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;
    app
}

async fn messages_validate_page_and_dedupe(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let (_, general) = workspace(&app, &ana, false).await;
    let path = "/api/communication/messages/";
    let send = |body: serde_json::Value| {
        let mut body = body;
        body["channel_id"] = json!(general);
        ana.post(&app, path, body)
    };
    assert_error(send(json!({"body": "   "})).await, StatusCode::BAD_REQUEST, "invalid", Some("body")).await;
    assert_error(
        send(json!({"body": "é".repeat(4001)})).await,
        StatusCode::BAD_REQUEST,
        "invalid",
        Some("body"),
    )
    .await;
    assert_error(send(json!({"text": "wrong field"})).await, StatusCode::BAD_REQUEST, "invalid", None).await;
    assert_error(
        ana.post(&app, path, json!({"channel_id": "123", "body": "x"})).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;
    assert_error(
        ana.post(&app, path, json!({"channel_id": "abc", "body": "x"})).await,
        StatusCode::BAD_REQUEST,
        "invalid",
        Some("channel_id"),
    )
    .await;

    let first = json_of(send(json!({"body": "hello", "nonce": "abc-1"})).await, StatusCode::CREATED).await;
    let again = json_of(send(json!({"body": "hello again", "nonce": "abc-1"})).await, StatusCode::OK).await;
    assert_eq!(first, again, "a repeated nonce returns the first message");
    assert_eq!(first["author"]["username"], "ana");
    assert_eq!(first["body"], "hello");

    for i in 0..60 {
        json_of(send(json!({"body": format!("m{i}")})).await, StatusCode::CREATED).await;
    }
    let list = format!("{path}?channel_id={general}");
    let page = json_of(ana.get(&app, &format!("{list}&limit=25")).await, StatusCode::OK).await;
    let msgs = page["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 25);
    assert_eq!(msgs[0]["body"], "m59", "newest first");
    let mut seen = 25;
    let mut cursor = page["next_cursor"].as_str().map(str::to_string);
    while let Some(c) = cursor {
        let page = json_of(ana.get(&app, &format!("{list}&limit=25&before={c}")).await, StatusCode::OK).await;
        seen += page["messages"].as_array().unwrap().len();
        cursor = page["next_cursor"].as_str().map(str::to_string);
    }
    assert_eq!(seen, 61, "every message exactly once");
    for limit in ["0", "-3", "101"] {
        let res = ana.get(&app, &format!("{list}&limit={limit}")).await;
        assert_error(res, StatusCode::BAD_REQUEST, "invalid", Some("limit")).await;
    }
    assert_error(
        ana.get(&app, &format!("{list}&before=yesterday")).await,
        StatusCode::BAD_REQUEST,
        "invalid",
        Some("before"),
    )
    .await;
    app
}

crate::on_both_backends! {
    private_workspace_by_invite => private_workspace_by_invite;
    public_workspace_and_channels => public_workspace_and_channels;
}

/// Pages through more messages than one person may post in a few seconds:
/// without rate limits (tested in `hardening`).
async fn paging_without_limits(backend: domain::Backend) {
    let app = TestApp::spawn_with(backend, crate::helpers::without_rate_limits()).await;
    messages_validate_page_and_dedupe(app).await.finish().await;
}

mod paging {
    crate::on_each_backend!(paging_without_limits);
    use super::paging_without_limits;
}
