//! Compliance: who administers the deployment, retention policies (the
//! deployment's, a workspace's, a channel's) and the runs that apply them,
//! legal holds, and the deployment's audit log.

use super::Hub;
use crate::error::{Error, Result, Thing};
use crate::id::Id;
use crate::model::{DeploymentAuditEntry, HeldChannel, LegalHold, RetentionPolicy, SYSTEM_USER, UserSummary};
use crate::permissions;
use crate::store::{ChannelRetention, NewAudit, RetentionCount};
use std::time::Instant;
use tracing::Instrument;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// Longest retention a policy may set (a hundred years): more is "forever" (0).
pub const MAX_RETENTION_DAYS: i64 = 36_500;
/// Messages (or attachments) removed in one transaction.
const PURGE_BATCH: i64 = 500;
/// How long a node's claim on a retention run lasts without a batch.
const RUN_LEASE_MS: i64 = 5 * 60 * 1000;
/// How often a retention run starts.
pub const RETENTION_EVERY_MS: i64 = 60 * 60 * 1000;

/// What the configuration says about compliance.
#[derive(Debug, Clone, Default)]
pub struct ComplianceOptions {
    /// Usernames of deployment administrators besides the first account.
    pub admins: Vec<String>,
    /// The deployment's retention when its administrators set none.
    pub retention: RetentionPolicy,
    /// Where compliance exports are written (`exports/` in the data directory).
    pub exports_dir: std::path::PathBuf,
}

/// A new legal hold, as an administrator asks for it.
#[derive(Debug, Clone, Default)]
pub struct NewHold {
    pub name: String,
    pub reason: String,
    /// From when content is held (milliseconds since the epoch); `None`:
    /// everything they posted, however old.
    pub starts_at: Option<i64>,
    pub users: Vec<Id>,
    /// People named by username (the form's way), besides `users`.
    pub usernames: Vec<String>,
    pub channels: Vec<Id>,
    /// Channels named (the form's way, `#` optional), besides `channels`,
    /// in `workspace`.
    pub channel_names: Vec<String>,
    pub workspace: Option<Id>,
}

/// The deployment's retention: what its administrators set, and what the
/// configuration gives where they set nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeploymentRetention {
    pub set: RetentionPolicy,
    pub configured: RetentionPolicy,
}

impl DeploymentRetention {
    pub fn effective(self) -> RetentionPolicy {
        self.set.or(self.configured)
    }
}

/// A workspace's or channel's retention: its own, and what applies
/// (its own where set, else the level above's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionView {
    pub own: RetentionPolicy,
    pub effective: RetentionPolicy,
    /// Whether the person asking may change it.
    pub may_change: bool,
}

/// A workspace's retention with its channels' own: (channel, its own
/// policy, what applies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionSettings {
    pub workspace: RetentionView,
    pub channels: Vec<(Id, RetentionPolicy, RetentionPolicy)>,
}

/// How a retention run went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetentionOutcome {
    /// No run is due, or another node is working it.
    Idle,
    /// The batch budget ran out first; the next call goes on.
    Unfinished,
    /// The run finished: what it removed.
    Finished { messages: i64, files: i64 },
}

impl Hub {
    /// Whether `user` administers the deployment: its first account, or one
    /// the configuration names.
    pub async fn is_deployment_admin(&self, user: Id) -> Result<bool> {
        if self.store.is_deployment_admin(user).await? {
            return Ok(true);
        }
        if self.compliance.admins.is_empty() {
            return Ok(false);
        }
        let person = self.store.user(user).await?;
        Ok(person.is_some_and(|p| self.compliance.admins.iter().any(|a| a.eq_ignore_ascii_case(&p.username))))
    }

    pub(super) async fn deployment_admin(&self, user: Id) -> Result<()> {
        permissions::administer_deployment(self.is_deployment_admin(user).await?)
    }

    /// The deployment's retention (for its administrators).
    pub async fn deployment_retention(&self, actor: Id) -> Result<DeploymentRetention> {
        self.deployment_admin(actor).await?;
        self.deployment_policy().await
    }

