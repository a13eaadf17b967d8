use crate::wire::{
    ApiError, ChannelDto, CommandListingDto, FollowedThreadDto, MeDto, MemberDto, MessageDto, MessagePageDto,
    ReadMarkDto, SearchHitDto, SentDto, ThreadDto, UserDto, WorkspaceDto,
};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Messages per page in the channel view.
pub const PAGE_SIZE: i64 = 50;

/// Everything the channel view shows on first render.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelViewDto {
    pub me: MeDto,
    pub workspace: WorkspaceDto,
    pub channels: Vec<ChannelDto>,
    pub channel: ChannelDto,
    pub page: MessagePageDto,
    pub members: Vec<MemberDto>,
    /// The server's public origin, for links shown to copy.
    pub public_url: String,
    /// What the reader had read before this view (for the "new messages" line).
    pub last_read: Option<String>,
    /// How far each member has read (direct conversations only: receipts).
    pub read_marks: Vec<ReadMarkDto>,
    pub pinned: Vec<MessageDto>,
    pub categories: Vec<crate::wire::CategoryDto>,
    /// What a command typed here said (HTML), when it was sent without
    /// JavaScript: shown once.
    pub command_reply: Option<String>,
    /// In an encrypted conversation of a workspace that archives them: its
    /// archiving member, and whether the reader agreed to it.
    #[serde(default)]
    pub archive: Option<crate::wire::EncryptedArchiveDto>,
}

#[server]
pub async fn channel_view(
    workspace_id: String,
    channel_id: String,
    before: Option<String>,
    at: Option<String>,
) -> Result<ChannelViewDto, ApiError> {
    crate::ssr::respond(
        async move {
            use crate::ssr::parse_id;
            let user = crate::ssr::auth::require_user().await?;
            let services = crate::ssr::services()?;
            let hub = services.hub;
            let ws_id = parse_id("workspace_id", &workspace_id)?;
            let ch_id = parse_id("channel_id", &channel_id)?;
            // Opening at a message shows the page that ends with it.
            let at = crate::ssr::parse_optional_id("at", at.as_deref())?.map(|a| domain::Id(a.0 + 1));
            let before = crate::ssr::parse_optional_id("before", before.as_deref())?.or(at);
            // Seeing the newest messages reads them.
            let view = hub.channel_page(user.id, ws_id, ch_id, before, PAGE_SIZE).await?;
            let marks = &view.read_marks;
            let last_read = marks.iter().find(|m| m.user_id == user.id).map(|m| m.last_read_id.to_string());
            // Receipts concern the others' marks, which reading here does not move.
            let read_marks = if view.channel.channel.kind == domain::model::ChannelKind::Direct {
                marks.iter().map(ReadMarkDto::from).collect()
            } else {
                Vec::new()
            };
            let command_reply = match leptos_axum::extract::<tower_sessions::Session>().await {
                Ok(session) => crate::ssr::auth::take::<CommandFlash>(&session, COMMAND_FLASH)
                    .await?
                    .filter(|f| f.channel_id == channel_id)
                    .map(|f| f.html),
                Err(_) => None,
            };
            let archive = match view.channel.channel.end_to_end {
                true => Some(hub.encrypted_archive(user.id, ws_id).await?).filter(|a| a.archivist.is_some()),
                false => None,
            };
            Ok(ChannelViewDto {
                archive: archive.as_ref().map(crate::wire::EncryptedArchiveDto::from),
                command_reply,
                categories: view.categories.iter().map(crate::wire::CategoryDto::from).collect(),
                last_read,
                read_marks,
                pinned: view.pinned.iter().map(MessageDto::from).collect(),
                me: MeDto::from(&user),
                workspace: WorkspaceDto::from(&view.workspace),
                channels: view.channels.iter().map(ChannelDto::from).collect(),
                channel: ChannelDto::from(&view.channel),
                page: MessagePageDto::from(&view.messages),
                members: view.members.iter().map(MemberDto::from).collect(),
                public_url: services.public_url,
            })
        }
        .await,
    )
}

