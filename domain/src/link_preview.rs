//! Link previews: what a linked page says about itself (its Open Graph
//! tags, or its oEmbed document), fetched by the server through the
//! outgoing guard, bounded in time and size, with the page's image fetched
//! too so that readers load it from Parley, never from the linked site.

use crate::outgoing::{Guard, Refused};
use std::cell::RefCell;
use std::time::Duration;

/// How many of a message's links get a preview.
pub const MAX_PER_MESSAGE: usize = 3;
/// How long one request (a page, its oEmbed document or its image) may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How much of a page is read: its head is near the start.
const PAGE_LIMIT: usize = 1 << 20;
/// How much of an oEmbed document is read.
const OEMBED_LIMIT: usize = 64 << 10;
/// The largest image kept for a preview.
pub const IMAGE_LIMIT: usize = 5 << 20;
/// How many redirects are followed (each hop checked by the guard again).
const REDIRECTS: usize = 3;
const TITLE_CHARS: usize = 200;
const DESCRIPTION_CHARS: usize = 400;
const SITE_CHARS: usize = 100;

/// What a page says about itself, as read from its HTML.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PageMeta {
    pub title: String,
    pub description: String,
    pub site_name: String,
    /// The image's absolute address.
    pub image: Option<String>,
    /// The page's JSON oEmbed document, if it names one.
    pub oembed: Option<String>,
}

/// A preview made from a link, before it is stored.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub title: String,
    pub description: String,
    pub site_name: String,
    pub image: Option<Image>,
}

impl Fetched {
    /// Whether there is anything to show.
    pub fn is_empty(&self) -> bool {
        self.title.is_empty() && self.description.is_empty() && self.image.is_none()
    }
}

/// An image, read whole and known by what its bytes are.
#[derive(Clone, PartialEq, Eq)]
pub struct Image {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
}

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Image({}, {} bytes)", self.content_type, self.bytes.len())
    }
}

/// Why a link has no preview.
#[derive(Debug, thiserror::Error)]
pub enum NoPreview {
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error("the request failed: {0}")]
    Request(#[from] reqwest::Error),
    #[error("the answer was {0}")]
    Status(u16),
    #[error("more than {REDIRECTS} redirects")]
    Redirects,
    #[error("nothing to show")]
    Nothing,
}

/// The longest page address previewed on request.
pub const MAX_URL_CHARS: usize = 2000;

/// Whether `url` has the shape of a page's address: `http://` or
/// `https://`, then at least one character, none of them white space or a
/// control character (as the API document states it; whether it leads
/// anywhere is found by fetching it).
pub fn is_page_address(url: &str) -> bool {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    let blank = |c: char| c.is_whitespace() || c.is_control();
    url.chars().count() <= MAX_URL_CHARS && rest.is_some_and(|r| !r.is_empty() && !r.chars().any(blank))
}

/// Fetches previews through the outgoing guard.
#[derive(Clone)]
pub struct Previewer {
    guard: Guard,
    client: reqwest::Client,
}

impl Previewer {
    pub fn new(guard: Guard) -> Self {
        Previewer { guard, client: guard.client(REQUEST_TIMEOUT) }
    }

    /// The preview of `url`: a page's title, description, site and image
    /// (its oEmbed document filling what its tags leave out), or an image
    /// linked directly.
    pub async fn preview(&self, url: &str) -> Result<Fetched, NoPreview> {
        self.read(url, true).await
    }

    /// [`Self::preview`] without an image: a page's text only (nothing for
    /// a link to an image), fetching no image.
    pub async fn preview_text(&self, url: &str) -> Result<Fetched, NoPreview> {
        self.read(url, false).await
    }

