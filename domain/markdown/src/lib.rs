//! Message bodies are Markdown. They are rendered here, on the server, into
//! HTML that is safe to put into any page: the renderer's output goes
//! through an allow-list sanitiser (ammonia), so no script, event-handler
//! attribute or `javascript:` URL survives, whatever was typed. Raw HTML in
//! a message is shown as text.
//!
//! Beyond CommonMark (bold, italic, strike, code, code blocks with a
//! language, quotes, lists, links): single newlines are line breaks, as in
//! every chat; `:shortcode:` emoji become the emoji; `@name`, `@channel` and
//! `@here` become mention spans (`<span class="mention" data-mention="name">`);
//! bare `http://` and `https://` addresses become links, as chats link them.

use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd, TextMergeStream, html};
use std::collections::HashSet;
use std::sync::OnceLock;

/// Renders a message body to sanitised HTML.
pub fn render(body: &str) -> String {
    let parser = TextMergeStream::new(Parser::new_ext(body, Options::ENABLE_STRIKETHROUGH));
    let mut events = Vec::new();
    let mut place = Place::default();
    for event in parser {
        place.see(&event);
        match event {
            Event::SoftBreak => events.push(Event::HardBreak),
            // Raw HTML is not markup in a chat message: show it as typed.
            Event::Html(raw) | Event::InlineHtml(raw) => events.push(Event::Text(raw)),
            Event::Text(text) => decorate(&text, place.may_link(), &mut events),
            other => events.push(other),
        }
    }
    let mut out = String::with_capacity(body.len() * 2);
    html::push_html(&mut out, events.into_iter());
    sanitizer().clean(&out).to_string()
}

/// The first line of a body that has any text, shortened: what a
/// notification quotes of a message (the server's, or the service
/// worker's of a message it decrypted).
pub fn excerpt(body: &str) -> String {
    const MAX: usize = 140;
    let line = body.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut out: String = line.chars().take(MAX).collect();
    if line.chars().count() > MAX {
        out.push('…');
    }
    out
}

/// How many of the names a message mentions count: the rest notify no one.
pub const MOST_MENTIONS: usize = 50;

/// The mentions a body makes: user names (lower-case), and `channel`/`here`.
pub fn mentions(body: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut place = Place::default();
    for event in TextMergeStream::new(Parser::new_ext(body, Options::ENABLE_STRIKETHROUGH)) {
        place.see(&event);
        if let Event::Text(text) = event {
            // An address's `/@name` is no mention.
            let mut words = String::with_capacity(text.len());
            let mut last = 0;
            if place.may_link() {
                for (start, end) in bare_addresses(&text) {
                    words.push_str(&text[last..start]);
                    words.push(' ');
                    last = end;
                }
            }
            words.push_str(&text[last..]);
            for piece in split_mentions(&words) {
                if let Piece::Mention(name) = piece {
                    let name = name.to_lowercase();
                    if !found.contains(&name) {
                        found.push(name);
                    }
                }
            }
        }
    }
    found
}

/// The web addresses a body links to, in order and each once: links
/// written as Markdown and bare addresses, not those inside code.
pub fn links(body: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    // Most messages link nothing: they are not parsed again for links.
    if !body.as_bytes().windows(4).any(|w| w.eq_ignore_ascii_case(b"http")) {
        return found;
    }
    let mut add = |url: &str| {
        if !found.iter().any(|f| f == url) {
            found.push(url.to_string());
        }
    };
    let mut place = Place::default();
    for event in TextMergeStream::new(Parser::new_ext(body, Options::ENABLE_STRIKETHROUGH)) {
        place.see(&event);
        match &event {
            Event::Start(Tag::Link { dest_url, .. }) if !place.in_code && is_web_address(dest_url) => {
                add(dest_url)
            }
            Event::Text(text) if place.may_link() => {
                for (start, end) in bare_addresses(text) {
                    add(&text[start..end]);
                }
            }
            _ => {}
        }
    }
    found
}

/// Where in a body a parser's event is: inside a link or a code block.
#[derive(Default)]
struct Place {
    in_link: usize,
    in_code: bool,
}

impl Place {
    fn see(&mut self, event: &Event) {
        match event {
            Event::Start(Tag::Link { .. }) => self.in_link += 1,
            Event::End(TagEnd::Link) => self.in_link = self.in_link.saturating_sub(1),
            Event::Start(Tag::CodeBlock(_)) => self.in_code = true,
            Event::End(TagEnd::CodeBlock) => self.in_code = false,
            _ => {}
        }
    }

