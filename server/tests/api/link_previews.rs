//! Link previews against a site on loopback: a message's links are fetched
//! by the server after posting, their Open Graph tags (or oEmbed document)
//! arrive as a `LINK_PREVIEWS` event and in the message, the image is
//! served by Parley, redirects are followed and slow or huge pages bounded,
//! the author removes a preview, and a workspace turns previews off.

use crate::gateway::{Ws, connect_as};
use crate::helpers::{TestApp, User, assert_error, join, json_of, say, workspace};
use app::wire::{GatewayEvent, LinkPreviewDto, LinkPreviewSettingDto, MessageDto, MessagePageDto};
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00,
    0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05,
    0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42,
    0x60, 0x82,
];

/// A PNG of 2 MB (its header, then filler): more than a page's share.
fn poster() -> Vec<u8> {
    let mut bytes = PNG.to_vec();
    bytes.resize(2 << 20, 7);
    bytes
}

/// A website on loopback: an article with Open Graph tags and an image, a
/// video page that has only an oEmbed document, a redirect to the article,
/// a page that never answers and one of 3 MB. It records each request's
/// path and query, and its User-Agent.
pub struct Site {
    port: u16,
    requests: Arc<Mutex<Vec<(String, String)>>>,
}

impl Site {
    pub async fn start() -> Site {
        use axum::http::{HeaderMap, StatusCode as S, Uri, header};
        use axum::response::{Html, IntoResponse, Response};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let log = requests.clone();
        let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
            let log = log.clone();
            async move {
                let agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
                log.lock().unwrap().push((uri.to_string(), agent.to_string()));
                let page: Response = match uri.path() {
                    "/article" => Html(
                        r#"<!doctype html><html><head><title>Plain title</title>
                        <meta property="og:title" content="Rust &amp; the web">
                        <meta property="og:description" content="How a chat server previews links.">
                        <meta property="og:site_name" content="Loopback News">
                        <meta property="og:image" content="/cover.png">
                        </head><body><p>Text</p></body></html>"#,
                    )
                    .into_response(),
                    "/cover.png" => ([(header::CONTENT_TYPE, "image/png")], PNG).into_response(),
                    "/poster.png" => ([(header::CONTENT_TYPE, "image/png")], poster()).into_response(),
                    "/video" => Html(
                        r#"<html><head><link rel="alternate" type="application/json+oembed" href="/oembed.json">
                        </head></html>"#,
                    )
                    .into_response(),
                    "/oembed.json" => (
                        [(header::CONTENT_TYPE, "application/json")],
                        r#"{"type":"video","version":"1.0","title":"A talk on SFUs","author_name":"Ana",
                            "provider_name":"LoopTube","thumbnail_url":"/cover.png"}"#,
                    )
                        .into_response(),
                    "/moved" => (S::MOVED_PERMANENTLY, [(header::LOCATION, "/article?via=moved")]).into_response(),
                    "/slow" => {
                        tokio::time::sleep(Duration::from_secs(60)).await;
                        Html("<title>Too late</title>").into_response()
                    }
                    "/huge" => {
                        let filler = "<p>filler</p>".repeat(250_000);
                        Html(format!(
                            "<title>A long page</title>{filler}<meta name=description content=\"past the limit\">"
                        ))
                        .into_response()
                    }
                    _ => S::NOT_FOUND.into_response(),
                };
                page
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Site { port, requests }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// How many requests asked for `path` (with its query).
    fn asked(&self, path: &str) -> usize {
        self.requests.lock().unwrap().iter().filter(|(p, _)| p == path).count()
    }
}

/// `who` posts `body` in `channel`.
async fn post(app: &TestApp, who: &User, channel: &str, body: &str) -> MessageDto {
    serde_json::from_value(say(app, who, channel, body).await).unwrap()
}

/// The next `LINK_PREVIEWS` on `ws`, waited for up to `secs` seconds.
async fn next_previews(ws: &mut Ws, secs: u64) -> (String, Vec<LinkPreviewDto>) {
    tokio::time::timeout(Duration::from_secs(secs), async {
        loop {
            let frame = ws.next().await.expect("open").expect("frame");
            let Message::Text(text) = frame else { continue };
            if let Ok(GatewayEvent::LinkPreviews { message_id, link_previews, .. }) =
                serde_json::from_str(&text)
            {
                return (message_id, link_previews);
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("a LINK_PREVIEWS within {secs} s"))
}

/// A site, and Ana in a workspace of her own with her gateway connection
/// open: its `#general`.
async fn ana_alone(app: &TestApp) -> (Site, User, String, Ws) {
    let site = Site::start().await;
    let ana = app.user("ana").await;
    let (_, general) = workspace(app, &ana, false).await;
    let anas = connect_as(app, &ana).await;
    (site, ana, general, anas)
}

async fn messages(app: &TestApp, who: &User, channel: &str) -> Vec<MessageDto> {
    let res = who.get(app, &format!("/api/communication/messages/?channel_id={channel}")).await;
    let page: MessagePageDto = serde_json::from_value(json_of(res, StatusCode::OK).await).unwrap();
    page.messages
}

async fn a_link_shows_its_pages_preview_with_the_image_served_by_parley(app: TestApp) -> TestApp {
    let site = Site::start().await;
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let mut bobs = connect_as(&app, &bob).await;
    let link = site.url("/article");
    let posted = post(&app, &ana, &general, &format!("Read this: {link}.")).await;
    assert!(
        posted.html.contains(&format!(r#"<a href="{link}""#)),
        "the bare link is a link: {}",
        posted.html
    );

    let (message, previews) = next_previews(&mut bobs, 10).await;
    assert_eq!(message, posted.id);
    let [preview] = previews.as_slice() else { panic!("one preview: {previews:?}") };
    assert_eq!(
        (
            preview.url.as_str(),
            preview.title.as_str(),
            preview.description.as_str(),
            preview.site_name.as_str()
        ),
        (link.as_str(), "Rust & the web", "How a chat server previews links.", "Loopback News")
    );
    let image = preview.image_url.clone().expect("an image");
    assert_eq!(image, format!("/files/previews/{}/0", posted.id), "served by Parley, not the site");
    assert!(site.requests.lock().unwrap().iter().all(|(_, agent)| agent.starts_with("Parley-LinkPreview/")));

    let res = bob.get(&app, &image).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.bytes().await.unwrap().as_ref(), PNG);
    assert_eq!(site.asked("/cover.png"), 1, "a reader's request never reaches the linked site");

    let listed = messages(&app, &bob, &general).await;
    assert_eq!(listed[0].link_previews, previews, "the message carries its preview");
    let outsider = app.user("eve").await;
    assert_error(outsider.get(&app, &image).await, StatusCode::NOT_FOUND, "not_found", None).await;
    app
}

async fn a_page_without_open_graph_is_previewed_from_its_oembed_document(app: TestApp) -> TestApp {
    let (site, ana, general, mut anas) = ana_alone(&app).await;
    post(&app, &ana, &general, &format!("[the talk]({})", site.url("/video"))).await;
    let (_, previews) = next_previews(&mut anas, 10).await;
    let [preview] = previews.as_slice() else { panic!("one preview: {previews:?}") };
    assert_eq!(
        (preview.title.as_str(), preview.description.as_str(), preview.site_name.as_str()),
        ("A talk on SFUs", "by Ana", "LoopTube")
    );
    assert!(preview.image_url.is_some(), "the oEmbed thumbnail, kept by Parley");
    app
}

async fn redirects_are_followed_and_slow_or_huge_pages_are_bounded(app: TestApp) -> TestApp {
    let (site, ana, general, mut anas) = ana_alone(&app).await;
    let body = format!("{} {} {}", site.url("/moved"), site.url("/slow"), site.url("/huge"));
    let posted = post(&app, &ana, &general, &body).await;
    // The slow page is given up on after its 5 s: the message's previews
    // come once all three links are settled.
    let (message, previews) = next_previews(&mut anas, 15).await;
    assert_eq!(message, posted.id);
    let shown: Vec<(i64, &str, &str)> =
        previews.iter().map(|p| (p.position, p.title.as_str(), p.description.as_str())).collect();
    assert_eq!(
        shown,
        [(0, "Rust & the web", "How a chat server previews links."), (2, "A long page", "")],
        "the redirect's target; nothing from the slow page; only the first megabyte of the huge one"
    );
    assert_eq!(site.asked("/article?via=moved"), 1);
    app
}

async fn a_link_to_an_image_is_previewed_by_the_whole_image(app: TestApp) -> TestApp {
    let (site, ana, general, mut anas) = ana_alone(&app).await;
    let posted = post(&app, &ana, &general, &site.url("/poster.png")).await;
    let (_, previews) = next_previews(&mut anas, 10).await;
    let image = previews[0].image_url.clone().expect("the image itself");
    assert_eq!(image, format!("/files/previews/{}/0", posted.id));
    let res = ana.get(&app, &image).await;
    assert_eq!(res.bytes().await.unwrap().to_vec(), poster(), "all 2 MB, not the first megabyte");
    app
}

async fn the_author_removes_a_preview_and_an_edit_does_not_bring_it_back(app: TestApp) -> TestApp {
    let site = Site::start().await;
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let mut bobs = connect_as(&app, &bob).await;
    let link = site.url("/article");
    let posted = post(&app, &ana, &general, &link).await;
    next_previews(&mut bobs, 10).await;

    let path = format!("/api/communication/messages/{}/link-previews/0/", posted.id);
    let refused = assert_error(bob.delete(&app, &path).await, StatusCode::FORBIDDEN, "forbidden", None).await;
    assert!(refused["message"].as_str().unwrap().contains("author"), "{refused}");
    assert_eq!(ana.delete(&app, &path).await.status(), StatusCode::NO_CONTENT);
    let (message, previews) = next_previews(&mut bobs, 10).await;
    assert_eq!((message.as_str(), previews.len()), (posted.id.as_str(), 0), "bob's page drops it");
    assert_error(ana.delete(&app, &path).await, StatusCode::NOT_FOUND, "not_found", None).await;
    let image = format!("/files/previews/{}/0", posted.id);
    assert_error(bob.get(&app, &image).await, StatusCode::NOT_FOUND, "not_found", None).await;

    let edit = format!("/api/communication/messages/{}/", posted.id);
    let res = ana.put(&app, &edit, json!({"body": format!("{link} (edited)")})).await;
    let edited: MessageDto = serde_json::from_value(json_of(res, StatusCode::OK).await).unwrap();
    assert!(edited.link_previews.is_empty());
    assert!(messages(&app, &bob, &general).await[0].link_previews.is_empty());
    assert_eq!(site.asked("/article"), 1, "the removed link is not fetched again");
    app
}

async fn a_link_posted_again_within_the_hour_is_not_fetched_again(app: TestApp) -> TestApp {
    let (site, ana, general, mut anas) = ana_alone(&app).await;
    let link = site.url("/article");
    post(&app, &ana, &general, &link).await;
    let (_, first) = next_previews(&mut anas, 10).await;
    post(&app, &ana, &general, &format!("again: {link}")).await;
    let (_, second) = next_previews(&mut anas, 10).await;
    assert_eq!(first[0].title, second[0].title);
    assert_eq!((site.asked("/article"), site.asked("/cover.png")), (1, 1));
    app
}

async fn a_workspace_without_previews_fetches_nothing(app: TestApp) -> TestApp {
    let site = Site::start().await;
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let setting = format!("/api/communication/workspaces/{ws}/link-previews/");
    let res = bob.put(&app, &setting, json!({"enabled": false})).await;
    assert_error(res, StatusCode::FORBIDDEN, "forbidden", None).await;
    let res = ana.put(&app, &setting, json!({"enabled": false})).await;
    let now: LinkPreviewSettingDto = serde_json::from_value(json_of(res, StatusCode::OK).await).unwrap();
    assert!(!now.enabled);
    let read: LinkPreviewSettingDto =
        serde_json::from_value(json_of(bob.get(&app, &setting).await, StatusCode::OK).await).unwrap();
    assert!(!read.enabled, "members read the setting");

    let mut anas = connect_as(&app, &ana).await;
    let off = post(&app, &ana, &general, &site.url("/article?off")).await;
    ana.put(&app, &setting, json!({"enabled": true})).await;
    let on = post(&app, &ana, &general, &site.url("/article?on")).await;
    let (message, _) = next_previews(&mut anas, 10).await;
    assert_eq!(message, on.id, "only the link posted while previews were on");
    assert_eq!(site.asked("/article?off"), 0);
    let listed = messages(&app, &ana, &general).await;
    let off = listed.iter().find(|m| m.id == off.id).unwrap();
    assert!(off.link_previews.is_empty());
    let audit = ana.get(&app, &format!("/api/communication/workspaces/{ws}/audit_log/")).await;
    let audit: Vec<app::wire::AuditEntryDto> =
        serde_json::from_value(json_of(audit, StatusCode::OK).await).unwrap();
    assert_eq!(audit.iter().filter(|e| e.action == "workspace.link_previews").count(), 2);
    app
}

/// A sender's browser asks for the preview of a page it links to in an
/// encrypted message: the page's text, no image; nothing where the
/// workspace turned previews off; an address only.
async fn a_senders_browser_gets_a_pages_preview_as_text(app: TestApp) -> TestApp {
    let site = Site::start().await;
    let (ana, eve) = (app.user("ana").await, app.user("eve").await);
    let (ws, _) = workspace(&app, &ana, false).await;
    let path = format!("/api/communication/workspaces/{ws}/link-previews/");
    let url = site.url("/article?sender");

    let res = ana.post(&app, &path, json!({"url": url})).await;
    let preview: LinkPreviewDto = serde_json::from_value(json_of(res, StatusCode::OK).await).unwrap();
    assert_eq!(
        (preview.url.as_str(), preview.title.as_str(), preview.site_name.as_str()),
        (url.as_str(), "Rust & the web", "Loopback News")
    );
    assert_eq!(preview.description, "How a chat server previews links.");
    assert_eq!(preview.image_url, None);
    assert_eq!((site.asked("/article?sender"), site.asked("/cover.png")), (1, 0), "the page, not its image");

    let res = ana.post(&app, &path, json!({"url": site.url("/missing")})).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT, "a page with nothing to show");
    let res = ana.post(&app, &path, json!({"url": "see this"})).await;
    assert_error(res, StatusCode::BAD_REQUEST, "invalid", Some("url")).await;
    let res = eve.post(&app, &path, json!({"url": url})).await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found", None).await;

    assert_eq!(ana.put(&app, &path, json!({"enabled": false})).await.status(), StatusCode::OK);
    let res = ana.post(&app, &path, json!({"url": site.url("/article?off")})).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(site.asked("/article?off"), 0, "nothing fetched where previews are off");
    app
}

crate::on_both_backends! {
    a_link_shows_its_pages_preview_with_the_image_served_by_parley => a_link_shows_its_pages_preview_with_the_image_served_by_parley;
    a_page_without_open_graph_is_previewed_from_its_oembed_document => a_page_without_open_graph_is_previewed_from_its_oembed_document;
    redirects_are_followed_and_slow_or_huge_pages_are_bounded => redirects_are_followed_and_slow_or_huge_pages_are_bounded;
    a_link_to_an_image_is_previewed_by_the_whole_image => a_link_to_an_image_is_previewed_by_the_whole_image;
    the_author_removes_a_preview_and_an_edit_does_not_bring_it_back => the_author_removes_a_preview_and_an_edit_does_not_bring_it_back;
    a_link_posted_again_within_the_hour_is_not_fetched_again => a_link_posted_again_within_the_hour_is_not_fetched_again;
    a_workspace_without_previews_fetches_nothing => a_workspace_without_previews_fetches_nothing;
    a_senders_browser_gets_a_pages_preview_as_text => a_senders_browser_gets_a_pages_preview_as_text;
}
