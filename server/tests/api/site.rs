//! The site's files go out precompressed as the browser accepts; the app's
//! hash-named files are kept for good; everything else, pages included, is
//! revalidated and costs a 304 without a body when unchanged.

use crate::helpers::{TestApp, say, workspace};
use domain::Backend;
use domain::testing::TempDir;
use reqwest::{StatusCode, header};
use std::sync::Arc;

const HASH: &str = "0123456789abcdef";

/// A built site in a temporary folder: the app's hash-named WebAssembly
/// with brotli and gzip copies (each with bytes of its own, so that a test
/// sees which was sent), a style sheet without a hash (as in development),
/// an icon, and the hash file that names the app's files.
fn site() -> TempDir {
    let dir = TempDir::new("parley-site");
    let pkg = dir.0.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let wasm = pkg.join(format!("parley.{HASH}.wasm"));
    std::fs::write(&wasm, b"\0asm plain").unwrap();
    std::fs::write(wasm.with_extension("wasm.br"), b"brotli bytes").unwrap();
    std::fs::write(wasm.with_extension("wasm.gz"), b"gzip bytes").unwrap();
    std::fs::write(pkg.join("parley.css"), "body {}").unwrap();
    std::fs::write(dir.0.join("favicon.svg"), "<svg xmlns=\"http://www.w3.org/2000/svg\"/>").unwrap();
    for worker in ["sw.js", "call-worker.js"] {
        std::fs::write(dir.0.join(worker), format!("import init from \"/pkg/parley.{HASH}.js\";")).unwrap();
    }
    std::fs::write(dir.0.join("hash.txt"), format!("js: {HASH}\nwasm: {HASH}\ncss: {HASH}\n")).unwrap();
    dir
}

async fn serving(site: &TempDir) -> TestApp {
    let root = site.0.clone();
    TestApp::spawn_with(
        Backend::Sqlite,
        Arc::new(move |c: &mut server::config::Config| c.site_root = root.clone()),
    )
    .await
}