    /// Whether a bare address here becomes a link (not in a link or code).
    fn may_link(&self) -> bool {
        self.in_link == 0 && !self.in_code
    }
}

fn is_web_address(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    (lower.starts_with("http://") && url.len() > 7) || (lower.starts_with("https://") && url.len() > 8)
}

/// Where bare `http://` and `https://` addresses are in `text`: from the
/// scheme (not in the middle of a word) to the next space or `<>"`, less
/// the punctuation that ends a sentence, and a closing bracket that opened
/// before the address.
fn bare_addresses(text: &str) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find("http").map(|i| i + from) {
        let word_start = text[..at].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
        let rest = &text[at..];
        let scheme = if rest.starts_with("https://") {
            8
        } else if rest.starts_with("http://") {
            7
        } else {
            0
        };
        if scheme == 0 || !word_start {
            from = at + 4;
            continue;
        }
        let mut end = at + rest.find(|c: char| c.is_whitespace() || "<>\"".contains(c)).unwrap_or(rest.len());
        loop {
            let url = &text[at..end];
            match url.chars().next_back() {
                Some(c) if ".,:;!?'*_".contains(c) => end -= 1,
                Some(')') if url.matches(')').count() > url.matches('(').count() => end -= 1,
                _ => break,
            }
        }
        if end > at + scheme {
            found.push((at, end));
        }
        from = end.max(at + scheme);
    }
    found
}

enum Piece<'a> {
    Text(&'a str),
    Mention(&'a str),
}

/// Splits text at `@name` tokens: `@` at the start or after a non-word
/// character, then 2 to 32 of `a-z A-Z 0-9 _ . -` (a trailing `.` is punctuation).
fn split_mentions(text: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let at_boundary = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if bytes[i] == b'@' && at_boundary {
            let mut j = i + 1;
            while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || b"_.-".contains(&bytes[j])) {
                j += 1;
            }
            while j > i + 1 && b".-".contains(&bytes[j - 1]) {
                j -= 1;
            }
            let len = j - i - 1;
            if (2..=32).contains(&len) {
                if start < i {
                    pieces.push(Piece::Text(&text[start..i]));
                }
                pieces.push(Piece::Mention(&text[i + 1..j]));
                start = j;
                i = j;
                continue;
            }
        }
        i += 1;
    }
    if start < text.len() {
        pieces.push(Piece::Text(&text[start..]));
    }
    pieces
}

/// Emoji shortcodes, mentions and (where `linking`) bare addresses inside a text run.
fn decorate<'a>(text: &CowStr<'a>, linking: bool, out: &mut Vec<Event<'a>>) {
    if linking {
        let mut last = 0;
        for (start, end) in bare_addresses(text) {
            decorate_words(&text[last..start], out);
            let url = CowStr::from(text[start..end].to_string());
            out.push(Event::Start(Tag::Link {
                link_type: LinkType::Autolink,
                dest_url: url.clone(),
                title: CowStr::from(""),
                id: CowStr::from(""),
            }));
            out.push(Event::Text(url));
            out.push(Event::End(TagEnd::Link));
            last = end;
        }
        decorate_words(&text[last..], out);
    } else {
        decorate_words(text, out);
    }
}

/// Emoji shortcodes and mentions inside a piece of text.
fn decorate_words<'a>(text: &str, out: &mut Vec<Event<'a>>) {
    if text.is_empty() {
        return;
    }
    let text = shortcodes(text);
    for piece in split_mentions(&text) {
        match piece {
            Piece::Text(t) => out.push(Event::Text(CowStr::from(t.to_string()))),
            Piece::Mention(name) => {
                let lower = name.to_lowercase();
                let class =
                    if lower == "channel" || lower == "here" { "mention mention-all" } else { "mention" };
                // `name` is limited to [A-Za-z0-9_.-]: nothing to escape.
                out.push(Event::InlineHtml(CowStr::from(format!(
                    r#"<span class="{class}" data-mention="{lower}">@{name}</span>"#
                ))));
            }
        }
    }
}

