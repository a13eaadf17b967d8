//! What an incoming webhook is sent, and the message it becomes.
//!
//! Two shapes are accepted, so that scripts written for Slack work
//! unchanged: Parley's own (`{"content": "Markdown"}`) and Slack's
//! incoming-webhook payload: `text` in Slack's markup (`*bold*`, `~strike~`,
//! `<url|label>`, `<!channel>`, `&amp;`), `username` and `icon_emoji`,
//! `attachments` (pretext, author, title and link, text, fields, image,
//! footer) and the blocks scripts send (`header`, `section` with text and
//! fields, `context`, `divider`, `image`, link buttons in `actions`, and the
//! words of `rich_text`). All of it becomes one Markdown body, so that the
//! post is shown, searched and mentioned like any other. `channel` and
//! `icon_url` are ignored: a webhook posts into its own channel, and Parley
//! fetches no picture a caller names.

use crate::error::{Error, Result};
use serde::Deserialize;
use serde_json::Value;

/// The longest name a post may show instead of its bot's.
const MAX_SHOWN_NAME: usize = 80;

/// A webhook call, parsed: what to post and how to show its author.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookPost {
    /// Markdown.
    pub body: String,
    /// Slack's `username`: shown instead of the webhook's name (or empty).
    pub shown_name: String,
    /// Slack's `icon_emoji`, as the emoji itself (or empty).
    pub shown_icon: String,
}

#[derive(Deserialize)]
struct Payload {
    /// Parley's own: Markdown.
    content: Option<String>,
    /// Slack's: its markup, or plain text with `"mrkdwn": false`.
    text: Option<String>,
    mrkdwn: Option<bool>,
    username: Option<String>,
    icon_emoji: Option<String>,
    #[serde(default)]
    attachments: Vec<Attachment>,
    #[serde(default)]
    blocks: Vec<Value>,
}

