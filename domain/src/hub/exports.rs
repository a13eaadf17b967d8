//! Compliance exports (deployment administrators): asked for by date
//! range, workspaces, channels and people, or made daily; written by a
//! worker into the exports directory a channel's day at a time, with a
//! checkpoint that another node takes over from if this one stops.

use super::Hub;
use crate::error::{Error, Result, Thing};
use crate::export::zip::ZipWriter;
use crate::export::{self, DAY_MS, ExportChannel, ExportFormat, ExportMessage};
use crate::id::Id;
use crate::model::{ComplianceExport, SYSTEM_USER, UserSummary};
use crate::store::{ExportProgress, ExportRow};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tracing::Instrument;

/// How long a node's claim on an export lasts without a checkpoint.
const EXPORT_LEASE_MS: i64 = 5 * 60 * 1000;
/// How often a running export records its checkpoint.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(2);
/// Messages read at a time.
const EXPORT_PAGE: i64 = 500;

/// An export as an administrator asks for it.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    pub format: ExportFormat,
    /// The first and last day (`YYYY-MM-DD`, UTC) of messages to export.
    pub from: String,
    pub to: String,
    /// Limits (empty: everything).
    pub workspaces: Vec<Id>,
    pub channels: Vec<Id>,
    pub users: Vec<Id>,
    /// People named by username (the form's way), besides `users`.
    pub usernames: Vec<String>,
    /// Channels named (the form's way, `#` optional), besides `channels`:
    /// in the one workspace `workspaces` names.
    pub channel_names: Vec<String>,
}

/// How a call to [`Hub::run_exports`] went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportOutcome {
    /// No export is waiting (or other nodes have them).
    Idle,
    /// The step budget ran out first; the next call goes on.
    Unfinished(Id),
    /// An export was finished (or failed, and said why).
    Finished { id: Id, failed: bool },
}

/// A day (`YYYY-MM-DD`) as its first millisecond (UTC).
fn parse_day(field: &'static str, text: &str) -> Result<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(text.trim(), &format)
        .map_err(|_| Error::invalid(field, "Give a date as YYYY-MM-DD, such as 2026-01-31."))?;
    Ok(date.midnight().assume_utc().unix_timestamp() * 1000)
}

fn id_list(ids: &[Id]) -> String {
    ids.iter().map(|id| id.to_string()).collect::<Vec<_>>().join(",")
}

fn parse_ids(text: &str) -> Vec<Id> {
    text.split(',').filter_map(|t| t.parse::<i64>().ok()).map(Id).collect()
}

impl Hub {
    /// Asks for a compliance export (deployment administrators); the
    /// export worker writes it. Audited.
    pub async fn request_export(&self, actor: Id, req: ExportRequest) -> Result<ComplianceExport> {
        self.deployment_admin(actor).await?;
        let from = parse_day("from", &req.from)?;
        let to = parse_day("to", &req.to)?;
        if to < from {
            return Err(Error::invalid("to", "The last day comes before the first. Swap them."));
        }
        if from > crate::now_ms() {
            return Err(Error::invalid("from", "The first day is in the future: nothing was posted yet."));
        }
        for ws in &req.workspaces {
            self.store.workspace(*ws).await?.ok_or(Error::NotFound(Thing::Workspace))?;
        }
        for ch in &req.channels {
            self.store.channel(*ch).await?.ok_or(Error::NotFound(Thing::Channel))?;
        }
        let mut channels = req.channels.clone();
        channels.extend(self.channels_named(&req.workspaces, &req.channel_names).await?);
        let mut users = req.users.clone();
        for id in &req.users {
            self.store.user(*id).await?.ok_or(Error::NotFound(Thing::User))?;
        }
        for name in &req.usernames {
            let user =
                self.store.user_by_username(name.trim().trim_start_matches('@')).await?.ok_or_else(|| {
                    Error::invalid("usernames", format!("No one is called @{name}. Check the spelling."))
                })?;
            users.push(user.id);
        }
        users.sort();
        users.dedup();
        let row = new_row(actor, req.format, from, to + DAY_MS, &req.workspaces, &channels, &users, None);
        let summary = format!(
            "Asked for a {} export of {} to {}{}",
            req.format.as_str().to_uppercase(),
            req.from.trim(),
            req.to.trim(),
            limits(&req.workspaces, &channels, &users)
        );
        self.store.insert_export(&row, Some(&summary)).await?;
        self.exports_wanted.notify_one();
        self.export_view(row).await
    }