/// Replaces `:name:` with its emoji where the name is known.
pub fn shortcodes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find(':') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find(':') {
            Some(close) if close > 0 && close <= 32 => {
                let name = &after[..close];
                if let Some(emoji) = emoji_for(name) {
                    out.push_str(emoji);
                    rest = &after[close + 1..];
                    continue;
                }
                out.push(':');
                rest = after;
            }
            _ => {
                out.push(':');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Every shortcode name known (without colons).
pub fn shortcode_names() -> impl Iterator<Item = &'static str> {
    EMOJI.iter().map(|(n, _)| *n)
}

/// The emoji for a shortcode name (without colons).
pub fn emoji_for(name: &str) -> Option<&'static str> {
    EMOJI.iter().find(|(n, _)| *n == name).map(|(_, e)| *e)
}

const EMOJI: &[(&str, &str)] = &[
    ("+1", "👍"),
    ("thumbsup", "👍"),
    ("-1", "👎"),
    ("thumbsdown", "👎"),
    ("tada", "🎉"),
    ("smile", "😄"),
    ("grinning", "😀"),
    ("joy", "😂"),
    ("laughing", "😆"),
    ("wink", "😉"),
    ("blush", "😊"),
    ("heart", "❤️"),
    ("heart_eyes", "😍"),
    ("thinking", "🤔"),
    ("cry", "😢"),
    ("sob", "😭"),
    ("rage", "😡"),
    ("sweat_smile", "😅"),
    ("sunglasses", "😎"),
    ("scream", "😱"),
    ("fire", "🔥"),
    ("rocket", "🚀"),
    ("eyes", "👀"),
    ("wave", "👋"),
    ("clap", "👏"),
    ("pray", "🙏"),
    ("muscle", "💪"),
    ("ok_hand", "👌"),
    ("raised_hands", "🙌"),
    ("100", "💯"),
    ("star", "⭐"),
    ("sparkles", "✨"),
    ("white_check_mark", "✅"),
    ("heavy_check_mark", "✔️"),
    ("x", "❌"),
    ("warning", "⚠️"),
    ("bulb", "💡"),
    ("memo", "📝"),
    ("calendar", "📅"),
    ("coffee", "☕"),
    ("pizza", "🍕"),
    ("beers", "🍻"),
    ("party_popper", "🎉"),
    ("bug", "🐛"),
    ("zap", "⚡"),
    ("lock", "🔒"),
    ("question", "❓"),
    ("exclamation", "❗"),
    ("point_up", "☝️"),
    ("see_no_evil", "🙈"),
];

/// The only tags a rendered message may hold.
pub const ALLOWED_TAGS: &[&str] = &[
    "p",
    "br",
    "strong",
    "em",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "span",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
];

fn sanitizer() -> &'static ammonia::Builder<'static> {
    static BUILDER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    BUILDER.get_or_init(|| {
        let tags: HashSet<&str> = ALLOWED_TAGS.iter().copied().collect();
        let mut b = ammonia::Builder::default();
        b.tags(tags)
            .clean_content_tags(["script", "style"].into_iter().collect())
            .generic_attributes(HashSet::new())
            .tag_attributes(
                [
                    ("a", ["href"].into_iter().collect::<HashSet<_>>()),
                    ("span", ["class", "data-mention"].into_iter().collect()),
                    ("code", ["class"].into_iter().collect()),
                    ("ol", ["start"].into_iter().collect()),
                ]
                .into_iter()
                .collect(),
            )
            .url_schemes(["http", "https", "mailto"].into_iter().collect())
            .url_relative(ammonia::UrlRelative::PassThrough)
            .link_rel(Some("noopener noreferrer nofollow ugc"))
            .set_tag_attribute_value("a", "target", "_blank")
            .attribute_filter(|element, attribute, value| match (element, attribute) {
                ("span", "class") => {
                    matches!(value, "mention" | "mention mention-all").then_some(value.into())
                }
                ("code", "class") => (value.starts_with("language-")
                    && value.len() <= 40
                    && value[9..].chars().all(|c| c.is_ascii_alphanumeric() || "+-_#".contains(c)))
                .then_some(value.into()),
                _ => Some(value.into()),
            });
        b
    })
}

/// Appends `c` to `out`, escaped for HTML text and attribute values.
pub fn push_escaped(out: &mut String, c: char) {
    match c {
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '&' => out.push_str("&amp;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&#39;"),
        c => out.push(c),
    }
}