/// Older history of a channel, for "load older" without a page load.
#[server]
pub async fn message_page(channel_id: String, before: Option<String>) -> Result<MessagePageDto, ApiError> {
    crate::ssr::respond(
        async move {
            use crate::ssr::parse_id;
            let (user, hub) = crate::ssr::auth::caller().await?;
            let before = crate::ssr::parse_optional_id("before", before.as_deref())?;
            let page = hub.messages(user.id, parse_id("channel_id", &channel_id)?, before, PAGE_SIZE).await?;
            Ok(MessagePageDto::from(&page))
        }
        .await,
    )
}

/// What the message box sends: a message (a reply when `thread_id` is
/// given), or a slash command when the text starts with `/` (`//` posts
/// the text with one slash fewer). A command that leads elsewhere
/// (`/search`, `/leave`) redirects there; without JavaScript, what it says
/// to the person is kept for the channel's page to show once.
#[server]
pub async fn post_message(
    channel_id: String,
    body: String,
    nonce: Option<String>,
    thread_id: Option<String>,
) -> Result<SentDto, ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let channel = crate::ssr::parse_id("channel_id", &channel_id)?;
            let post = domain::hub::Post {
                body: &body,
                nonce: nonce.as_deref().filter(|n| !n.is_empty()),
                thread: crate::ssr::parse_optional_id("thread_id", thread_id.as_deref())?,
                ..Default::default()
            };
            match hub.send(user.id, channel, post).await? {
                domain::hub::Sent::Posted(msg, _) => Ok(SentDto::Message(MessageDto::from(&msg))),
                domain::hub::Sent::Command(reply) => {
                    let mut reply = crate::wire::CommandReplyDto::from(&reply);
                    if let Some(path) = &reply.go_to {
                        crate::ssr::redirect(path);
                    } else if crate::ssr::is_html_form() {
                        if reply.join_call.is_some() {
                            let text = "Calls need JavaScript: turn it on, then use Join call.";
                            reply.ephemeral_html = Some(domain::markdown::render(text));
                        }
                        if let Some(html) = &reply.ephemeral_html {
                            let flash = CommandFlash { channel_id: channel_id.clone(), html: html.clone() };
                            crate::ssr::auth::keep(COMMAND_FLASH, &flash).await?;
                        }
                    }
                    Ok(SentDto::Command(reply))
                }
            }
        }
        .await,
    )
}

/// What a command said, kept for the next page when the form was sent
/// without JavaScript.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CommandFlash {
    pub channel_id: String,
    pub html: String,
}

/// The session key of a [`CommandFlash`].
pub const COMMAND_FLASH: &str = "command_reply";

/// The commands that can be typed in a channel (for the composer's suggestions).
#[server]
pub async fn command_list(channel_id: String) -> Result<Vec<CommandListingDto>, ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let listed = hub.commands(user.id, crate::ssr::parse_id("channel_id", &channel_id)?).await?;
            Ok(listed.iter().map(CommandListingDto::from).collect())
        }
        .await,
    )
}

/// A thread with its replies; opening it reads it.
#[server]
pub async fn thread_view(thread_id: String) -> Result<ThreadDto, ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let thread = hub.thread(user.id, crate::ssr::parse_id("thread_id", &thread_id)?).await?;
            Ok(ThreadDto::from(&thread))
        }
        .await,
    )
}

/// Marks a thread read (its panel is open while replies arrive).
#[server]
pub async fn read_thread(thread_id: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            hub.read_thread(user.id, crate::ssr::parse_id("thread_id", &thread_id)?).await?;
            Ok(())
        }
        .await,
    )
}

/// Follows a thread, or unfollows it when `follow` is empty or "false".
#[server]
pub async fn follow_thread(message_id: String, follow: Option<String>) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let on = crate::ssr::checked(&follow);
            hub.follow_thread(user.id, crate::ssr::parse_id("message_id", &message_id)?, on).await?;
            Ok(())
        }
        .await,
    )
}