    /// Compliance exports, newest first (deployment administrators).
    pub async fn compliance_exports(&self, actor: Id) -> Result<Vec<ComplianceExport>> {
        self.deployment_admin(actor).await?;
        let mut out = Vec::new();
        for row in self.store.exports(200).await? {
            out.push(self.export_view(row).await?);
        }
        Ok(out)
    }

    /// One compliance export (deployment administrators).
    pub async fn compliance_export(&self, actor: Id, id: Id) -> Result<ComplianceExport> {
        self.deployment_admin(actor).await?;
        let row = self.store.export(id).await?.ok_or(Error::NotFound(Thing::Export))?;
        self.export_view(row).await
    }

    /// Where a finished export's archive is, to download it (deployment
    /// administrators), and its file name. With `audit`, the download is
    /// noted in the deployment's audit log (a resumed download is not again).
    pub async fn export_archive(&self, actor: Id, id: Id, audit: bool) -> Result<(PathBuf, String)> {
        self.deployment_admin(actor).await?;
        let row = self.store.export(id).await?.ok_or(Error::NotFound(Thing::Export))?;
        if row.state != "done" {
            return Err(Error::conflict("state", "This export is not finished yet. Download it once it is."));
        }
        if audit {
            let summary = format!("Downloaded the compliance export {}", row.file_name);
            self.store.audit_export_download(id, actor, &summary).await?;
        }
        Ok((self.exports_dir().join(&row.file_name), row.file_name))
    }

    /// Deletes a compliance export and its archive (one still running
    /// stops). Audited.
    pub async fn delete_export(&self, actor: Id, id: Id) -> Result<()> {
        self.deployment_admin(actor).await?;
        let row = self.store.export(id).await?.ok_or(Error::NotFound(Thing::Export))?;
        let summary = format!("Deleted the compliance export {}", row.file_name);
        let file =
            self.store.remove_export(id, actor, &summary).await?.ok_or(Error::NotFound(Thing::Export))?;
        self.remove_archive(&file).await;
        Ok(())
    }

    async fn remove_archive(&self, file: &str) {
        let path = self.exports_dir().join(file);
        self.files.remove(vec![path.clone()]).await;
        if let Err(e) = export::zip::remove_spool(&path) {
            tracing::warn!(path = %path.display(), error = %e, "could not remove an export's spooled directory");
        }
    }

    /// The daily export's format, if it is on (deployment administrators).
    pub async fn daily_export(&self, actor: Id) -> Result<Option<ExportFormat>> {
        self.deployment_admin(actor).await?;
        self.daily_export_format().await
    }

    async fn daily_export_format(&self) -> Result<Option<ExportFormat>> {
        Ok(self.store.deployment_setting("daily_export").await?.as_deref().and_then(ExportFormat::parse))
    }

    /// Turns the daily export on (in `format`) or off. Each day after
    /// midnight (UTC) it exports the day before, everywhere. Audited.
    pub async fn set_daily_export(&self, actor: Id, format: Option<ExportFormat>) -> Result<()> {
        self.deployment_admin(actor).await?;
        let summary = match format {
            Some(f) => format!("Turned the daily {} export on", f.as_str().to_uppercase()),
            None => "Turned the daily export off".to_string(),
        };
        let settings = [("daily_export", Some(format.map_or("off", |f| f.as_str()).to_string()))];
        self.store.set_deployment_settings(&settings, actor, "settings.daily_export", &summary).await?;
        self.exports_wanted.notify_one();
        Ok(())
    }

