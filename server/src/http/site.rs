//! The site's files and what browsers may keep of every answer.
//!
//! - `/pkg/…`, the app's WebAssembly, its JavaScript loader and its style
//!   sheet: the release build names each after a hash of its content
//!   (`parley.<hash>.wasm`, listed in the site's `hash.txt`), so an answer
//!   for a hashed name never changes and is `immutable` for a year. A name
//!   without a hash (a development build) is revalidated each time.
//! - The site's other files (icons, the manifest, the service worker, the
//!   offline page) are revalidated each time (`no-cache` with their
//!   `Last-Modified`): a new version is seen at once, an unchanged one costs
//!   a 304 and no body.
//! - Both are sent precompressed where the build left `.br` and `.gz`
//!   copies beside them, as the request's `Accept-Encoding` allows.
//! - A server-rendered page carries an `ETag` (a hash of the page) and
//!   `private, no-cache`: revalidating an unchanged page answers 304 with no
//!   body; a shared cache keeps nothing of it. A page is sent compressed
//!   (brotli, else gzip, as `Accept-Encoding` allows), and each encoding has
//!   a tag of its own.
//!
//! Answers that chose their own `Cache-Control` (downloads, calendar feeds)
//! keep it.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use std::hash::{Hash, Hasher};
use std::path::Path;
use tower::Layer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::{SetResponseHeader, SetResponseHeaderLayer};

/// Where the app's built files are served from.
pub const PKG_PATH: &str = "/pkg";

/// The name of the file in the site's root that lists the hashes of the
/// app's files (one `kind: hash` line each for `js`, `wasm` and `css`), as
/// Leptos reads it.
pub const HASH_FILE: &str = "hash.txt";

const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");
const PRIVATE_REVALIDATE: HeaderValue = HeaderValue::from_static("private, no-cache");

/// Whether the site's pages should load the app's files by the hashed
/// names in `hash_file`: it exists, and no build without hashes (`cargo
/// leptos watch`, which writes `pkg/parley.wasm` and leaves an older hash
/// file in place) is newer than it.
pub fn uses_hashed_names(site_root: &Path, hash_file: &Path) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (modified(hash_file), modified(&site_root.join("pkg").join("parley.wasm"))) {
        (Some(hashed), Some(plain)) => hashed >= plain,
        (hashed, _) => hashed.is_some(),
    }
}

/// Serves the app's built files under [`PKG_PATH`] from `site_root/pkg`,
/// precompressed where the build compressed them.
pub fn pkg_files(site_root: &Path) -> ServeDir {
    ServeDir::new(site_root.join("pkg")).precompressed_br().precompressed_gzip()
}

/// Serves the site's other files (icons, the manifest, the service worker,
/// the offline page) from `site_root`, precompressed where the build
/// compressed them, and whatever they do not answer through the service
/// given with `.fallback(…)` (the app's pages and its "not found" page),
/// whatever the method.
pub fn site_files(site_root: &Path) -> ServeDir {
    ServeDir::new(site_root).precompressed_br().precompressed_gzip().call_fallback_on_method_not_allowed(true)
}

/// The workers' scripts at the site's root, each served at `/{name}`: the
/// service worker (which reads encrypted pushes) and the worker that
/// encrypts and decrypts the media of encrypted calls. The site build
/// rewrites the same list's names of the app's files (`site-build`'s
/// `naming::WORKERS`).
pub const WORKERS: [&str; 2] = ["sw.js", "call-worker.js"];

/// A worker's script (one of [`WORKERS`]), with the policy its worker runs
/// under (a worker's policy is its script's answer's): this origin only,
/// and WebAssembly compiled from it, since each worker instantiates the
/// app's.
pub fn worker_script(site_root: &Path, name: &str) -> SetResponseHeader<ServeFile, HeaderValue> {
    const POLICY: HeaderValue = HeaderValue::from_static(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'self'; \
         frame-ancestors 'none'",
    );
    let file = ServeFile::new(site_root.join(name)).precompressed_br().precompressed_gzip();
    SetResponseHeaderLayer::overriding(header::CONTENT_SECURITY_POLICY, POLICY).layer(file)
}

