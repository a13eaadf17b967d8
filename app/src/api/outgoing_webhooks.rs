//! A workspace's outgoing webhooks, on its integrations page, and each
//! webhook's log of calls (`/w/:ws/integrations/outgoing/:id`). A new
//! webhook's token and signing secret are kept in the maker's session until
//! the page shows them, once, as for incoming webhooks.

use crate::api::integrations::WebhookChannelDto;
use crate::wire::{
    ApiError, CreatedOutgoingWebhookDto, OutgoingWebhookDto, WebhookDeliveryDto, WorkspaceDto,
};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The outgoing webhooks part of the integrations page, for who may manage them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingViewDto {
    pub webhooks: Vec<OutgoingWebhookDto>,
    /// The channels the caller may choose for one to hear.
    pub channels: Vec<WebhookChannelDto>,
    /// The webhook the caller has just made, with its secrets: shown this once.
    pub made: Option<CreatedOutgoingWebhookDto>,
}

/// A webhook's log page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingLogDto {
    pub workspace: WorkspaceDto,
    pub webhook: OutgoingWebhookDto,
    /// Newest first.
    pub calls: Vec<WebhookDeliveryDto>,
}

/// Where the page keeps a new outgoing webhook's secrets until they are shown.
#[cfg(feature = "ssr")]
const MADE_KEY: &str = "parley.new_outgoing_webhook";

/// The outgoing webhooks part of the integrations page, if the caller may
/// manage them in `ws`.
#[cfg(feature = "ssr")]
pub(crate) async fn outgoing_view(
    hub: &domain::Hub,
    user: domain::Id,
    ws: domain::Id,
) -> Result<Option<OutgoingViewDto>, ApiError> {
    if !hub.may_manage_outgoing_webhooks(user, ws).await? {
        return Ok(None);
    }
    let webhooks = hub.outgoing_webhooks(user, ws).await?;
    let channels = hub.outgoing_webhook_channels(user, ws).await?;
    let session = crate::ssr::auth::session().await?;
    let made: Option<CreatedOutgoingWebhookDto> = crate::ssr::auth::take(&session, MADE_KEY).await?;
    Ok(Some(OutgoingViewDto {
        webhooks: webhooks.iter().map(OutgoingWebhookDto::from).collect(),
        channels: channels
            .into_iter()
            .map(|(id, name)| WebhookChannelDto { id: id.to_string(), label: format!("#{name}") })
            .collect(),
        made,
    }))
}

/// Makes an outgoing webhook; the page shows its secrets next, this once.
/// Each event and channel is a checkbox (`events[i]`, `channel_ids[i]`).
#[server]
pub async fn create_outgoing_webhook(
    workspace_id: String,
    name: String,
    url: String,
    #[server(default)] events: Vec<String>,
    #[server(default)] channel_ids: Vec<String>,
    #[server(default)] trigger_words: String,
    #[server(default)] format: String,
) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            use domain::model::{PayloadFormat, WebhookEvent};
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            let events: Vec<WebhookEvent> = events.iter().filter_map(|e| WebhookEvent::parse(e)).collect();
            let channels = channel_ids
                .iter()
                .map(|c| crate::ssr::parse_id("channel_ids", c))
                .collect::<Result<Vec<_>, _>>()?;
            let new = domain::hub::NewOutgoingWebhook {
                name: &name,
                url: &url,
                format: PayloadFormat::parse(&format).unwrap_or(PayloadFormat::Json),
                events: &events,
                channels: &channels,
                trigger_words: &trigger_words,
            };
            let made = hub.create_outgoing_webhook(user.id, ws, new).await?;
            crate::ssr::auth::keep(MADE_KEY, &CreatedOutgoingWebhookDto::from(&made)).await
        }
        .await,
    )
}

#[server]
pub async fn delete_outgoing_webhook(id: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            hub.delete_outgoing_webhook(user.id, crate::ssr::parse_id("id", &id)?).await?;
            Ok(())
        }
        .await,
    )
}

#[server]
pub async fn outgoing_log(workspace_id: String, id: String) -> Result<OutgoingLogDto, ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            let workspace = hub.workspace(user.id, ws).await?;
            let (webhook, calls) =
                hub.outgoing_webhook_log(user.id, crate::ssr::parse_id("id", &id)?).await?;
            if webhook.workspace_id != ws {
                return Err(domain::Error::NotFound(domain::error::Thing::Webhook).into());
            }
            Ok(OutgoingLogDto {
                workspace: WorkspaceDto::from(&workspace),
                webhook: OutgoingWebhookDto::from(&webhook),
                calls: calls.iter().map(WebhookDeliveryDto::from).collect(),
            })
        }
        .await,
    )
}

/// Sends a call again.
#[server]
pub async fn redeliver_call(webhook_id: String, id: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let webhook = crate::ssr::parse_id("webhook_id", &webhook_id)?;
            hub.redeliver(user.id, webhook, crate::ssr::parse_id("id", &id)?).await?;
            Ok(())
        }
        .await,
    )
}
