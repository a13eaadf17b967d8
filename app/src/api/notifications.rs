//! Server functions of the notification bell.

use crate::wire::{ApiError, NotificationDto};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the bell shows: the unread count and the newest notifications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BellDto {
    pub unread_count: i64,
    pub items: Vec<NotificationDto>,
}

#[server]
pub async fn bell() -> Result<BellDto, ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            Ok(BellDto {
                unread_count: hub.unread_notifications(user.id).await?,
                items: hub
                    .notifications(user.id, None, false)
                    .await?
                    .iter()
                    .map(NotificationDto::from)
                    .collect(),
            })
        }
        .await,
    )
}

#[server]
pub async fn mark_notification_read(notification_id: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            hub.mark_notification_read(user.id, crate::ssr::parse_id("notification_id", &notification_id)?)
                .await?;
            Ok(())
        }
        .await,
    )
}

#[server]
pub async fn mark_all_notifications_read() -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            hub.mark_all_notifications_read(user.id).await?;
            Ok(())
        }
        .await,
    )
}

/// The caller's notification preferences.
#[server]
pub async fn notification_preferences() -> Result<crate::wire::NotificationPreferencesDto, ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            Ok((&hub.notification_settings(user.id).await?).into())
        }
        .await,
    )
}

/// Saves the caller's preferences from the settings form (checkboxes that
/// are off are absent).
#[server]
pub async fn save_notification_preferences(
    time_zone: String,
    quiet_enabled: Option<String>,
    quiet_start: String,
    quiet_end: String,
    quiet_days: Option<Vec<String>>,
    urgent_breaks_through: Option<String>,
    phone: Option<String>,
    switches: Option<Vec<String>>,
) -> Result<crate::wire::NotificationPreferencesDto, ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let input = crate::conversions::settings_input(
                time_zone,
                quiet_enabled.is_some(),
                quiet_start,
                quiet_end,
                &quiet_days.unwrap_or_default(),
                urgent_breaks_through.is_some(),
                phone.unwrap_or_default(),
                switches.unwrap_or_default(),
            )?;
            hub.save_notification_settings(user.id, input).await?;
            Ok((&hub.notification_settings(user.id).await?).into())
        }
        .await,
    )
}

/// Sets how much of a channel notifies the caller: `all`, `mentions`,
/// `nothing` or `muted`.
#[server]
pub async fn set_channel_notify_level(channel_id: String, level: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            hub.set_channel_level(user.id, crate::ssr::parse_id("channel_id", &channel_id)?, &level).await?;
            Ok(())
        }
        .await,
    )
}

/// Turns web push on for the caller's browser.
#[server]
pub async fn subscribe_push(
    endpoint: String,
    p256dh: String,
    auth: String,
    user_agent: Option<String>,
) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let session = crate::ssr::auth::session_id(&crate::ssr::auth::session().await?);
            let agent = user_agent.as_deref().unwrap_or("");
            hub.subscribe_push(user.id, &endpoint, &p256dh, &auth, agent, session.as_deref()).await?;
            Ok(())
        }
        .await,
    )
}

/// Turns web push off for one of the caller's browsers.
#[server]
pub async fn unsubscribe_push(endpoint: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            hub.unsubscribe_push(user.id, &endpoint).await?;
            Ok(())
        }
        .await,
    )
}

/// A workspace's notification templates (who manages the workspace).
#[server]
pub async fn notification_templates(workspace_id: String) -> Result<Vec<crate::wire::TemplateDto>, ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            Ok(hub.notification_templates(user.id, ws).await?.iter().map(Into::into).collect())
        }
        .await,
    )
}

/// Saves one of a workspace's templates (a new name adds one).
#[server]
pub async fn save_notification_template(
    workspace_id: String,
    name: String,
    channel: String,
    subject: Option<String>,
    body: String,
    body_html: Option<String>,
) -> Result<crate::wire::TemplateDto, ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            let template = crate::ssr::template_input(name, &channel, subject, body, body_html)?;
            Ok((&hub.save_template(user.id, ws, template).await?).into())
        }
        .await,
    )
}

/// Removes a stored template; a built-in one goes back to its default wording.
#[server]
pub async fn reset_notification_template(workspace_id: String, template_id: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            hub.delete_template(user.id, ws, crate::ssr::parse_id("template_id", &template_id)?).await?;
            Ok(())
        }
        .await,
    )
}

/// Stores every built-in template the workspace lacks; how many were added.
#[server]
pub async fn create_default_templates(workspace_id: String) -> Result<u64, ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            Ok(hub.create_default_templates(user.id, ws).await?)
        }
        .await,
    )
}