    async fn read(&self, url: &str, with_image: bool) -> Result<Fetched, NoPreview> {
        let (at, content_type, body) = self.get(url, PAGE_LIMIT, "text/html,image/*;q=0.8").await?;
        if let Some(kind) = image_type(&body).filter(|_| with_image) {
            // A link to an image is its own preview: read whole if the
            // page's share of it was not all of it.
            let image = match body.len() < PAGE_LIMIT {
                true => Image { bytes: body, content_type: kind },
                false => self.image(at.as_str()).await?,
            };
            return Ok(Fetched { image: Some(image), ..Fetched::default() });
        }
        if !(content_type.starts_with("text/html") || content_type.starts_with("application/xhtml")) {
            return Err(NoPreview::Nothing);
        }
        let page = read_page(&String::from_utf8_lossy(&body), &at);
        let mut fetched = Fetched {
            title: page.title.clone(),
            description: page.description.clone(),
            site_name: page.site_name.clone(),
            image: None,
        };
        let mut image_url = page.image.clone();
        if let Some(oembed) = page.oembed.as_deref().filter(|_| page.title.is_empty() || page.image.is_none())
        {
            match self.oembed(oembed).await {
                Ok(found) => {
                    fill(&mut fetched.title, &found.title, TITLE_CHARS);
                    fill(&mut fetched.site_name, &found.provider_name, SITE_CHARS);
                    if fetched.description.is_empty() && !found.author_name.is_empty() {
                        fetched.description = clip(&format!("by {}", found.author_name), DESCRIPTION_CHARS);
                    }
                    if image_url.is_none() {
                        image_url = found.thumbnail_url.and_then(|u| at.join(&u).ok()).map(String::from);
                    }
                }
                Err(e) => tracing::debug!(url = %oembed, error = %e, "no oEmbed document"),
            }
        }
        if let Some(image_url) = image_url.filter(|_| with_image) {
            match self.image(&image_url).await {
                Ok(image) => fetched.image = Some(image),
                Err(e) => tracing::debug!(url = %image_url, error = %e, "no preview image"),
            }
        }
        if fetched.is_empty() {
            return Err(NoPreview::Nothing);
        }
        Ok(fetched)
    }

    /// An image in a format every browser shows and none runs (PNG, JPEG,
    /// GIF, WebP: never SVG), known by its bytes rather than its label.
    async fn image(&self, url: &str) -> Result<Image, NoPreview> {
        let (_, _, bytes) = self.get(url, IMAGE_LIMIT + 1, "image/*").await?;
        if bytes.len() > IMAGE_LIMIT {
            return Err(NoPreview::Nothing);
        }
        let content_type = image_type(&bytes).ok_or(NoPreview::Nothing)?;
        Ok(Image { bytes, content_type })
    }

    async fn oembed(&self, url: &str) -> Result<OEmbed, NoPreview> {
        let (_, _, body) = self.get(url, OEMBED_LIMIT, "application/json").await?;
        serde_json::from_slice(&body).map_err(|_| NoPreview::Nothing)
    }

    /// GETs `url`, following a few redirects (each checked by the guard),
    /// reading at most `limit` bytes. Returns where it ended, the content
    /// type and what was read.
    async fn get(
        &self,
        url: &str,
        limit: usize,
        accept: &str,
    ) -> Result<(url::Url, String, Vec<u8>), NoPreview> {
        let mut at = self.guard.check(url)?;
        for _ in 0..=REDIRECTS {
            let mut response = self
                .client
                .get(at.clone())
                .header(
                    reqwest::header::USER_AGENT,
                    concat!("Parley-LinkPreview/", env!("CARGO_PKG_VERSION")),
                )
                .header(reqwest::header::ACCEPT, accept)
                .send()
                .await?;
            let status = response.status();
            if status.is_redirection() {
                let next = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| at.join(l).ok())
                    .ok_or(NoPreview::Status(status.as_u16()))?;
                at = self.guard.check(next.as_str())?;
                continue;
            }
            if !status.is_success() {
                return Err(NoPreview::Status(status.as_u16()));
            }
            let content_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|t| t.to_str().ok())
                .unwrap_or("")
                .to_ascii_lowercase();
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await? {
                let room = limit - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if body.len() == limit {
                    break;
                }
            }
            return Ok((at, content_type, body));
        }
        Err(NoPreview::Redirects)
    }
}

/// The parts of an oEmbed document a preview uses.
#[derive(Debug, Default, serde::Deserialize)]
struct OEmbed {
    #[serde(default)]
    title: String,
    #[serde(default)]
    author_name: String,
    #[serde(default)]
    provider_name: String,
    thumbnail_url: Option<String>,
}

