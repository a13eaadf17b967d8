//! Compliance exports: what an export holds and how each format writes it.
//!
//! An export covers the messages posted in a date range (UTC days) in the
//! chosen workspaces and channels, optionally only those of some people
//! (what they wrote, and every message of the direct conversations they
//! are in), each with its later edits and deletes as far as they were kept
//! (compliance archiving, legal holds). It is a zip ([`zip`]):
//!
//! - `json`: Slack's export layout: `channels.json` and `users.json`, then
//!   `<workspace>/<channel>/<YYYY-MM-DD>.json`, one array of messages per
//!   channel per day, with attachments under `<workspace>/<channel>/files/`.
//! - `csv`: `<workspace>/<channel>/<YYYY-MM-DD>.csv`, one row per message
//!   event (posted, edited, deleted), every file with the same columns
//!   ([`CSV_HEADER`]) so that they concatenate; attachments as for JSON.
//! - `eml`: `<workspace>/<channel>/<YYYY-MM-DD>/<message id>.eml`, one
//!   email per message with its attachments inside, as archiving services
//!   ingest them.
//!
//! Every export also holds `export.json`: what was asked for, and counts.
//!
//! The messages of end-to-end encrypted conversations are there with their
//! author, times, thread and history, but their text is [`ENCRYPTED_TEXT`]:
//! the server holds only ciphertext it cannot read, and exports none of it.

pub mod zip;

use crate::id::Id;
use crate::model::{Attachment, UserSummary};
use serde::Serialize;

pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// What an export says in place of an end-to-end encrypted message's text.
pub const ENCRYPTED_TEXT: &str = "(end-to-end encrypted: only its readers' devices can read it)";

/// The format of a compliance export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Json,
    Csv,
    Eml,
}

impl ExportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Json => "json",
            ExportFormat::Csv => "csv",
            ExportFormat::Eml => "eml",
        }
    }

    pub fn parse(text: &str) -> Option<ExportFormat> {
        match text {
            "json" => Some(ExportFormat::Json),
            "csv" => Some(ExportFormat::Csv),
            "eml" => Some(ExportFormat::Eml),
            _ => None,
        }
    }
}

/// A channel as an export names it.
#[derive(Debug, Clone, Serialize)]
pub struct ExportChannel {
    #[serde(serialize_with = "as_text")]
    pub id: Id,
    #[serde(serialize_with = "as_text")]
    pub workspace_id: Id,
    pub workspace_name: String,
    pub name: String,
    /// `public`, `private` or `direct`.
    pub kind: String,
    pub topic: String,
    pub created_at: i64,
    /// The people of a direct conversation (empty for other channels).
    pub members: Vec<UserSummary>,
    /// Whether its messages are end-to-end encrypted (from when it was
    /// encrypted on): exported without their text.
    pub end_to_end: bool,
}

impl ExportChannel {
    /// Where its files go in the archive: `<workspace>/<channel>`, the
    /// workspace's id beside its name (names are not unique across a
    /// deployment), a direct conversation as `direct-<id>`.
    pub fn folder(&self) -> String {
        let channel = match self.kind.as_str() {
            "direct" => format!("direct-{}", self.id),
            _ => safe_name(&self.name),
        };
        format!("{}-{}/{channel}", safe_name(&self.workspace_name), self.workspace_id)
    }
}

/// A name made safe as one path segment of an archive.
fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim().trim_matches('.').to_string();
    if cleaned.is_empty() { "_".to_string() } else { cleaned }
}

/// An earlier version of a message, as kept.
#[derive(Debug, Clone)]
pub struct KeptVersion {
    pub body: String,
    /// `edited` or `deleted`.
    pub change: String,
    pub changed_by: Id,
    pub changed_at: i64,
}

/// A message as an export reads it: deleted ones too, with what was kept.
#[derive(Debug, Clone)]
pub struct ExportMessage {
    pub id: Id,
    pub channel_id: Id,
    pub author: UserSummary,
    pub author_email: String,
    /// What it says now (empty once deleted).
    pub body: String,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub deleted_at: Option<i64>,
    pub thread_id: Option<Id>,
    /// The name an incoming webhook's post showed instead of its bot's.
    pub shown_name: String,
    pub attachments: Vec<Attachment>,
    pub versions: Vec<KeptVersion>,
    /// End-to-end encrypted: its text is [`ENCRYPTED_TEXT`], and its files
    /// are listed without their bytes (ciphertext nobody here can open).
    pub encrypted: bool,
}