    /// The deployment's workspaces (id and name), to limit an export to
    /// one (deployment administrators).
    pub async fn export_workspaces(&self, actor: Id) -> Result<Vec<(Id, String)>> {
        self.deployment_admin(actor).await?;
        self.store.all_workspaces().await
    }

    /// Rings when an export is asked for on this node.
    pub fn exports_wanted(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.exports_wanted.clone()
    }

    fn exports_dir(&self) -> PathBuf {
        self.compliance.exports_dir.clone()
    }

    /// Works the exports, as at `now`: queues the daily export when it is
    /// on and due, then claims the oldest unfinished export (one waiting,
    /// or one whose node stopped) and writes it from its checkpoint, at
    /// most `max_days` channel-days (all if `None`). Safe on any number of
    /// nodes.
    pub async fn run_exports(&self, now: i64, max_days: Option<usize>) -> Result<ExportOutcome> {
        if let Some(format) = self.daily_export_format().await? {
            // Each day once, even if its export is deleted afterwards.
            let day = now.div_euclid(DAY_MS) * DAY_MS - DAY_MS;
            let last = self.store.deployment_setting("daily_export_day").await?;
            if last.and_then(|d| d.parse::<i64>().ok()).is_none_or(|last| day > last) {
                let row = new_row(SYSTEM_USER, format, day, day + DAY_MS, &[], &[], &[], Some(day));
                if self.store.insert_export(&row, None).await? {
                    tracing::info!(day = %export::day_of(day), "queued the daily export");
                }
            }
        }
        let Some(row) = self.store.claim_export(self.node, now, now + EXPORT_LEASE_MS).await? else {
            return Ok(ExportOutcome::Idle);
        };
        let id = Id(row.id);
        let span = tracing::info_span!("compliance export", export = %id, format = %row.format);
        async {
            match self.write_export(&row, max_days).await {
                Ok(outcome) => Ok(outcome),
                Err(e) => {
                    tracing::warn!(error = ?e, "a compliance export failed");
                    let p = row.progress();
                    let message = format!("The export stopped: {e}");
                    let summary = format!("The compliance export {} failed: {e}", row.file_name);
                    self.store
                        .finish_export(id, self.node, &p, Some(&message), crate::now_ms(), &summary)
                        .await?;
                    self.remove_archive(&row.file_name).await;
                    Ok(ExportOutcome::Finished { id, failed: true })
                }
            }
        }
        .instrument(span)
        .await
    }

