//! Notifications: made from what happens (a mention, @channel or @here, a
//! direct message, a reply in a followed thread, a new message in a channel
//! set to all, a reaction, a meeting invitation or reminder) or sent through
//! the API, then stored with their deliveries in one transaction and sent
//! live to the person's pages. Each person's switches, channel levels and
//! quiet hours decide where and when ([`crate::notify`]); the server's
//! delivery worker sends email, push and SMS.

use super::Hub;
use crate::error::{Error, Result, Thing};
use crate::events::{Audience, EventKind, NewEvent};
use crate::id::Id;
use crate::model::{Channel, ChannelKind, Meeting, Message, Notification, User};
use crate::notify::routing::{self, Preferences};
use crate::notify::{DeliveryChannel, Level};
use crate::permissions;
use crate::store::{Notifying, PlannedDelivery, PushSubscriptionRow, Scheduled};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What the server can deliver beyond the app, and how it batches.
#[derive(Debug, Clone)]
pub struct DeliveryOptions {
    /// How long a routine email waits for others to join it (a digest).
    pub digest_window_ms: i64,
    /// The VAPID public key when web push is on.
    pub push_key: Option<String>,
    /// Where the server may call on someone's behalf (push endpoints,
    /// outgoing webhooks): the public internet only, unless the operator
    /// allows private addresses.
    pub outgoing: crate::outgoing::Guard,
    pub sms_available: bool,
    /// How long before a meeting its people are reminded.
    pub reminder_minutes: i64,
}

impl Default for DeliveryOptions {
    fn default() -> Self {
        DeliveryOptions {
            digest_window_ms: 15 * 60 * 1000,
            push_key: None,
            outgoing: crate::outgoing::Guard::public_only(),
            sms_available: false,
            reminder_minutes: 10,
        }
    }
}

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
    /// `in_app`, `email`, `push`, `sms` (the person's preferences still apply).
    pub channels: Vec<String>,
    /// A template of the workspace's, by name.
    pub template_id: Option<&'a str>,
    /// Values for the template's variables (a JSON object).
    pub template_data: Option<serde_json::Value>,
    /// Milliseconds since the epoch; later than now schedules it.
    pub send_at: Option<i64>,
}

/// A notification to make later, stored as JSON.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Later {
    Custom {
        notifications: Vec<Planned>,
        channels: Vec<String>,
    },
    MeetingReminder {
        meeting_id: i64,
        minutes: i64,
    },
    /// What a person asked to be reminded of (`/remind`), where they asked.
    Reminder {
        user_id: i64,
        workspace_id: i64,
        channel_id: i64,
        text: String,
    },
    /// Telling people of a new message. Earlier versions stored one with
    /// each message and told people after the commit, firing it only if the
    /// server stopped in between; now a message's notifications are stored
    /// in its own transaction, and this is read only from such a version's
    /// database.
    Message {
        message_id: i64,
    },
}

/// One person's custom notification, as scheduled.
#[derive(Debug, Serialize, Deserialize)]
struct Planned {
    user_id: i64,
    workspace_id: i64,
    kind: String,
    title: String,
    content: String,
    priority: String,
    template: String,
    data: String,
}

/// Where a message is, as a notification's title says it.
pub(super) fn place(ch: &Channel) -> String {
    if ch.kind == ChannelKind::Direct { "a direct message".to_string() } else { format!("#{}", ch.name) }
}

/// A notification for `user` about `msg` in `ch`, leading to it; it
/// quotes the message unless the channel is sensitive or the message
/// encrypted end to end (the server cannot read it).
fn about(user: Id, ch: &Channel, msg: &Message, kind: &str, title: String) -> Notification {
    let content = if msg.sent_from.is_some() || ch.end_to_end {
        "Open it in Parley to read it: this conversation is end-to-end encrypted.".to_string()
    } else if ch.sensitive {
        format!("Open it in Parley to read it: #{} is a sensitive channel, not quoted here.", ch.name)
    } else {
        crate::markdown::excerpt(&msg.body)
    };
    let mut n = Notification::new(user, ch.workspace_id, kind, title, content);
    n.channel_id = Some(ch.id);
    n.message_id = Some(msg.id);
    n.thread_id = msg.thread_id;
    n
}

/// A person's level for a channel when they have not set one.
pub fn default_level(kind: ChannelKind) -> Level {
    if kind == ChannelKind::Direct { Level::All } else { Level::Mentions }
}

