//! Link previews in the hub, on both backends, against a site on loopback:
//! each link fetched once however many nodes fetch at the same time, and
//! the images no preview shows any more deleted.

use domain::hub::DeliveryOptions;
use domain::outgoing::Guard;
use domain::testing::TestDb;
use domain::{Hub, Id};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod common;
use common::{user, workspace};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

/// A site on loopback serving an article with an image; it records the
/// path of each request.
async fn site() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let asked: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = asked.clone();
    tokio::spawn(async move {
        loop {
            let (mut conn, _) = listener.accept().await.unwrap();
            let log = log.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = conn.read(&mut buf).await.unwrap();
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                }
                let head = String::from_utf8_lossy(&request);
                let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
                log.lock().unwrap().push(path.clone());
                let (content_type, body): (&str, Vec<u8>) = match path.as_str() {
                    "/cover.png" => ("image/png", PNG.to_vec()),
                    _ => (
                        "text/html",
                        b"<meta property=og:title content=Article><meta property=og:image content=/cover.png>"
                            .to_vec(),
                    ),
                };
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(head.as_bytes()).await;
                let _ = conn.write_all(&body).await;
            });
        }
    });
    (port, asked)
}

/// A node of the deployment on `db` that may fetch from loopback.
async fn node(db: &TestDb) -> Hub {
    db.hub()
        .await
        .with_delivery(DeliveryOptions { outgoing: Guard::allowing_private(), ..Default::default() })
}

async fn post(hub: &Hub, who: Id, channel: Id, body: &str) -> Id {
    hub.post_message(who, channel, body, None).await.unwrap().0.id
}

/// Two nodes fetch at the same time: each link is fetched, and announced, once.
async fn each_link_is_fetched_once_however_many_nodes_fetch(db: &TestDb) {
    let (port, asked) = site().await;
    let (first, second) = (node(db).await, node(db).await);
    let ana = user(&first, "ana").await;
    let (_, general) = workspace(&first, ana, false).await;
    for n in 0..4 {
        post(&first, ana, general, &format!("http://127.0.0.1:{port}/article?{n}")).await;
    }
    let (a, b) = tokio::join!(first.fetch_link_previews(), second.fetch_link_previews());
    assert_eq!(a.unwrap() + b.unwrap(), 4, "each link settled by one node");
    let pages = asked.lock().unwrap().iter().filter(|p| p.starts_with("/article")).count();
    assert_eq!(pages, 4);
    let page = first.messages(ana, general, None, 10).await.unwrap();
    assert!(
        page.messages.iter().all(|m| m.link_previews.len() == 1 && m.link_previews[0].title == "Article")
    );
}

/// An image stays while a preview shows it, and goes once none does.
async fn an_image_no_preview_shows_is_deleted(db: &TestDb) {
    let (port, _) = site().await;
    let hub = node(db).await;
    let ana = user(&hub, "ana").await;
    let (_, general) = workspace(&hub, ana, false).await;
    let first = post(&hub, ana, general, &format!("http://127.0.0.1:{port}/article")).await;
    hub.fetch_link_previews().await.unwrap();
    let (path, content_type) = hub.link_preview_image(ana, first, 0).await.unwrap();
    assert_eq!((std::fs::read(&path).unwrap().as_slice(), content_type.as_str()), (PNG, "image/png"));
    let again = post(&hub, ana, general, &format!("http://127.0.0.1:{port}/article")).await;
    hub.fetch_link_previews().await.unwrap();
    assert_eq!(hub.link_preview_image(ana, again, 0).await.unwrap().0, path, "one file for both");

    hub.delete_message(ana, first).await.unwrap();
    assert_eq!(hub.prune_link_preview_images(std::time::Duration::ZERO).await.unwrap(), 0);
    assert!(path.exists(), "the second message still shows it");
    hub.remove_link_preview(ana, again, 0).await.unwrap();
    assert_eq!(hub.prune_link_preview_images(std::time::Duration::ZERO).await.unwrap(), 1);
    assert!(!path.exists());
}

domain::both_backends! {
    each_link_is_fetched_once_however_many_nodes_fetch => each_link_is_fetched_once_however_many_nodes_fetch;
    an_image_no_preview_shows_is_deleted => an_image_no_preview_shows_is_deleted;
}