fn header_of(res: &reqwest::Response, name: header::HeaderName) -> &str {
    res.headers().get(&name).map(|v| v.to_str().unwrap()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_s_files_are_sent_as_brotli_or_gzip_as_the_browser_accepts() {
    let site = site();
    let app = serving(&site).await;
    let url = app.url(&format!("/pkg/parley.{HASH}.wasm"));
    let c = app.client();
    for (accepts, encoding, body) in [
        ("gzip, deflate, br", "br", "brotli bytes"),
        ("gzip", "gzip", "gzip bytes"),
        ("identity", "", "\0asm plain"),
    ] {
        let res = c.get(&url).header(header::ACCEPT_ENCODING, accepts).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{accepts}");
        assert_eq!(header_of(&res, header::CONTENT_ENCODING), encoding, "{accepts}");
        assert_eq!(header_of(&res, header::CONTENT_TYPE), "application/wasm", "{accepts}");
        assert!(header_of(&res, header::VARY).to_ascii_lowercase().contains("accept-encoding"), "{accepts}");
        assert_eq!(res.text().await.unwrap(), body, "{accepts}");
    }
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hash_named_file_is_immutable_and_one_without_a_hash_is_revalidated() {
    let site = site();
    let app = serving(&site).await;
    let c = app.client();
    let hashed = c.get(app.url(&format!("/pkg/parley.{HASH}.wasm"))).send().await.unwrap();
    assert_eq!(header_of(&hashed, header::CACHE_CONTROL), "public, max-age=31536000, immutable");
    let plain = c.get(app.url("/pkg/parley.css")).send().await.unwrap();
    assert_eq!(plain.status(), StatusCode::OK);
    assert_eq!(header_of(&plain, header::CACHE_CONTROL), "no-cache");
    let missing = c.get(app.url("/pkg/parley.fedcba9876543210.wasm")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(header_of(&missing, header::CACHE_CONTROL), "", "a 404 is not kept");
    app.finish().await;
}

/// The workers may compile WebAssembly (the service worker loads the app's
/// to read encrypted pushes, the call worker to encrypt a call's media);
/// other files keep the strict policy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workers_may_compile_webassembly_and_are_revalidated() {
    let site = site();
    let app = serving(&site).await;
    let c = app.client();
    for name in ["/sw.js", "/call-worker.js"] {
        let worker = c.get(app.url(name)).send().await.unwrap();
        assert_eq!(worker.status(), StatusCode::OK, "{name}");
        assert_eq!(header_of(&worker, header::CONTENT_TYPE), "text/javascript");
        assert_eq!(header_of(&worker, header::CACHE_CONTROL), "no-cache");
        let policy = header_of(&worker, header::CONTENT_SECURITY_POLICY);
        assert!(policy.contains("script-src 'self' 'wasm-unsafe-eval'"), "{name}: {policy}");
    }
    let icon = c.get(app.url("/favicon.svg")).send().await.unwrap();
    let policy = header_of(&icon, header::CONTENT_SECURITY_POLICY);
    assert!(policy.starts_with("default-src 'self'") && !policy.contains("wasm"), "{policy}");
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_file_unchanged_since_it_was_fetched_answers_304_without_a_body() {
    let site = site();
    let app = serving(&site).await;
    let c = app.client();
    let first = c.get(app.url("/favicon.svg")).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(header_of(&first, header::CACHE_CONTROL), "no-cache");
    let modified = header_of(&first, header::LAST_MODIFIED).to_string();
    assert!(!modified.is_empty(), "a site file carries its modification time");
    let again =
        c.get(app.url("/favicon.svg")).header(header::IF_MODIFIED_SINCE, &modified).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.text().await.unwrap(), "");
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_load_the_app_s_files_by_their_hashed_names() {
    let site = site();
    let app = serving(&site).await;
    let html = app.client().get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    for kind in ["js", "wasm", "css"] {
        assert!(html.contains(&format!("/pkg/parley.{HASH}.{kind}")), "{kind} in {html}");
    }
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchanged_page_revalidates_to_304_and_a_changed_one_is_sent_again() {
    let site = site();
    let app = serving(&site).await;
    let ana = app.user("ana").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    say(&app, &ana, &general, "first").await;
    let page = app.url(&format!("/w/{ws}/c/{general}"));
    let first = ana.client.get(&page).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(header_of(&first, header::CACHE_CONTROL), "private, no-cache");
    let etag = header_of(&first, header::ETAG).to_string();
    assert!(etag.starts_with('"'), "a page carries an ETag: {etag:?}");

    let same = ana.client.get(&page).header(header::IF_NONE_MATCH, &etag).send().await.unwrap();
    assert_eq!(same.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header_of(&same, header::ETAG), etag);
    // The browser keeps the policy (and script nonce) of the page it holds.
    assert_eq!(header_of(&same, header::CONTENT_SECURITY_POLICY), "");
    assert_eq!(same.text().await.unwrap(), "");

    say(&app, &ana, &general, "second").await;
    let changed = ana.client.get(&page).header(header::IF_NONE_MATCH, &etag).send().await.unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    assert_ne!(header_of(&changed, header::ETAG), etag);
    assert!(header_of(&changed, header::CONTENT_SECURITY_POLICY).contains("'nonce-"));
    assert!(changed.text().await.unwrap().contains("second"));
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_is_sent_compressed_as_the_browser_accepts_with_a_tag_per_encoding() {
    use std::io::Read;
    let site = site();
    let app = serving(&site).await;
    let ana = app.user("ana").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    say(&app, &ana, &general, "a message worth compressing").await;
    let page = app.url(&format!("/w/{ws}/c/{general}"));
    let get = |accepts: &'static str| ana.client.get(&page).header(header::ACCEPT_ENCODING, accepts).send();

    let plain = get("identity").await.unwrap();
    assert_eq!(header_of(&plain, header::CONTENT_ENCODING), "");
    let plain_tag = header_of(&plain, header::ETAG).to_string();
    let plain_text = plain.text().await.unwrap();

    let mut tags = vec![plain_tag.clone()];
    for (accepts, coding) in [("gzip, deflate, br, zstd", "br"), ("gzip, deflate", "gzip")] {
        let res = get(accepts).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{accepts}");
        assert_eq!(header_of(&res, header::CONTENT_ENCODING), coding, "{accepts}");
        assert!(header_of(&res, header::VARY).to_ascii_lowercase().contains("accept-encoding"), "{accepts}");
        let tag = header_of(&res, header::ETAG).to_string();
        let sent = res.bytes().await.unwrap();
        let mut text = String::new();
        match coding {
            "br" => brotli::Decompressor::new(&sent[..], 4096).read_to_string(&mut text).unwrap(),
            _ => flate2::read::GzDecoder::new(&sent[..]).read_to_string(&mut text).unwrap(),
        };
        assert!(text.contains("a message worth compressing") && text.contains("</body>"), "{coding}");
        // The same page but for its nonces, in a fraction of the bytes.
        assert_eq!(text.len(), plain_text.len(), "{coding}");
        assert!(sent.len() * 2 < plain_text.len(), "{coding}: {} of {} bytes", sent.len(), plain_text.len());
        tags.push(tag);
    }
    tags.sort();
    tags.dedup();
    assert_eq!(tags.len(), 3, "one tag per encoding: {tags:?}");

    // A tag held for one encoding revalidates that encoding only.
    let brotli_tag = get("br").await.unwrap().headers()[header::ETAG].to_str().unwrap().to_string();
    let again = ana
        .client
        .get(&page)
        .header(header::ACCEPT_ENCODING, "br")
        .header(header::IF_NONE_MATCH, &brotli_tag);
    assert_eq!(again.send().await.unwrap().status(), StatusCode::NOT_MODIFIED);
    let other = ana
        .client
        .get(&page)
        .header(header::ACCEPT_ENCODING, "gzip")
        .header(header::IF_NONE_MATCH, &brotli_tag);
    let other = other.send().await.unwrap();
    assert_eq!(other.status(), StatusCode::OK);
    assert_eq!(header_of(&other, header::CONTENT_ENCODING), "gzip");
    app.finish().await;
}
