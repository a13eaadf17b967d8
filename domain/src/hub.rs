//! The operations of the product. Server functions, REST handlers and the
//! gateway call these and nothing below them: each operation checks its input
//! (through [`crate::input`]), asks [`crate::permissions`], and changes the
//! store, giving it the events that announce the change: the store logs them
//! in the change's transaction and hands them to the bus once it is committed.
//!
//! Split by subject: [`accounts`], [`workspaces`], [`channels`] (and direct
//! conversations, read state), [`messages`], [`threads`] (and pins), [`files`].

mod accounts;
mod analytics;
mod bots;
mod channels;
mod commands;
mod compliance;
mod e2ee;
mod encrypted_archive;
mod encryption;
mod exports;
mod files;
mod link_previews;
mod meetings;
mod messages;
mod moderation;
mod notifications;
mod notify_settings;
mod outgoing_webhooks;
mod roles;
mod shared_history;
mod threads;
mod voice;
mod webhooks;
mod workspaces;

pub use analytics::{AnalyticsScope, FIGURES, MAX_FIGURE_DAYS, ROLL_UP_LAG_MS};
pub use compliance::{
    ComplianceOptions, DeploymentRetention, MAX_RETENTION_DAYS, NewHold, RETENTION_EVERY_MS,
    RetentionOutcome, RetentionSettings, RetentionView,
};
pub use exports::{ExportOutcome, ExportRequest};

pub use accounts::Signup;
pub use bots::{DEFAULT_BOT_EMOJI, NewBot};
pub use channels::{ChannelPage, NewChannel};
pub use commands::{CommandListing, CommandReply, CreatedSlashCommand, GoTo, NewSlashCommand, Sent};
pub use e2ee::{ConversationKeys, HANDSHAKE_BYTES, MAX_DEVICES, MAX_KEY_PACKAGES, NewDevice, NewGroupCommit};
pub use encrypted_archive::EncryptedArchive;
pub use files::Recovered;
pub use meetings::NewMeeting;
pub use messages::{Encrypted, Post};
pub use notifications::{CustomNotification, DeliveryOptions, default_level};
pub use notify_settings::{NotificationSettings, SettingsInput, TemplateView};
pub use outgoing_webhooks::{CreatedOutgoingWebhook, NewOutgoingWebhook, heard_by_webhooks};
pub use roles::{ChannelSettings, RoleChange};
pub use shared_history::{NewSharedHistory, SHARED_HISTORY_BYTES};
pub use webhooks::{NewWebhook, Signature, sign as sign_webhook_call};
pub use workspaces::NewWorkspace;

use crate::error::{Error, Result, Thing};
use crate::events::{Audience, EventBus, EventKind, NewEvent};
use crate::files::Files;
use crate::id::Id;
use crate::model::{Channel, ChannelListing, Message, UserSummary, Workspace};
use crate::permissions::{self, ChannelFacts, HeldRole, Perm, WorkspaceFacts};
use crate::presence::{Presence, Status};
use crate::store::Store;

/// The notification levels set for one channel, by person.
type Levels = std::collections::HashMap<Id, crate::notify::Level>;

#[derive(Clone)]
pub struct Hub {
    store: Store,
    presence: Presence,
    files: Files,
    /// The address people use, for links in emails.
    public_url: std::sync::Arc<str>,
    /// Wakes the delivery worker when something is queued.
    deliveries: std::sync::Arc<tokio::sync::Notify>,
    /// Wakes the scheduler when a notification is scheduled.
    scheduled: std::sync::Arc<tokio::sync::Notify>,
    /// What can be delivered beyond the app, and how.
    delivery: std::sync::Arc<DeliveryOptions>,
    /// Who is in which call run on this node.
    rooms: crate::voice::Rooms,
    /// Who is in each call as last announced, wherever it runs.
    calls_seen:
        std::sync::Arc<std::sync::Mutex<std::collections::HashMap<Id, Vec<crate::voice::Participant>>>>,
    /// Taken while announcing who is in a call (see `announce_voice`).
    voice_announcements: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// How often each thing may be done.
    limits: crate::limits::Limits,
    /// Presence across nodes, when there are several.
    shared_presence: Option<std::sync::Arc<dyn crate::presence::SharedPresence>>,
    /// Jitsi, when the operator offers it for meetings.
    video: Option<std::sync::Arc<crate::jitsi::Jitsi>>,
    /// Calls workspaces' own slash commands (through the outgoing guard).
    commands_caller: crate::webhook_call::WebhookCaller,
    /// Fetches link previews (through the outgoing guard).
    previewer: crate::link_preview::Previewer,
    /// Deployment administrators and retention from the configuration.
    compliance: std::sync::Arc<ComplianceOptions>,
    /// This hub's name among the deployment's nodes, for claiming work.
    node: Id,
    /// Wakes the export worker when an export is asked for.
    exports_wanted: std::sync::Arc<tokio::sync::Notify>,
}

