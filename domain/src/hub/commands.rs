//! Slash commands: what the message box sends when its text starts with `/`.
//!
//! [`Hub::send`] is the message box's one operation: text that parses as a
//! command ([`Command::parse`]) runs, anything else is posted. Each built-in
//! goes through the operation that does the same thing elsewhere (posting,
//! the channel's topic, adding and removing members, notification levels,
//! the scheduler), so the same permissions apply. What a command has to
//! say is for the person alone ([`CommandReply::ephemeral`]).
//!
//! A workspace's own commands (`/deploy staging`) POST Slack's form fields
//! to their URL through the outgoing-address guard, signed as outgoing
//! webhooks are. The answer, within three seconds, shows to the person or,
//! with `"response_type": "in_channel"`, is posted as the command's bot;
//! later answers go to the call's `response_url`, which takes five within
//! 30 minutes, as Slack's does.

use super::Hub;
use super::messages::Post;
use crate::error::{Error, Result, Thing};
use crate::events::{Audience, EventKind, NewEvent};
use crate::id::Id;
use crate::model::{Channel, Message, SlashCommand, UserSummary};
use crate::notify::Level;
use crate::password;
use crate::permissions;
use crate::slash::{BUILT_IN, Command};
use crate::store::{CommandKey, NewCommandUse};
use crate::webhook_payload::WebhookPost;
use std::time::Duration;

/// How long a workspace's command has to answer before the person is told
/// it did not (it may still answer through its response URL).
const ANSWER_WITHIN: Duration = Duration::from_secs(3);
/// How long a call's response URL takes answers, and how many.
const RESPONSE_URL_MS: i64 = 30 * 60_000;
const RESPONSE_URL_ANSWERS: i64 = 5;
/// The longest a command's description or usage hint may be.
const MAX_DESCRIPTION: usize = 200;

/// What the message box sent became.
#[derive(Debug, Clone)]
pub enum Sent {
    /// A message (and whether it was new: `false` for a repeated nonce).
    Posted(Message, bool),
    Command(CommandReply),
}

/// What running a command did, for the person who typed it.
#[derive(Debug, Clone, Default)]
pub struct CommandReply {
    /// Shown to them alone (Markdown).
    pub ephemeral: Option<String>,
    /// What it posted, wherever it went.
    pub posted: Option<Message>,
    /// Where to take them.
    pub go_to: Option<GoTo>,
    /// The call their browser should join (`/call`).
    pub join_call: Option<Id>,
}

/// A place a command takes the person to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GoTo {
    Workspace(Id),
    Search { workspace: Id, query: String },
}

/// A command as `/help` and the composer's suggestions list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandListing {
    pub name: String,
    pub usage: String,
    pub description: String,
    /// One of the workspace's own, not a built-in.
    pub custom: bool,
}

/// What a workspace's own command is made with.
#[derive(Debug, Clone, Copy)]
pub struct NewSlashCommand<'a> {
    pub name: &'a str,
    pub url: &'a str,
    pub description: &'a str,
    pub usage_hint: &'a str,
}

/// A command just made, with what is shown only now: the token its calls
/// carry and the secret they are signed with.
#[derive(Debug, Clone)]
pub struct CreatedSlashCommand {
    pub command: SlashCommand,
    pub token: String,
    pub signing_secret: String,
}

/// Where a command was typed.
struct Typed<'a> {
    actor: Id,
    ch: Channel,
    thread: Option<Id>,
    nonce: Option<&'a str>,
}

impl CommandReply {
    fn says(text: impl Into<String>) -> Self {
        CommandReply { ephemeral: Some(text.into()), ..Default::default() }
    }
}

impl Hub {
    /// What the message box does with its text: runs it when it is a
    /// command, posts it otherwise (text starting with `//` loses one slash).
    pub async fn send(&self, actor: Id, channel: Id, post: Post<'_>) -> Result<Sent> {
        match Command::parse(post.body)? {
            Some(command) if post.files.is_empty() => {
                let (thread, nonce) = (post.thread, post.nonce);
                Ok(Sent::Command(self.run(actor, channel, thread, nonce, command).await?))
            }
            Some(_) => {
                Err(Error::invalid("body", "Commands cannot carry files. Send the files on their own."))
            }
            None => {
                let body = crate::slash::as_message(post.body);
                let (msg, new) = self.post(actor, channel, Post { body, ..post }).await?;
                Ok(Sent::Posted(msg, new))
            }
        }
    }

