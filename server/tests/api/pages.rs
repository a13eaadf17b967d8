//! Server-rendered pages carry real data in the first response.

use crate::helpers::{TestApp, say, workspace};
use reqwest::StatusCode;

async fn signed_out_visitors_go_to_sign_in(app: TestApp) -> TestApp {
    let c = app.client();
    let res = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(res.headers()["location"], "/login?next=/");
    let login = c.get(app.url("/login")).send().await.unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let html = login.text().await.unwrap();
    assert!(html.contains(r#"<label for="login-username">Username</label>"#), "{html}");
    assert!(html.contains("Sign in</button>"));
    let missing = c.get(app.url("/no/such/page")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    app
}

async fn channel_page_renders_messages(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    say(&app, &ana, &general, "<b>rendered</b> on the server").await;
    let res = ana.client.get(app.url(&format!("/w/{ws}/c/{general}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("&lt;b&gt;rendered&lt;/b&gt; on the server"), "escaped message body in the HTML");
    assert!(html.contains("ana D"), "author shown");
    assert!(html.contains(r#"name="body""#), "composer present");
    let entry = ana.client.get(app.url(&format!("/w/{ws}"))).send().await.unwrap();
    assert_eq!(entry.status(), StatusCode::FOUND);
    assert_eq!(entry.headers()["location"], format!("/w/{ws}/c/{general}").as_str());
    let outsider = app.user("eve").await;
    let res = outsider.client.get(app.url(&format!("/w/{ws}/c/{general}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    app
}

crate::on_both_backends! {
    signed_out_visitors_go_to_sign_in => signed_out_visitors_go_to_sign_in;
    channel_page_renders_messages => channel_page_renders_messages;
}
