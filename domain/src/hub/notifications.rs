//! In-app notifications: made from what happens (a mention, a direct
//! message, a reply in a followed thread, a reaction, a meeting invitation),
//! stored, then sent live to the person's pages; listed and marked read.

use super::Hub;
use crate::error::{Error, Result, Thing};
use crate::events::{Audience, EventKind};
use crate::id::Id;
use crate::model::{Channel, ChannelKind, Meeting, Message, Notification};
use crate::permissions;

/// What a notification sent through the API says and to whom.
#[derive(Debug, Default)]
pub struct CustomNotification<'a> {
    /// Usernames.
    pub recipients: Vec<String>,
    /// The type (default `custom`).
    pub kind: &'a str,
    pub title: &'a str,
    pub content: &'a str,
    /// `low`, `normal`, `high` or `urgent`.
    pub priority: &'a str,
    /// `in_app` (always) and `email`.
    pub channels: Vec<String>,
}

/// The first line of a body, shortened, for a notification's content.
fn excerpt(body: &str) -> String {
    let line = body.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut out: String = line.chars().take(140).collect();
    if line.chars().count() > 140 {
        out.push('…');
    }
    out
}

/// Where a message is, as a notification's title says it.
fn place(ch: &Channel) -> String {
    if ch.kind == ChannelKind::Direct { "a direct message".to_string() } else { format!("#{}", ch.name) }
}

/// A notification for `user` about `msg` in `ch`, leading to it.
fn about(user: Id, ch: &Channel, msg: &Message, kind: &str, title: String) -> Notification {
    let mut n = Notification::new(user, ch.workspace_id, kind, title, excerpt(&msg.body));
    n.channel_id = Some(ch.id);
    n.message_id = Some(msg.id);
    n.thread_id = msg.thread_id;
    n
}

impl Hub {
    /// Stores notifications, then sends each to its person's pages.
    pub(super) async fn notify(&self, list: Vec<Notification>) -> Result<()> {
        if list.is_empty() {
            return Ok(());
        }
        self.store.insert_notifications(&list).await?;
        for n in list {
            self.bus.publish(Audience::User(n.user_id), EventKind::NotificationCreated(n));
        }
        Ok(())
    }

    /// After a message is posted: a notification for each person mentioned,
    /// the others in a direct conversation, and the followers of the thread it
    /// answers; one each at most, never to its author, only to who may read it.
    pub(super) async fn notify_message(&self, ch: &Channel, msg: &Message, mentioned: &[Id]) -> Result<()> {
        let author = &msg.author;
        let place = place(ch);
        let mut out: Vec<Notification> = Vec::new();
        let mut add = |user: Id, kind: &str, title: String| {
            if user != author.id && !out.iter().any(|n| n.user_id == user) {
                out.push(about(user, ch, msg, kind, title));
            }
        };
        for &user in mentioned {
            add(user, "mention", format!("{} mentioned you in {place}", author.display_name));
        }
        if ch.kind == ChannelKind::Direct {
            for m in self.store.members_of_channels(&[ch.id]).await?.remove(&ch.id).unwrap_or_default() {
                add(m.id, "direct_message", format!("{} sent you a message", author.display_name));
            }
        }
        if let Some(thread) = msg.thread_id {
            for user in self.store.thread_followers(thread).await? {
                add(user, "thread_reply", format!("{} replied in a thread in {place}", author.display_name));
            }
        }
        // Only to those who may read it now.
        let mut allowed = Vec::with_capacity(out.len());
        for n in out {
            if let Ok((_, facts)) = self.channel_facts(ch.id, n.user_id).await
                && permissions::view_channel(facts).is_ok()
            {
                allowed.push(n);
            }
        }
        self.notify(allowed).await
    }

    /// After `reactor` reacted to `msg`: its author hears of it.
    pub(super) async fn notify_reaction(
        &self,
        msg: &Message,
        reactor: &crate::model::UserSummary,
        emoji: &str,
    ) -> Result<()> {
        if msg.author.id == reactor.id {
            return Ok(());
        }
        let Some(ch) = self.store.channel(msg.channel_id).await? else { return Ok(()) };
        let title = format!("{} reacted {emoji} to your message in {}", reactor.display_name, place(&ch));
        self.notify(vec![about(msg.author.id, &ch, msg, "reaction", title)]).await
    }