/// Whether a file name carries a content hash: `<name>.<16 hex digits>.<ext>`.
pub fn is_hashed(file_name: &str) -> bool {
    let mut parts = file_name.rsplit('.');
    let (_ext, hash, name) = (parts.next(), parts.next(), parts.next());
    name.is_some_and(|n| !n.is_empty())
        && hash.is_some_and(|h| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Sets what browsers may keep of each answer (see the module's
/// description), and answers a page's revalidation with 304 when the page
/// is unchanged.
pub async fn caching(req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    // Decided from the request, which `next` consumes.
    let pkg_policy = req
        .uri()
        .path()
        .strip_prefix(PKG_PATH)
        .and_then(|p| p.strip_prefix('/'))
        .map(|file| if is_hashed(file) { IMMUTABLE } else { REVALIDATE });
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).cloned();
    let encoding = PageEncoding::accepted(req.headers().get(header::ACCEPT_ENCODING));
    let res = next.run(req).await;
    if res.headers().contains_key(header::CACHE_CONTROL) {
        return res;
    }
    if let Some(policy) = pkg_policy {
        return with_cache_control(res, policy);
    }
    if res.headers().contains_key(header::LAST_MODIFIED) {
        // A file of the site, served with its modification time.
        return with_cache_control(res, REVALIDATE);
    }
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if html && res.status() == StatusCode::OK {
        return page_with_etag(res, if_none_match, encoding).await;
    }
    res
}

/// Sets `Cache-Control` on a file's answer (not on an error), and says that
/// the answer depends on `Accept-Encoding` (files go out precompressed).
fn with_cache_control(mut res: Response, value: HeaderValue) -> Response {
    if res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED {
        res.headers_mut().insert(header::CACHE_CONTROL, value);
        res.headers_mut().append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    res
}

/// How a page goes out: compressed as the request allows. Pages repeat
/// themselves (a channel page of 184 KB is 7 KB at brotli's quality 5), so
/// the fastest levels lose little: brotli 2 makes it 10.5 KB in a third of
/// quality 5's time, gzip 1 11 KB in under half of level 6's (measured with
/// the C libraries on this machine's 2 cores).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PageEncoding {
    Brotli,
    Gzip,
    Identity,
}

/// Pages shorter than this go out as they are: compressing them saves less
/// than a packet.
const COMPRESS_FROM: usize = 1024;
const BROTLI_QUALITY: u32 = 2;
const GZIP_LEVEL: u32 = 1;

/// Brotli's window for a page of `len` bytes (as a power of two): the
/// smallest that holds the whole page, so that it compresses as well as in
/// a larger one. The encoder zeroes a buffer of the window's size for every
/// page: brotli's default of 4 MB took more of a channel page's time than
/// compressing it.
fn brotli_window(len: usize) -> i32 {
    // A window of 2^w bytes reaches back 2^w - 16 of them; brotli allows 10 to 24.
    (10..24).find(|w| (1usize << w) - 16 >= len).unwrap_or(24)
}

impl PageEncoding {
    /// The best encoding that `Accept-Encoding` accepts (a coding listed
    /// with `q=0`, or left out where no `*` admits it, is refused).
    fn accepted(header: Option<&HeaderValue>) -> Self {
        let Some(list) = header.and_then(|h| h.to_str().ok()) else { return Self::Identity };
        let quality = |coding: &str| {
            let (mut named, mut star) = (None, None);
            for item in list.split(',') {
                let mut parts = item.split(';').map(str::trim);
                let name = parts.next().unwrap_or_default();
                let q = parts
                    .find_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
                    .map_or(1.0, |q| q.trim().parse::<f32>().unwrap_or(0.0));
                if name.eq_ignore_ascii_case(coding) {
                    named = Some(q);
                } else if name == "*" {
                    star = Some(q);
                }
            }
            named.or(star).unwrap_or(0.0)
        };
        let (br, gzip) = (quality("br"), quality("gzip"));
        if br > 0.0 && br >= gzip {
            Self::Brotli
        } else if gzip > 0.0 {
            Self::Gzip
        } else {
            Self::Identity
        }
    }

    /// The `Content-Encoding` and the suffix of the page's tag.
    fn name(self) -> Option<&'static str> {
        match self {
            Self::Brotli => Some("br"),
            Self::Gzip => Some("gzip"),
            Self::Identity => None,
        }
    }

    fn compress(self, page: &[u8]) -> std::io::Result<Vec<u8>> {
        use std::io::Write;
        match self {
            Self::Brotli => {
                let mut out = Vec::with_capacity(page.len() / 4);
                let params = brotli::enc::BrotliEncoderParams {
                    quality: BROTLI_QUALITY as i32,
                    lgwin: brotli_window(page.len()),
                    size_hint: page.len(),
                    ..Default::default()
                };
                brotli::BrotliCompress(&mut &page[..], &mut out, &params)?;
                Ok(out)
            }
            Self::Gzip => {
                let mut encoder = flate2::write::GzEncoder::new(
                    Vec::with_capacity(page.len() / 4),
                    flate2::Compression::new(GZIP_LEVEL),
                );
                encoder.write_all(page)?;
                encoder.finish()
            }
            Self::Identity => Ok(page.to_vec()),
        }
    }
}

/// Gives a rendered page its `ETag` and sends it compressed as `encoding`;
/// 304 without the page when the request already holds it.
async fn page_with_etag(
    res: Response,
    if_none_match: Option<HeaderValue>,
    encoding: PageEncoding,
) -> Response {
    let (mut parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(e) => {
            // The page could not be finished (its rendering failed midway):
            // what was sent so far is not a page to keep.
            tracing::warn!(error = %e, "a page's body failed while it was read for its ETag");
            return Response::builder()
                .status(StatusCode::INTERNAL_SERVER_ERROR)
                .body(Body::from("The page could not be rendered. Reload to try again."))
                .expect("a static response");
        }
    };
    let encoding = if bytes.len() < COMPRESS_FROM { PageEncoding::Identity } else { encoding };
    let nonce =
        parts.headers.get(header::CONTENT_SECURITY_POLICY).and_then(|csp| script_nonce(csp.to_str().ok()?));
    let hash = page_hash(&bytes, nonce);
    let etag = HeaderValue::from_str(&match encoding.name() {
        Some(coding) => format!("\"{hash:016x}-{coding}\""),
        None => format!("\"{hash:016x}\""),
    })
    .expect("hex digits and a coding's name in quotes are a header value");
    parts.headers.insert(header::CACHE_CONTROL, PRIVATE_REVALIDATE);
    parts.headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    if if_none_match.as_ref().is_some_and(|held| matches_etag(held, &etag)) {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_LENGTH);
        // The browser keeps the page it holds with that page's policy (and
        // nonce): a new policy would refuse the page's scripts.
        parts.headers.remove(header::CONTENT_SECURITY_POLICY);
        parts.headers.insert(header::ETAG, etag);
        return Response::from_parts(parts, Body::empty());
    }
    parts.headers.insert(header::ETAG, etag);
    let Some(coding) = encoding.name() else { return Response::from_parts(parts, Body::from(bytes)) };
    match encoding.compress(&bytes) {
        Ok(compressed) => {
            parts.headers.remove(header::CONTENT_LENGTH);
            parts.headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
            Response::from_parts(parts, Body::from(compressed))
        }
        Err(e) => {
            // Compressing into memory does not fail; were it to, the page
            // still goes out, uncompressed, under its uncompressed tag.
            tracing::warn!(error = %e, coding, "a page could not be compressed; sent as it is");
            let etag = format!("\"{hash:016x}\"");
            parts.headers.insert(header::ETAG, HeaderValue::from_str(&etag).expect("hex digits in quotes"));
            Response::from_parts(parts, Body::from(bytes))
        }
    }
}