/// What the deliveries of one person need.
struct Person {
    user: User,
    prefs: Preferences,
    pushes: Vec<PushSubscriptionRow>,
}

impl Hub {
    /// Stores notifications and their deliveries, then sends each to its
    /// person's pages.
    pub(super) async fn notify(&self, list: Vec<Notification>) -> Result<()> {
        self.notify_via(list, &DeliveryChannel::ALL, None).await.map(|_| ())
    }

    /// [`Self::notify`] on the `requested` channels only; with `fired`, as
    /// that schedule's firing (nothing happens if it fired already).
    async fn notify_via(
        &self,
        list: Vec<Notification>,
        requested: &[DeliveryChannel],
        fired: Option<Id>,
    ) -> Result<bool> {
        let (notifying, events) = self.plan_notifications(list, requested).await?;
        if notifying.list.is_empty() && fired.is_none() {
            return Ok(true);
        }
        if !self.store.insert_notifications(&notifying, fired, &events).await? {
            return Ok(false);
        }
        self.deliver_planned(&notifying);
        Ok(true)
    }

    /// Wakes the delivery worker when `notifying`, now committed, planned deliveries.
    pub(super) fn deliver_planned(&self, notifying: &Notifying) {
        if notifying.delivers() {
            self.deliveries.notify_one();
        }
    }

    /// What storing `list` takes: the notifications of people who still
    /// exist, each marked read at once if its person does not want it in the
    /// app, the deliveries their preferences ask for on the `requested`
    /// channels, and the events that ring in their pages.
    async fn plan_notifications(
        &self,
        mut list: Vec<Notification>,
        requested: &[DeliveryChannel],
    ) -> Result<(Notifying, Vec<NewEvent>)> {
        let now = crate::now_ms();
        let mut people: HashMap<Id, Option<Person>> = HashMap::new();
        let mut planned = Vec::new();
        for n in &mut list {
            if let std::collections::hash_map::Entry::Vacant(slot) = people.entry(n.user_id) {
                let person = match self.store.user(n.user_id).await? {
                    Some(user) => Some(Person {
                        prefs: self.store.preferences(user.id).await?,
                        pushes: if self.delivery.push_key.is_some() {
                            self.store.push_subscriptions_of(user.id).await?
                        } else {
                            Vec::new()
                        },
                        user,
                    }),
                    None => None,
                };
                slot.insert(person);
            }
            let Some(person) = &people[&n.user_id] else { continue };
            let wants = |c: DeliveryChannel| requested.contains(&c) && person.prefs.wants(&n.kind, c);
            if !wants(DeliveryChannel::InApp) {
                // Kept in the list, but it does not ring.
                n.read_at = Some(now);
            }
            for channel in [DeliveryChannel::Email, DeliveryChannel::Push, DeliveryChannel::Sms] {
                if !wants(channel) {
                    continue;
                }
                let recipients: Vec<String> = match channel {
                    // A bot has no mailbox: its address is a made-up one.
                    DeliveryChannel::Email if !person.user.is_bot => vec![person.user.email.clone()],
                    DeliveryChannel::Push => person.pushes.iter().map(|s| s.id.to_string()).collect(),
                    DeliveryChannel::Sms
                        if self.delivery.sms_available && !person.prefs.settings.phone.is_empty() =>
                    {
                        vec![person.prefs.settings.phone.clone()]
                    }
                    _ => Vec::new(),
                };
                let route =
                    routing::route(channel, n, &person.prefs.settings, now, self.delivery.digest_window_ms);
                for recipient in recipients {
                    planned.push(PlannedDelivery {
                        notification_id: n.id,
                        user_id: n.user_id,
                        channel: channel.as_str(),
                        recipient,
                        due_at: route.due_at,
                        group_key: route.group_key.clone(),
                    });
                }
            }
        }
        list.retain(|n| people.get(&n.user_id).is_some_and(Option::is_some));
        let events: Vec<NewEvent> = (list.iter().filter(|n| n.read_at.is_none()))
            .map(|n| NewEvent::new(Audience::User(n.user_id), EventKind::NotificationCreated(n.clone())))
            .collect();
        Ok((Notifying { list, planned }, events))
    }