    /// Writes `row`'s archive from its checkpoint (see [`Hub::run_exports`]).
    async fn write_export(&self, row: &ExportRow, max_days: Option<usize>) -> Result<ExportOutcome> {
        let id = Id(row.id);
        let format =
            ExportFormat::parse(&row.format).ok_or_else(|| Error::internal("an unknown export format"))?;
        tokio::fs::create_dir_all(self.exports_dir()).await?;
        let path = self.exports_dir().join(&row.file_name);
        let mut p = row.progress();
        let mut zip = match p == ExportProgress::default() {
            true => ZipWriter::create(&path)?,
            false => match ZipWriter::resume(&path, p.checkpoint) {
                Ok(zip) => zip,
                Err(e) => {
                    // Its files are gone (another node's disk, or removed): start again.
                    tracing::warn!(error = %e, "starting an export again: its archive was not found as checkpointed");
                    p = ExportProgress::default();
                    ZipWriter::create(&path)?
                }
            },
        };
        let people: Vec<i64> = parse_ids(&row.user_ids).iter().map(|u| u.0).collect();
        let channels =
            self.store.export_channels(&parse_ids(&row.workspace_ids), &parse_ids(&row.channel_ids)).await?;
        let mut days = 0;
        let mut saved = Instant::now();
        let from_channel = p.next_channel;
        for ch in channels.iter().filter(|c| c.id >= from_channel) {
            if ch.id != p.next_channel {
                p.next_channel = ch.id;
                p.next_at = row.starts_at;
            }
            let authors = authors_in(ch, &people);
            while let Some(first) =
                self.store.next_export_message(ch.id, p.next_at, row.ends_at, &authors).await?
            {
                if max_days.is_some_and(|m| days >= m) {
                    self.save_progress(id, &mut zip, &p).await?;
                    return Ok(ExportOutcome::Unfinished(id));
                }
                let day_start = (first.div_euclid(DAY_MS) * DAY_MS).max(p.next_at);
                let day_end = ((first.div_euclid(DAY_MS) + 1) * DAY_MS).min(row.ends_at);
                let (messages, files) =
                    self.write_day(&mut zip, format, ch, day_start, day_end, &authors).await?;
                p.messages += messages;
                p.files += files;
                p.next_at = day_end;
                days += 1;
                if saved.elapsed() >= CHECKPOINT_EVERY {
                    if !self.save_progress(id, &mut zip, &p).await? {
                        return Ok(ExportOutcome::Idle);
                    }
                    saved = Instant::now();
                }
            }
            // The next channel starts at the beginning (its id may be this one's + 1).
            p.next_channel = Id(ch.id.0 + 1);
            p.next_at = row.starts_at;
        }
        self.write_manifest(&mut zip, row, &channels, &people, &p).await?;
        p.checkpoint.archive_len = zip.finish()?;
        let summary = format!(
            "Finished the compliance export {}: {} messages, {} files, {}",
            row.file_name,
            p.messages,
            p.files,
            crate::files::human_size(p.checkpoint.archive_len)
        );
        if !self.store.finish_export(id, self.node, &p, None, crate::now_ms(), &summary).await? {
            // Deleted meanwhile (or taken over): nothing to keep.
            return Ok(ExportOutcome::Idle);
        }
        tracing::info!(messages = p.messages, files = p.files, "compliance export finished");
        Ok(ExportOutcome::Finished { id, failed: false })
    }

    /// Makes what the archive holds durable, then records the checkpoint
    /// (and renews the claim): `false` if the export is no longer this
    /// node's, or was deleted.
    async fn save_progress(&self, id: Id, zip: &mut ZipWriter, p: &ExportProgress) -> Result<bool> {
        let mut p = *p;
        p.checkpoint = zip.checkpoint()?;
        let handles = zip.sync_handles()?;
        tokio::task::spawn_blocking(move || handles.iter().try_for_each(|f| f.sync_data()))
            .await
            .map_err(|e| Error::internal(format!("syncing an export: {e}")))??;
        let now = crate::now_ms();
        self.store.save_export_progress(id, self.node, now + EXPORT_LEASE_MS, &p).await
    }

    /// Writes one channel's messages from `from` to before `to` (one day):
    /// returns how many messages and attachments went in.
    async fn write_day(
        &self,
        zip: &mut ZipWriter,
        format: ExportFormat,
        ch: &ExportChannel,
        from: i64,
        to: i64,
        authors: &[i64],
    ) -> Result<(i64, i64)> {
        let day = export::day_of(from);
        let folder = ch.folder();
        let (mut messages, mut files) = (0, 0);
        let mut attachments = Vec::new();
        match format {
            ExportFormat::Json => zip.begin(&format!("{folder}/{day}.json"), from, true)?,
            ExportFormat::Csv => {
                zip.begin(&format!("{folder}/{day}.csv"), from, true)?;
                zip.write(export::CSV_HEADER.as_bytes())?;
            }
            ExportFormat::Eml => {}
        }
        let mut after = Id(0);
        loop {
            let page = self.store.export_messages(ch.id, from, to, after, authors, EXPORT_PAGE).await?;
            for m in &page {
                match format {
                    ExportFormat::Json => {
                        zip.write(if messages == 0 { b"[\n" } else { b",\n" })?;
                        zip.write(&export::json_message(m, ch))?;
                    }
                    ExportFormat::Csv => zip.write(export::csv_rows(m, ch).as_bytes())?,
                    ExportFormat::Eml => files += self.write_eml(zip, m, ch, &folder, &day).await?,
                }
                // An encrypted message's files are listed, not copied.
                if format != ExportFormat::Eml && !m.encrypted {
                    attachments.extend(m.attachments.iter().cloned());
                }
                messages += 1;
            }
            match page.last() {
                Some(last) if page.len() as i64 == EXPORT_PAGE => after = last.id,
                _ => break,
            }
        }
        match format {
            ExportFormat::Json => {
                zip.write(if messages == 0 { b"[]\n" } else { b"\n]\n" })?;
                zip.end()?;
            }
            ExportFormat::Csv => zip.end()?,
            ExportFormat::Eml => {}
        }
        for a in &attachments {
            if self.copy_attachment(zip, &export::attachment_path(ch, a), a).await? {
                files += 1;
            }
        }
        Ok((messages, files))
    }