/// A Slack "secondary attachment" (the older, still common, way to add a
/// card under a message).
#[derive(Deserialize, Default)]
#[serde(default)]
struct Attachment {
    fallback: Option<String>,
    pretext: Option<String>,
    author_name: Option<String>,
    author_link: Option<String>,
    title: Option<String>,
    title_link: Option<String>,
    text: Option<String>,
    fields: Vec<Field>,
    image_url: Option<String>,
    footer: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Field {
    title: String,
    value: String,
}

impl WebhookPost {
    /// Parses a call's JSON body.
    pub fn from_json(body: &[u8]) -> Result<WebhookPost> {
        let payload: Payload = serde_json::from_slice(body).map_err(|e| {
            Error::invalid(
                "payload",
                format!(
                    "The body is not a webhook payload ({e}). Send JSON such as {{\"text\": \"Hello\"}}, \
                     as a JSON body or as the form field payload."
                ),
            )
        })?;
        let mut parts: Vec<String> = Vec::new();
        if let Some(content) = payload.content.filter(|c| !c.trim().is_empty()) {
            parts.push(content);
        }
        if let Some(text) = payload.text.filter(|t| !t.trim().is_empty()) {
            parts.push(if payload.mrkdwn == Some(false) {
                escape_markdown(&text)
            } else {
                from_slack(&text)
            });
        }
        let blocks: Vec<String> = payload.blocks.iter().filter_map(block).collect();
        if !blocks.is_empty() {
            // Slack shows blocks instead of `text`, which is then their
            // notification fallback; shown both, the text would say it twice.
            parts.retain(|_| false);
            parts.extend(blocks);
        }
        parts.extend(payload.attachments.iter().filter_map(attachment));
        let body = parts.join("\n\n");
        if body.trim().is_empty() {
            return Err(Error::invalid(
                "text",
                "The message would be empty: send text (or content), blocks or attachments.",
            ));
        }
        Ok(WebhookPost {
            body,
            shown_name: shown_name(payload.username.as_deref().unwrap_or("")),
            shown_icon: payload.icon_emoji.as_deref().map(icon).unwrap_or_default(),
        })
    }
}

/// A name to show: one line of printable characters, at most 80 of them.
fn shown_name(name: &str) -> String {
    let clean: String = name.chars().filter(|c| !c.is_control()).collect();
    clean.trim().chars().take(MAX_SHOWN_NAME).collect()
}

/// `:name:` as its emoji; a name Parley does not know shows nothing.
fn icon(shortcode: &str) -> String {
    let name = shortcode.trim().trim_matches(':');
    crate::markdown::emoji_for(name).map(str::to_string).unwrap_or_default()
}

/// One block as Markdown, or `None` for kinds that show nothing here
/// (inputs, menus, buttons without a link).
fn block(b: &Value) -> Option<String> {
    let text = |v: &Value| text_object(v);
    let out = match b.get("type")?.as_str()? {
        "header" => format!("**{}**", text(b.get("text")?)?.trim()),
        "section" => {
            let mut lines: Vec<String> = b.get("text").and_then(text).into_iter().collect();
            if let Some(fields) = b.get("fields").and_then(Value::as_array) {
                lines.extend(fields.iter().filter_map(text));
            }
            if let Some(url) = b.pointer("/accessory/image_url").and_then(Value::as_str) {
                lines.push(link(
                    b.pointer("/accessory/alt_text").and_then(Value::as_str).unwrap_or("image"),
                    url,
                ));
            }
            lines.join("\n")
        }
        "context" => {
            let parts: Vec<String> = b.get("elements")?.as_array()?.iter().filter_map(text).collect();
            parts.join(" · ")
        }
        "divider" => "* * *".to_string(),
        "image" => {
            let url = b.get("image_url")?.as_str()?;
            let label =
                b.get("title").and_then(text).or_else(|| Some(b.get("alt_text")?.as_str()?.to_string()));
            link(label.as_deref().unwrap_or("image"), url)
        }
        "actions" => {
            let links: Vec<String> = b
                .get("elements")?
                .as_array()?
                .iter()
                .filter_map(|e| Some(link(&text(e.get("text")?)?, e.get("url")?.as_str()?)))
                .collect();
            links.join(" · ")
        }
        "rich_text" => {
            let mut words = String::new();
            rich_text_words(b, &mut words);
            escape_markdown(words.trim())
        }
        _ => return None,
    };
    (!out.trim().is_empty()).then_some(out)
}

/// A text object (`{"type": "mrkdwn" | "plain_text", "text": …}`) as Markdown.
fn text_object(v: &Value) -> Option<String> {
    let t = v.get("text")?.as_str()?;
    Some(match v.get("type").and_then(Value::as_str) {
        Some("plain_text") => escape_markdown(t),
        _ => from_slack(t),
    })
}

/// The words of a `rich_text` block, in order (their styles are dropped).
fn rich_text_words(v: &Value, out: &mut String) {
    match v {
        Value::Object(o) => {
            match (o.get("type").and_then(Value::as_str), o.get("text").and_then(Value::as_str)) {
                (Some("text"), Some(t)) => out.push_str(t),
                (Some("link"), _) => {
                    let url = o.get("url").and_then(Value::as_str).unwrap_or("");
                    out.push_str(o.get("text").and_then(Value::as_str).unwrap_or(url));
                }
                (Some("emoji"), _) => {
                    let name = o.get("name").and_then(Value::as_str).unwrap_or("");
                    out.push_str(crate::markdown::emoji_for(name).unwrap_or(""));
                }
                _ => {}
            }
            if let Some(children) = o.get("elements") {
                rich_text_words(children, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| rich_text_words(i, out)),
        _ => {}
    }
}

/// An attachment as a quoted card: author, linked title, text, fields
/// (`**title**: value`), image link and footer.
fn attachment(a: &Attachment) -> Option<String> {
    let mut lines: Vec<String> = Vec::new();
    let filled =
        |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    if let Some(author) = filled(&a.author_name) {
        let author = escape_markdown(&author);
        lines.push(match filled(&a.author_link) {
            Some(url) => link(&author, &url),
            None => author,
        });
    }
    if let Some(title) = filled(&a.title) {
        let title = escape_markdown(&title);
        lines.push(match filled(&a.title_link) {
            Some(url) => format!("**{}**", link(&title, &url)),
            None => format!("**{title}**"),
        });
    }
    if let Some(text) = filled(&a.text) {
        lines.extend(from_slack(&text).lines().map(str::to_string));
    }
    for f in &a.fields {
        let (title, value) = (escape_markdown(f.title.trim()), from_slack(f.value.trim()));
        match (title.is_empty(), value.is_empty()) {
            (true, true) => {}
            (false, true) => lines.push(format!("**{title}**")),
            (true, false) => lines.push(value),
            (false, false) => lines.push(format!("**{title}**: {value}")),
        }
    }
    if let Some(url) = filled(&a.image_url) {
        lines.push(link("image", &url));
    }
    if let Some(footer) = filled(&a.footer) {
        lines.push(format!("_{}_", escape_markdown(&footer)));
    }
    if lines.is_empty()
        && let Some(fallback) = filled(&a.fallback)
    {
        lines.push(escape_markdown(&fallback));
    }
    let card: Vec<String> = lines.iter().map(|l| format!("> {l}")).collect();
    let card = card.join("\n");
    Some(match filled(&a.pretext) {
        Some(pretext) if card.is_empty() => from_slack(&pretext),
        Some(pretext) => format!("{}\n\n{card}", from_slack(&pretext)),
        None if card.is_empty() => return None,
        None => card,
    })
}

/// A Markdown link; brackets in the label and parentheses in the address
/// are escaped, so neither can end the link early.
fn link(label: &str, url: &str) -> String {
    let label = label.replace('[', "\\[").replace(']', "\\]");
    let url = url.trim().replace('(', "%28").replace(')', "%29").replace(' ', "%20");
    format!("[{label}]({url})")
}

/// Plain text as Markdown that shows it as typed.
fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\`*_{}[]()#+-.!<>~|".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Slack's markup as Markdown: `*bold*` → `**bold**`, `~strike~` →
/// `~~strike~~`, `<url|label>` → a link, `<@name>` → `@name`,
/// `<!channel>`/`<!here>`/`<!everyone>` → `@channel`/`@here`/`@channel`,
/// `<#id|name>` → `#name`, and its three entities (`&amp;`, `&lt;`,
/// `&gt;`) as the characters they stand for. `_italic_`, code and quotes
/// mean the same in both. Code spans and blocks are left as written.
pub fn from_slack(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while !rest.is_empty() {
        // Code is copied as it is.
        if let Some(after) = rest.strip_prefix("```") {
            let end = after.find("```").map(|i| i + 6).unwrap_or(rest.len());
            out.push_str(&rest[..end]);
            rest = &rest[end..];
            continue;
        }
        if let Some(after) = rest.strip_prefix('`')
            && let Some(i) = after.find('`')
        {
            out.push_str(&rest[..i + 2]);
            rest = &rest[i + 2..];
            continue;
        }
        let c = rest.chars().next().unwrap_or_default();
        let len = c.len_utf8();
        match c {
            '<' => match rest[1..].find('>') {
                Some(end) => {
                    out.push_str(&angle(&rest[1..end + 1]));
                    rest = &rest[end + 2..];
                }
                None => {
                    out.push('<');
                    rest = &rest[1..];
                }
            },
            '*' | '~' if opens(&out, rest) => match closing(rest, c) {
                Some(end) => {
                    let marker = if c == '*' { "**" } else { "~~" };
                    out.push_str(marker);
                    out.push_str(&from_slack(&rest[1..end]));
                    out.push_str(marker);
                    rest = &rest[end + 1..];
                }
                None => {
                    out.push(c);
                    rest = &rest[1..];
                }
            },
            '&' => {
                let (replacement, used) = [("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">")]
                    .into_iter()
                    .find(|(entity, _)| rest.starts_with(entity))
                    .map(|(entity, ch)| (ch, entity.len()))
                    .unwrap_or(("&", 1));
                out.push_str(replacement);
                rest = &rest[used..];
            }
            _ => {
                out.push(c);
                rest = &rest[len..];
            }
        }
    }
    out
}

/// Whether a `*` or `~` at the start of `rest` can open emphasis: at the
/// start of the text or after a space or punctuation, and not followed by a
/// space.
fn opens(before: &str, rest: &str) -> bool {
    let prev_ok =
        before.chars().last().is_none_or(|p| p.is_whitespace() || (p.is_ascii_punctuation() && p != '*'));
    let next = rest[1..].chars().next();
    prev_ok && next.is_some_and(|n| !n.is_whitespace() && n != rest.chars().next().unwrap_or_default())
}

/// Where the marker `m` opening `rest` closes on the same line: a marker
/// not after a space, and not followed by a letter or digit.
fn closing(rest: &str, m: char) -> Option<usize> {
    let line_end = rest.find('\n').unwrap_or(rest.len());
    let mut prev = m;
    for (i, c) in rest[..line_end].char_indices().skip(1) {
        if c == m && i > 1 && !prev.is_whitespace() {
            let next = rest[i + 1..].chars().next();
            if next.is_none_or(|n| !n.is_alphanumeric()) {
                return Some(i);
            }
        }
        prev = c;
    }
    None
}

/// What Slack writes between `<` and `>`: a link, a mention, a channel, a
/// special mention or a date; anything else is shown as typed.
fn angle(inner: &str) -> String {
    let (target, label) = match inner.split_once('|') {
        Some((t, l)) => (t, Some(l)),
        None => (inner, None),
    };
    if let Some(name) = target.strip_prefix('@') {
        return format!("@{}", label.unwrap_or(name));
    }
    if let Some(id) = target.strip_prefix('#') {
        return format!("#{}", label.unwrap_or(id));
    }
    if let Some(special) = target.strip_prefix('!') {
        return match special {
            "channel" | "everyone" => "@channel".into(),
            "here" => "@here".into(),
            _ => label.map(str::to_string).unwrap_or_default(),
        };
    }
    let is_url = ["http://", "https://", "mailto:"].iter().any(|s| target.starts_with(s));
    if is_url {
        let target = target.replace("&amp;", "&");
        return link(&label.map(from_slack).unwrap_or_else(|| target.clone()), &target);
    }
    format!("<{inner}>")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(json: &str) -> WebhookPost {
        WebhookPost::from_json(json.as_bytes()).unwrap()
    }

    #[test]
    fn slack_bold_and_strike_become_markdown() {
        assert_eq!(from_slack("a *bold* and ~gone~ word"), "a **bold** and ~~gone~~ word");
    }

    #[test]
    fn slack_italics_code_and_lone_asterisks_stay() {
        assert_eq!(from_slack("_it_ `*x*` 2 * 3 * 4"), "_it_ `*x*` 2 * 3 * 4");
        assert_eq!(from_slack("```\n*not bold*\n```"), "```\n*not bold*\n```");
    }

    #[test]
    fn slack_links_mentions_and_entities_become_markdown() {
        assert_eq!(
            from_slack("See <https://example.com/a?b=1&amp;c=2|the *docs*> &amp; <https://x.org>"),
            "See [the **docs**](https://example.com/a?b=1&c=2) & [https://x.org](https://x.org)"
        );
        assert_eq!(from_slack("<!here> <!channel> <@ana> <#C1|general>"), "@here @channel @ana #general");
        assert_eq!(from_slack("1 &lt; 2 &gt; 0"), "1 < 2 > 0");
    }

    #[test]
    fn a_link_label_cannot_break_out_of_its_link() {
        assert_eq!(link("a]b", "https://x.org/(y)"), "[a\\]b](https://x.org/%28y%29)");
    }

    #[test]
    fn parleys_own_content_is_markdown_as_sent() {
        let p = post(r#"{"content": "**deploy** done", "username": "CI", "icon_emoji": ":rocket:"}"#);
        assert_eq!(p.body, "**deploy** done");
        assert_eq!(p.shown_name, "CI");
        assert_eq!(p.shown_icon, "🚀");
    }

    #[test]
    fn an_unknown_icon_and_an_overlong_name_are_tamed() {
        let long = "n".repeat(200);
        let p = post(&format!(r#"{{"text": "x", "username": "{long}\n", "icon_emoji": ":no-such:"}}"#));
        assert_eq!(p.shown_name.chars().count(), 80);
        assert_eq!(p.shown_icon, "");
    }

    #[test]
    fn plain_text_is_shown_as_typed() {
        let p = post(r#"{"text": "*not bold*", "mrkdwn": false}"#);
        assert_eq!(p.body, "\\*not bold\\*");
    }

    #[test]
    fn attachments_become_a_quoted_card_with_fields() {
        let p = post(
            r##"{"text": "Build finished", "attachments": [{"color": "#36a64f", "pretext": "CI says",
                "author_name": "runner 4", "title": "Build 17", "title_link": "https://ci.example/17",
                "text": "All *green*", "fields": [{"title": "Branch", "value": "main", "short": true}],
                "footer": "ci.example"}]}"##,
        );
        assert_eq!(
            p.body,
            "Build finished\n\nCI says\n\n> runner 4\n> **[Build 17](https://ci.example/17)**\n> All **green**\n\
             > **Branch**: main\n> _ci\\.example_"
        );
    }

    #[test]
    fn an_attachment_with_only_a_fallback_shows_it() {
        assert_eq!(post(r#"{"attachments": [{"fallback": "Plain"}]}"#).body, "> Plain");
    }

    #[test]
    fn blocks_replace_the_text_they_stand_for() {
        let p = post(
            r#"{"text": "fallback", "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": "Release 2.0"}},
                {"type": "section", "text": {"type": "mrkdwn", "text": "*Ready* to ship"},
                 "fields": [{"type": "mrkdwn", "text": "*Owner*: ana"}]},
                {"type": "divider"},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": "by CI"}, {"type": "plain_text", "text": "today"}]},
                {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Open"}, "url": "https://x.org/r"}]},
                {"type": "input", "label": {"type": "plain_text", "text": "ignored"}}
            ]}"#,
        );
        assert_eq!(
            p.body,
            "**Release 2\\.0**\n\n**Ready** to ship\n**Owner**: ana\n\n* * *\n\nby CI · today\n\n[Open](https://x.org/r)"
        );
    }

    #[test]
    fn rich_text_gives_its_words() {
        let p = post(
            r#"{"blocks": [{"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [
                {"type": "text", "text": "Hi "}, {"type": "link", "url": "https://x.org", "text": "there"},
                {"type": "emoji", "name": "wave"}]}]}]}"#,
        );
        assert_eq!(p.body, "Hi there👋");
    }

    #[test]
    fn an_empty_payload_is_refused_with_what_to_send() {
        let e = WebhookPost::from_json(br#"{"text": "  "}"#).unwrap_err();
        assert!(e.to_string().contains("send text"), "{e}");
        let e = WebhookPost::from_json(b"not json").unwrap_err();
        assert!(e.to_string().contains("{\"text\": \"Hello\"}"), "{e}");
    }
}