    /// Runs `text`, which must be a command, typed in `channel` (in
    /// `thread`, if given).
    pub async fn run_command(
        &self,
        actor: Id,
        channel: Id,
        thread: Option<Id>,
        text: &str,
        nonce: Option<&str>,
    ) -> Result<CommandReply> {
        let command = Command::parse(text)?
            .ok_or_else(|| Error::invalid("command", "A command starts with a slash: /help lists them."))?;
        self.run(actor, channel, thread, nonce, command).await
    }

    async fn run(
        &self,
        actor: Id,
        channel: Id,
        thread: Option<Id>,
        nonce: Option<&str>,
        command: Command,
    ) -> Result<CommandReply> {
        let (ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::view_channel(facts)?;
        let at = Typed { actor, ch, thread, nonce };
        match command {
            Command::Me(text) => self.post_for(&at, &format!("_{}_", text.trim())).await,
            Command::Shrug(text) => {
                let shrug = r"¯\\\_(ツ)\_/¯";
                let body = if text.is_empty() { shrug.to_string() } else { format!("{text} {shrug}") };
                self.post_for(&at, &body).await
            }
            Command::Msg { to, text } => self.message_someone(&at, &to, &text).await,
            Command::Topic(text) => {
                let ch = self.update_channel(actor, channel, None, Some(&text)).await?;
                Ok(CommandReply::says(match ch.topic.is_empty() {
                    true => format!("The topic of #{} is cleared.", ch.name),
                    false => format!("The topic of #{} is now: {}", ch.name, ch.topic),
                }))
            }
            Command::Invite(people) => self.invite_here(&at, &people).await,
            Command::Kick(who) => {
                let gone = self.remove_channel_member(actor, channel, &who).await?;
                Ok(CommandReply::says(format!("@{} is no longer in #{}.", gone.username, at.ch.name)))
            }
            Command::Leave => {
                self.leave_channel(actor, channel).await?;
                Ok(CommandReply { go_to: Some(GoTo::Workspace(at.ch.workspace_id)), ..Default::default() })
            }
            Command::Mute => {
                let muted = self.store.channel_level(actor, channel).await? == Some(Level::Muted);
                let level = if muted { super::default_level(at.ch.kind) } else { Level::Muted };
                self.set_channel_level(actor, channel, level.as_str()).await?;
                Ok(CommandReply::says(match muted {
                    true => format!("{} is unmuted.", super::notifications::place(&at.ch)),
                    false => format!(
                        "{} is muted: it no longer shows as unread or notifies you. Type /mute again to unmute it.",
                        super::notifications::place(&at.ch)
                    ),
                }))
            }
            Command::Call => {
                permissions::join_voice(facts)?;
                Ok(CommandReply { join_call: Some(channel), ..Default::default() })
            }
            Command::Remind { after_ms, what } => self.remind(&at, after_ms, &what).await,
            Command::Away => {
                let away = self.store.away_among(&[actor]).await?.is_empty();
                self.set_away(actor, away).await?;
                Ok(CommandReply::says(match away {
                    true => "You are shown as away. Type /away again when you are back.",
                    false => "Welcome back: you are shown as online again.",
                }))
            }
            Command::Dnd(pause) => self.pause_notifications(actor, pause).await,
            Command::Search(query) => Ok(CommandReply {
                go_to: Some(GoTo::Search { workspace: at.ch.workspace_id, query }),
                ..Default::default()
            }),
            Command::Help => {
                let listed = self.commands_in(at.ch.workspace_id).await?;
                let lines: Vec<String> = listed
                    .iter()
                    .map(|c| match c.usage.is_empty() {
                        true => format!("- `/{}` — {}", c.name, c.description),
                        false => format!("- `/{} {}` — {}", c.name, c.usage, c.description),
                    })
                    .collect();
                Ok(CommandReply::says(format!(
                    "Commands:\n\n{}\n\nTo post a message that starts with /, start it with //.",
                    lines.join("\n")
                )))
            }
            Command::Custom { name, text } => self.call_command(&at, &name, &text).await,
        }
    }

    /// Posts `body` where the command was typed, as the person.
    async fn post_for(&self, at: &Typed<'_>, body: &str) -> Result<CommandReply> {
        let post = Post { body, nonce: at.nonce, thread: at.thread, ..Default::default() };
        let (msg, _) = self.post(at.actor, at.ch.id, post).await?;
        Ok(CommandReply { posted: Some(msg), ..Default::default() })
    }

    async fn message_someone(&self, at: &Typed<'_>, to: &str, text: &str) -> Result<CommandReply> {
        let dm = self.open_direct(at.actor, at.ch.workspace_id, to).await?;
        let post = Post { body: text, nonce: at.nonce, ..Default::default() };
        let (msg, _) = self.post(at.actor, dm.id, post).await?;
        Ok(CommandReply {
            ephemeral: Some(format!("Sent to @{}.", to.trim_start_matches('@'))),
            posted: Some(msg),
            ..Default::default()
        })
    }

    /// Adds each of `people` to the channel; says who was added and why
    /// anyone was not.
    async fn invite_here(&self, at: &Typed<'_>, people: &[String]) -> Result<CommandReply> {
        let (mut added, mut refused) = (Vec::new(), Vec::new());
        for who in people {
            match self.add_channel_member(at.actor, at.ch.id, who).await {
                Ok(_) => added.push(format!("@{who}")),
                Err(e) if people.len() == 1 => return Err(e),
                Err(e @ (Error::Invalid { .. } | Error::Forbidden(_) | Error::NotFound(_))) => {
                    refused.push(format!("@{who}: {e}"))
                }
                Err(e) => return Err(e),
            }
        }
        let mut lines = Vec::new();
        if !added.is_empty() {
            lines.push(format!("Added {} to #{}.", added.join(", "), at.ch.name));
        }
        lines.extend(refused);
        Ok(CommandReply::says(lines.join("\n\n")))
    }

    async fn remind(&self, at: &Typed<'_>, after_ms: i64, what: &str) -> Result<CommandReply> {
        let what = what.trim();
        if what.chars().count() > 500 {
            return Err(Error::invalid("body", "A reminder is at most 500 characters."));
        }
        let due_at = crate::now_ms() + after_ms;
        self.schedule_reminder(at.actor, &at.ch, due_at, what).await?;
        let tz = self.store.preferences(at.actor).await?.settings.time_zone;
        Ok(CommandReply::says(format!(
            "I will remind you at {} to {what}.",
            crate::calendar::local_time(due_at, &tz)
        )))
    }

    /// Shows `actor` as away whatever their connections say, or not, and
    /// tells their workspaces.
    pub async fn set_away(&self, actor: Id, away: bool) -> Result<()> {
        self.store.set_away(actor, away).await?;
        // What the connections say; `presence_changed` applies the flag.
        let connected = self.connection_statuses(&[actor]).await;
        self.presence_changed(actor, connected.into_iter().next().unwrap_or(crate::presence::Status::Offline))
            .await
    }

    /// Pauses `actor`'s notifications for `pause` (ms), or resumes them.
    /// Deliveries the pause held are due again when it ends sooner (at
    /// once, or when quiet hours end).
    pub async fn pause_notifications(&self, actor: Id, pause: Option<i64>) -> Result<CommandReply> {
        let now = crate::now_ms();
        let until = pause.map(|p| now + p);
        let mut settings = self.store.preferences(actor).await?.settings;
        let held = settings.dnd_until.filter(|old| *old > now && until.is_none_or(|u| u < *old));
        settings.dnd_until = until;
        let release = held.map(|old| {
            let due = crate::notify::routing::held_until(&settings, settings.quiet_hours().as_ref(), now);
            (old, due)
        });
        self.store.set_dnd(actor, until, release).await?;
        if release.is_some() {
            self.deliveries.notify_one();
        }
        let Some(until) = until else {
            return Ok(CommandReply::says("Notifications are back on."));
        };
        let tz = settings.time_zone;
        Ok(CommandReply::says(format!(
            "Notifications are paused until {}: emails, pushes and texts wait until then (urgent ones too, \
             unless your settings let them through). Type /dnd off to resume them.",
            crate::calendar::local_time(until, &tz)
        )))
    }

    /// The commands that can be typed in `channel`: the built-ins, then the
    /// workspace's own.
    pub async fn commands(&self, actor: Id, channel: Id) -> Result<Vec<CommandListing>> {
        let (ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::view_channel(facts)?;
        self.commands_in(ch.workspace_id).await
    }

    async fn commands_in(&self, ws: Id) -> Result<Vec<CommandListing>> {
        let built_in = BUILT_IN.iter().map(|c| CommandListing {
            name: c.name.to_string(),
            usage: c.usage.to_string(),
            description: c.description.to_string(),
            custom: false,
        });
        let own = self.store.slash_commands_in(ws).await?.into_iter().map(|c| CommandListing {
            name: c.name,
            usage: c.usage_hint,
            description: c.description,
            custom: true,
        });
        Ok(built_in.chain(own).collect())
    }

    /// Makes a command of workspace `ws`, answering in channels as a new bot
    /// account named after it. Takes `manage_webhooks` in the workspace.
    pub async fn create_slash_command(
        &self,
        actor: Id,
        ws: Id,
        new: NewSlashCommand<'_>,
    ) -> Result<CreatedSlashCommand> {
        let name = crate::slash::custom_name(new.name)?;
        let url = new.url.trim();
        if url.len() > 2000 {
            return Err(Error::invalid("url", "The URL is longer than 2,000 characters."));
        }
        self.delivery.outgoing.check(url).map_err(|e| Error::invalid("url", e.to_string()))?;
        let short = |field: &'static str, text: &str| -> Result<String> {
            let text = text.trim();
            if text.chars().count() > MAX_DESCRIPTION || text.chars().any(char::is_control) {
                return Err(Error::invalid(field, "At most 200 characters, on one line."));
            }
            Ok(text.to_string())
        };
        let (description, usage_hint) =
            (short("description", new.description)?, short("usage_hint", new.usage_hint)?);
        let (_, facts, _) = self.workspace_standing(ws, actor).await?;
        permissions::manage_outgoing_webhooks(facts)?;
        let maker = self.store.user(actor).await?.ok_or(Error::NotFound(Thing::User))?;
        let (id, now) = (Id::new(), crate::now_ms());
        let bot = super::webhooks::bot_account(id, &format!("/{name}"), now);
        let command = SlashCommand {
            id,
            workspace_id: ws,
            name: name.clone(),
            url: url.to_string(),
            description: if description.is_empty() { format!("Calls {url}") } else { description },
            usage_hint,
            bot: UserSummary::from(&bot),
            created_by: UserSummary::from(&maker),
            created_at: now,
        };
        let token = password::new_secret("sct_");
        let secret = password::new_secret("scsec_");
        if !self.store.create_slash_command(&command, &bot, &token, &secret).await? {
            return Err(Error::Conflict {
                field: "name",
                message: format!(
                    "This workspace already has a /{name} command. Remove it first, or choose another name."
                ),
            });
        }
        let summary = format!("Added the command /{name}, calling {url}");
        self.audit(ws, actor, "slash_command.create", None, Some(id), summary).await?;
        Ok(CreatedSlashCommand { command, token, signing_secret: secret })
    }

    /// The commands of `ws`, for who may manage them.
    pub async fn slash_commands(&self, actor: Id, ws: Id) -> Result<Vec<SlashCommand>> {
        let (_, facts, _) = self.workspace_standing(ws, actor).await?;
        permissions::manage_outgoing_webhooks(facts)?;
        self.store.slash_commands_in(ws).await
    }

    /// Removes a command: typing it does nothing more, and the response URLs
    /// of its calls stop working.
    pub async fn delete_slash_command(&self, actor: Id, id: Id) -> Result<()> {
        let key = self.managed_command(actor, id).await?;
        if !self.store.delete_slash_command(id).await? {
            return Err(Error::NotFound(Thing::Command));
        }
        let summary = format!("Removed the command /{}", key.command.name);
        self.audit(key.command.workspace_id, actor, "slash_command.delete", None, Some(id), summary).await
    }

    /// Command `id`, for `actor` who manages the workspace's commands.
    async fn managed_command(&self, actor: Id, id: Id) -> Result<crate::store::CommandKey> {
        let key = self.store.slash_command(id).await?.ok_or(Error::NotFound(Thing::Command))?;
        let (_, facts, _) = self.workspace_standing(key.command.workspace_id, actor).await?;
        permissions::manage_outgoing_webhooks(facts).map_err(|e| match e {
            Error::NotFound(_) => Error::NotFound(Thing::Command),
            other => other,
        })?;
        Ok(key)
    }

    /// Command `id` and its latest 50 uses (kept as long as the event log),
    /// newest first: who typed what, and how its call answered.
    pub async fn slash_command_uses(
        &self,
        actor: Id,
        id: Id,
    ) -> Result<(SlashCommand, Vec<crate::model::CommandUseRecord>)> {
        let key = self.managed_command(actor, id).await?;
        let uses = self.store.command_uses(id, 50).await?;
        Ok((key.command, uses))
    }

    /// Calls the workspace's command `name` with what followed it, and
    /// shows or posts its answer.
    async fn call_command(&self, at: &Typed<'_>, name: &str, text: &str) -> Result<CommandReply> {
        let key = self.store.slash_command_named(at.ch.workspace_id, name).await?.ok_or_else(|| {
            Error::invalid(
                "body",
                format!("There is no /{name} command here. Type /help to list them, or start with // to post the text."),
            )
        })?;
        self.limits.check(crate::limits::Bucket::Post, &format!("{}:{}", at.actor, at.ch.id)).await?;
        let person = self.store.user(at.actor).await?.ok_or(Error::NotFound(Thing::User))?;
        let team_domain = self.store.workspace(at.ch.workspace_id).await?.map(|w| w.name).unwrap_or_default();
        let (use_id, now) = (Id::new(), crate::now_ms());
        let answer_secret = password::new_secret("scr_");
        let response_url = format!("{}/api/communication/commands/answers/{answer_secret}/", self.public_url);
        // Recorded before the call: the command may answer through its
        // response URL before it answers the call.
        self.store
            .record_command_use(&NewCommandUse {
                id: use_id,
                command_id: key.command.id,
                user_id: at.actor,
                channel_id: at.ch.id,
                thread_id: at.thread,
                response_digest: password::token_digest(&answer_secret),
                text: text.to_string(),
                at: now,
                expires_at: now + RESPONSE_URL_MS,
            })
            .await?;
        let body = crate::webhook_call::form_body(&[
            ("token", key.token.clone()),
            ("team_id", at.ch.workspace_id.to_string()),
            ("team_domain", team_domain),
            ("channel_id", at.ch.id.to_string()),
            ("channel_name", at.ch.name.clone()),
            ("user_id", at.actor.to_string()),
            ("user_name", person.username.clone()),
            ("command", format!("/{name}")),
            ("text", text.to_string()),
            ("response_url", response_url),
            ("trigger_id", use_id.to_string()),
            ("thread_ts", at.thread.map(|t| t.to_string()).unwrap_or_default()),
        ]);
        let caller = &self.commands_caller;
        let call =
            caller.call(&key.command.url, crate::model::PayloadFormat::Form, &key.signing_secret, &body);
        let outcome = tokio::time::timeout(ANSWER_WITHIN, call).await;
        let Ok(outcome) = outcome else {
            self.store
                .command_use_answered(use_id, None, ANSWER_WITHIN.as_millis() as i64, "no answer within 3 s")
                .await?;
            return Ok(CommandReply::says(format!(
                "/{name} did not answer within 3 seconds. If it is still working, its answer will show here."
            )));
        };
        self.store
            .command_use_answered(use_id, outcome.status, outcome.latency_ms, &outcome.excerpt())
            .await?;
        if !outcome.delivered() {
            let why = match outcome.status {
                Some(status) => format!("it answered with HTTP {status}"),
                None => outcome.error.clone().unwrap_or_else(|| "it did not answer".into()),
            };
            return Ok(CommandReply::says(format!("/{name} failed: {why}. Tell whoever runs it.")));
        }
        let user = UserSummary::from(&person);
        self.command_answer(&key, &user, &at.ch, at.thread, &outcome.answer, true).await
    }

    /// Shows or posts what command `key` answered (at once, or later through
    /// its response URL): `{"text": …, "response_type": "in_channel"}` is
    /// posted as its bot, anything else shows only to `person`. Plain text
    /// is an answer too; an empty one says nothing.
    async fn command_answer(
        &self,
        key: &CommandKey,
        person: &UserSummary,
        ch: &Channel,
        thread: Option<Id>,
        answer: &[u8],
        at_once: bool,
    ) -> Result<CommandReply> {
        if answer.iter().all(u8::is_ascii_whitespace) {
            return Ok(CommandReply::default());
        }
        #[derive(serde::Deserialize)]
        struct Kind {
            response_type: Option<String>,
        }
        let (text, in_channel) = match serde_json::from_slice::<Kind>(answer) {
            Ok(kind) => {
                let post = WebhookPost::from_json(answer)?;
                (post, kind.response_type.as_deref() == Some("in_channel"))
            }
            Err(_) => {
                let text = String::from_utf8_lossy(answer).into_owned();
                (WebhookPost { body: text, shown_name: String::new(), shown_icon: String::new() }, false)
            }
        };
        let command = format!("/{}", key.command.name);
        // In the channel where the person may post there (in a thread, the
        // bot's reply goes where they typed).
        let in_channel = in_channel
            && (thread.is_some() || {
                let (_, facts) = self.channel_facts(ch.id, person.id).await?;
                permissions::send_message(facts).is_ok()
            });
        if in_channel {
            let post = Post { thread, ..Default::default() };
            let posted = self.post_as_webhook(key.command.bot.clone(), person.id, ch.id, text, post).await?;
            return Ok(CommandReply { posted: Some(posted), ..Default::default() });
        }
        let body = crate::input::MessageBody::parse(&text.body)?.into_inner();
        if at_once {
            return Ok(CommandReply::says(body));
        }
        let shown = EventKind::CommandAnswer {
            workspace_id: ch.workspace_id,
            channel_id: ch.id,
            thread_id: thread,
            command,
            html: crate::markdown::render(&body),
        };
        self.store.announce(&[NewEvent::new(Audience::User(person.id), shown)]).await?;
        Ok(CommandReply::says(body))
    }

    /// Takes a later answer sent to a call's response URL (its `secret`):
    /// five within 30 minutes of the call, each shown to the person who
    /// typed the command or posted in the channel, as an answer at once is.
    pub async fn answer_command(&self, secret: &str, answer: &[u8]) -> Result<()> {
        let digest = password::token_digest(secret);
        let used = self.store.take_command_answer(&digest, crate::now_ms(), RESPONSE_URL_ANSWERS).await?;
        let used = used.ok_or(Error::NotFound(Thing::ResponseUrl))?;
        let key =
            self.store.slash_command(used.command_id).await?.ok_or(Error::NotFound(Thing::ResponseUrl))?;
        let ch = self.store.channel(used.channel_id).await?.ok_or(Error::NotFound(Thing::ResponseUrl))?;
        let person = self.store.user(used.user_id).await?.ok_or(Error::NotFound(Thing::ResponseUrl))?;
        self.command_answer(&key, &UserSummary::from(&person), &ch, used.thread_id, answer, false).await?;
        Ok(())
    }

    /// Removes a member of `channel` (by username): who may change the
    /// channel may; not from a direct conversation, and not oneself (that
    /// is leaving).
    pub async fn remove_channel_member(&self, actor: Id, channel: Id, username: &str) -> Result<UserSummary> {
        let (ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::remove_from_channel(facts)?;
        let name = crate::input::Username::parse(username.trim().trim_start_matches('@'))?;
        let not_here = || Error::invalid("username", format!("@{} is not in this channel.", name.as_str()));
        let user = self.store.user_by_username(name.as_str()).await?.ok_or_else(not_here)?;
        if user.id == actor {
            return Err(Error::invalid("username", "To take yourself out of a channel, leave it: /leave."));
        }
        let (_, theirs) = self.channel_facts(channel, user.id).await?;
        if !theirs.channel_member {
            return Err(not_here());
        }
        self.keep_archivist(&ch, user.id).await?;
        let gone = super::channels::channel_member_gone(ch.id, user.id);
        self.store.remove_channel_member(ch.id, user.id, &gone).await?;
        let summary = format!("Removed @{} from #{}", user.username, ch.name);
        self.audit_in(&ch, actor, "channel.member_remove", Some(user.id), Some(ch.id), summary).await?;
        Ok(UserSummary::from(&user))
    }
}
