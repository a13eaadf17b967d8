//! Moderation: kick, ban and unban, timeouts, and reading the audit log
//! (deleting others' messages is in [`super::messages`]).

use super::Hub;
use crate::error::{Error, Result, Thing};
use crate::id::Id;
use crate::input::Reason;
use crate::model::{AuditEntry, Ban};
use crate::permissions::{self, Perm, WorkspaceFacts};
use crate::store::AuditFilter;

/// The longest timeout: 28 days, in minutes.
pub const MAX_TIMEOUT_MINUTES: i64 = 28 * 24 * 60;

impl Hub {
    /// Checks that `actor` may use `p` on `user`; returns the target's facts.
    async fn moderation(&self, actor: Id, ws: Id, user: Id, p: Perm) -> Result<WorkspaceFacts> {
        let (workspace, facts) = self.workspace_facts(ws, actor).await?;
        let (target, _) = self.standing(&workspace, user).await?;
        if !target.is_member && p != Perm::BanMembers {
            permissions::workspace_permission(facts, p)?;
            return Err(Error::NotFound(Thing::User));
        }
        permissions::moderate(facts, p, target, actor == user)?;
        Ok(target)
    }

    /// Removes a member from the workspace; they may come back with an invite.
    pub async fn kick(&self, actor: Id, ws: Id, user: Id) -> Result<()> {
        self.moderation(actor, ws, user, Perm::KickMembers).await?;
        self.store
            .remove_workspace_member(ws, user, |left| super::workspaces::departure(ws, user, left))
            .await?;
        self.audit(ws, actor, "member.kick", Some(user), None, "Removed from the workspace".into()).await?;
        self.refresh_calls(ws).await?;
        Ok(())
    }

    /// Bans someone (a member or not): they leave and cannot come back, by
    /// invite or otherwise, until unbanned.
    pub async fn ban(&self, actor: Id, ws: Id, user: Id, reason: &str) -> Result<()> {
        let reason = Reason::parse(reason)?;
        self.store.user(user).await?.ok_or(Error::NotFound(Thing::User))?;
        self.moderation(actor, ws, user, Perm::BanMembers).await?;
        let announce = |left: &[Id]| super::workspaces::departure(ws, user, left);
        self.store.ban(ws, user, reason.as_str(), actor, crate::now_ms(), announce).await?;
        let summary = if reason.as_str().is_empty() {
            "Banned".to_string()
        } else {
            format!("Banned: {}", reason.as_str())
        };
        self.audit(ws, actor, "member.ban", Some(user), None, summary).await?;
        self.refresh_calls(ws).await?;
        Ok(())
    }

    pub async fn unban(&self, actor: Id, ws: Id, user: Id) -> Result<()> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::workspace_permission(facts, Perm::BanMembers)?;
        if !self.store.unban(ws, user).await? {
            return Err(Error::NotFound(Thing::User));
        }
        self.audit(ws, actor, "member.unban", Some(user), None, "Unbanned".into()).await?;
        Ok(())
    }

    pub async fn bans(&self, actor: Id, ws: Id) -> Result<Vec<Ban>> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::workspace_permission(facts, Perm::BanMembers)?;
        self.store.bans(ws).await
    }

    /// Stops a member posting, replying and reacting for `minutes` (0 lifts it).
    pub async fn timeout(&self, actor: Id, ws: Id, user: Id, minutes: i64) -> Result<Option<i64>> {
        if !(0..=MAX_TIMEOUT_MINUTES).contains(&minutes) {
            return Err(Error::invalid(
                "minutes",
                "A timeout lasts 1 minute to 28 days (40320 minutes); 0 lifts it.",
            ));
        }
        self.moderation(actor, ws, user, Perm::TimeoutMembers).await?;
        let until = (minutes > 0).then(|| crate::now_ms() + minutes * 60_000);
        self.store.set_timeout(ws, user, until, &[Self::workspace_updated(ws)]).await?;
        let summary =
            if minutes > 0 { format!("Timed out for {minutes} minutes") } else { "Timeout lifted".into() };
        self.audit(ws, actor, "member.timeout", Some(user), None, summary).await?;
        self.refresh_calls(ws).await?;
        Ok(until)
    }

    /// The audit log, newest first (at most 100 lines per page).
    pub async fn audit_log(&self, actor: Id, ws: Id, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::workspace_permission(facts, Perm::ViewAuditLog)?;
        let mut entries = self.store.audit_log(ws, filter, 100).await?;
        // What happened in a channel the reader cannot read (a private one,
        // or one since deleted that was private) keeps its secrets.
        let mut readable: std::collections::HashMap<Id, bool> = std::collections::HashMap::new();
        for entry in &mut entries {
            let Some((channel, was_private)) = entry.channel else { continue };
            let may_read = match readable.get(&channel) {
                Some(&known) => known,
                None => {
                    let known = match self.store.channel(channel).await? {
                        Some(_) => self.channel(actor, channel).await.is_ok(),
                        None => !was_private,
                    };
                    readable.insert(channel, known);
                    known
                }
            };
            if !may_read {
                entry.summary = "Something in a private channel you cannot read.".into();
                entry.target_id = None;
            }
        }
        Ok(entries)
    }
}