/// One thing that happened to a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageEvent {
    /// `posted`, `edited` or `deleted`.
    pub event: &'static str,
    pub at: i64,
    /// The text it had from then on (for `deleted`: what it said when
    /// deleted, if that was kept).
    pub text: String,
    /// Who did it (the author posts; an edit or delete names who made it
    /// when that was kept).
    #[serde(serialize_with = "as_text")]
    pub by: Id,
}

impl ExportMessage {
    /// What happened to it, in order: posted, then each edit and its delete.
    /// Edits and deletes made while nothing kept versions show without the
    /// text they replaced.
    pub fn history(&self) -> Vec<MessageEvent> {
        let current = |i: usize| match self.versions.get(i + 1) {
            Some(next) => next.body.clone(),
            None => self.body.clone(),
        };
        let posted = match self.versions.first() {
            Some(v) => v.body.clone(),
            None => self.body.clone(),
        };
        let mut out =
            vec![MessageEvent { event: "posted", at: self.created_at, text: posted, by: self.author.id }];
        for (i, v) in self.versions.iter().enumerate() {
            out.push(match v.change.as_str() {
                "deleted" => MessageEvent {
                    event: "deleted",
                    at: v.changed_at,
                    text: v.body.clone(),
                    by: v.changed_by,
                },
                _ => MessageEvent { event: "edited", at: v.changed_at, text: current(i), by: v.changed_by },
            });
        }
        let kept = |change: &str| self.versions.iter().any(|v| v.change == change);
        if let Some(at) = self.edited_at.filter(|_| !kept("edited")) {
            let text = if self.deleted_at.is_some() { String::new() } else { self.body.clone() };
            out.push(MessageEvent { event: "edited", at, text, by: self.author.id });
        }
        if let Some(at) = self.deleted_at.filter(|_| !kept("deleted")) {
            out.push(MessageEvent { event: "deleted", at, text: String::new(), by: self.author.id });
        }
        out.sort_by_key(|e| (e.at, e.event != "posted"));
        out
    }
}

/// Where an attachment goes in a JSON or CSV export.
pub fn attachment_path(channel: &ExportChannel, a: &Attachment) -> String {
    format!("{}/files/{}-{}", channel.folder(), a.id, safe_name(&a.file_name))
}

/// What an export says in place of an end-to-end encrypted message's file.
pub fn encrypted_file(a: &Attachment) -> String {
    format!("(an end-to-end encrypted file of {} bytes: only its readers' devices can open it)", a.size)
}

impl ExportMessage {
    /// Where each of its files is in the archive, or for an encrypted
    /// message what stands in its place (it is not in the archive).
    fn file_places(&self, channel: &ExportChannel) -> Vec<String> {
        let place = |a| match self.encrypted {
            true => encrypted_file(a),
            false => attachment_path(channel, a),
        };
        self.attachments.iter().map(place).collect()
    }
}

/// The day (`YYYY-MM-DD`, UTC) of a time.
pub fn day_of(ms: i64) -> String {
    let t = utc(ms);
    format!("{:04}-{:02}-{:02}", t.year(), t.month() as u8, t.day())
}

/// A time as RFC 3339 in UTC, to the millisecond.
pub fn rfc3339(ms: i64) -> String {
    let t = utc(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

fn utc(ms: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// Slack's `ts`: seconds with six decimals.
fn slack_ts(ms: i64) -> String {
    format!("{}.{:03}000", ms.div_euclid(1000), ms.rem_euclid(1000))
}

fn as_text<S: serde::Serializer>(id: &Id, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&id.to_string())
}

/// One message of a JSON export's day file, as Slack's export writes it
/// (`type`, `user`, `text`, `ts`, `thread_ts`, `edited`, `files`), with
/// Parley's own fields beside.
#[derive(Serialize)]
struct JsonMessage<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(serialize_with = "as_text")]
    id: Id,
    ts: String,
    user: String,
    user_name: &'a str,
    user_display_name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    username: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    bot: bool,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    thread_ts: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    edited: Option<Edited>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted_ts: Option<String>,
    files: Vec<JsonFile>,
    history: Vec<MessageEvent>,
}

#[derive(Serialize)]
struct Edited {
    ts: String,
}

