//! Bot accounts: made in a workspace by who may change it (`manage_workspace`),
//! with a username, a display name, an emoji for an avatar, a description
//! and an owner (who made it). A bot is a member like anyone: it holds
//! roles, channel overrides apply to it, it is added to private channels
//! and direct conversations, and it is rate-limited as a person is. It never
//! signs in with a password (it has none): it works through API tokens,
//! which its owner and the workspace's managers make, list and revoke, on
//! the REST API and the gateway alike.

use super::Hub;
use super::workspaces::departure;
use crate::error::{Error, Result, Thing};
use crate::events::{Audience, EventKind, NewEvent};
use crate::id::Id;
use crate::input::{Description, DisplayName, Emoji, Username};
use crate::model::{ApiToken, Bot, Member, User, UserSummary};
use crate::permissions;
use crate::presence::Status;

/// The avatar of a bot made without one.
pub const DEFAULT_BOT_EMOJI: &str = "🤖";

/// What a new bot is given.
#[derive(Debug, Default)]
pub struct NewBot<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    /// One emoji (or a `:shortcode:`); empty for 🤖.
    pub emoji: &'a str,
    pub description: &'a str,
}

impl Hub {
    /// Makes a bot in `ws`, owned by `actor`, a member of the workspace and
    /// of no channel yet.
    pub async fn create_bot(&self, actor: Id, ws: Id, new: NewBot<'_>) -> Result<Bot> {
        let username = Username::parse(new.username)?.into_inner();
        let display_name = DisplayName::parse(new.display_name)?.into_inner();
        let emoji = match new.emoji.trim() {
            "" => DEFAULT_BOT_EMOJI.to_string(),
            raw => Emoji::parse(raw)
                .map_err(|_| Error::invalid("emoji", "A bot's avatar is one emoji, like 🤖 or :rocket:."))?
                .into_inner(),
        };
        let description = Description::parse(new.description)?.into_inner();
        let (_, wf, _) = self.workspace_standing(ws, actor).await?;
        permissions::create_bot(wf)?;
        let owner = self.store.user(actor).await?.ok_or(Error::NotFound(Thing::User))?;
        let now = crate::now_ms();
        let account = User {
            id: Id::new(),
            email: format!("bot-{username}@bots.parley.invalid"),
            username,
            display_name,
            created_at: now,
            is_bot: true,
        };
        let bot = Bot {
            user: UserSummary::from(&account),
            workspace_id: ws,
            owner: UserSummary::from(&owner),
            emoji,
            description,
            created_at: now,
        };
        let member = Member {
            user: bot.user.clone(),
            joined_at: now,
            is_owner: false,
            is_guest: false,
            roles: Vec::new(),
            timeout_until: None,
            status: Status::Offline,
        };
        let kind = EventKind::WorkspaceMemberAdded { workspace_id: ws, member };
        self.store.create_bot(&bot, &account, &[NewEvent::new(Audience::Workspace(ws), kind)]).await?;
        let summary = format!("Made the bot @{} ({})", bot.user.username, bot.user.display_name);
        self.audit(ws, actor, "bot.create", Some(bot.user.id), None, summary).await?;
        Ok(bot)
    }

    /// Whether `actor` may make bots in `ws`.
    pub async fn may_create_bots(&self, actor: Id, ws: Id) -> Result<bool> {
        let (_, wf, _) = self.workspace_standing(ws, actor).await?;
        permissions::view_workspace(wf)?;
        Ok(permissions::create_bot(wf).is_ok())
    }

    /// The bots of `ws`, for anyone in it.
    pub async fn bots(&self, actor: Id, ws: Id) -> Result<Vec<Bot>> {
        let (_, wf, _) = self.workspace_standing(ws, actor).await?;
        permissions::view_workspace(wf)?;
        self.store.bots_in(ws).await
    }

    /// The bot `bot`, if `actor` may manage it (its owner, or who may
    /// change the workspace); to others in its workspace it is not found.
    async fn managed_bot(&self, actor: Id, bot: Id) -> Result<crate::model::Bot> {
        let found = self.store.bot(bot).await?.ok_or(Error::NotFound(Thing::Bot))?;
        let (_, wf, _) = self.workspace_standing(found.workspace_id, actor).await?;
        permissions::manage_bot(wf, found.owner.id == actor).map_err(|e| match e {
            Error::NotFound(_) => Error::NotFound(Thing::Bot),
            other => other,
        })?;
        Ok(found)
    }

    /// The API tokens of a bot that still work.
    pub async fn bot_tokens(&self, actor: Id, bot: Id) -> Result<Vec<ApiToken>> {
        let bot = self.managed_bot(actor, bot).await?;
        self.tokens(bot.user.id).await
    }

    /// Makes an API token for a bot (it never expires; revoke it when it is
    /// no longer needed). The token is shown once.
    pub async fn create_bot_token(&self, actor: Id, bot: Id, name: &str) -> Result<(ApiToken, String)> {
        let bot = self.managed_bot(actor, bot).await?;
        let (info, token) = self.create_token(bot.user.id, name, None).await?;
        let summary = format!("Made the API token “{}” for the bot @{}", info.name, bot.user.username);
        self.audit(bot.workspace_id, actor, "bot.token", Some(bot.user.id), None, summary).await?;
        Ok((info, token))
    }

    /// Revokes one of a bot's tokens by its id.
    pub async fn revoke_bot_token(&self, actor: Id, bot: Id, token: &str) -> Result<()> {
        let bot = self.managed_bot(actor, bot).await?;
        self.revoke_token_by_id(bot.user.id, token).await?;
        let summary = format!("Revoked an API token of the bot @{}", bot.user.username);
        self.audit(bot.workspace_id, actor, "bot.token_revoke", Some(bot.user.id), None, summary).await
    }

    /// Removes a bot: its tokens stop working and it leaves the workspace
    /// and its channels at once; what it posted stays, under its name.
    pub async fn remove_bot(&self, actor: Id, bot: Id) -> Result<()> {
        let bot = self.managed_bot(actor, bot).await?;
        let (ws, user) = (bot.workspace_id, bot.user.id);
        self.store.remove_bot(&bot, |left| departure(ws, user, left)).await?;
        self.refresh_calls(ws).await?;
        let summary = format!("Removed the bot @{}", bot.user.username);
        self.audit(ws, actor, "bot.remove", Some(user), None, summary).await
    }
}