    async fn deployment_policy(&self) -> Result<DeploymentRetention> {
        let days = |v: Option<String>| v.and_then(|v| v.parse::<i64>().ok());
        let set = RetentionPolicy {
            messages_days: days(self.store.deployment_setting("retention_days").await?),
            files_days: days(self.store.deployment_setting("file_retention_days").await?),
        };
        Ok(DeploymentRetention { set, configured: self.compliance.retention })
    }

    /// Sets the deployment's retention (`None`s: as configured). Audited.
    pub async fn set_deployment_retention(&self, actor: Id, policy: RetentionPolicy) -> Result<()> {
        self.deployment_admin(actor).await?;
        checked(policy)?;
        let text = |d: Option<i64>| d.map(|d| d.to_string());
        let settings = [
            ("retention_days", text(policy.messages_days)),
            ("file_retention_days", text(policy.files_days)),
        ];
        let summary = format!("Set the deployment's retention: {}", describe(policy));
        self.store.set_deployment_settings(&settings, actor, "settings.retention", &summary).await
    }

    /// A workspace's retention, for its members.
    pub async fn workspace_retention(&self, actor: Id, ws: Id) -> Result<RetentionView> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::view_workspace(facts)?;
        let own = self.store.workspace_retention(ws).await?.ok_or(Error::NotFound(Thing::Workspace))?;
        let outer = self.deployment_policy().await?.effective();
        let may_change = permissions::set_retention(facts).is_ok();
        Ok(RetentionView { own, effective: own.or(outer), may_change })
    }

    /// A workspace's retention and its channels' own (those that set one),
    /// each with what applies, for its members. Channels the reader cannot
    /// see are left out.
    pub async fn retention_settings(&self, actor: Id, ws: Id) -> Result<RetentionSettings> {
        let workspace = self.workspace_retention(actor, ws).await?;
        let (_, listed) = self.visible_listings(ws, actor).await?;
        let visible: std::collections::HashSet<Id> = listed.iter().map(|(l, _)| l.channel.id).collect();
        let channels = self
            .store
            .channel_policies(ws)
            .await?
            .into_iter()
            .filter(|(id, _)| visible.contains(id))
            .map(|(id, own)| (id, own, own.or(workspace.effective)))
            .collect();
        Ok(RetentionSettings { workspace, channels })
    }

    /// Sets a workspace's retention (its admins). Audited in the workspace.
    pub async fn set_workspace_retention(&self, actor: Id, ws: Id, policy: RetentionPolicy) -> Result<()> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::set_retention(facts)?;
        checked(policy)?;
        let summary = format!("Set the workspace's retention: {}", describe(policy));
        let audit = NewAudit {
            ws,
            actor,
            action: "workspace.retention",
            target_user: None,
            target_id: Some(ws),
            summary: &summary,
            channel: None,
        };
        self.store.set_retention(None, policy, audit).await
    }

    /// A channel's retention, for who may read it.
    pub async fn channel_retention(&self, actor: Id, channel: Id) -> Result<RetentionView> {
        let (ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::view_channel(facts)?;
        let own = self.store.channel_retention(channel).await?.ok_or(Error::NotFound(Thing::Channel))?;
        let ws = self.store.workspace_retention(ch.workspace_id).await?.unwrap_or_default();
        let outer = ws.or(self.deployment_policy().await?.effective());
        let (_, wf) = self.workspace_facts(ch.workspace_id, actor).await?;
        Ok(RetentionView {
            own,
            effective: own.or(outer),
            may_change: permissions::set_retention(wf).is_ok(),
        })
    }

    /// Sets a channel's retention (its workspace's admins). Audited.
    pub async fn set_channel_retention(&self, actor: Id, channel: Id, policy: RetentionPolicy) -> Result<()> {
        let (ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::view_channel(facts)?;
        let (_, wf) = self.workspace_facts(ch.workspace_id, actor).await?;
        permissions::set_retention(wf)?;
        checked(policy)?;
        let summary =
            format!("Set the retention of {}: {}", super::notifications::place(&ch), describe(policy));
        let audit = NewAudit {
            ws: ch.workspace_id,
            actor,
            action: "channel.retention",
            target_user: None,
            target_id: Some(ch.id),
            summary: &summary,
            channel: Some(&ch),
        };
        self.store.set_retention(Some(ch.id), policy, audit).await
    }

    /// Applies the retention policies, as at `at` (milliseconds since the
    /// epoch): opens a run when one is due, or goes on with the open one
    /// (stopped by a restart, or by this call's budget: at most
    /// `max_batches` batches, or all). Safe on any number of nodes: one
    /// claims the run, and another takes it over if that one stops.
    pub async fn run_retention(&self, at: i64, max_batches: Option<usize>) -> Result<RetentionOutcome> {
        let due = self.store.last_retention_start().await?.is_none_or(|t| at - t >= RETENTION_EVERY_MS);
        let Some(run) = self.store.claim_retention_run(self.node, at, at + RUN_LEASE_MS, due).await? else {
            return Ok(RetentionOutcome::Idle);
        };
        let span = tracing::info_span!("retention run", run = %run);
        self.work_retention_run(run, at, max_batches).instrument(span).await
    }

    /// Works `run`, claimed by this node (see [`Hub::run_retention`]).
    async fn work_retention_run(
        &self,
        run: Id,
        at: i64,
        max_batches: Option<usize>,
    ) -> Result<RetentionOutcome> {
        let started = Instant::now();
        let now = || at + started.elapsed().as_millis() as i64;
        let default = self.deployment_policy().await?.effective();
        let mut batches = 0;
        for ch in self.store.channel_retentions().await? {
            let policy = ch.policy.or(default);
            for (days, files) in [(policy.messages_days, false), (policy.files_days, true)] {
                let Some(days) = days.filter(|d| *d > 0) else { continue };
                let cutoff = at - days * DAY_MS;
                loop {
                    if max_batches.is_some_and(|m| batches >= m) {
                        return Ok(RetentionOutcome::Unfinished);
                    }
                    batches += 1;
                    let removed = self.purge_batch(run, &ch, cutoff, files).await?;
                    if removed < PURGE_BATCH {
                        break;
                    }
                    // Still working: keep the claim.
                    let at = now();
                    let claim = self.store.claim_retention_run(self.node, at, at + RUN_LEASE_MS, false);
                    if claim.await? != Some(run) {
                        return Ok(RetentionOutcome::Idle);
                    }
                }
            }
        }
        let counts = self.store.retention_counts(run).await?;
        let (messages, files) = counts.iter().fold((0, 0), |(m, f), c| (m + c.messages, f + c.files));
        let summaries = workspace_summaries(&counts);
        let audits = summaries
            .iter()
            .map(|(ws, summary)| NewAudit {
                ws: *ws,
                actor: SYSTEM_USER,
                action: "retention.purge",
                target_user: None,
                target_id: Some(run),
                summary,
                channel: None,
            })
            .collect();
        // A run that removed nothing leaves no entry (one starts every hour).
        let summary = format!("Retention removed {} in {} channels", amounts(messages, files), counts.len());
        let summary = (messages + files > 0).then_some(summary.as_str());
        self.store.finish_retention_run(run, now(), audits, summary).await?;
        if messages + files > 0 {
            tracing::info!(messages, files, "retention run finished");
        }
        Ok(RetentionOutcome::Finished { messages, files })
    }

    /// One batch in `ch`: its messages before `cutoff`, or only their files.
    /// Returns how many were removed.
    async fn purge_batch(&self, run: Id, ch: &ChannelRetention, cutoff: i64, files: bool) -> Result<i64> {
        let purged = match files {
            false => self.store.purge_messages(run, ch, cutoff, PURGE_BATCH).await?,
            true => self.store.purge_files(run, ch, cutoff, PURGE_BATCH).await?,
        };
        self.files.remove_attachments(&purged.attachments).await;
        Ok(match files {
            false => purged.messages.len() as i64,
            true => purged.attachments.len() as i64,
        })
    }

    /// Whether compliance archiving is on: every edit keeps the version
    /// before it, every delete keeps the content (for exports only).
    pub async fn compliance_archive(&self, actor: Id) -> Result<bool> {
        self.deployment_admin(actor).await?;
        self.archiving().await
    }

    async fn archiving(&self) -> Result<bool> {
        Ok(self.store.deployment_setting("compliance_archive").await?.as_deref() == Some("on"))
    }

    /// Turns compliance archiving on or off (from then on). Audited.
    pub async fn set_compliance_archive(&self, actor: Id, on: bool) -> Result<()> {
        self.deployment_admin(actor).await?;
        let (value, summary) = match on {
            true => ("on", "Turned compliance archiving on: edits and deletes keep what was there"),
            false => ("off", "Turned compliance archiving off: deleted means deleted"),
        };
        let settings = [("compliance_archive", Some(value.to_string()))];
        self.store.set_deployment_settings(&settings, actor, "settings.compliance_archive", summary).await
    }

    /// Whether editing or deleting `message` keeps what it said: when it is
    /// under a legal hold, or compliance archiving is on.
    pub(super) async fn keeps_versions(&self, message: Id) -> Result<bool> {
        Ok(self.archiving().await? || self.store.message_held(message).await?)
    }

    /// What `message` said before each edit and when it was deleted, oldest
    /// first, as kept for a hold or compliance archiving (deployment
    /// administrators, for exports): (body, `edited` or `deleted`, when).
    pub async fn message_versions(&self, actor: Id, message: Id) -> Result<Vec<(String, String, i64)>> {
        self.deployment_admin(actor).await?;
        self.store.message_versions(message).await
    }

    /// Puts people and channels on a legal hold (deployment administrators).
    pub async fn create_hold(&self, actor: Id, new: NewHold) -> Result<LegalHold> {
        self.deployment_admin(actor).await?;
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Error::invalid("name", "Give the hold a name of 1 to 100 characters."));
        }
        let reason = new.reason.trim();
        if reason.is_empty() || reason.chars().count() > 1000 {
            return Err(Error::invalid("reason", "Say why content is held, in 1 to 1,000 characters."));
        }
        if new.users.is_empty()
            && new.usernames.is_empty()
            && new.channels.is_empty()
            && new.channel_names.is_empty()
        {
            return Err(Error::invalid("usernames", "Name at least one person or channel to hold."));
        }
        let mut users = Vec::new();
        for id in &new.users {
            let user = self.store.user(*id).await?.ok_or(Error::NotFound(Thing::User))?;
            users.push(UserSummary::from(&user));
        }
        for name in &new.usernames {
            let user = self.store.user_by_username(name).await?.ok_or_else(|| {
                Error::invalid("usernames", format!("No one is called @{name}. Check the spelling."))
            })?;
            users.push(UserSummary::from(&user));
        }
        let mut channel_ids = new.channels.clone();
        let workspaces: Vec<Id> = new.workspace.into_iter().collect();
        channel_ids.extend(self.channels_named(&workspaces, &new.channel_names).await?);
        let mut channels = Vec::new();
        for id in &channel_ids {
            let ch = self.store.channel(*id).await?.ok_or(Error::NotFound(Thing::Channel))?;
            channels.push(HeldChannel::from(&ch));
        }
        let creator = self.store.user(actor).await?.ok_or(Error::NotFound(Thing::User))?;
        let id = Id::new();
        let hold = LegalHold {
            id,
            name: name.to_string(),
            reason: reason.to_string(),
            starts_at: new.starts_at.unwrap_or(0),
            created_by: UserSummary::from(&creator),
            created_at: id.timestamp_ms(),
            released_at: None,
            released_by: None,
            users,
            channels,
        };
        self.store.create_hold(&hold).await?;
        Ok(hold)
    }

    /// The ids of channels named (`#` optional) in the one workspace of
    /// `workspaces`, as a form names them; an unknown name is refused.
    pub(super) async fn channels_named(&self, workspaces: &[Id], names: &[String]) -> Result<Vec<Id>> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let [ws] = workspaces[..] else {
            return Err(Error::invalid("channels", "Choose the one workspace these channels are in."));
        };
        let mut ids = Vec::with_capacity(names.len());
        for name in names {
            let name = name.trim().trim_start_matches('#');
            let ch = self.store.channel_by_name(ws, name).await?.ok_or_else(|| {
                Error::invalid(
                    "channels",
                    format!("This workspace has no channel #{name}. Check the spelling."),
                )
            })?;
            ids.push(ch.id);
        }
        Ok(ids)
    }

    /// Every legal hold, newest first, released ones included.
    pub async fn holds(&self, actor: Id) -> Result<Vec<LegalHold>> {
        self.deployment_admin(actor).await?;
        let mut out = Vec::new();
        for (h, targets) in self.store.holds().await? {
            let mut users = Vec::new();
            let mut channels = Vec::new();
            for (kind, target) in targets {
                if kind == "user" {
                    if let Some(u) = self.store.user(Id(target)).await? {
                        users.push(UserSummary::from(&u));
                    }
                } else if let Some(ch) = self.store.channel(Id(target)).await? {
                    channels.push(HeldChannel::from(&ch));
                }
            }
            let person = |id: i64| async move {
                self.store.user(Id(id)).await.map(|u| u.map(|u| UserSummary::from(&u)))
            };
            let created_by = person(h.created_by).await?.ok_or(Error::NotFound(Thing::User))?;
            let released_by = match h.released_by {
                Some(by) => person(by).await?,
                None => None,
            };
            out.push(LegalHold {
                id: Id(h.id),
                name: h.name,
                reason: h.reason,
                starts_at: h.starts_at,
                created_by,
                created_at: h.created_at,
                released_at: h.released_at,
                released_by,
                users,
                channels,
            });
        }
        Ok(out)
    }

    /// Releases a legal hold: its content follows the retention policies
    /// again. Audited.
    pub async fn release_hold(&self, actor: Id, id: Id) -> Result<()> {
        self.deployment_admin(actor).await?;
        let holds = self.store.holds().await?;
        let (hold, _) = holds.iter().find(|(h, _)| h.id == id.0).ok_or(Error::NotFound(Thing::Hold))?;
        // Released already (or by someone else meanwhile): the store says so.
        if !self.store.release_hold(id, actor, crate::now_ms(), &hold.name).await? {
            return Err(Error::conflict("hold", "This hold was released already."));
        }
        Ok(())
    }

    /// The deployment's audit log, newest first (its administrators).
    pub async fn deployment_audit(&self, actor: Id, limit: i64) -> Result<Vec<DeploymentAuditEntry>> {
        self.deployment_admin(actor).await?;
        self.store.deployment_audit(limit.clamp(1, 500)).await
    }
}

