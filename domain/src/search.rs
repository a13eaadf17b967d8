//! Search queries as people type them, and highlighted snippets of results.
//!
//! A query is free text plus filters: `in:#channel`, `from:@user`,
//! `has:file`, `before:YYYY-MM-DD`, `after:YYYY-MM-DD`. Every text term must occur in
//! the message (as a substring, case-insensitively), so partial words and
//! scripts without spaces are found. Which messages a person may search is
//! decided by the store query (their workspaces; public channels and private
//! channels they belong to), never by filtering results afterwards.

use crate::error::{Error, Result};

/// The most text terms one query may have.
const MAX_TERMS: usize = 8;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// Lower-cased text terms; all must occur.
    pub terms: Vec<String>,
    pub in_channel: Option<String>,
    pub from_user: Option<String>,
    /// Only messages written before this time (ms).
    pub before: Option<i64>,
    /// Only messages written at or after this time (ms).
    pub after: Option<i64>,
    /// Only messages with attachments (`has:file`).
    pub has_file: bool,
}

impl SearchQuery {
    pub fn parse(raw: &str) -> Result<Self> {
        let mut q = SearchQuery::default();
        for word in tokens(raw) {
            let lower = word.to_lowercase();
            if let Some(v) = lower.strip_prefix("in:") {
                q.in_channel = Some(v.trim_start_matches('#').to_string());
            } else if let Some(v) = lower.strip_prefix("from:") {
                q.from_user = Some(v.trim_start_matches('@').to_string());
            } else if let Some(v) = lower.strip_prefix("has:") {
                if !matches!(v, "file" | "files" | "attachment") {
                    return Err(Error::invalid(
                        "q",
                        format!("`{word}`: use has:file for messages with attachments."),
                    ));
                }
                q.has_file = true;
            } else if let Some(v) = lower.strip_prefix("before:") {
                q.before = Some(day_start(v, "before")?);
            } else if let Some(v) = lower.strip_prefix("after:") {
                q.after = Some(day_start(v, "after")? + 86_400_000);
            } else if is_filter(&lower) {
                return Err(Error::invalid(
                    "q",
                    format!(
                        "`{word}` is not a filter Parley knows. Use in:#channel, from:@user, \
                         has:file, before:YYYY-MM-DD or after:YYYY-MM-DD."
                    ),
                ));
            } else if !lower.is_empty() {
                q.terms.push(lower);
            }
        }
        if q.terms.len() > MAX_TERMS {
            return Err(Error::invalid("q", "Search for at most 8 words at a time."));
        }
        if q.terms.is_empty() && q.in_channel.is_none() && q.from_user.is_none() && !q.has_file {
            return Err(Error::invalid("q", "Type something to search for."));
        }
        Ok(q)
    }
}

/// Words, keeping "quoted phrases" together.
fn tokens(raw: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in raw.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                if !quoted && !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn is_filter(word: &str) -> bool {
    // `key:value`, but not a URL (`https://...`).
    word.split_once(':').is_some_and(|(k, v)| {
        !k.is_empty() && !v.is_empty() && !v.starts_with('/') && k.chars().all(|c| c.is_ascii_lowercase())
    })
}

/// Milliseconds at 00:00 UTC of a `YYYY-MM-DD` date.
fn day_start(s: &str, field: &'static str) -> Result<i64> {
    let bad = || Error::invalid("q", format!("`{field}:` takes a date like 2024-05-31."));
    let mut parts = s.splitn(3, '-');
    let (y, m, d) =
        (parts.next().ok_or_else(bad)?, parts.next().ok_or_else(bad)?, parts.next().ok_or_else(bad)?);
    let (y, m, d): (i64, i64, i64) =
        (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?);
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Ok((era * 146_097 + doe - 719_468) * 86_400_000)
}

/// A short, HTML-escaped excerpt of `body` around the first match, with
/// every occurrence of every term wrapped in `<mark>`.
pub fn highlight(body: &str, terms: &[String]) -> String {
    let chars: Vec<char> = body.chars().collect();
    let lower: Vec<char> = chars.iter().map(|c| c.to_lowercase().next().unwrap_or(*c)).collect();
    let terms: Vec<Vec<char>> = terms.iter().filter(|t| !t.is_empty()).map(|t| t.chars().collect()).collect();
    let mut marked = vec![false; chars.len()];
    let mut first = None;
    for term in &terms {
        if term.len() > lower.len() {
            continue;
        }
        for start in 0..=lower.len() - term.len() {
            if lower[start..start + term.len()] == term[..] {
                marked[start..start + term.len()].iter_mut().for_each(|m| *m = true);
                first = Some(first.map_or(start, |f: usize| f.min(start)));
            }
        }
    }
    const WINDOW: usize = 160;
    let from = first.map_or(0, |f| f.saturating_sub(40));
    let to = (from + WINDOW).min(chars.len());
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    let mut open = false;
    for i in from..to {
        if marked[i] != open {
            out.push_str(if marked[i] { "<mark>" } else { "</mark>" });
            open = marked[i];
        }
        crate::markdown::push_escaped(&mut out, chars[i]);
    }
    if open {
        out.push_str("</mark>");
    }
    if to < chars.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_filters_and_terms() {
        let q = SearchQuery::parse(
            r#"Deploy in:#Ops from:@Ana "release notes" after:2024-02-28 before:2024-03-02"#,
        )
        .unwrap();
        assert_eq!(q.terms, ["deploy", "release notes"]);
        assert_eq!(q.in_channel.as_deref(), Some("ops"));
        assert_eq!(q.from_user.as_deref(), Some("ana"));
        assert_eq!(q.after, Some(1_709_164_800_000), "the day after 2024-02-28 (leap year)");
        assert_eq!(q.before, Some(1_709_337_600_000), "2024-03-02 00:00 UTC");
        assert_eq!(SearchQuery::parse("   ").unwrap_err().field(), Some("q"));
        assert!(SearchQuery::parse("has:file").unwrap().has_file, "a filter alone is a query");
        assert!(SearchQuery::parse("has:pony x").unwrap_err().to_string().contains("has:file"));
        assert!(SearchQuery::parse("is:open x").unwrap_err().to_string().contains("not a filter"));
        assert!(SearchQuery::parse("before:yesterday").is_err());
        assert_eq!(SearchQuery::parse("会議").unwrap().terms, ["会議"]);
        assert_eq!(SearchQuery::parse("http://example.com").unwrap().terms, ["http://example.com"]);
    }

    #[test]
    fn highlights_escaped() {
        let terms = vec!["dep".to_string(), "<b>".to_string()];
        assert_eq!(
            highlight("Redeploy <b> & DEPloy", &terms),
            "Re<mark>dep</mark>loy <mark>&lt;b&gt;</mark> &amp; <mark>DEP</mark>loy"
        );
        let long = format!("{} needle {}", "a".repeat(300), "b".repeat(300));
        let h = highlight(&long, &["needle".to_string()]);
        assert!(h.starts_with('…') && h.ends_with('…') && h.contains("<mark>needle</mark>"));
        assert_eq!(highlight("明日の会議は10時", &["会議".to_string()]), "明日の<mark>会議</mark>は10時");
    }
}