/// Opens (creating if needed) the direct conversation with the people named, and goes there.
#[server]
pub async fn open_direct(workspace_id: String, usernames: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ch = hub
                .open_direct(user.id, crate::ssr::parse_id("workspace_id", &workspace_id)?, &usernames)
                .await?;
            crate::ssr::redirect(&crate::paths::channel(&workspace_id, &ch.id.to_string()));
            Ok(())
        }
        .await,
    )
}

/// Marks a channel read up to a message (the newest when absent).
#[server]
pub async fn mark_read(channel_id: String, message_id: Option<String>) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let upto = crate::ssr::parse_optional_id("message_id", message_id.as_deref())?;
            hub.mark_read(user.id, crate::ssr::parse_id("channel_id", &channel_id)?, upto).await?;
            Ok(())
        }
        .await,
    )
}

/// Pins a message, or unpins it when `unpin` is set.
#[server]
pub async fn pin_message(message_id: String, unpin: Option<String>) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let off = crate::ssr::checked(&unpin);
            hub.set_pinned(user.id, crate::ssr::parse_id("message_id", &message_id)?, !off).await?;
            Ok(())
        }
        .await,
    )
}

/// Who has read a message: read receipts on request.
#[server]
pub async fn readers(message_id: String) -> Result<Vec<UserDto>, ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let who = hub.readers(user.id, crate::ssr::parse_id("message_id", &message_id)?).await?;
            Ok(who.iter().map(UserDto::from).collect())
        }
        .await,
    )
}

/// Changes a channel's topic.
#[server]
pub async fn set_topic(channel_id: String, topic: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            hub.update_channel(user.id, crate::ssr::parse_id("channel_id", &channel_id)?, None, Some(&topic))
                .await?;
            Ok(())
        }
        .await,
    )
}

/// Creates a channel and opens it.
#[server]
pub async fn create_channel(
    workspace_id: String,
    name: String,
    topic: Option<String>,
    is_private: Option<String>,
    kind: Option<String>,
    is_external: Option<String>,
    sensitive: Option<String>,
) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let mut new = domain::hub::NewChannel::text(
                &name,
                topic.as_deref().unwrap_or(""),
                crate::ssr::checked(&is_private),
            );
            new.kind = crate::ssr::parse_kind(kind.as_deref().unwrap_or("text"))?;
            new.is_external = crate::ssr::checked(&is_external);
            new.sensitive = crate::ssr::checked(&sensitive);
            let ch = hub
                .create_channel_with(user.id, crate::ssr::parse_id("workspace_id", &workspace_id)?, new)
                .await?;
            crate::ssr::redirect(&crate::paths::channel(&workspace_id, &ch.id.to_string()));
            Ok(())
        }
        .await,
    )
}

#[server]
pub async fn join_channel(channel_id: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            hub.join_channel(user.id, crate::ssr::parse_id("channel_id", &channel_id)?).await?;
            Ok(())
        }
        .await,
    )
}

#[server]
pub async fn leave_channel(channel_id: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ch = crate::ssr::parse_id("channel_id", &channel_id)?;
            let listing = hub.channel(user.id, ch).await?;
            hub.leave_channel(user.id, ch).await?;
            let ws = listing.channel.workspace_id;
            match hub.first_channel(user.id, ws).await {
                Ok(next) => {
                    crate::ssr::redirect(&crate::paths::channel(&ws.to_string(), &next.id.to_string()))
                }
                Err(_) => crate::ssr::redirect("/"),
            }
            Ok(())
        }
        .await,
    )
}

/// Adds a member of the workspace to a channel, by username.
#[server]
pub async fn add_channel_member(channel_id: String, username: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            hub.add_channel_member(user.id, crate::ssr::parse_id("channel_id", &channel_id)?, &username)
                .await?;
            Ok(())
        }
        .await,
    )
}

#[server]
pub async fn edit_message(message_id: String, body: String) -> Result<MessageDto, ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let msg =
                hub.edit_message(user.id, crate::ssr::parse_id("message_id", &message_id)?, &body).await?;
            Ok(MessageDto::from(&msg))
        }
        .await,
    )
}