/// The nonce that a Content-Security-Policy allows scripts by (`'nonce-…'`).
fn script_nonce(csp: &str) -> Option<&str> {
    let start = csp.find("'nonce-")? + "'nonce-".len();
    let len = csp[start..].find('\'')?;
    Some(&csp[start..start + len])
}

/// What a page holds that is new on every rendering: the script nonce, and
/// the send nonce of each composer form (`<input type="hidden" name="nonce"
/// value="…">`, see `app::components::composer`). A page answered with 304
/// keeps the form nonce it was sent with, which is still unused: a post
/// with it would have changed the page.
const FORM_NONCE: &str = "name=\"nonce\" value=\"";

/// A hash of a page that leaves out what is new on every rendering (see
/// [`FORM_NONCE`]): the same page twice has the same hash.
fn page_hash(page: &[u8], script_nonce: Option<&str>) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    let Ok(text) = std::str::from_utf8(page) else {
        page.hash(&mut hasher);
        return hasher.finish();
    };
    let script_nonce = script_nonce.filter(|n| !n.is_empty());
    // The next of each kind from `from` on, as (start, end) in `text`;
    // each is looked for again only once the hash has passed it.
    let script_at = |from: usize| {
        script_nonce.and_then(|n| text[from..].find(n).map(|at| (from + at, from + at + n.len())))
    };
    let form_at = |from: usize| {
        text[from..].find(FORM_NONCE).map(|at| {
            let start = from + at + FORM_NONCE.len();
            (start, text[start..].find('"').map_or(text.len(), |len| start + len))
        })
    };
    let (mut hashed_to, mut script, mut form) = (0, script_at(0), form_at(0));
    while let Some((from, to)) = [script, form].into_iter().flatten().min() {
        text[hashed_to..from].hash(&mut hasher);
        hashed_to = to;
        if script.is_some_and(|(start, _)| start < hashed_to) {
            script = script_at(hashed_to);
        }
        if form.is_some_and(|(start, _)| start < hashed_to) {
            form = form_at(hashed_to);
        }
    }
    text[hashed_to..].hash(&mut hasher);
    hasher.finish()
}