#[derive(Serialize)]
struct JsonFile {
    id: String,
    name: String,
    mimetype: String,
    size: i64,
    /// Where it is in this archive (or, for an encrypted message's file,
    /// which is not, why).
    path: String,
}

/// A message as one element of a JSON day file.
pub fn json_message(m: &ExportMessage, channel: &ExportChannel) -> Vec<u8> {
    let message = JsonMessage {
        kind: "message",
        id: m.id,
        ts: slack_ts(m.created_at),
        user: m.author.id.to_string(),
        user_name: &m.author.username,
        user_display_name: &m.author.display_name,
        username: &m.shown_name,
        bot: m.author.is_bot,
        text: &m.body,
        thread_ts: m.thread_id.map(|t| slack_ts(t.timestamp_ms())),
        edited: m.edited_at.map(|at| Edited { ts: slack_ts(at) }),
        deleted_ts: m.deleted_at.map(slack_ts),
        files: m
            .attachments
            .iter()
            .zip(m.file_places(channel))
            .map(|(a, path)| JsonFile {
                id: a.id.to_string(),
                name: a.file_name.clone(),
                mimetype: a.content_type.clone(),
                size: a.size,
                path,
            })
            .collect(),
        history: m.history(),
    };
    serde_json::to_vec_pretty(&message).unwrap_or_default()
}

/// The columns of every CSV file of an export.
pub const CSV_HEADER: &str = "event,at,workspace,channel_id,channel,channel_kind,message_id,thread_id,\
author_id,author_username,author_name,by_id,text,attachments\r\n";