#[server]
pub async fn delete_message(message_id: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            hub.delete_message(user.id, crate::ssr::parse_id("message_id", &message_id)?).await?;
            Ok(())
        }
        .await,
    )
}

/// Removes a link preview from the caller's message (`position` names it).
#[server]
pub async fn remove_link_preview(message_id: String, position: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let id = crate::ssr::parse_id("message_id", &message_id)?;
            let position = position.trim().parse::<i64>().map_err(|_| {
                ApiError::invalid("position", "`position` must be a preview's number (0, 1, 2).")
            })?;
            hub.remove_link_preview(user.id, id, position).await?;
            Ok(())
        }
        .await,
    )
}

/// Adds the caller's reaction, or removes it when `remove` is set (a toggle
/// that a plain form can express).
#[server]
pub async fn react(message_id: String, emoji: String, remove: Option<String>) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let id = crate::ssr::parse_id("message_id", &message_id)?;
            if remove.is_some_and(|r| !r.is_empty() && r != "false") {
                hub.remove_reaction(user.id, id, &emoji).await?;
            } else {
                hub.add_reaction(user.id, id, &emoji).await?;
            }
            Ok(())
        }
        .await,
    )
}

/// What the search page shows: the messages found, and the sensitive
/// channels search leaves out (so that finding nothing there is explained).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchViewDto {
    pub hits: Vec<SearchHitDto>,
    pub unsearched: Vec<String>,
    /// Who searched: the browser searches their encrypted conversations.
    #[serde(default)]
    pub me_id: String,
}

/// Searches the messages the caller may see in a workspace.
#[server]
pub async fn search(workspace_id: String, q: String) -> Result<SearchViewDto, ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            let found = hub.search_results(user.id, &q, Some(ws)).await?;
            Ok(SearchViewDto {
                hits: found.hits.iter().map(SearchHitDto::from).collect(),
                unsearched: found.unsearched,
                me_id: user.id.to_string(),
            })
        }
        .await,
    )
}

/// One channel as the caller sees it (with its members if it is a direct conversation).
#[server]
pub async fn channel_info(channel_id: String) -> Result<ChannelDto, ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let listing = hub.channel(user.id, crate::ssr::parse_id("channel_id", &channel_id)?).await?;
            Ok(ChannelDto::from(&listing))
        }
        .await,
    )
}

/// Everything the Threads view shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadsViewDto {
    pub me: MeDto,
    pub workspace: WorkspaceDto,
    pub channels: Vec<ChannelDto>,
    pub threads: Vec<FollowedThreadDto>,
}

#[server]
pub async fn threads_view(workspace_id: String) -> Result<ThreadsViewDto, ApiError> {
    crate::ssr::respond(
        async move {
            let user = crate::ssr::auth::require_user().await?;
            let hub = crate::ssr::services()?.hub;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            let workspace = hub.workspace(user.id, ws).await?;
            Ok(ThreadsViewDto {
                me: MeDto::from(&user),
                workspace: WorkspaceDto::from(&workspace),
                channels: hub.channels(user.id, ws).await?.iter().map(ChannelDto::from).collect(),
                threads: hub
                    .followed_threads(user.id, ws)
                    .await?
                    .iter()
                    .map(FollowedThreadDto::from)
                    .collect(),
            })
        }
        .await,
    )
}

/// The reader agrees to the archiving member of the workspace reading its
/// encrypted conversations (what they need before sending in one).
#[server]
pub async fn consent_to_archive(workspace_id: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            hub.consent_to_archiving(user.id, ws).await?;
            Ok(())
        }
        .await,
    )
}

/// Turns the sharing of an encrypted conversation's latest messages with
/// the devices it adds on (`share` "on") or off ("off").
#[server]
pub async fn set_history_sharing(channel_id: String, share: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let channel = crate::ssr::parse_id("channel_id", &channel_id)?;
            let on = match share.as_str() {
                "on" => true,
                "off" => false,
                _ => return Err(ApiError::invalid("share", "Say \"on\" or \"off\".")),
            };
            hub.set_history_sharing(user.id, channel, on).await?;
            Ok(())
        }
        .await,
    )
}