impl Hub {
    pub fn new(store: Store, files: Files) -> Self {
        Hub {
            store,
            presence: Presence::default(),
            files,
            public_url: "".into(),
            deliveries: Default::default(),
            scheduled: Default::default(),
            delivery: Default::default(),
            rooms: Default::default(),
            calls_seen: Default::default(),
            voice_announcements: Default::default(),
            limits: Default::default(),
            shared_presence: None,
            video: None,
            commands_caller: crate::webhook_call::WebhookCaller::new(crate::outgoing::Guard::public_only()),
            previewer: crate::link_preview::Previewer::new(crate::outgoing::Guard::public_only()),
            compliance: Default::default(),
            node: Id::new(),
            exports_wanted: Default::default(),
        }
    }

    /// Takes deployment administrators and the default retention from `options`.
    pub fn with_compliance(mut self, options: ComplianceOptions) -> Self {
        self.compliance = options.into();
        self
    }

    /// Shares presence with the other nodes of a deployment through `shared`.
    pub fn with_shared_presence(
        mut self,
        shared: std::sync::Arc<dyn crate::presence::SharedPresence>,
    ) -> Self {
        self.shared_presence = Some(shared);
        self
    }

    /// This node's connected people and their status here (for refreshing
    /// what the other nodes know).
    pub fn presence_here(&self) -> Vec<(Id, Status)> {
        self.presence.connected()
    }

    /// The status of each of `users` as the whole deployment sees it.
    pub async fn statuses(&self, users: &[Id]) -> Vec<Status> {
        let connected = self.connection_statuses(users).await;
        self.with_away(users, connected).await
    }

    /// What `users`' connections say across the deployment, before `/away`.
    async fn connection_statuses(&self, users: &[Id]) -> Vec<Status> {
        if let Some(shared) = &self.shared_presence {
            match shared.statuses(users).await {
                Ok(s) => return s,
                Err(e) => tracing::warn!(error = %e, "shared presence unavailable; showing this node's"),
            }
        }
        users.iter().map(|u| self.presence.status(*u)).collect()
    }

    /// `statuses` of `users`, with those who said they are away (`/away`)
    /// shown so while they are online.
    async fn with_away(&self, users: &[Id], mut statuses: Vec<Status>) -> Vec<Status> {
        let away = match self.store.away_among(users).await {
            Ok(away) => away,
            Err(e) => {
                tracing::warn!(error = %e, "who is away cannot be read; showing connections' statuses");
                return statuses;
            }
        };
        for (user, status) in users.iter().zip(statuses.iter_mut()) {
            if *status == Status::Online && away.contains(user) {
                *status = Status::Away;
            }
        }
        statuses
    }

    /// Offers meetings a room on `jitsi` too.
    pub fn with_video(mut self, jitsi: crate::jitsi::Jitsi) -> Self {
        self.video = Some(std::sync::Arc::new(jitsi));
        self
    }

