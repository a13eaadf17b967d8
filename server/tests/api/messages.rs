use crate::gateway::{connect_as, next_event};
use crate::helpers::{TestApp, assert_error, channel, join, json_of, say, workspace};
use app::wire::MessageDto;
use reqwest::StatusCode;
use serde_json::json;

async fn edit_delete_and_react_live(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let eve = app.user("eve").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let msg = say(&app, &ana, &general, "**plan** <script>x</script>").await;
    let id = msg["id"].as_str().unwrap().to_string();
    assert_eq!(msg["html"], "<p><strong>plan</strong> &lt;script&gt;x&lt;/script&gt;</p>\n");
    let mut bob_ws = connect_as(&app, &bob).await;

    let path = format!("/api/communication/messages/{id}/");
    let edited = json_of(ana.put(&app, &path, json!({"body": "_new plan_"})).await, StatusCode::OK).await;
    assert_eq!(edited["html"], "<p><em>new plan</em></p>\n");
    assert!(edited["edited_at"].is_i64());
    let e = next_event(&mut bob_ws).await;
    assert_eq!(
        (e["type"].as_str(), e["message"]["body"].as_str()),
        (Some("MESSAGE_UPDATE"), Some("_new plan_"))
    );

    assert_error(bob.put(&app, &path, json!({"body": "x"})).await, StatusCode::FORBIDDEN, "forbidden", None)
        .await;
    assert_error(eve.put(&app, &path, json!({"body": "x"})).await, StatusCode::NOT_FOUND, "not_found", None)
        .await;
    assert_error(ana.put(&app, &path, json!({"text": "x"})).await, StatusCode::BAD_REQUEST, "invalid", None)
        .await;
    let long = "x".repeat(4001);
    assert_error(
        ana.put(&app, &path, json!({"body": long})).await,
        StatusCode::BAD_REQUEST,
        "invalid",
        Some("body"),
    )
    .await;

    // Reactions: by emoji or shortcode; repeated adds change nothing.
    let react = format!("/api/communication/messages/{id}/add_reaction/");
    assert_eq!(bob.post(&app, &react, json!({"emoji": "👍"})).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(bob.post(&app, &react, json!({"emoji": ":+1:"})).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(ana.post(&app, &react, json!({"emoji": ":tada:"})).await.status(), StatusCode::NO_CONTENT);
    let plain = bob.post(&app, &react, json!({"emoji": "plain"})).await;
    assert_error(plain, StatusCode::BAD_REQUEST, "invalid", Some("emoji")).await;
    let outsider = eve.post(&app, &react, json!({"emoji": ":tada:"})).await;
    assert_error(outsider, StatusCode::NOT_FOUND, "not_found", None).await;
    let e = next_event(&mut bob_ws).await;
    assert_eq!(
        (e["type"].as_str(), e["emoji"].as_str(), e["user"]["username"].as_str()),
        (Some("REACTION_ADD"), Some("👍"), Some("bob"))
    );
    let e = next_event(&mut bob_ws).await;
    assert_eq!(
        (e["type"].as_str(), e["emoji"].as_str()),
        (Some("REACTION_ADD"), Some("🎉")),
        "no event for the repeated add"
    );
    let list = format!("/api/communication/messages/?channel_id={general}");
    let page = json_of(ana.get(&app, &list).await, StatusCode::OK).await;
    let reactions = &page["messages"][0]["reactions"];
    assert_eq!(reactions[0]["emoji"], "👍");
    assert_eq!(reactions[0]["count"], 1);
    assert_eq!(reactions[0]["users"][0]["username"], "bob");
    let removed = bob
        .post(&app, &format!("/api/communication/messages/{id}/remove_reaction/"), json!({"emoji": ":+1:"}))
        .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let e = next_event(&mut bob_ws).await;
    assert_eq!((e["type"].as_str(), e["user_id"].as_str()), (Some("REACTION_REMOVE"), Some(bob.id.as_str())));

    assert_error(bob.delete(&app, &path).await, StatusCode::FORBIDDEN, "forbidden", None).await;
    assert_eq!(ana.delete(&app, &path).await.status(), StatusCode::NO_CONTENT);
    let e = next_event(&mut bob_ws).await;
    assert_eq!((e["type"].as_str(), e["message_id"].as_str()), (Some("MESSAGE_DELETE"), Some(id.as_str())));
    let page = json_of(ana.get(&app, &list).await, StatusCode::OK).await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 0);
    assert_error(ana.delete(&app, &path).await, StatusCode::NOT_FOUND, "not_found", None).await;
    app
}

async fn channel_page_renders_markdown(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    // `content`, seed 000's name for the body, is accepted too.
    json_of(
        ana.post(
            &app,
            "/api/communication/messages/",
            json!({"channel_id": general, "content": "ping @ana :rocket:\n`<b>`"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let html =
        ana.client.get(app.url(&format!("/w/{ws}/c/{general}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(r#"<span class="mention" data-mention="ana">@ana</span> 🚀<br>"#), "{html}");
    assert!(html.contains("<code>&lt;b&gt;</code>"));
    assert!(html.contains(r#".mention[data-mention="ana"]"#), "the reader's own mentions stand out");
    app
}

async fn search_respects_visibility(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let eve = app.user("eve").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let secret = channel(&app, &ana, &ws, "secret", true).await;
    for (ch, body) in
        [(&general, "redeployment done"), (&secret, "secret deployment"), (&general, "東京で会議")]
    {
        say(&app, &ana, ch, body).await;
    }
    let search = "/api/communication/messages/search/";
    let hits =
        json_of(bob.post(&app, search, json!({"query": "deploy", "workspace_id": ws})).await, StatusCode::OK)
            .await;
    let hits = hits.as_array().unwrap();
    assert_eq!(hits.len(), 1, "bob never sees the private channel's message: {hits:?}");
    assert_eq!(hits[0]["highlight"], "re<mark>deploy</mark>ment done");
    assert_eq!(hits[0]["channel_name"], "general");
    assert_eq!(hits[0]["workspace_id"], ws.as_str());
    let both = json_of(ana.post(&app, search, json!({"query": "deploy"})).await, StatusCode::OK).await;
    assert_eq!(both.as_array().unwrap().len(), 2);
    let partial = json_of(ana.post(&app, search, json!({"query": "ploym"})).await, StatusCode::OK).await;
    assert_eq!(partial.as_array().unwrap().len(), 2, "part of a word");
    let cjk = json_of(bob.post(&app, search, json!({"query": "会議"})).await, StatusCode::OK).await;
    assert_eq!(cjk[0]["message"]["body"], "東京で会議");
    assert_error(
        bob.post(&app, search, json!({"query": " "})).await,
        StatusCode::BAD_REQUEST,
        "invalid",
        Some("q"),
    )
    .await;
    assert_error(
        eve.post(&app, search, json!({"query": "deploy", "workspace_id": ws})).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;
    let html = bob
        .client
        .get(app.url(&format!("/w/{ws}/search?q=deploy")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("re<mark>deploy</mark>ment done"), "{html}");
    assert!(!html.contains("secret deployment"));
    app
}

/// A message is read by its id by those who may see its channel, as it is
/// now (edited, with its reactions); to anyone else it does not exist.
async fn a_message_is_read_by_its_id(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let eve = app.user("eve").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let id = say(&app, &ana, &general, "first draft").await["id"].as_str().unwrap().to_string();
    let path = format!("/api/communication/messages/{id}/");
    assert_eq!(ana.put(&app, &path, json!({"body": "**final**"})).await.status(), StatusCode::OK);
    let react = format!("/api/communication/messages/{id}/add_reaction/");
    assert_eq!(bob.post(&app, &react, json!({"emoji": ":tada:"})).await.status(), StatusCode::NO_CONTENT);

    let read: MessageDto =
        serde_json::from_value(json_of(bob.get(&app, &path).await, StatusCode::OK).await).expect("a message");
    assert_eq!((read.id.as_str(), read.body.as_str()), (id.as_str(), "**final**"));
    assert_eq!(read.html, "<p><strong>final</strong></p>\n");
    assert!(read.edited_at.is_some());
    assert_eq!(read.reactions.iter().map(|r| r.emoji.as_str()).collect::<Vec<_>>(), ["🎉"]);

    assert_error(eve.get(&app, &path).await, StatusCode::NOT_FOUND, "not_found", None).await;
    assert_eq!(ana.delete(&app, &path).await.status(), StatusCode::NO_CONTENT);
    assert_error(bob.get(&app, &path).await, StatusCode::NOT_FOUND, "not_found", None).await;
    app
}

crate::on_both_backends! {
    search_respects_visibility => search_respects_visibility;
    edit_delete_and_react_live => edit_delete_and_react_live;
    channel_page_renders_markdown => channel_page_renders_markdown;
    a_message_is_read_by_its_id => a_message_is_read_by_its_id;
}
