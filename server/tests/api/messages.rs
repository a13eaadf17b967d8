use crate::gateway::{connect_as, next_event};
use crate::helpers::{TestApp, assert_error, channel, join, json_of, workspace};
use reqwest::StatusCode;
use serde_json::json;

async fn edit_delete_and_react_live(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let eve = app.user("eve").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let msg = json_of(
        ana.post(
            &app,
            &format!("/api/channels/{general}/messages"),
            json!({"body": "**plan** <script>x</script>"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = msg["id"].as_str().unwrap().to_string();
    assert_eq!(msg["html"], "<p><strong>plan</strong> &lt;script&gt;x&lt;/script&gt;</p>\n");
    let mut bob_ws = connect_as(&app, &bob).await;

    let edited = ana
        .client
        .patch(app.url(&format!("/api/messages/{id}")))
        .bearer_auth(&ana.token)
        .json(&json!({"body": "_new plan_"}))
        .send()
        .await
        .unwrap();
    let edited = json_of(edited, StatusCode::OK).await;
    assert_eq!(edited["html"], "<p><em>new plan</em></p>\n");
    assert!(edited["edited_at"].is_i64());
    let e = next_event(&mut bob_ws).await;
    assert_eq!(
        (e["type"].as_str(), e["message"]["body"].as_str()),
        (Some("MESSAGE_UPDATE"), Some("_new plan_"))
    );

    let by_bob = bob
        .client
        .patch(app.url(&format!("/api/messages/{id}")))
        .bearer_auth(&bob.token)
        .json(&json!({"body": "x"}))
        .send()
        .await
        .unwrap();
    assert_error(by_bob, StatusCode::FORBIDDEN, "forbidden", None).await;
    let by_eve = eve
        .client
        .patch(app.url(&format!("/api/messages/{id}")))
        .bearer_auth(&eve.token)
        .json(&json!({"body": "x"}))
        .send()
        .await
        .unwrap();
    assert_error(by_eve, StatusCode::NOT_FOUND, "not_found", None).await;

    // Reactions: by emoji (URL-encoded) or shortcode; repeated adds change nothing.
    let put = |user: &crate::helpers::User, emoji: &str| {
        user.client
            .put(app.url(&format!("/api/messages/{id}/reactions/{emoji}")))
            .bearer_auth(&user.token)
            .send()
    };
    assert_eq!(put(&bob, "%F0%9F%91%8D").await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(put(&bob, ":+1:").await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(put(&ana, ":tada:").await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_error(put(&bob, "plain").await.unwrap(), StatusCode::BAD_REQUEST, "invalid", Some("emoji")).await;
    assert_error(put(&eve, ":tada:").await.unwrap(), StatusCode::NOT_FOUND, "not_found", None).await;
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
    let page =
        json_of(ana.get(&app, &format!("/api/channels/{general}/messages")).await, StatusCode::OK).await;
    let reactions = &page["messages"][0]["reactions"];
    assert_eq!(reactions[0]["emoji"], "👍");
    assert_eq!(reactions[0]["count"], 1);
    assert_eq!(reactions[0]["users"][0]["username"], "bob");
    let removed = bob
        .client
        .delete(app.url(&format!("/api/messages/{id}/reactions/:+1:")))
        .bearer_auth(&bob.token)
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let e = next_event(&mut bob_ws).await;
    assert_eq!((e["type"].as_str(), e["user_id"].as_str()), (Some("REACTION_REMOVE"), Some(bob.id.as_str())));

    let del = |user: &crate::helpers::User| {
        user.client.delete(app.url(&format!("/api/messages/{id}"))).bearer_auth(&user.token).send()
    };
    assert_error(del(&bob).await.unwrap(), StatusCode::FORBIDDEN, "forbidden", None).await;
    assert_eq!(del(&ana).await.unwrap().status(), StatusCode::NO_CONTENT);
    let e = next_event(&mut bob_ws).await;
    assert_eq!((e["type"].as_str(), e["message_id"].as_str()), (Some("MESSAGE_DELETE"), Some(id.as_str())));
    let page =
        json_of(ana.get(&app, &format!("/api/channels/{general}/messages")).await, StatusCode::OK).await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 0);
    assert_error(del(&ana).await.unwrap(), StatusCode::NOT_FOUND, "not_found", None).await;
    app
}

async fn channel_page_renders_markdown(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    json_of(
        ana.post(
            &app,
            &format!("/api/channels/{general}/messages"),
            json!({"body": "ping @ana :rocket:\n`<b>`"}),
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
        json_of(
            ana.post(&app, &format!("/api/channels/{ch}/messages"), json!({"body": body})).await,
            StatusCode::CREATED,
        )
        .await;
    }
    let hits =
        json_of(bob.get(&app, &format!("/api/search?q=deploy&workspace_id={ws}")).await, StatusCode::OK)
            .await;
    let hits = hits.as_array().unwrap();
    assert_eq!(hits.len(), 1, "bob never sees the private channel's message: {hits:?}");
    assert_eq!(hits[0]["highlight"], "re<mark>deploy</mark>ment done");
    assert_eq!(hits[0]["channel_name"], "general");
    assert_eq!(hits[0]["workspace_id"], ws.as_str());
    let both = json_of(ana.get(&app, "/api/search?q=deploy").await, StatusCode::OK).await;
    assert_eq!(both.as_array().unwrap().len(), 2);
    let cjk = json_of(bob.get(&app, "/api/search?q=%E4%BC%9A%E8%AD%B0").await, StatusCode::OK).await;
    assert_eq!(cjk[0]["message"]["body"], "東京で会議");
    assert_error(bob.get(&app, "/api/search?q=%20").await, StatusCode::BAD_REQUEST, "invalid", Some("q"))
        .await;
    assert_error(
        eve.get(&app, &format!("/api/search?q=deploy&workspace_id={ws}")).await,
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

crate::on_both_backends! {
    search_respects_visibility => search_respects_visibility;
    edit_delete_and_react_live => edit_delete_and_react_live;
    channel_page_renders_markdown => channel_page_renders_markdown;
}