/// A message's rows in a CSV export: one per event.
pub fn csv_rows(m: &ExportMessage, channel: &ExportChannel) -> String {
    let mut out = String::new();
    let files = m.file_places(channel);
    for e in m.history() {
        let fields = [
            e.event.to_string(),
            rfc3339(e.at),
            channel.workspace_name.clone(),
            channel.id.to_string(),
            channel.name.clone(),
            channel.kind.clone(),
            m.id.to_string(),
            m.thread_id.map(|t| t.to_string()).unwrap_or_default(),
            m.author.id.to_string(),
            m.author.username.clone(),
            m.author.display_name.clone(),
            e.by.to_string(),
            e.text,
            if e.event == "posted" { files.join("; ") } else { String::new() },
        ];
        let cells: Vec<String> = fields.iter().map(|f| csv_cell(f)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

/// A CSV cell (RFC 4180): quoted when it holds a comma, quote or line
/// break. The text is kept as written, as evidence must be: open these
/// files in a spreadsheet with formulas off.
pub(crate) fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// A message as an email (RFC 5322, MIME): from its author, to its
/// channel, dated when it was posted, a reply's `In-Reply-To` its thread;
/// the text as posted, its history below, and its attachments (`files`:
/// each attachment's bytes, in order; a missing file is left out and said so).
pub fn eml(m: &ExportMessage, channel: &ExportChannel, host: &str, files: &[Option<Vec<u8>>]) -> Vec<u8> {
    use lettre::message::header::{ContentType, HeaderName, HeaderValue};
    use lettre::message::{Attachment as MailAttachment, Mailbox, MultiPart, SinglePart};
    let address = |local: &str| format!("{local}@{host}").parse().ok();
    let from_address = m.author_email.parse().ok().or_else(|| address(&m.author.username));
    let from = Mailbox::new(
        Some(m.author.display_name.clone()),
        from_address.unwrap_or_else(|| address("unknown").expect("valid")),
    );
    let to_name = match channel.kind.as_str() {
        "direct" => format!("Direct conversation {}", channel.id),
        _ => format!("#{} ({})", channel.name, channel.workspace_name),
    };
    let to = Mailbox::new(Some(to_name), address(&format!("channel-{}", channel.id)).expect("valid"));
    let history = m.history();
    let first_line = history[0].text.lines().next().unwrap_or("").chars().take(70).collect::<String>();
    let subject = match channel.kind.as_str() {
        "direct" => format!("Direct message: {first_line}"),
        _ => format!("#{}: {first_line}", channel.name),
    };
    let mut text = history[0].text.clone();
    if history.len() > 1 {
        text.push_str("\n\n-- \nHistory:\n");
        for e in &history[1..] {
            let what = if e.text.is_empty() { String::from("(text not kept)") } else { e.text.clone() };
            text.push_str(&format!("{} {}: {what}\n", rfc3339(e.at), e.event));
        }
    }
    let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(text));
    for (i, a) in m.attachments.iter().enumerate() {
        let part = match files.get(i).and_then(Option::as_ref) {
            Some(bytes) => {
                let kind = ContentType::parse(&a.content_type).unwrap_or(ContentType::TEXT_PLAIN);
                MailAttachment::new(a.file_name.clone()).body(bytes.clone(), kind)
            }
            None if m.encrypted => SinglePart::plain(encrypted_file(a)),
            None => SinglePart::plain(format!("The file “{}” was not found on disk.", a.file_name)),
        };
        parts = parts.singlepart(part);
    }
    let header =
        |name: &'static str, value: String| HeaderValue::new(HeaderName::new_from_ascii_str(name), value);
    let mut builder = lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .date(std::time::UNIX_EPOCH + std::time::Duration::from_millis(m.created_at.max(0) as u64))
        .message_id(Some(format!("<{}@{host}>", m.id)))
        .raw_header(header("X-Parley-Workspace", channel.workspace_name.clone()))
        .raw_header(header("X-Parley-Channel", channel.name.clone()))
        .raw_header(header("X-Parley-Channel-Kind", channel.kind.clone()));
    if let Some(thread) = m.thread_id {
        builder = builder.in_reply_to(format!("<{thread}@{host}>")).references(format!("<{thread}@{host}>"));
    }
    if let Some(at) = m.deleted_at {
        builder = builder.raw_header(header("X-Parley-Deleted", rfc3339(at)));
    }
    match builder.multipart(parts) {
        Ok(mail) => mail.formatted(),
        Err(e) => format!("The message {} could not be written as an email: {e}\r\n", m.id).into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(
        versions: Vec<(&str, &str, i64)>,
        body: &str,
        edited: Option<i64>,
        deleted: Option<i64>,
    ) -> ExportMessage {
        ExportMessage {
            id: Id(10),
            channel_id: Id(2),
            author: UserSummary {
                id: Id(7),
                username: "ann".into(),
                display_name: "Ann".into(),
                is_bot: false,
            },
            author_email: "ann@example.com".into(),
            body: body.into(),
            created_at: 1_000,
            edited_at: edited,
            deleted_at: deleted,
            thread_id: None,
            shown_name: String::new(),
            attachments: Vec::new(),
            encrypted: false,
            versions: versions
                .into_iter()
                .map(|(body, change, at)| KeptVersion {
                    body: body.into(),
                    change: change.into(),
                    changed_by: Id(7),
                    changed_at: at,
                })
                .collect(),
        }
    }

    fn events(m: &ExportMessage) -> Vec<(&'static str, i64, String)> {
        m.history().into_iter().map(|e| (e.event, e.at, e.text)).collect()
    }

    #[test]
    fn kept_versions_give_each_edit_its_text_and_the_delete_what_was_there() {
        let m = message(
            vec![("first", "edited", 2_000), ("second", "deleted", 3_000)],
            "",
            Some(2_000),
            Some(3_000),
        );
        assert_eq!(
            events(&m),
            [
                ("posted", 1_000, "first".into()),
                ("edited", 2_000, "second".into()),
                ("deleted", 3_000, "second".into())
            ]
        );
    }

    #[test]
    fn an_edit_not_kept_shows_the_text_now() {
        let m = message(vec![], "now", Some(2_000), None);
        assert_eq!(events(&m), [("posted", 1_000, "now".into()), ("edited", 2_000, "now".into())]);
    }

    #[test]
    fn a_delete_not_kept_has_no_text() {
        let m = message(vec![], "", None, Some(5_000));
        assert_eq!(events(&m), [("posted", 1_000, String::new()), ("deleted", 5_000, String::new())]);
    }

    #[test]
    fn csv_cells_with_commas_quotes_and_lines_are_quoted() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a, \"b\"\nc"), "\"a, \"\"b\"\"\nc\"");
    }

    #[test]
    fn folders_are_safe_path_segments() {
        let ch = ExportChannel {
            id: Id(5),
            workspace_id: Id(9),
            workspace_name: "Acme/Ops".into(),
            name: "..".into(),
            kind: "public".into(),
            topic: String::new(),
            created_at: 0,
            members: Vec::new(),
            end_to_end: false,
        };
        assert_eq!(ch.folder(), "Acme_Ops-9/_");
    }
}