    /// After a meeting is scheduled: each person invited hears of it.
    pub(super) async fn notify_meeting(&self, m: &Meeting) -> Result<()> {
        let list = m
            .participants
            .iter()
            .map(|p| {
                let title = format!("{} invited you to {}", m.organizer.display_name, m.title);
                let content = format!("Starts {}", crate::calendar::rfc3339(m.starts_at));
                let mut n = Notification::new(p.id, m.workspace_id, "meeting_invitation", title, content);
                n.channel_id = Some(m.channel_id);
                n
            })
            .collect();
        self.notify(list).await
    }

    /// A notification sent through the API (seed 000's `send_notification`)
    /// by someone who manages the workspace, to members of it: in-app, and by
    /// email when asked.
    pub async fn send_notification(
        &self,
        actor: Id,
        ws: Id,
        new: CustomNotification<'_>,
    ) -> Result<Vec<Notification>> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::send_notifications(facts)?;
        let title = new.title.trim();
        if title.is_empty() || title.chars().count() > 200 {
            return Err(Error::invalid("title", "A title is 1 to 200 characters."));
        }
        if new.content.chars().count() > 2000 {
            return Err(Error::invalid("content", "The content is at most 2000 characters."));
        }
        if !["low", "normal", "high", "urgent"].contains(&new.priority) {
            return Err(Error::invalid("priority", "Priority is one of low, normal, high or urgent."));
        }
        let kind = if new.kind.trim().is_empty() { "custom" } else { new.kind.trim() };
        if kind.len() > 50 || !kind.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(Error::invalid("type", "A type is up to 50 letters, digits and _."));
        }
        let mut email = false;
        for channel in &new.channels {
            match channel.as_str() {
                "in_app" => {}
                "email" => email = true,
                other => {
                    return Err(Error::invalid(
                        "channels",
                        format!("“{other}” delivery is not available on this server; use in_app and email."),
                    ));
                }
            }
        }
        if new.recipients.is_empty() || new.recipients.len() > 500 {
            return Err(Error::invalid("recipients", "Name 1 to 500 recipients (usernames)."));
        }
        let members = self.store.workspace_members(ws).await?;
        let mut list = Vec::with_capacity(new.recipients.len());
        let mut addresses = Vec::new();
        for name in &new.recipients {
            let name = name.trim().trim_start_matches('@');
            let m = members.iter().find(|m| m.user.username == name).ok_or_else(|| {
                Error::invalid("recipients", format!("@{name} is not a member of this workspace."))
            })?;
            if list.iter().any(|n: &Notification| n.user_id == m.user.id) {
                continue;
            }
            let mut n = Notification::new(m.user.id, ws, kind, title.to_string(), new.content.to_string());
            n.priority = new.priority.to_string();
            list.push(n);
            if email && let Some(u) = self.store.user(m.user.id).await? {
                addresses.push(u.email);
            }
        }
        self.notify(list.clone()).await?;
        for to in addresses {
            let html = format!(
                "<h1>{}</h1><p>{}</p>",
                crate::markdown::escape(title),
                crate::markdown::escape(new.content).replace('\n', "<br>")
            );
            let mail =
                crate::mail::EmailContent { subject: title.to_string(), text: new.content.to_string(), html };
            self.queue_email(&to, mail).await?;
        }
        Ok(list)
    }

    /// `actor`'s notifications, newest first (at most 50, older than `before`).
    pub async fn notifications(
        &self,
        actor: Id,
        before: Option<Id>,
        unread_only: bool,
    ) -> Result<Vec<Notification>> {
        self.store.notifications_of(actor, before, unread_only, 50).await
    }

    pub async fn unread_notifications(&self, actor: Id) -> Result<i64> {
        self.store.unread_notification_count(actor).await
    }

    /// Marks one of `actor`'s notifications read; their other pages hear of it.
    pub async fn mark_notification_read(&self, actor: Id, id: Id) -> Result<Notification> {
        let n = self
            .store
            .mark_notification_read(actor, id, crate::now_ms())
            .await?
            .ok_or(Error::NotFound(Thing::Notification))?;
        self.bus.publish(Audience::User(actor), EventKind::NotificationsRead { ids: vec![n.id] });
        Ok(n)
    }

    /// Marks all of `actor`'s notifications read; returns how many were unread.
    pub async fn mark_all_notifications_read(&self, actor: Id) -> Result<u64> {
        let n = self.store.mark_all_notifications_read(actor, crate::now_ms()).await?;
        self.bus.publish(Audience::User(actor), EventKind::NotificationsRead { ids: Vec::new() });
        Ok(n)
    }
}
