//! Server-rendered pages carry real data in the first response.

use crate::helpers::{TestApp, say, workspace};
use domain::Backend;
use reqwest::StatusCode;

async fn signed_out_visitors_go_to_sign_in(app: TestApp) -> TestApp {
    let c = app.client();
    let res = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(res.headers()["location"], "/login?next=/");
    // Any client, not only one that asks for HTML, gets a standard redirect.
    let curl = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = curl.get(app.url("/w/1/c/2")).header("accept", "*/*").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(res.headers()["location"], "/login?next=/w/1/c/2");
    let login = c.get(app.url("/login")).send().await.unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let html = login.text().await.unwrap();
    assert!(html.contains(r#"<label for="login-username">Username"#), "{html}");
    assert!(html.contains(r#"<button type="submit">Sign in"#), "{html}");
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

/// Requests for server-rendered pages in flight at once, and how many each sends.
const PARALLEL_PAGE_LOADS: usize = 4;
const LOADS_EACH: usize = 25;
/// Servers started in the same process while the pages render.
const SERVERS_STARTED: usize = 6;

/// Pages render while other servers start in the same process (each start
/// builds its router, as every integration test does): every request is
/// answered. A request that never answers fails on the client's timeout.
async fn pages_answer_while_other_servers_start(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ana = app.user("ana").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    say(&app, &ana, &general, "stress").await;
    let page = app.url(&format!("/w/{ws}/c/{general}"));
    let starting = tokio::spawn(async move {
        for _ in 0..SERVERS_STARTED {
            TestApp::spawn(backend).await.finish().await;
        }
    });
    let loads = (0..PARALLEL_PAGE_LOADS).map(|_| {
        let (client, page) = (ana.client.clone(), page.clone());
        async move {
            let mut answered = 0;
            for _ in 0..LOADS_EACH {
                let res = client.get(&page).send().await.expect("the page answers");
                assert_eq!(res.status(), StatusCode::OK);
                assert!(res.text().await.unwrap().contains("stress"), "the page carries the message");
                answered += 1;
            }
            answered
        }
    });
    let answered: usize = futures::future::join_all(loads).await.into_iter().sum();
    starting.await.expect("the other servers start and stop");
    assert_eq!(answered, PARALLEL_PAGE_LOADS * LOADS_EACH);
    app.finish().await;
}

mod stress {
    crate::on_each_backend!(pages_answer_while_other_servers_start);
    use super::pages_answer_while_other_servers_start;
}

/// A page allows only its own scripts: the policy names the nonce that its
/// inline hydration script carries, and nothing may frame it.
async fn pages_allow_only_their_own_scripts(app: TestApp) -> TestApp {
    let res = app.client().get(app.url("/login")).send().await.unwrap();
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_string();
    let permissions = res.headers()["permissions-policy"].to_str().unwrap().to_string();
    assert!(res.headers().get("strict-transport-security").is_none(), "no HSTS over plain http");
    let html = res.text().await.unwrap();
    let nonce = html
        .split("nonce=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("an inline script with a nonce");
    assert!(nonce.len() >= 16, "{nonce}");
    assert!(csp.contains(&format!("script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'")), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("object-src 'none'"), "{csp}");
    assert!(
        permissions.contains("camera=(self)") && permissions.contains("microphone=(self)"),
        "{permissions}"
    );
    assert!(permissions.contains("geolocation=()"), "{permissions}");
    // Every response gets a new nonce.
    let again = app.client().get(app.url("/login")).send().await.unwrap();
    assert!(!again.headers()["content-security-policy"].to_str().unwrap().contains(nonce));
    // What is not a page gets a policy too (the calendar feed and API answer as before).
    let api = app.client().get(app.url("/api/openapi.json")).send().await.unwrap();
    assert_eq!(api.status(), StatusCode::OK);
    assert!(api.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    app
}

/// Served over https, every answer tells browsers to keep to https.
async fn https_deployments_send_hsts(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        std::sync::Arc::new(|c: &mut server::config::Config| {
            c.public_url = Some("https://chat.example.com".into())
        }),
    )
    .await;
    let res = app.client().get(app.url("/login")).send().await.unwrap();
    assert_eq!(res.headers()["strict-transport-security"], "max-age=63072000");
    app.finish().await;
}

mod hsts {
    crate::on_each_backend!(https_deployments_send_hsts);
    use super::https_deployments_send_hsts;
}

crate::on_both_backends! {
    pages_allow_only_their_own_scripts => pages_allow_only_their_own_scripts;
    signed_out_visitors_go_to_sign_in => signed_out_visitors_go_to_sign_in;
    channel_page_renders_messages => channel_page_renders_messages;
}
