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