/// `s` escaped for HTML text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_addresses_become_links_without_the_punctuation_after_them() {
        assert_eq!(
            render("see https://example.com/a?b=1, then"),
            "<p>see <a href=\"https://example.com/a?b=1\" target=\"_blank\" rel=\"noopener noreferrer nofollow ugc\">https://example.com/a?b=1</a>, then</p>\n"
        );
        assert_eq!(
            render("https://en.wikipedia.org/wiki/Rust_(language)"),
            "<p><a href=\"https://en.wikipedia.org/wiki/Rust_(language)\" target=\"_blank\" rel=\"noopener noreferrer nofollow ugc\">https://en.wikipedia.org/wiki/Rust_(language)</a></p>\n"
        );
        assert_eq!(
            links("(read https://en.wikipedia.org/wiki/Rust_(programming_language)). Or http://x.org!"),
            ["https://en.wikipedia.org/wiki/Rust_(programming_language)", "http://x.org"]
        );
    }

    #[test]
    fn links_are_listed_once_in_order_and_not_from_code() {
        assert_eq!(
            links(
                "[docs](https://docs.example.com) and https://a.example and `https://code.example` \n```\nhttps://block.example\n```\nhttps://a.example again, mailto:x@y.z"
            ),
            ["https://docs.example.com", "https://a.example"]
        );
        assert!(links("nothttps://x.example or http:// alone").is_empty());
    }

    #[test]
    fn an_address_inside_a_link_or_code_is_not_linked_again() {
        assert_eq!(
            render("[https://a.example](https://b.example) `https://c.example`"),
            "<p><a href=\"https://b.example\" target=\"_blank\" rel=\"noopener noreferrer nofollow ugc\">https://a.example</a> <code>https://c.example</code></p>\n"
        );
    }

    #[test]
    fn a_name_in_an_address_is_no_mention() {
        assert_eq!(mentions("hi @ana, see https://social.example/@bob"), ["ana"]);
    }

    #[test]
    fn formatting() {
        assert_eq!(
            render("**bold** _it_ ~~gone~~ `x<y`"),
            "<p><strong>bold</strong> <em>it</em> <del>gone</del> <code>x&lt;y</code></p>\n"
        );
        assert_eq!(render("line one\nline two"), "<p>line one<br>\nline two</p>\n");
        assert_eq!(render("> quoted"), "<blockquote>\n<p>quoted</p>\n</blockquote>\n");
        assert_eq!(render("- a\n- b"), "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n");
        assert_eq!(
            render("```rust\nfn main() {}\n```"),
            "<pre><code class=\"language-rust\">fn main() {}\n</code></pre>\n"
        );
        assert_eq!(
            render("[site](https://example.com)"),
            "<p><a href=\"https://example.com\" target=\"_blank\" rel=\"noopener noreferrer nofollow ugc\">site</a></p>\n"
        );
    }

    #[test]
    fn raw_html_is_text() {
        assert_eq!(render("<b>hi</b>"), "<p>&lt;b&gt;hi&lt;/b&gt;</p>\n");
    }

    #[test]
    fn an_excerpt_is_the_first_line_with_text_shortened() {
        assert_eq!(excerpt("\n  \nfirst\nsecond"), "first");
        let long = "x".repeat(200);
        assert_eq!(excerpt(&long), format!("{}…", "x".repeat(140)));
    }

    #[test]
    fn emoji_and_mentions() {
        assert_eq!(render("ship it :rocket: :nope:"), "<p>ship it 🚀 :nope:</p>\n");
        assert_eq!(
            render("hi @Ana_B, and @here."),
            "<p>hi <span class=\"mention\" data-mention=\"ana_b\">@Ana_B</span>, and \
             <span class=\"mention mention-all\" data-mention=\"here\">@here</span>.</p>\n"
        );
        assert_eq!(render("mail me@example.com"), "<p>mail me@example.com</p>\n");
        assert_eq!(render("`@ana` in code"), "<p><code>@ana</code> in code</p>\n");
        assert_eq!(mentions("@ana @bob @ana `@carol` @channel"), ["ana", "bob", "channel"]);
    }

    #[test]
    fn code_language_class_is_checked() {
        let out = render("```x\" onclick=\"alert(1)\nboom\n```");
        assert!(!out.contains("onclick"), "{out}");
    }
}