    /// After a message is posted: a notification for each person mentioned
    /// (by name, or all members with @channel, those online with @here), the
    /// others in a direct conversation, the followers of the thread it
    /// answers, and those who set the channel to all; one each at most, never
    /// to its author, only to who may read it, and to nobody who set the
    /// channel to nothing or muted it. Planned before the message is stored,
    /// to be stored with it.
    pub(super) async fn message_notifying(
        &self,
        ch: &Channel,
        msg: &Message,
        mentioned: &crate::store::Mentioned,
        levels: Option<super::Levels>,
    ) -> Result<(Notifying, Vec<NewEvent>)> {
        let author = &msg.author;
        let place = place(ch);
        let levels = match levels {
            Some(levels) => levels,
            None => self.store.channel_levels(ch.id).await?,
        };
        let level = |user: Id| levels.get(&user).copied().unwrap_or(default_level(ch.kind));
        let mut out: Vec<Notification> = Vec::new();
        let mut add = |user: Id, kind: &str, title: String| {
            if user != author.id && level(user).notifies() && !out.iter().any(|n| n.user_id == user) {
                out.push(about(user, ch, msg, kind, title));
            }
        };
        for &user in &mentioned.users {
            add(user, "mention", format!("{} mentioned you in {place}", author.display_name));
        }
        let members = if ch.kind == ChannelKind::Direct || mentioned.all {
            self.store.members_of_channels(&[ch.id]).await?.remove(&ch.id).unwrap_or_default()
        } else {
            Vec::new()
        };
        if mentioned.all {
            let here = mentioned.here;
            let who = if here { "@here" } else { "@channel" };
            let ids: Vec<Id> = members.iter().map(|m| m.id).collect();
            let statuses = self.statuses(&ids).await;
            for (m, status) in members.iter().zip(statuses) {
                if !here || status == crate::presence::Status::Online {
                    add(m.id, "mention", format!("{} mentioned {who} in {place}", author.display_name));
                }
            }
        }
        if ch.kind == ChannelKind::Direct {
            for m in &members {
                add(m.id, "direct_message", format!("{} sent you a message", author.display_name));
            }
        }
        if let Some(thread) = msg.thread_id {
            for user in self.store.thread_followers(thread).await? {
                add(user, "thread_reply", format!("{} replied in a thread in {place}", author.display_name));
            }
        }
        if msg.thread_id.is_none() {
            for (&user, l) in &levels {
                if *l == Level::All {
                    add(user, "message", format!("{} posted in {place}", author.display_name));
                }
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
        self.plan_notifications(allowed, &DeliveryChannel::ALL).await
    }

    /// The follow-up an earlier version stored with each new message (see
    /// [`Later::Message`]), due now.
    pub fn message_follow_up(msg: &Message) -> Scheduled {
        let payload = serde_json::to_string(&Later::Message { message_id: msg.id.0 }).expect("serialisable");
        Scheduled { id: Id::new(), due_at: crate::now_ms(), payload, meeting_id: None }
    }

    /// After `reactor` reacted to `msg`: its author hears of it (unless they
    /// silenced the channel).
    pub(super) async fn notify_reaction(
        &self,
        ch: &Channel,
        msg: &Message,
        reactor: &crate::model::UserSummary,
        emoji: &str,
    ) -> Result<()> {
        if msg.author.id == reactor.id {
            return Ok(());
        }
        let level = self.store.channel_level(msg.author.id, ch.id).await?;
        if !level.unwrap_or(default_level(ch.kind)).notifies() {
            return Ok(());
        }
        let title = format!("{} reacted {emoji} to your message in {}", reactor.display_name, place(ch));
        self.notify(vec![about(msg.author.id, ch, msg, "reaction", title)]).await
    }

    /// After a meeting is scheduled: each person invited hears of it, and a
    /// reminder for everyone in it is scheduled before it starts.
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
        self.notify(list).await?;
        let minutes = self.delivery.reminder_minutes;
        let due_at = m.starts_at - minutes * 60_000;
        if minutes > 0 && due_at > crate::now_ms() {
            let payload = Later::MeetingReminder { meeting_id: m.id.0, minutes };
            self.schedule(due_at, &payload, Some(m.id)).await?;
        }
        Ok(())
    }

    /// Reminds `user` of `text` at `due_at`, leading to `ch`, where they asked.
    pub(super) async fn schedule_reminder(
        &self,
        user: Id,
        ch: &Channel,
        due_at: i64,
        text: &str,
    ) -> Result<()> {
        let later = Later::Reminder {
            user_id: user.0,
            workspace_id: ch.workspace_id.0,
            channel_id: ch.id.0,
            text: text.to_string(),
        };
        self.schedule(due_at, &later, None).await
    }

    async fn schedule(&self, due_at: i64, later: &Later, meeting: Option<Id>) -> Result<()> {
        let payload = serde_json::to_string(later).map_err(|e| Error::Internal(e.into()))?;
        self.store
            .schedule_notification(&Scheduled { id: Id::new(), due_at, payload, meeting_id: meeting })
            .await?;
        self.scheduled.notify_one();
        Ok(())
    }

    /// Makes what a due schedule says, once: a custom notification sent with
    /// `send_at`, or a meeting's reminder (dropped if the meeting ended).
    pub async fn fire_scheduled(&self, s: Scheduled) -> Result<()> {
        let later: Later = match serde_json::from_str(&s.payload) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(schedule = %s.id, error = %e, "a scheduled notification cannot be read; dropped");
                return self.store.drop_schedule(s.id).await;
            }
        };
        match later {
            Later::Custom { notifications, channels } => {
                let list = notifications
                    .into_iter()
                    .map(|p| {
                        let mut n =
                            Notification::new(Id(p.user_id), Id(p.workspace_id), &p.kind, p.title, p.content);
                        n.priority = p.priority;
                        n.template = p.template;
                        n.data = p.data;
                        n
                    })
                    .collect();
                let channels: Vec<DeliveryChannel> =
                    channels.iter().filter_map(|c| DeliveryChannel::parse(c)).collect();
                self.notify_via(list, &channels, Some(s.id)).await?;
            }
            Later::Message { message_id } => {
                let found = self.store.message(Id(message_id)).await?.filter(|m| !m.deleted);
                let Some(msg) = found else { return self.store.drop_schedule(s.id).await };
                let Some(ch) = self.store.channel(msg.channel_id).await? else {
                    return self.store.drop_schedule(s.id).await;
                };
                let (_, author) = self.channel_facts(ch.id, msg.author.id).await?;
                let mentioned = self.mentioned_by(crate::markdown::mentions(&msg.body), author).await?;
                let (notifying, events) = self.message_notifying(&ch, &msg, &mentioned, None).await?;
                if self.store.insert_notifications(&notifying, Some(s.id), &events).await? {
                    self.deliver_planned(&notifying);
                }
            }
            Later::Reminder { user_id, workspace_id, channel_id, text } => {
                let title = format!("Reminder: {text}");
                let content = "You asked for this reminder with /remind.".to_string();
                let mut n = Notification::new(Id(user_id), Id(workspace_id), "reminder", title, content);
                // Leading back to where they asked, while they may still see it.
                let visible = self.channel_facts(Id(channel_id), Id(user_id)).await;
                if visible.is_ok_and(|(_, f)| permissions::view_channel(f).is_ok()) {
                    n.channel_id = Some(Id(channel_id));
                }
                self.notify_via(vec![n], &DeliveryChannel::ALL, Some(s.id)).await?;
            }
            Later::MeetingReminder { meeting_id, minutes } => {
                let Some(m) = self.store.meeting(Id(meeting_id)).await?.filter(|m| m.ended_at.is_none())
                else {
                    return self.store.drop_schedule(s.id).await;
                };
                let mut list = Vec::new();
                for person in std::iter::once(&m.organizer).chain(&m.participants) {
                    let tz = self.store.preferences(person.id).await?.settings.time_zone;
                    let title = if minutes == 1 {
                        format!("{} starts in 1 minute", m.title)
                    } else {
                        format!("{} starts in {minutes} minutes", m.title)
                    };
                    let content = format!("At {}", crate::calendar::local_time(m.starts_at, &tz));
                    let mut n =
                        Notification::new(person.id, m.workspace_id, "meeting_reminder", title, content);
                    n.channel_id = Some(m.channel_id);
                    list.push(n);
                }
                self.notify_via(list, &DeliveryChannel::ALL, Some(s.id)).await?;
            }
        }
        Ok(())
    }

    /// A notification sent through the API (seed 000's `send_notification`)
    /// by someone who manages the workspace, to members of it: in-app, and
    /// by email, push or SMS where asked and where each person allows it;
    /// from a template of the workspace's if named; at `send_at` if later.
    /// Returns what was made now (nothing when scheduled).
    pub async fn send_notification(
        &self,
        actor: Id,
        ws: Id,
        new: CustomNotification<'_>,
    ) -> Result<Vec<Notification>> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::send_notifications(facts)?;
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
        let mut channels = Vec::new();
        for channel in &new.channels {
            let c = DeliveryChannel::parse(channel).ok_or_else(|| {
                Error::invalid(
                    "channels",
                    format!("“{channel}” is not a delivery channel; use in_app, email, push or sms."),
                )
            })?;
            if c == DeliveryChannel::Sms && !self.delivery.sms_available {
                return Err(Error::invalid(
                    "channels",
                    "SMS is not configured on this server; leave out sms.",
                ));
            }
            channels.push(c);
        }
        if channels.is_empty() {
            channels.push(DeliveryChannel::InApp);
        }
        let data = match &new.template_data {
            None => serde_json::Map::new(),
            Some(serde_json::Value::Object(map)) => map.clone(),
            Some(_) => {
                return Err(Error::invalid(
                    "template_data",
                    "Template data is an object of names and values.",
                ));
            }
        };
        let data_text = serde_json::Value::Object(data.clone()).to_string();
        if data_text.len() > 4000 {
            return Err(Error::invalid("template_data", "Template data is at most 4000 characters."));
        }
        let mut title = new.title.trim().to_string();
        let mut content = new.content.to_string();
        let template = new.template_id.map(str::trim).unwrap_or("").to_string();
        if !template.is_empty() {
            let known = crate::notify::KINDS.iter().any(|(k, _)| *k == template);
            if !known && !self.store.template_exists(ws, &template).await? {
                return Err(Error::invalid(
                    "template_id",
                    format!(
                        "This workspace has no template “{template}”; add it under Settings → Notification templates."
                    ),
                ));
            }
            // The in-app wording comes from the template's in_app version, if it has one.
            if let Some(t) = self.store.template(ws, &template, DeliveryChannel::InApp).await? {
                let vars = |name: &str| match name {
                    "title" => Some(title.clone()),
                    "content" => Some(content.clone()),
                    other => data.get(other).map(crate::notify::templates::json_text),
                };
                let (t_title, t_content) = (
                    crate::notify::templates::render(&t.template.subject, &vars),
                    crate::notify::templates::render(&t.template.body, &vars),
                );
                title = t_title.trim().to_string();
                content = t_content;
            }
        }
        if title.is_empty() || title.chars().count() > 200 {
            return Err(Error::invalid("title", "A title is 1 to 200 characters."));
        }
        if new.recipients.is_empty() || new.recipients.len() > 500 {
            return Err(Error::invalid("recipients", "Name 1 to 500 recipients (usernames)."));
        }
        let now = crate::now_ms();
        if let Some(at) = new.send_at
            && (at > now + 366 * 24 * 3600 * 1000)
        {
            return Err(Error::invalid("send_at", "send_at is at most a year from now."));
        }
        let members = self.store.workspace_members(ws).await?;
        let mut list: Vec<Notification> = Vec::with_capacity(new.recipients.len());
        for name in &new.recipients {
            let name = name.trim().trim_start_matches('@');
            let m = members.iter().find(|m| m.user.username == name).ok_or_else(|| {
                Error::invalid("recipients", format!("@{name} is not a member of this workspace."))
            })?;
            if list.iter().any(|n| n.user_id == m.user.id) {
                continue;
            }
            let mut n = Notification::new(m.user.id, ws, kind, title.clone(), content.clone());
            n.priority = new.priority.to_string();
            n.template = template.clone();
            n.data = data_text.clone();
            list.push(n);
        }
        match new.send_at {
            Some(at) if at > now => {
                let notifications = list
                    .into_iter()
                    .map(|n| Planned {
                        user_id: n.user_id.0,
                        workspace_id: ws.0,
                        kind: n.kind,
                        title: n.title,
                        content: n.content,
                        priority: n.priority,
                        template: n.template,
                        data: n.data,
                    })
                    .collect();
                let channels = channels.iter().map(|c| c.as_str().to_string()).collect();
                self.schedule(at, &Later::Custom { notifications, channels }, None).await?;
                Ok(Vec::new())
            }
            _ => {
                self.notify_via(list.clone(), &channels, None).await?;
                Ok(list)
            }
        }
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
        let read = NewEvent::new(Audience::User(actor), EventKind::NotificationsRead { ids: vec![id] });
        self.store
            .mark_notification_read(actor, id, crate::now_ms(), &[read])
            .await?
            .ok_or(Error::NotFound(Thing::Notification))
    }

    /// Marks all of `actor`'s notifications read; returns how many were unread.
    pub async fn mark_all_notifications_read(&self, actor: Id) -> Result<u64> {
        let read = NewEvent::new(Audience::User(actor), EventKind::NotificationsRead { ids: Vec::new() });
        self.store.mark_all_notifications_read(actor, crate::now_ms(), &[read]).await
    }
}