    /// One message as an email; returns how many of its attachments it holds.
    async fn write_eml(
        &self,
        zip: &mut ZipWriter,
        m: &ExportMessage,
        ch: &ExportChannel,
        folder: &str,
        day: &str,
    ) -> Result<i64> {
        let mut bytes = Vec::with_capacity(m.attachments.len());
        for a in m.attachments.iter().filter(|_| !m.encrypted) {
            let opened = self.files.open(a.id, self.store.keys()).await;
            bytes.push(match opened {
                Ok(file) => file.read_to_end().await.ok(),
                Err(_) => None,
            });
        }
        let host = self.mail_host();
        zip.add(
            &format!("{folder}/{day}/{}.eml", m.id),
            m.created_at,
            true,
            &export::eml(m, ch, &host, &bytes),
        )?;
        Ok(bytes.iter().filter(|b| b.is_some()).count() as i64)
    }

    /// Copies an attachment's file into the archive as `name`, a piece at a
    /// time: `false` if its file is gone.
    async fn copy_attachment(
        &self,
        zip: &mut ZipWriter,
        name: &str,
        a: &crate::model::Attachment,
    ) -> Result<bool> {
        let Ok(mut file) = self.files.open(a.id, self.store.keys()).await else {
            tracing::warn!(attachment = %a.id, "an attachment's file is missing: left out of the export");
            return Ok(false);
        };
        // Most attachments (images, PDFs, archives) are compressed already.
        zip.begin(name, a.created_at, false)?;
        while let Some(piece) = file.next_piece().await? {
            zip.write(&piece)?;
        }
        zip.end()?;
        Ok(true)
    }

    /// The host name emails of an export are addressed at: this
    /// deployment's public address's.
    fn mail_host(&self) -> String {
        url::Url::parse(&self.public_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| "parley.invalid".to_string())
    }

    /// `export.json`, `channels.json` and `users.json`.
    async fn write_manifest(
        &self,
        zip: &mut ZipWriter,
        row: &ExportRow,
        channels: &[ExportChannel],
        people: &[i64],
        p: &ExportProgress,
    ) -> Result<()> {
        let mut authors = std::collections::BTreeSet::new();
        for ch in channels {
            authors.extend(
                self.store.export_authors(ch.id, row.starts_at, row.ends_at, &authors_in(ch, people)).await?,
            );
        }
        let authors: Vec<i64> = authors.into_iter().collect();
        let users: Vec<serde_json::Value> = self
            .store
            .export_people(&authors)
            .await?
            .into_iter()
            .map(|(u, email)| {
                serde_json::json!({
                    "id": u.id.to_string(), "name": u.username, "real_name": u.display_name,
                    "email": email, "is_bot": u.is_bot,
                })
            })
            .collect();
        let view = self.export_view(row.clone()).await?;
        let manifest = serde_json::json!({
            "export": view.id.to_string(),
            "format": view.format,
            "from": view.from,
            "to": view.to,
            "workspace_ids": view.workspace_ids.iter().map(Id::to_string).collect::<Vec<_>>(),
            "channel_ids": view.channel_ids.iter().map(Id::to_string).collect::<Vec<_>>(),
            "user_ids": view.user_ids.iter().map(Id::to_string).collect::<Vec<_>>(),
            "requested_by": view.requested_by.username,
            "daily": view.daily,
            "messages": p.messages,
            "files": p.files,
            "created_at": export::rfc3339(row.created_at),
            "written_at": export::rfc3339(crate::now_ms()),
        });
        let now = crate::now_ms();
        let pretty = |v: &serde_json::Value| serde_json::to_vec_pretty(v).unwrap_or_default();
        zip.add("export.json", now, true, &pretty(&manifest))?;
        zip.add("channels.json", now, true, &serde_json::to_vec_pretty(channels).unwrap_or_default())?;
        zip.add("users.json", now, true, &pretty(&serde_json::Value::Array(users)))?;
        Ok(())
    }

