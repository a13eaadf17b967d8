//! The deployment's administration page: its retention, compliance
//! archiving, legal holds and audit log, for its administrators.

use crate::wire::{ApiError, DeploymentAuditEntryDto, DeploymentRetentionDto, LegalHoldDto};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the administration page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminViewDto {
    pub retention: DeploymentRetentionDto,
    /// Whether edits and deletes keep what was there.
    pub archive: bool,
    pub holds: Vec<LegalHoldDto>,
    pub audit: Vec<DeploymentAuditEntryDto>,
}

#[server]
pub async fn admin_view() -> Result<AdminViewDto, ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let retention = hub.deployment_retention(user.id).await?.into();
            let archive = hub.compliance_archive(user.id).await?;
            let holds = hub.holds(user.id).await?.iter().map(LegalHoldDto::from).collect();
            let audit =
                hub.deployment_audit(user.id, 50).await?.iter().map(DeploymentAuditEntryDto::from).collect();
            Ok(AdminViewDto { retention, archive, holds, audit })
        }
        .await,
    )
}

/// Sets the deployment's retention: days for messages and for files (empty:
/// as the server's configuration says).
#[server]
pub async fn set_deployment_retention(messages_days: String, files_days: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let days = |field, raw: &str| {
                let why = "Give a whole number of days, 0 to keep forever, or leave it empty.";
                crate::ssr::parse_whole(field, Some(raw), why)
            };
            let policy = domain::model::RetentionPolicy {
                messages_days: days("messages_days", &messages_days)?,
                files_days: days("files_days", &files_days)?,
            };
            hub.set_deployment_retention(user.id, policy).await?;
            Ok(())
        }
        .await,
    )
}

/// Turns compliance archiving on (`enabled` is `true`) or off.
#[server]
pub async fn set_compliance_archive(enabled: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            hub.set_compliance_archive(user.id, enabled == "true").await?;
            Ok(())
        }
        .await,
    )
}

/// Puts the people named (usernames, separated by spaces or commas) on a
/// new legal hold.
#[server]
pub async fn create_hold(name: String, reason: String, usernames: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let usernames = usernames
                .split(|c: char| c == ',' || c.is_whitespace())
                .map(|u| u.trim().trim_start_matches('@').to_string())
                .filter(|u| !u.is_empty())
                .collect();
            let new = domain::hub::NewHold { name, reason, usernames, ..Default::default() };
            hub.create_hold(user.id, new).await?;
            Ok(())
        }
        .await,
    )
}

/// Releases a legal hold.
#[server]
pub async fn release_hold(hold_id: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            hub.release_hold(user.id, crate::ssr::parse_id("hold_id", &hold_id)?).await?;
            Ok(())
        }
        .await,
    )
}
