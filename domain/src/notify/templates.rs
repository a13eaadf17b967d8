//! What a notification says on each delivery channel: a subject (the title,
//! for push and in the app), a text body and, for email, an HTML body.
//! `{{name}}` is replaced by a variable: `title`, `content`, `url`, `type`,
//! `priority`, `workspace`, `recipient`, in a digest `count` and `items`,
//! and in a custom notification whatever its template data names. In HTML,
//! values are escaped. A workspace's stored templates win over the built-in
//! ones below, which `create_default_templates` stores for editing.

use super::{DeliveryChannel, KINDS};
use crate::markdown::escape;

/// One template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// A notification type or a template id (`task_assigned`), or `digest`.
    pub name: String,
    pub channel: DeliveryChannel,
    pub subject: String,
    pub body: String,
    /// Email only; empty means the text body, escaped, in paragraphs.
    pub body_html: String,
}

/// The name of the template for an email that gathers several notifications.
pub const DIGEST: &str = "digest";

/// The built-in template for `name` on `channel`.
pub fn builtin(name: &str, channel: DeliveryChannel) -> Template {
    let (subject, body) = match (name, channel) {
        (DIGEST, _) => ("{{count}} new notifications in Parley", "{{items}}\nOpen Parley: {{url}}\n"),
        (_, DeliveryChannel::Email) => ("{{title}}", "{{content}}\n\nOpen it in Parley: {{url}}\n"),
        (_, DeliveryChannel::Sms) => ("", "{{title}}: {{content}} {{url}}"),
        ("meeting_reminder", DeliveryChannel::Push) => ("{{title}}", "{{content}} — tap to join."),
        (_, DeliveryChannel::Push | DeliveryChannel::InApp) => ("{{title}}", "{{content}}"),
    };
    Template {
        name: name.to_string(),
        channel,
        subject: subject.to_string(),
        body: body.to_string(),
        body_html: String::new(),
    }
}

/// Every built-in template: each type on email, push and SMS, and the digest.
pub fn builtins() -> Vec<Template> {
    let mut out: Vec<Template> = KINDS
        .iter()
        .flat_map(|(kind, _)| {
            [DeliveryChannel::Email, DeliveryChannel::Push, DeliveryChannel::Sms]
                .into_iter()
                .map(|c| builtin(kind, c))
        })
        .collect();
    out.push(builtin(DIGEST, DeliveryChannel::Email));
    out
}

/// Why a template cannot be saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("“{{{{” at {0} is not closed with “}}}}”.")]
    Unclosed(usize),
    #[error("“{{{{{0}}}}}” is not a variable name; use letters, digits and _.")]
    BadName(String),
}

/// The variables in `text`, in order, or why it is malformed.
pub fn variables(text: &str) -> Result<Vec<&str>, TemplateError> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let close = after.find("}}").ok_or(TemplateError::Unclosed(offset + open))?;
        let name = after[..close].trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(TemplateError::BadName(after[..close].to_string()));
        }
        out.push(name);
        offset += open + 2 + close + 2;
        rest = &after[close + 2..];
    }
    Ok(out)
}

/// `text` with each variable replaced by `value(name)` (unknown ones by
/// nothing), each value passed through `encode`.
fn fill(text: &str, value: &dyn Fn(&str) -> Option<String>, encode: fn(&str) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        match after.find("}}") {
            Some(close) => {
                out.push_str(&encode(&value(after[..close].trim()).unwrap_or_default()));
                rest = &after[close + 2..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// A template data value as text (a string without its quotes).
pub fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Plain text: values as they are.
pub fn render(text: &str, value: &dyn Fn(&str) -> Option<String>) -> String {
    fill(text, value, |s| s.to_string())
}

/// HTML: values escaped, line breaks kept.
pub fn render_html(html: &str, value: &dyn Fn(&str) -> Option<String>) -> String {
    fill(html, value, |s| escape(s).replace('\n', "<br>"))
}

/// An email's HTML from its text body when the template has none: the text
/// escaped in paragraphs, links made clickable.
pub fn text_to_html(text: &str) -> String {
    text.split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let lines: Vec<String> = p
                .lines()
                .map(|line| {
                    line.split(' ')
                        .map(|w| {
                            if w.starts_with("https://") || w.starts_with("http://") {
                                format!("<a href=\"{0}\">{0}</a>", escape(w))
                            } else {
                                escape(w)
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect();
            format!("<p>{}</p>", lines.join("<br>"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        match name {
            "title" => Some("Ana mentioned you".into()),
            "content" => Some("<b>hi</b> & welcome".into()),
            "url" => Some("https://chat.example/w/1/c/2".into()),
            _ => None,
        }
    }

    #[test]
    fn variables_are_filled_and_unknown_ones_left_empty() {
        assert_eq!(
            render("{{ title }}: {{content}}{{nope}}!", &vars),
            "Ana mentioned you: <b>hi</b> & welcome!"
        );
        assert_eq!(render("no variables", &vars), "no variables");
        assert_eq!(render("unclosed {{title", &vars), "unclosed {{title");
    }

    #[test]
    fn html_escapes_values_not_the_template() {
        assert_eq!(render_html("<p>{{content}}</p>", &vars), "<p>&lt;b&gt;hi&lt;/b&gt; &amp; welcome</p>");
    }

    #[test]
    fn malformed_templates_say_where() {
        assert_eq!(variables("a {{x}} b {{ y_2 }}").unwrap(), ["x", "y_2"]);
        assert_eq!(variables("a {{x").unwrap_err(), TemplateError::Unclosed(2));
        assert!(variables("{{a b}}").unwrap_err().to_string().contains("letters, digits and _"));
    }

    #[test]
    fn text_becomes_paragraphs_with_links() {
        assert_eq!(
            text_to_html("Hi <you>\nline\n\nOpen: https://x.example/a?b=1&c=2\n"),
            "<p>Hi &lt;you&gt;<br>line</p><p>Open: <a href=\"https://x.example/a?b=1&amp;c=2\">https://x.example/a?b=1&amp;c=2</a></p>"
        );
    }

    #[test]
    fn every_type_has_a_builtin_per_channel_and_they_parse() {
        let all = builtins();
        assert_eq!(all.len(), KINDS.len() * 3 + 1);
        for t in all {
            variables(&t.subject).unwrap();
            variables(&t.body).unwrap();
        }
    }
}