/// Whether an `If-None-Match` list holds `etag` (or is `*`); a weak
/// validator (`W/"…"`) matches its strong twin, as RFC 9110 allows here.
fn matches_etag(held: &HeaderValue, etag: &HeaderValue) -> bool {
    let Ok(held) = held.to_str() else { return false };
    let etag = etag.to_str().unwrap_or_default();
    held.split(',').map(str::trim).any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_with_sixteen_hex_digits_before_its_extension_is_hashed() {
        assert!(is_hashed("parley.0123456789abcdef.wasm"));
        assert!(!is_hashed("parley.wasm"));
        assert!(!is_hashed("parley.0123456789abcde.js"));
        assert!(!is_hashed(".0123456789abcdef.js"));
        assert!(!is_hashed("parley.0123456789abcdeg.js"));
    }

    #[test]
    fn a_page_s_hash_leaves_out_its_nonce_but_not_its_content() {
        let page = |nonce: &str, body: &str| {
            format!(
                "<script nonce=\"{nonce}\">go()</script><p>{body}</p>\
                 <input type=\"hidden\" name=\"nonce\" value=\"s-{nonce}\">\
                 <script nonce=\"{nonce}\">on()</script><input type=\"hidden\" name=\"nonce\" value=\"s-2{body}\">"
            )
        };
        let csp = |nonce: &str| format!("script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'");
        let (a, b) = (page("n0nceA", "hello"), page("n0nceB", "hello"));
        let hash = |page: &str, csp: &str| page_hash(page.as_bytes(), script_nonce(csp));
        assert_eq!(hash(&a, &csp("n0nceA")), hash(&b, &csp("n0nceB")));
        assert_ne!(hash(&a, &csp("n0nceA")), hash(&page("n0nceC", "hello!"), &csp("n0nceC")));
        assert_eq!(script_nonce("default-src 'self'"), None);
    }

    #[test]
    fn a_build_without_hashes_newer_than_the_hash_file_is_served_by_plain_names() {
        let site = domain::testing::TempDir::new("parley-site-names");
        std::fs::create_dir_all(site.0.join("pkg")).unwrap();
        let hash_file = site.0.join(HASH_FILE);
        assert!(!uses_hashed_names(&site.0, &hash_file), "no hash file: plain names");
        std::fs::write(&hash_file, "wasm: 0123456789abcdef\n").unwrap();
        assert!(uses_hashed_names(&site.0, &hash_file), "a release build");
        let set_time = |path: &Path, secs: u64| {
            let file = std::fs::File::options().write(true).open(path).unwrap();
            file.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs)).unwrap();
        };
        let plain = site.0.join("pkg").join("parley.wasm");
        std::fs::write(&plain, b"\0asm").unwrap();
        set_time(&hash_file, 1_000);
        set_time(&plain, 2_000);
        assert!(!uses_hashed_names(&site.0, &hash_file), "a development build after the release build");
        set_time(&hash_file, 3_000);
        assert!(uses_hashed_names(&site.0, &hash_file), "a release build after it");
    }

    #[test]
    fn brotli_is_chosen_where_accepted_then_gzip_and_a_zero_quality_refuses() {
        let pick = |h: &'static str| PageEncoding::accepted(Some(&HeaderValue::from_static(h)));
        assert_eq!(pick("gzip, deflate, br, zstd"), PageEncoding::Brotli);
        assert_eq!(pick("gzip"), PageEncoding::Gzip);
        assert_eq!(pick("br;q=0, gzip;q=0.5"), PageEncoding::Gzip);
        assert_eq!(pick("br;q=0.2, gzip;q=0.8"), PageEncoding::Gzip);
        assert_eq!(pick("*"), PageEncoding::Brotli);
        assert_eq!(pick("*;q=0, identity"), PageEncoding::Identity);
        assert_eq!(pick("identity"), PageEncoding::Identity);
        assert_eq!(PageEncoding::accepted(None), PageEncoding::Identity);
    }

    #[test]
    fn a_compressed_page_decompresses_to_the_page() {
        use std::io::Read;
        let page = "<p>a line of the kind people write</p>".repeat(200);
        let br = PageEncoding::Brotli.compress(page.as_bytes()).unwrap();
        let mut back = String::new();
        brotli::Decompressor::new(&br[..], 4096).read_to_string(&mut back).unwrap();
        assert_eq!(back, page);
        let gz = PageEncoding::Gzip.compress(page.as_bytes()).unwrap();
        back.clear();
        flate2::read::GzDecoder::new(&gz[..]).read_to_string(&mut back).unwrap();
        assert_eq!(back, page);
        assert!(br.len() < page.len() / 10 && gz.len() < page.len() / 10);
    }

    #[test]
    fn brotli_window_is_the_smallest_that_holds_the_page() {
        assert_eq!(brotli_window(100), 10);
        assert_eq!(brotli_window((1 << 18) - 16), 18);
        assert_eq!(brotli_window((1 << 18) - 15), 19);
        assert_eq!(brotli_window(160_000), 18);
        assert_eq!(brotli_window(100 << 20), 24);
    }

    #[test]
    fn a_page_compresses_in_its_window_as_well_as_in_brotlis_default() {
        // Text that repeats only from the far end: a window that did not
        // reach back to the page's start would not find the repeat.
        let mut seed = 7u32;
        let block: String = (0..60_000)
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                char::from(b'a' + (seed >> 16) as u8 % 26)
            })
            .collect();
        let page = block.repeat(2);
        let sized = PageEncoding::Brotli.compress(page.as_bytes()).unwrap();
        let mut default = Vec::new();
        let params = brotli::enc::BrotliEncoderParams {
            quality: BROTLI_QUALITY as i32,
            lgwin: 22,
            ..Default::default()
        };
        brotli::BrotliCompress(&mut page.as_bytes(), &mut default, &params).unwrap();
        assert!(sized.len() < block.len(), "the repeat was found: {} bytes", sized.len());
        assert!(
            sized.len() <= default.len() + default.len() / 100,
            "{} against {}",
            sized.len(),
            default.len()
        );
    }

    #[test]
    fn if_none_match_matches_a_listed_weak_or_strong_tag_or_a_star() {
        let etag = HeaderValue::from_static("\"00000000000000ff\"");
        let held = |s: &'static str| HeaderValue::from_static(s);
        assert!(matches_etag(&held("\"00000000000000ff\""), &etag));
        assert!(matches_etag(&held("\"1\", W/\"00000000000000ff\""), &etag));
        assert!(matches_etag(&held("*"), &etag));
        assert!(!matches_etag(&held("\"00000000000000fe\""), &etag));
    }
}
