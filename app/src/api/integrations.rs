//! A workspace's integrations page: its incoming webhooks, its bot accounts
//! and (in [`super::outgoing_webhooks`]) its outgoing webhooks, made, listed
//! and removed by who may manage them. A secret made here (a webhook's
//! address, a bot's token) is kept in the maker's session until the page
//! shows it, once, so that it reaches a page without JavaScript too.

use crate::wire::{ApiError, BotDto, CreatedWebhookDto, WebhookDto, WorkspaceDto};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A channel a webhook can be added to, as the form offers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookChannelDto {
    pub id: String,
    /// `#name`, or who is in a direct conversation.
    pub label: String,
}

/// What the integrations page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationsViewDto {
    pub workspace: WorkspaceDto,
    pub webhooks: Vec<WebhookDto>,
    /// Where the caller may add a webhook.
    pub channels: Vec<WebhookChannelDto>,
    /// The webhook the caller has just made, with its address: shown this once.
    pub made: Option<CreatedWebhookDto>,
    /// The workspace's bots; their tokens for those the caller manages.
    pub bots: Vec<BotDto>,
    /// Whether the caller may make bots.
    pub can_make_bots: bool,
    /// The bot token the caller has just made: shown this once.
    pub new_token: Option<NewBotTokenDto>,
    /// The outgoing webhooks, when the caller may manage them.
    pub outgoing: Option<crate::api::outgoing_webhooks::OutgoingViewDto>,
    /// The workspace's own slash commands, when the caller may manage them.
    pub commands: Option<crate::api::slash_commands::CommandsViewDto>,
    /// Whether links posted here get previews.
    pub link_previews: bool,
    /// Whether the caller may turn them on or off.
    pub can_set_link_previews: bool,
}

/// A bot's new API token, with the name it was given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewBotTokenDto {
    pub name: String,
    pub token: String,
}

/// Where the page keeps a new webhook's address until it is shown.
#[cfg(feature = "ssr")]
const MADE_KEY: &str = "parley.new_webhook";
/// Where the page keeps a new bot token until it is shown.
#[cfg(feature = "ssr")]
const TOKEN_KEY: &str = "parley.new_bot_token";

#[server]
pub async fn integrations_view(workspace_id: String) -> Result<IntegrationsViewDto, ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            let workspace = hub.workspace(user.id, ws).await?;
            let webhooks = hub.webhooks(user.id, ws).await?;
            let channels = hub.webhook_channels(user.id, ws).await?;
            let mut bots = Vec::new();
            for bot in hub.bots(user.id, ws).await? {
                let mut dto = BotDto::from(&bot);
                // Those the caller may not manage are listed without tokens.
                dto.tokens = hub
                    .bot_tokens(user.id, bot.user.id)
                    .await
                    .ok()
                    .map(|t| t.iter().map(crate::wire::ApiTokenDto::from).collect());
                bots.push(dto);
            }
            let can_make_bots = hub.may_create_bots(user.id, ws).await?;
            let outgoing = crate::api::outgoing_webhooks::outgoing_view(&hub, user.id, ws).await?;
            let commands = crate::api::slash_commands::commands_view(&hub, user.id, ws).await?;
            let (link_previews, can_set_link_previews) = hub.link_previews_setting(user.id, ws).await?;
            let session = crate::ssr::auth::session().await?;
            let made: Option<CreatedWebhookDto> = crate::ssr::auth::take(&session, MADE_KEY).await?;
            let new_token: Option<NewBotTokenDto> = crate::ssr::auth::take(&session, TOKEN_KEY).await?;
            Ok(IntegrationsViewDto {
                workspace: WorkspaceDto::from(&workspace),
                webhooks: webhooks.iter().map(WebhookDto::from).collect(),
                channels: channels
                    .into_iter()
                    .map(|(id, label)| WebhookChannelDto { id: id.to_string(), label })
                    .collect(),
                made,
                bots,
                can_make_bots,
                new_token,
                outgoing,
                commands,
                link_previews,
                can_set_link_previews,
            })
        }
        .await,
    )
}

/// Turns link previews in the workspace on (`enabled` is `true`) or off.
#[server]
pub async fn set_link_previews(workspace_id: String, enabled: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            hub.set_link_previews(user.id, ws, enabled == "true").await?;
            Ok(())
        }
        .await,
    )
}

/// Makes an incoming webhook; the page shows its address next, this once.
#[server]
pub async fn create_webhook(
    workspace_id: String,
    channel_id: String,
    name: String,
    signed: Option<String>,
) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            let channel = crate::ssr::parse_id("channel_id", &channel_id)?;
            let signed = signed.is_some_and(|s| !s.is_empty() && s != "false");
            let made = hub.create_webhook(user.id, ws, channel, &name, signed).await?;
            crate::ssr::auth::keep(MADE_KEY, &CreatedWebhookDto::from(&made)).await
        }
        .await,
    )
}

#[server]
pub async fn delete_webhook(id: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            hub.delete_webhook(user.id, crate::ssr::parse_id("id", &id)?).await?;
            Ok(())
        }
        .await,
    )
}

#[server]
pub async fn create_bot(
    workspace_id: String,
    username: String,
    display_name: String,
    emoji: String,
    description: String,
) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            let new = domain::hub::NewBot {
                username: &username,
                display_name: &display_name,
                emoji: &emoji,
                description: &description,
            };
            hub.create_bot(user.id, ws, new).await?;
            Ok(())
        }
        .await,
    )
}

/// Makes an API token for a bot; the page shows it next, this once.
#[server]
pub async fn create_bot_token(bot_id: String, name: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let bot = crate::ssr::parse_id("bot_id", &bot_id)?;
            let (_, token) = hub.create_bot_token(user.id, bot, &name).await?;
            crate::ssr::auth::keep(TOKEN_KEY, &NewBotTokenDto { name, token }).await
        }
        .await,
    )
}

#[server]
pub async fn revoke_bot_token(bot_id: String, id: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            hub.revoke_bot_token(user.id, crate::ssr::parse_id("bot_id", &bot_id)?, &id).await?;
            Ok(())
        }
        .await,
    )
}

#[server]
pub async fn remove_bot(bot_id: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            hub.remove_bot(user.id, crate::ssr::parse_id("bot_id", &bot_id)?).await?;
            Ok(())
        }
        .await,
    )
}
