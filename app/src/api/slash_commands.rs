//! A workspace's own slash commands, on its integrations page. A new
//! command's token and signing secret are kept in the maker's session until
//! the page shows them, once, as for webhooks.

use crate::wire::{ApiError, CommandUseDto, CreatedSlashCommandDto, SlashCommandDto, WorkspaceDto};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The slash commands part of the integrations page, for who may manage them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandsViewDto {
    pub commands: Vec<SlashCommandDto>,
    /// The command the caller has just made, with its secrets: shown this once.
    pub made: Option<CreatedSlashCommandDto>,
}

/// A command's page of uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandUsesDto {
    pub workspace: WorkspaceDto,
    pub command: SlashCommandDto,
    /// Newest first.
    pub uses: Vec<CommandUseDto>,
}

/// Where the page keeps a new command's secrets until they are shown.
#[cfg(feature = "ssr")]
const MADE_KEY: &str = "parley.new_slash_command";

/// The slash commands part of the integrations page, if the caller may
/// manage them in `ws` (as outgoing webhooks: they call out too).
#[cfg(feature = "ssr")]
pub(crate) async fn commands_view(
    hub: &domain::Hub,
    user: domain::Id,
    ws: domain::Id,
) -> Result<Option<CommandsViewDto>, ApiError> {
    if !hub.may_manage_outgoing_webhooks(user, ws).await? {
        return Ok(None);
    }
    let commands = hub.slash_commands(user, ws).await?;
    let session = crate::ssr::auth::session().await?;
    let made = crate::ssr::auth::take(&session, MADE_KEY).await?;
    Ok(Some(CommandsViewDto { commands: commands.iter().map(SlashCommandDto::from).collect(), made }))
}

/// Makes a slash command; the page shows its secrets next, this once.
#[server]
pub async fn create_slash_command(
    workspace_id: String,
    name: String,
    url: String,
    #[server(default)] description: String,
    #[server(default)] usage_hint: String,
) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            let new = domain::hub::NewSlashCommand {
                name: &name,
                url: &url,
                description: &description,
                usage_hint: &usage_hint,
            };
            let made = hub.create_slash_command(user.id, ws, new).await?;
            crate::ssr::auth::keep(MADE_KEY, &CreatedSlashCommandDto::from(&made)).await
        }
        .await,
    )
}

#[server]
pub async fn delete_slash_command(id: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            hub.delete_slash_command(user.id, crate::ssr::parse_id("id", &id)?).await?;
            Ok(())
        }
        .await,
    )
}

#[server]
pub async fn command_uses(workspace_id: String, id: String) -> Result<CommandUsesDto, ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            let workspace = hub.workspace(user.id, ws).await?;
            let (command, uses) = hub.slash_command_uses(user.id, crate::ssr::parse_id("id", &id)?).await?;
            if command.workspace_id != ws {
                return Err(domain::Error::NotFound(domain::error::Thing::Command).into());
            }
            Ok(CommandUsesDto {
                workspace: WorkspaceDto::from(&workspace),
                command: SlashCommandDto::from(&command),
                uses: uses.iter().map(CommandUseDto::from).collect(),
            })
        }
        .await,
    )
}