fn fill(field: &mut String, from: &str, chars: usize) {
    if field.is_empty() {
        *field = clip(from, chars);
    }
}

/// `text` with its runs of white space made one space, cut to `chars`
/// characters (with an ellipsis when cut).
fn clip(text: &str, chars: usize) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let joined = words.join(" ");
    if joined.chars().count() <= chars {
        return joined;
    }
    let mut cut: String = joined.chars().take(chars - 1).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// The image format `bytes` are in, if one a preview may show.
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// What a page's HTML says about it: Open Graph tags first, then Twitter's,
/// then its `<title>` and description; its oEmbed link. Addresses are made
/// absolute against `base`; script and style contents are not read.
pub fn read_page(html: &str, base: &url::Url) -> PageMeta {
    use html5ever::tendril::StrTendril;
    use html5ever::tokenizer::{BufferQueue, Tokenizer, TokenizerOpts};
    let reader = PageReader::default();
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let tokenizer = Tokenizer::new(reader, TokenizerOpts::default());
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let found = tokenizer.sink.found.into_inner();
    let first = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| found.meta.iter().find(|(name, v)| name == k && !v.trim().is_empty()))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let absolute = |u: String| base.join(u.trim()).ok().filter(|u| ["http", "https"].contains(&u.scheme()));
    let title = first(&["og:title", "twitter:title"]);
    let title = if title.is_empty() { found.title.clone() } else { title };
    PageMeta {
        title: clip(&title, TITLE_CHARS),
        description: clip(
            &first(&["og:description", "twitter:description", "description"]),
            DESCRIPTION_CHARS,
        ),
        site_name: clip(&first(&["og:site_name", "application-name"]), SITE_CHARS),
        image: Some(first(&[
            "og:image:secure_url",
            "og:image",
            "og:image:url",
            "twitter:image",
            "twitter:image:src",
        ]))
        .filter(|u| !u.is_empty())
        .and_then(absolute)
        .map(String::from),
        oembed: found.oembed.and_then(absolute).map(String::from),
    }
}

#[derive(Default)]
struct Found {
    /// `(property or name, content)` of each `<meta>`, names lower-cased.
    meta: Vec<(String, String)>,
    title: String,
    oembed: Option<String>,
}

#[derive(Default)]
struct PageReader {
    found: RefCell<Found>,
    in_title: std::cell::Cell<bool>,
}

impl html5ever::tokenizer::TokenSink for PageReader {
    type Handle = ();