/// Refuses days outside 0 (forever) to [`MAX_RETENTION_DAYS`].
fn checked(policy: RetentionPolicy) -> Result<()> {
    for (field, days) in [("messages_days", policy.messages_days), ("files_days", policy.files_days)] {
        if days.is_some_and(|d| !(0..=MAX_RETENTION_DAYS).contains(&d)) {
            return Err(Error::invalid(
                field,
                format!(
                    "Retention is a number of days from 1 to {MAX_RETENTION_DAYS}, or 0 to keep forever."
                ),
            ));
        }
    }
    Ok(())
}

/// A policy in words: "messages 30 days, files as the workspace says".
fn describe(policy: RetentionPolicy) -> String {
    let one = |days: Option<i64>| match days {
        None => "as the level above".to_string(),
        Some(0) => "forever".to_string(),
        Some(1) => "1 day".to_string(),
        Some(d) => format!("{d} days"),
    };
    format!("messages kept {}, files kept {}", one(policy.messages_days), one(policy.files_days))
}

/// "3 messages and 1 file".
fn amounts(messages: i64, files: i64) -> String {
    let plural = |n: i64, one: &str| if n == 1 { format!("1 {one}") } else { format!("{n} {one}s") };
    format!("{} and {}", plural(messages, "message"), plural(files, "file"))
}

/// Each workspace's share of a run, in words (workspaces where it removed nothing left out).
fn workspace_summaries(counts: &[RetentionCount]) -> Vec<(Id, String)> {
    let mut out: Vec<(Id, String)> = Vec::new();
    for ws in counts.iter().map(|c| c.workspace_id).collect::<std::collections::BTreeSet<_>>() {
        let here: Vec<&RetentionCount> =
            counts.iter().filter(|c| c.workspace_id == ws && c.messages + c.files > 0).collect();
        if here.is_empty() {
            continue;
        }
        let (m, f) = here.iter().fold((0, 0), |(m, f), c| (m + c.messages, f + c.files));
        let parts: Vec<String> =
            here.iter().map(|c| format!("#{}: {}", c.channel_name, amounts(c.messages, c.files))).collect();
        out.push((Id(ws), format!("Retention removed {} ({})", amounts(m, f), parts.join("; "))));
    }
    out
}
