//! The deployment's administration page: its retention, compliance
//! archiving, legal holds, compliance exports and audit log, for its
//! administrators.

use crate::wire::{
    ApiError, ComplianceExportDto, DeploymentAuditEntryDto, DeploymentRetentionDto, LegalHoldDto,
};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the administration page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminViewDto {
    pub retention: DeploymentRetentionDto,
    /// Whether edits and deletes keep what was there.
    pub archive: bool,
    pub holds: Vec<LegalHoldDto>,
    pub exports: Vec<ComplianceExportDto>,
    /// The daily export's format, or `off`.
    pub daily_export: String,
    /// The deployment's workspaces (id, name), to limit an export to one.
    pub workspaces: Vec<(String, String)>,
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
            let exports =
                hub.compliance_exports(user.id).await?.iter().map(ComplianceExportDto::from).collect();
            let daily_export = hub.daily_export(user.id).await?.map_or("off", |f| f.as_str()).to_string();
            let workspaces = hub
                .export_workspaces(user.id)
                .await?
                .into_iter()
                .map(|(id, name)| (id.to_string(), name))
                .collect();
            let audit =
                hub.deployment_audit(user.id, 50).await?.iter().map(DeploymentAuditEntryDto::from).collect();
            Ok(AdminViewDto { retention, archive, holds, exports, daily_export, workspaces, audit })
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
            let policy = crate::ssr::retention_policy(&messages_days, &files_days)?;
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

/// Puts the people named (usernames, separated by spaces or commas) and
/// the channels named in `workspace` on a new legal hold.
#[server]
pub async fn create_hold(
    name: String,
    reason: String,
    usernames: String,
    workspace: String,
    channels: String,
) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let new = domain::hub::NewHold {
                name,
                reason,
                usernames: names(&usernames),
                channel_names: names(&channels),
                workspace: crate::ssr::parse_optional_id("workspace", Some(&workspace))?,
                ..Default::default()
            };
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

/// Names separated by spaces or commas, without their `@` or `#`.
#[cfg(feature = "ssr")]
fn names(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .map(|u| u.trim().trim_start_matches(['@', '#']).to_string())
        .filter(|u| !u.is_empty())
        .collect()
}

/// Asks for a compliance export: its format, first and last day, and
/// optionally one workspace (empty: all), channels in it and people (names
/// separated by spaces or commas).
#[server]
pub async fn request_export(
    format: String,
    from: String,
    to: String,
    workspace: String,
    channels: String,
    people: String,
) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let format = domain::export::ExportFormat::parse(&format)
                .ok_or_else(|| domain::Error::invalid("format", "Choose the format JSON, CSV or EML."))?;
            let workspaces: Vec<_> =
                crate::ssr::parse_optional_id("workspace", Some(&workspace))?.into_iter().collect();
            let request = domain::hub::ExportRequest {
                format,
                from,
                to,
                workspaces,
                channels: Vec::new(),
                users: Vec::new(),
                usernames: names(&people),
                channel_names: names(&channels),
            };
            hub.request_export(user.id, request).await?;
            Ok(())
        }
        .await,
    )
}

/// Deletes a compliance export and its archive.
#[server]
pub async fn delete_export(export_id: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            hub.delete_export(user.id, crate::ssr::parse_id("export_id", &export_id)?).await?;
            Ok(())
        }
        .await,
    )
}

/// Turns the daily export on in a format (`json`, `csv`, `eml`) or `off`.
#[server]
pub async fn set_daily_export(format: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let format = match format.as_str() {
                "off" => None,
                other => Some(
                    domain::export::ExportFormat::parse(other)
                        .ok_or_else(|| domain::Error::invalid("format", "Choose off, JSON, CSV or EML."))?,
                ),
            };
            hub.set_daily_export(user.id, format).await?;
            Ok(())
        }
        .await,
    )
}