    fn process_token(
        &self,
        token: html5ever::tokenizer::Token,
        _line: u64,
    ) -> html5ever::tokenizer::TokenSinkResult<()> {
        use html5ever::tokenizer::states::RawKind;
        use html5ever::tokenizer::{TagKind, Token, TokenSinkResult};
        match token {
            Token::TagToken(tag) => {
                let attr = |name: &str| {
                    tag.attrs.iter().find(|a| &*a.name.local == name).map(|a| a.value.to_string())
                };
                match (tag.kind, &*tag.name) {
                    (TagKind::StartTag, "meta") => {
                        let key = attr("property").or_else(|| attr("name"));
                        if let (Some(key), Some(content)) = (key, attr("content")) {
                            self.found.borrow_mut().meta.push((key.to_ascii_lowercase(), content));
                        }
                    }
                    (TagKind::StartTag, "link") => {
                        let rel = attr("rel").unwrap_or_default().to_ascii_lowercase();
                        let kind = attr("type").unwrap_or_default().to_ascii_lowercase();
                        let mut found = self.found.borrow_mut();
                        if rel.split_whitespace().any(|r| r == "alternate")
                            && kind == "application/json+oembed"
                            && found.oembed.is_none()
                        {
                            found.oembed = attr("href");
                        }
                    }
                    (TagKind::StartTag, "title") => {
                        self.in_title.set(self.found.borrow().title.is_empty());
                        return TokenSinkResult::RawData(RawKind::Rcdata);
                    }
                    (TagKind::EndTag, "title") => self.in_title.set(false),
                    (TagKind::StartTag, "script") => return TokenSinkResult::RawData(RawKind::ScriptData),
                    (TagKind::StartTag, "style" | "noscript" | "template" | "textarea" | "xmp") => {
                        return TokenSinkResult::RawData(RawKind::Rawtext);
                    }
                    _ => {}
                }
            }
            Token::CharacterTokens(text) if self.in_title.get() => {
                self.found.borrow_mut().title.push_str(&text);
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> url::Url {
        url::Url::parse("https://news.example/articles/1").unwrap()
    }

    #[test]
    fn a_page_address_is_http_or_https_without_white_space() {
        for good in ["https://tides.example/bay?at=6", "http://127.0.0.1:8080/", "http://x"] {
            assert!(is_page_address(good), "{good}");
        }
        let long = format!("https://a.example/{}", "x".repeat(MAX_URL_CHARS));
        for bad in ["", "https://", "ftp://a.example", "see https://a.example", "https://a.example/ b", &long]
        {
            assert!(!is_page_address(bad), "{bad}");
        }
        assert!(!is_page_address("https://a.example/\u{1e}"), "a control character");
    }

    #[test]
    fn open_graph_tags_are_read_before_the_title_and_description() {
        let html = r#"<!doctype html><html><head>
            <title>Fallback title</title>
            <meta name="description" content="Fallback description">
            <meta property="og:title" content="Rust 2.0 &amp; you">
            <meta property="og:description" content="  What
               changes.  ">
            <meta property="og:site_name" content="News">
            <meta property="og:image" content="/img/cover.png">
            </head><body></body></html>"#;
        assert_eq!(
            read_page(html, &base()),
            PageMeta {
                title: "Rust 2.0 & you".into(),
                description: "What changes.".into(),
                site_name: "News".into(),
                image: Some("https://news.example/img/cover.png".into()),
                oembed: None,
            }
        );
    }

    #[test]
    fn a_page_without_open_graph_shows_its_title_and_description() {
        let html = "<title>Plain &lt;page&gt;</title><meta name=Description content='About it'>";
        let page = read_page(html, &base());
        assert_eq!((page.title.as_str(), page.description.as_str()), ("Plain <page>", "About it"));
        assert_eq!(page.image, None);
    }

    #[test]
    fn tags_written_inside_scripts_are_not_read() {
        let html = r#"<script>document.write('<meta property="og:title" content="forged">')</script>
            <meta property="og:title" content="Real">"#;
        assert_eq!(read_page(html, &base()).title, "Real");
    }

    #[test]
    fn the_oembed_link_is_found_and_made_absolute() {
        let html = r#"<link rel="alternate" type="application/json+oembed" href="/oembed?url=x">"#;
        assert_eq!(read_page(html, &base()).oembed.as_deref(), Some("https://news.example/oembed?url=x"));
    }

    #[test]
    fn an_image_address_that_is_not_the_web_is_dropped() {
        let html = r#"<meta property="og:image" content="javascript:alert(1)">"#;
        assert_eq!(read_page(html, &base()).image, None);
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        let title = "word ".repeat(100);
        let page = read_page(&format!("<meta property='og:title' content='{title}'>"), &base());
        assert_eq!(page.title.chars().count(), TITLE_CHARS);
        assert!(page.title.ends_with("word…"), "{}", page.title);
    }

    /// With private targets not allowed (the default), a link to this
    /// machine is refused before any connection is made to it.
    #[tokio::test]
    async fn a_link_to_a_private_address_is_not_fetched() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let previewer = Previewer::new(Guard::public_only());
        for url in [format!("http://127.0.0.1:{port}/"), format!("http://localhost:{port}/")] {
            let refused = previewer.preview(&url).await;
            assert!(matches!(refused, Err(NoPreview::Refused(Refused::Private(_)))), "{url}: {refused:?}");
        }
        let accepted = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
        assert!(accepted.is_err(), "nothing connected to the private address");
    }

    #[test]
    fn images_are_known_by_their_bytes() {
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(image_type(&[0xff, 0xd8, 0xff, 0xe0]), Some("image/jpeg"));
        assert_eq!(image_type(b"GIF89a.."), Some("image/gif"));
        assert_eq!(image_type(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(image_type(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), None);
    }
}