    /// Applies `limits` instead of the default ones.
    pub fn with_limits(mut self, limits: crate::limits::Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The rate limits, for the ways in that limit by client address or
    /// connection (HTTP requests, gateway commands).
    pub fn limits(&self) -> &crate::limits::Limits {
        &self.limits
    }

    /// Links in emails start with `url` (no trailing slash).
    pub fn with_public_url(mut self, url: &str) -> Self {
        self.public_url = url.trim_end_matches('/').into();
        self
    }

    /// Notified whenever a delivery is queued.
    /// What can be delivered beyond the app, and how.
    pub fn with_delivery(mut self, options: DeliveryOptions) -> Self {
        self.commands_caller = crate::webhook_call::WebhookCaller::new(options.outgoing);
        self.previewer = crate::link_preview::Previewer::new(options.outgoing);
        self.delivery = options.into();
        self
    }

    /// Woken when a notification is scheduled.
    pub fn schedules_added(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.scheduled.clone()
    }

    pub fn deliveries_queued(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.deliveries.clone()
    }

    /// Queues an email that a person caused (an invite, a password reset)
    /// to `to`; the delivery worker sends it. Each address gets only so many.
    pub async fn queue_email(&self, to: &str, mail: crate::mail::EmailContent) -> Result<()> {
        self.limits.check(crate::limits::Bucket::Email, &to.to_lowercase()).await?;
        let d = crate::store::Delivery::email(to, &mail.subject, &mail.text, &mail.html, crate::now_ms());
        self.store.enqueue_delivery(&d).await?;
        self.deliveries.notify_one();
        Ok(())
    }

    pub fn files(&self) -> &Files {
        &self.files
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn bus(&self) -> &EventBus {
        self.store.bus()
    }

    /// Up to a page of logged events after `seq`, oldest first (a resuming
    /// gateway session's replay; the gateway filters them by who may see them).
    pub async fn events_after(&self, seq: i64) -> Result<Vec<crate::events::Event>> {
        self.store.events_after(seq, crate::store::LOG_PAGE).await
    }

    /// The number of the last event logged.
    pub async fn event_position(&self) -> Result<i64> {
        self.store.event_position().await
    }

    /// A gateway connection of `user` opened (active): if that changes
    /// their status, everyone in their workspaces hears it.
    pub async fn connected(&self, user: Id) -> Result<()> {
        self.announce_presence(user, self.presence.connect(user)).await
    }

    /// A gateway connection of `user` closed; it was `active` or idle.
    pub async fn disconnected(&self, user: Id, active: bool) -> Result<()> {
        self.announce_presence(user, self.presence.disconnect(user, active)).await
    }

    /// One of `user`'s connections became idle or active again.
    pub async fn activity(&self, user: Id, active: bool) -> Result<()> {
        self.announce_presence(user, self.presence.set_active(user, active)).await
    }

    async fn announce_presence(&self, user: Id, changed: Option<Status>) -> Result<()> {
        let Some(here) = changed else { return Ok(()) };
        let status = match &self.shared_presence {
            None => here,
            Some(shared) => match shared.record(user, here).await {
                Ok(Some(status)) => status,
                Ok(None) => return Ok(()),
                Err(e) => {
                    tracing::warn!(error = %e, "shared presence unavailable; announcing this node's view");
                    here
                }
            },
        };
        self.presence_changed(user, status).await
    }

    /// Tells `user`'s workspaces their deployment-wide status (also for the
    /// sweep that notices a node gone).
    pub async fn presence_changed(&self, user: Id, status: Status) -> Result<()> {
        let status = if status == Status::Online && !self.store.away_among(&[user]).await?.is_empty() {
            Status::Away
        } else {
            status
        };
        let events: Vec<NewEvent> = (self.store.workspace_ids_of(user).await?.into_iter())
            .map(|ws| {
                NewEvent::new(
                    Audience::Workspace(ws),
                    EventKind::PresenceChanged { workspace_id: ws, user_id: user, status },
                )
            })
            .collect();
        self.store.announce(&events).await
    }

    /// `user`'s standing in `ws`: the facts the rules need and the roles
    /// they hold.
    async fn standing(&self, ws: &Workspace, user: Id) -> Result<(WorkspaceFacts, Vec<HeldRole>)> {
        let member = self.store.workspace_standing(ws.id, user).await?.and_then(|(_, member)| member);
        let (facts, roles, _) = self.facts_of(ws, user, member.map(|s| (s, false))).await?;
        Ok((facts, roles))
    }

    /// The facts of a standing read from the store (an outsider's say
    /// whether they are banned).
    async fn facts_of(
        &self,
        ws: &Workspace,
        user: Id,
        standing: Option<(crate::store::Standing, bool)>,
    ) -> Result<(WorkspaceFacts, Vec<HeldRole>, bool)> {
        match standing {
            Some((s, in_channel)) => {
                let facts =
                    WorkspaceFacts::member(ws, user, s.is_guest, &s.roles, s.timeout_until, crate::now_ms());
                Ok((facts, s.roles, in_channel))
            }
            None => Ok((
                WorkspaceFacts::outsider(ws, self.store.is_banned(ws.id, user).await?),
                Vec::new(),
                false,
            )),
        }
    }

    async fn workspace_facts(&self, ws: Id, user: Id) -> Result<(Workspace, WorkspaceFacts)> {
        let (workspace, facts, _) = self.workspace_standing(ws, user).await?;
        Ok((workspace, facts))
    }

    /// A workspace, what `user` may do there, and the roles they hold (one
    /// query for a member).
    async fn workspace_standing(
        &self,
        ws: Id,
        user: Id,
    ) -> Result<(Workspace, WorkspaceFacts, Vec<HeldRole>)> {
        let found = self.store.workspace_standing(ws, user).await?;
        let (workspace, member) = found.ok_or(Error::NotFound(Thing::Workspace))?;
        let (facts, roles, _) = self.facts_of(&workspace, user, member.map(|s| (s, false))).await?;
        Ok((workspace, facts, roles))
    }

    async fn channel_facts(&self, channel: Id, user: Id) -> Result<(Channel, ChannelFacts)> {
        let (ch, facts, _) = self.channel_standing(channel, user).await?;
        Ok((ch, facts))
    }

    /// A channel, what `user` may do there, and who they are there (their
    /// name and its colour: what a message they post shows).
    async fn channel_standing(
        &self,
        channel: Id,
        user: Id,
    ) -> Result<(Channel, ChannelFacts, (Option<UserSummary>, String))> {
        let (ch, facts, who, _) = self.channel_standing_with(channel, user, false).await?;
        Ok((ch, facts, who))
    }

    /// [`Hub::channel_standing`], with the channel's notification levels
    /// when `levels` (what posting needs; read in the same query).
    async fn channel_standing_with(
        &self,
        channel: Id,
        user: Id,
        levels: bool,
    ) -> Result<(Channel, ChannelFacts, (Option<UserSummary>, String), Option<Levels>)> {
        let found = self.store.channel_standing(channel, user, levels).await?;
        let found = found.ok_or(Error::NotFound(Thing::Channel))?;
        let ch = found.channel;
        let (wf, roles, in_channel) = self.facts_of(&found.workspace, user, found.member).await?;
        let overrides = if found.overridden && wf.is_member && !wf.perms.has(Perm::Administrator) {
            self.store.overrides(ch.id).await?
        } else {
            Vec::new()
        };
        let perms = permissions::resolve_channel(wf, user, &roles, ch.kind, &overrides);
        let facts = ChannelFacts::of(&ch, wf, user, in_channel, perms);
        Ok((ch, facts, (found.person, found.colour), found.levels))
    }

    /// The channels of `ws` that `user` may see (archived ones included),
    /// with what they may do in each. Everything that lists channels goes
    /// through here, so that lists, search and live events agree with the rules.
    /// (What only the channel list shows, unread counts and notification
    /// levels, is read by [`Hub::channels`].)
    async fn visible_listings(
        &self,
        ws: Id,
        user: Id,
    ) -> Result<(WorkspaceFacts, Vec<(ChannelListing, ChannelFacts)>)> {
        let (_, wf, roles) = self.workspace_standing(ws, user).await?;
        permissions::view_workspace(wf)?;
        Ok((wf, self.listings_in(ws, user, wf, &roles).await?))
    }

    /// [`Hub::visible_listings`] once `user`'s standing in `ws` is known.
    async fn listings_in(
        &self,
        ws: Id,
        user: Id,
        wf: WorkspaceFacts,
        roles: &[HeldRole],
    ) -> Result<Vec<(ChannelListing, ChannelFacts)>> {
        let list = self.store.visible_channels(ws, user).await?;
        let ids: Vec<Id> = list.iter().map(|l| l.channel.id).collect();
        let mut overrides = if wf.perms.has(Perm::Administrator) {
            Default::default()
        } else {
            self.store.overrides_of(&ids).await?
        };
        let mut out = Vec::with_capacity(list.len());
        for mut l in list {
            let o = overrides.remove(&l.channel.id).unwrap_or_default();
            let perms = permissions::resolve_channel(wf, user, roles, l.channel.kind, &o);
            let facts = ChannelFacts::of(&l.channel, wf, user, l.is_member, perms);
            if permissions::view_channel(facts).is_ok() {
                l.perms = perms;
                l.post_block = permissions::send_message(facts).err().map(|e| e.to_string());
                out.push((l, facts));
            }
        }
        Ok(out)
    }

    /// What `user` hears live: the channels they belong to and may see, the
    /// workspaces whose workspace-wide events reach them (not those where
    /// they are a guest), and every workspace they are in.
    pub async fn subscriptions(&self, user: Id) -> Result<(Vec<Id>, Vec<Id>, Vec<Id>)> {
        let (mut channels, mut workspaces) = (Vec::new(), Vec::new());
        let member_of = self.store.workspace_ids_of(user).await?;
        for &ws in &member_of {
            let (wf, list) = self.visible_listings(ws, user).await?;
            channels.extend(list.into_iter().filter(|(l, _)| l.is_member).map(|(l, _)| l.channel.id));
            if !wf.is_guest {
                workspaces.push(ws);
            }
        }
        Ok((channels, workspaces, member_of))
    }

    /// Gives each message its author's role colour in `ws` (one query, for
    /// their authors only).
    async fn paint(&self, ws: Id, messages: Vec<&mut Message>) -> Result<()> {
        if messages.is_empty() {
            return Ok(());
        }
        let mut authors: Vec<Id> = messages.iter().map(|m| m.author.id).collect();
        authors.sort_unstable();
        authors.dedup();
        let colours = self.store.name_colours(ws, &authors).await?;
        for m in messages {
            m.author_colour = colours.get(&m.author.id).cloned().unwrap_or_default();
        }
        Ok(())
    }
}