    /// An export as its administrators see it.
    async fn export_view(&self, row: ExportRow) -> Result<ComplianceExport> {
        let requested_by = match self.store.user(Id(row.requested_by)).await? {
            Some(u) => UserSummary::from(&u),
            None => UserSummary {
                id: Id(row.requested_by),
                username: String::new(),
                display_name: String::new(),
                is_bot: false,
            },
        };
        Ok(ComplianceExport {
            id: Id(row.id),
            format: row.format,
            from: export::day_of(row.starts_at),
            to: export::day_of(row.ends_at - 1),
            workspace_ids: parse_ids(&row.workspace_ids),
            channel_ids: parse_ids(&row.channel_ids),
            user_ids: parse_ids(&row.user_ids),
            daily: row.scheduled_day.is_some(),
            state: row.state,
            error: row.error,
            messages: row.messages,
            files: row.files,
            bytes: row.archive_len,
            file_name: row.file_name,
            requested_by,
            created_at: row.created_at,
            finished_at: row.finished_at,
        })
    }
}

/// Whose messages of `ch` an export limited to `people` takes: all of a
/// direct conversation one of them is in, else only theirs (none: everyone's).
fn authors_in(ch: &ExportChannel, people: &[i64]) -> Vec<i64> {
    let theirs = ch.kind == "direct" && ch.members.iter().any(|m| people.contains(&m.id.0));
    if theirs { Vec::new() } else { people.to_vec() }
}

#[allow(clippy::too_many_arguments)]
fn new_row(
    by: Id,
    format: ExportFormat,
    starts_at: i64,
    ends_at: i64,
    workspaces: &[Id],
    channels: &[Id],
    users: &[Id],
    scheduled_day: Option<i64>,
) -> ExportRow {
    let id = Id::new();
    let file_name = format!(
        "parley-{}-export-{}-to-{}-{id}.zip",
        format.as_str(),
        export::day_of(starts_at),
        export::day_of(ends_at - 1)
    );
    ExportRow {
        id: id.0,
        requested_by: by.0,
        format: format.as_str().to_string(),
        starts_at,
        ends_at,
        workspace_ids: id_list(workspaces),
        channel_ids: id_list(channels),
        user_ids: id_list(users),
        scheduled_day,
        state: "pending".to_string(),
        error: String::new(),
        file_name,
        next_channel: 0,
        next_at: 0,
        archive_len: 0,
        directory_len: 0,
        entries: 0,
        messages: 0,
        files: 0,
        claimed_by: 0,
        claimed_until: 0,
        created_at: id.timestamp_ms(),
        finished_at: None,
    }
}

/// What an export is limited to, in words (for the audit log).
fn limits(workspaces: &[Id], channels: &[Id], users: &[Id]) -> String {
    let mut parts = Vec::new();
    let count = |n: usize, one: &str| if n == 1 { format!("1 {one}") } else { format!("{n} {one}s") };
    if !workspaces.is_empty() {
        parts.push(count(workspaces.len(), "workspace"));
    }
    if !channels.is_empty() {
        parts.push(count(channels.len(), "channel"));
    }
    if !users.is_empty() {
        parts.push(if users.len() == 1 { "1 person".to_string() } else { format!("{} people", users.len()) });
    }
    if parts.is_empty() { String::new() } else { format!(", limited to {}", parts.join(", ")) }
}
