//! The entities of the domain, as the store returns them. These are not wire
//! types: app converts them into its DTOs explicitly.

use crate::id::Id;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: Id,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub created_at: i64,
    /// A bot account: it never signs in with a password.
    #[serde(default)]
    pub is_bot: bool,
}

/// What other people see of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: Id,
    pub username: String,
    pub display_name: String,
    /// A bot account (an incoming webhook's), shown with a BOT tag.
    #[serde(default)]
    pub is_bot: bool,
}

impl UserSummary {
    /// A person's summary (not a bot).
    pub fn person(id: Id, username: String, display_name: String) -> Self {
        UserSummary { id, username, display_name, is_bot: false }
    }

    /// A bot account (a bot's, or a webhook's).
    pub fn bot(id: Id, username: String, display_name: String) -> Self {
        UserSummary { id, username, display_name, is_bot: true }
    }
}

impl From<&User> for UserSummary {
    fn from(u: &User) -> Self {
        UserSummary {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            is_bot: u.is_bot,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workspace {
    pub id: Id,
    pub name: String,
    pub description: String,
    pub icon: String,
    pub is_private: bool,
    pub owner_id: Id,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    pub id: Id,
    pub workspace_id: Id,
    pub name: String,
    pub topic: String,
    pub is_private: bool,
    /// New members of the workspace join this channel automatically.
    pub auto_join: bool,
    pub kind: ChannelKind,
    /// Guests may be members (seed 000's external channels).
    pub is_external: bool,
    /// When it was archived: read-only and out of the sidebar, still searchable.
    pub archived_at: Option<i64>,
    /// Sensitive: its messages are kept out of search (and of the search
    /// index), and notifications do not quote them.
    pub sensitive: bool,
    /// End-to-end encrypted (a direct conversation or a private channel):
    /// its messages are ciphertext the server cannot read, sent from
    /// devices (see `hub/e2ee.rs`). Once on, never off.
    #[serde(default)]
    pub end_to_end: bool,
    /// An encrypted conversation that shares its recent history with the
    /// devices it adds: the adding device sends them the latest messages it
    /// read, encrypted (see `hub/e2ee.rs`). Off unless its members turn it on.
    #[serde(default)]
    pub shares_history: bool,
    /// For voice channels: at most this many people at once (0: no limit).
    pub user_limit: i64,
    pub category_id: Option<Id>,
    /// Order in its category (or among uncategorised channels), lowest first.
    pub position: i64,
    pub created_by: Id,
    pub created_at: i64,
}

impl Channel {
    /// A new channel as the hub makes it, before storing: public text,
    /// uncategorised, not auto-joined.
    pub fn new(workspace_id: Id, name: String, kind: ChannelKind, created_by: Id) -> Self {
        let id = Id::new();
        Channel {
            id,
            workspace_id,
            name,
            topic: String::new(),
            is_private: kind == ChannelKind::Direct,
            auto_join: false,
            kind,
            is_external: false,
            archived_at: None,
            sensitive: false,
            end_to_end: false,
            shares_history: false,
            user_limit: 0,
            category_id: None,
            position: 0,
            created_by,
            created_at: id.timestamp_ms(),
        }
    }
}

/// What sort of conversation a channel is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChannelKind {
    /// A named channel, public or private.
    Text,
    /// A direct message between two people, or a group of up to eight.
    /// Always private; its members are fixed when it is created.
    Direct,
    /// Everyone reads; only roles allowed to by an override post (anyone
    /// may react and reply in threads).
    Announcement,
    /// A place to talk (calls); it has a user limit.
    Voice,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Text => "text",
            ChannelKind::Direct => "direct",
            ChannelKind::Announcement => "announcement",
            ChannelKind::Voice => "voice",
        }
    }

    pub fn from_db(s: &str) -> Self {
        match s {
            "direct" => ChannelKind::Direct,
            "announcement" => ChannelKind::Announcement,
            "voice" => ChannelKind::Voice,
            _ => ChannelKind::Text,
        }
    }
}

/// A channel as one user sees it in a workspace's channel list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelListing {
    pub channel: Channel,
    pub is_member: bool,
    /// Top-level messages by others that the user has not read.
    pub unread: i64,
    /// How many of those mention them (every unread message counts in a direct conversation).
    pub mentions: i64,
    /// Everyone in a direct conversation (empty for other channels).
    pub members: Vec<UserSummary>,
    /// What the user may do here.
    pub perms: crate::permissions::Perms,
    /// Why the user cannot post a top-level message here, if they cannot.
    pub post_block: Option<String>,
    /// Who is in a voice channel's call.
    pub call: Vec<crate::voice::Participant>,
    /// How much of this channel notifies the user.
    pub notify_level: crate::notify::Level,
}

impl ChannelListing {
    pub fn new(channel: Channel, is_member: bool) -> Self {
        ChannelListing {
            is_member,
            unread: 0,
            mentions: 0,
            members: Vec::new(),
            perms: crate::permissions::Perms::NONE,
            post_block: None,
            call: Vec::new(),
            notify_level: crate::hub::default_level(channel.kind),
            channel,
        }
    }
}

/// The account Parley itself posts as (a call's recording): made by a
/// migration, in no workspace, with no password that could match.
pub const SYSTEM_USER: Id = Id(1);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: Id,
    pub channel_id: Id,
    pub author: UserSummary,
    /// The colour of the author's highest coloured role (`#rrggbb`), or empty.
    pub author_colour: String,
    /// What the author wrote (Markdown).
    pub body: String,
    /// `body` rendered to sanitised HTML ([`crate::markdown::render`]).
    pub html: String,
    pub nonce: Option<String>,
    pub created_at: i64,
    /// When the author last edited it.
    pub edited_at: Option<i64>,
    /// Reactions, in the order each emoji was first used.
    pub reactions: Vec<Reaction>,
    /// For a reply: the top-level message whose thread it is in.
    pub thread_id: Option<Id>,
    /// For a top-level message with replies: what its thread holds.
    pub thread: Option<ThreadSummary>,
    /// A deleted message still shown because its thread has replies
    /// (body, html and reactions are empty).
    pub deleted: bool,
    pub pinned: bool,
    pub attachments: Vec<Attachment>,
    /// What this post shows instead of its author's display name and avatar
    /// (an incoming webhook call's `username` and `icon_emoji`), or empty.
    #[serde(default)]
    pub shown_name: String,
    #[serde(default)]
    pub shown_icon: String,
    /// Previews of the links it holds, as fetched (pending ones not yet).
    #[serde(default)]
    pub link_previews: Vec<LinkPreview>,
    /// In an end-to-end encrypted conversation: the device that encrypted
    /// it. Its `body` is then the ciphertext (base64) and `html` is empty.
    #[serde(default)]
    pub sent_from: Option<Id>,
    /// An encrypted message's content sealed by its sender's browser for
    /// its author alone (base64), for their devices restored from the key
    /// backup: no one can decrypt their own MLS messages.
    #[serde(default)]
    pub own_copy: Option<String>,
}

/// One use of a workspace's own slash command, for its log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandUseRecord {
    pub at: i64,
    /// Who typed it.
    pub user: UserSummary,
    /// What followed the command's name.
    pub text: String,
    /// The call's answer status; none when it did not answer.
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    /// The start of the answer, or the error.
    pub excerpt: String,
    /// Later answers taken through its response URL.
    pub answers: i64,
}

/// What a linked page says about itself, shown under the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkPreview {
    /// The link's place among the message's links.
    pub position: i64,
    pub url: String,
    pub title: String,
    pub description: String,
    pub site_name: String,
    /// Whether Parley holds an image for it (served from Parley, never the linked site).
    pub has_image: bool,
}

impl Message {
    /// A message as an import brings it ([`crate::Store::import_messages`]):
    /// its own id and time and its text (rendered when read).
    pub fn imported(id: Id, channel_id: Id, author: UserSummary, body: String, created_at: i64) -> Self {
        Message {
            id,
            channel_id,
            author,
            author_colour: String::new(),
            html: String::new(),
            body,
            nonce: None,
            created_at,
            edited_at: None,
            reactions: Vec::new(),
            thread_id: None,
            thread: None,
            deleted: false,
            pinned: false,
            attachments: Vec::new(),
            shown_name: String::new(),
            shown_icon: String::new(),
            link_previews: Vec::new(),
            sent_from: None,
            own_copy: None,
        }
    }

    /// A new top-level message or reply, as the hub creates it before storing.
    pub fn new(channel_id: Id, author: UserSummary, body: String, thread_id: Option<Id>) -> Self {
        let id = Id::new();
        let html = crate::markdown::render(&body);
        Message { html, thread_id, ..Message::imported(id, channel_id, author, body, id.timestamp_ms()) }
    }
}

/// The replies under a top-level message, in brief.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadSummary {
    pub reply_count: i64,
    pub last_reply_at: i64,
    /// Who replied, first repliers first (at most five).
    pub participants: Vec<UserSummary>,
}

/// A file attached to a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: Id,
    pub message_id: Id,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub created_at: i64,
    /// What the virus scanner made of it.
    #[serde(default)]
    pub scan: ScanStatus,
}

/// Whether an attachment was scanned for viruses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanStatus {
    /// No scanner is configured.
    #[default]
    Off,
    /// The scanner found nothing.
    Clean,
    /// Larger than the scanner takes: not scanned.
    TooLarge,
    /// The scanner could not be reached, and the server keeps uploads then: not scanned.
    Unavailable,
}

impl ScanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ScanStatus::Off => "",
            ScanStatus::Clean => "clean",
            ScanStatus::TooLarge => "too_large",
            ScanStatus::Unavailable => "unavailable",
        }
    }

    pub fn parse(s: &str) -> Self {
        [ScanStatus::Clean, ScanStatus::TooLarge, ScanStatus::Unavailable]
            .into_iter()
            .find(|v| v.as_str() == s)
            .unwrap_or(ScanStatus::Off)
    }
}

impl Attachment {
    /// Shown inline as a picture (raster formats only: SVG can carry script).
    pub fn is_image(&self) -> bool {
        matches!(self.content_type.as_str(), "image/png" | "image/jpeg" | "image/gif" | "image/webp")
    }
}

/// A thread with its replies, as its panel shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadView {
    pub parent: Message,
    /// Oldest first.
    pub replies: Vec<Message>,
    /// Whether the reader follows it.
    pub following: bool,
}

/// A followed thread in the Threads view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowedThread {
    pub parent: Message,
    pub channel_name: String,
    /// Replies by others the reader has not seen.
    pub unread: i64,
}

/// How far one member has read a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadMark {
    pub user_id: Id,
    pub last_read_id: Id,
}

/// One emoji on one message, and who reacted with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub emoji: String,
    pub users: Vec<UserSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub user: UserSummary,
    pub joined_at: i64,
    pub is_owner: bool,
    pub is_guest: bool,
    /// Roles given besides Member (or Guest), highest first.
    pub roles: Vec<Id>,
    /// While in the future they cannot post (a timeout).
    pub timeout_until: Option<i64>,
    /// Online, away or offline now (filled in by the hub, not stored).
    pub status: crate::presence::Status,
}

/// A role of a workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub id: Id,
    pub workspace_id: Id,
    pub name: String,
    /// `#rrggbb`, or empty for none.
    pub colour: String,
    /// The higher wins.
    pub position: i64,
    pub permissions: crate::permissions::Perms,
    pub builtin: Option<crate::permissions::Builtin>,
}

/// A heading that groups channels in the sidebar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub id: Id,
    pub workspace_id: Id,
    pub name: String,
    pub position: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ban {
    pub user: UserSummary,
    pub reason: String,
    pub banned_by: Id,
    pub created_at: i64,
}

/// How long messages and files are kept: days, `Some(0)` forever, `None`
/// as the level above says (a channel follows its workspace, a workspace
/// the deployment; the deployment's `None` keeps everything).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionPolicy {
    pub messages_days: Option<i64>,
    pub files_days: Option<i64>,
}

impl RetentionPolicy {
    /// This policy where it says something, else `outer`'s.
    pub fn or(self, outer: RetentionPolicy) -> RetentionPolicy {
        RetentionPolicy {
            messages_days: self.messages_days.or(outer.messages_days),
            files_days: self.files_days.or(outer.files_days),
        }
    }
}

/// A channel named by a legal hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldChannel {
    pub id: Id,
    pub workspace_id: Id,
    pub name: String,
}

impl From<&Channel> for HeldChannel {
    fn from(ch: &Channel) -> Self {
        HeldChannel { id: ch.id, workspace_id: ch.workspace_id, name: ch.name.clone() }
    }
}

/// A legal hold: what the people and channels it names posted from
/// `starts_at` on is kept (exempt from retention, and kept as it was when
/// edited or deleted) until it is released.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalHold {
    pub id: Id,
    pub name: String,
    pub reason: String,
    pub starts_at: i64,
    pub created_by: UserSummary,
    pub created_at: i64,
    pub released_at: Option<i64>,
    pub released_by: Option<UserSummary>,
    pub users: Vec<UserSummary>,
    pub channels: Vec<HeldChannel>,
}

/// A compliance export: what was asked for, how far it has got, and what
/// it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplianceExport {
    pub id: Id,
    /// `json`, `csv` or `eml`.
    pub format: String,
    /// The first and last day (UTC, `YYYY-MM-DD`) of messages it covers.
    pub from: String,
    pub to: String,
    /// What it is limited to (empty: everything).
    pub workspace_ids: Vec<Id>,
    pub channel_ids: Vec<Id>,
    pub user_ids: Vec<Id>,
    /// Made by the daily export rather than by someone.
    pub daily: bool,
    /// `pending`, `running`, `done` or `failed`.
    pub state: String,
    /// Why it failed.
    pub error: String,
    /// Messages and files written so far.
    pub messages: i64,
    pub files: i64,
    /// The archive's size in bytes (so far, while it runs).
    pub bytes: i64,
    /// Its file's name, for the download.
    pub file_name: String,
    pub requested_by: UserSummary,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

/// A figure of the analytics: values by day (`days`, one value per day in
/// each series), or a ranking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figure {
    /// `messages`, `active_people` or `channels`.
    pub name: String,
    pub title: String,
    /// The first and last day covered (UTC, `YYYY-MM-DD`).
    pub from: String,
    pub to: String,
    pub days: Vec<String>,
    pub series: Vec<FigureSeries>,
    pub ranking: Vec<RankedItem>,
}

/// One series of a figure by day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FigureSeries {
    pub name: String,
    pub values: Vec<i64>,
}

/// One line of a ranking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankedItem {
    pub label: String,
    pub value: i64,
}

impl Figure {
    /// The figure as CSV: a row per day with a column per series, or a row
    /// per ranked channel.
    pub fn to_csv(&self) -> String {
        let cell = crate::export::csv_cell;
        let mut out = String::new();
        if self.series.is_empty() {
            out.push_str("channel,messages\r\n");
            for r in &self.ranking {
                out.push_str(&format!("{},{}\r\n", cell(&r.label), r.value));
            }
            return out;
        }
        let heads: Vec<String> = self.series.iter().map(|s| cell(&s.name)).collect();
        out.push_str(&format!("day,{}\r\n", heads.join(",")));
        for (i, day) in self.days.iter().enumerate() {
            let values: Vec<String> =
                self.series.iter().map(|s| s.values.get(i).copied().unwrap_or(0).to_string()).collect();
            out.push_str(&format!("{day},{}\r\n", values.join(",")));
        }
        out
    }
}

/// One line of the deployment's audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentAuditEntry {
    pub id: Id,
    pub actor: UserSummary,
    /// `settings.retention`, `hold.create`, `hold.release`, `retention.run`...
    pub action: String,
    pub target_id: Option<Id>,
    pub summary: String,
    pub created_at: i64,
}

/// One line of a workspace's audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: Id,
    pub workspace_id: Id,
    pub actor: UserSummary,
    /// What was done (`member.ban`, `role.update`...): [`crate::audit::Action`].
    pub action: String,
    pub target_user: Option<UserSummary>,
    /// The role, channel or message acted on, if any.
    pub target_id: Option<Id>,
    /// What changed, in words.
    pub summary: String,
    pub created_at: i64,
    /// The channel it concerns, and whether that channel was private: who
    /// cannot read it sees neither its name nor what was said there.
    #[serde(default)]
    pub channel: Option<(Id, bool)>,
}

/// An API token as its owner sees it in a list: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    /// The start of the token's digest: enough to name it, useless to sign in.
    pub id: String,
    pub name: String,
    pub created_at: i64,
    /// `None`: it never expires.
    pub expires_at: Option<i64>,
}

impl ApiToken {
    pub const ID_LEN: usize = 16;

    /// The id of the token with this digest.
    pub fn id_of(digest: &str) -> String {
        digest.chars().take(Self::ID_LEN).collect()
    }
}

/// A bot account of a workspace, as its members see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bot {
    /// Its account: what its posts and its membership show.
    pub user: UserSummary,
    pub workspace_id: Id,
    /// Who made it; they manage its tokens.
    pub owner: UserSummary,
    /// Its avatar.
    pub emoji: String,
    pub description: String,
    pub created_at: i64,
}

/// An incoming webhook as its managers see it in a list: never its secret
/// address, which is shown once when it is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: Id,
    pub workspace_id: Id,
    pub channel_id: Id,
    /// Where it posts as people read it: `#name`, or who is in a direct
    /// conversation.
    pub channel_label: String,
    /// The bot account it posts as; its display name is the webhook's name.
    pub bot: UserSummary,
    pub created_by: UserSummary,
    pub created_at: i64,
    /// Calls must be signed (HMAC-SHA256 with its signing secret).
    pub signed: bool,
    pub last_used_at: Option<i64>,
}

/// What an outgoing webhook can be called for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookEvent {
    /// A message posted in one of its channels (a thread reply too).
    MessagePosted,
    /// Someone became a member of one of its channels.
    MemberJoined,
    /// Someone reacted to a message in one of its channels.
    ReactionAdded,
    /// A call began in one of its channels (a meeting's, or a voice
    /// channel's): the first person joined it.
    MeetingStarted,
}

impl WebhookEvent {
    pub const ALL: [WebhookEvent; 4] = [
        WebhookEvent::MessagePosted,
        WebhookEvent::MemberJoined,
        WebhookEvent::ReactionAdded,
        WebhookEvent::MeetingStarted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::MessagePosted => "message_posted",
            WebhookEvent::MemberJoined => "member_joined",
            WebhookEvent::ReactionAdded => "reaction_added",
            WebhookEvent::MeetingStarted => "meeting_started",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// How an outgoing webhook's calls carry their payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayloadFormat {
    /// `application/json`.
    Json,
    /// `application/x-www-form-urlencoded`, as Slack's classic outgoing webhooks.
    Form,
}

impl PayloadFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            PayloadFormat::Json => "json",
            PayloadFormat::Form => "form",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [PayloadFormat::Json, PayloadFormat::Form].into_iter().find(|f| f.as_str() == s)
    }
}

/// An outgoing webhook as its managers see it: never its token or signing
/// secret, which are shown once when it is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingWebhook {
    pub id: Id,
    pub workspace_id: Id,
    pub name: String,
    /// Where it calls.
    pub url: String,
    pub format: PayloadFormat,
    pub events: Vec<WebhookEvent>,
    /// The channels it hears, with their names; none: every public channel.
    pub channels: Vec<(Id, String)>,
    /// Words a message must start with to be sent; none: every message.
    pub trigger_words: Vec<String>,
    /// The bot account its answers are posted as.
    pub bot: UserSummary,
    pub created_by: UserSummary,
    pub created_at: i64,
}

/// A workspace's own slash command as its managers see it: never its token
/// or signing secret, which are shown once when it is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlashCommand {
    pub id: Id,
    pub workspace_id: Id,
    /// Typed after the slash; lower case.
    pub name: String,
    /// Where it calls.
    pub url: String,
    pub description: String,
    /// What follows the name: "[environment]".
    pub usage_hint: String,
    /// The bot account its answers in the channel are posted as.
    pub bot: UserSummary,
    pub created_by: UserSummary,
    pub created_at: i64,
}

/// Whether a call is still to be made, was taken, or was given up on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    Pending,
    Delivered,
    Failed,
}

/// One event sent to an outgoing webhook, with each attempt at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    pub id: Id,
    pub webhook_id: Id,
    pub event: WebhookEvent,
    pub created_at: i64,
    pub state: CallState,
    /// When it is tried next, while pending.
    pub due_at: i64,
    /// What was sent.
    pub payload: String,
    /// Oldest first.
    pub attempts: Vec<WebhookAttempt>,
}

/// One attempt at a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookAttempt {
    pub at: i64,
    /// The answer's HTTP status; none when there was no answer (refused,
    /// unreachable, timed out).
    pub status_code: Option<u16>,
    pub latency_ms: i64,
    pub ok: bool,
    /// The start of the answer, or what went wrong.
    pub excerpt: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invite {
    pub code: String,
    pub workspace_id: Id,
    /// Channels the invite also admits to (a guest invite: only to these).
    pub channel_ids: Vec<Id>,
    pub is_guest: bool,
    /// Whom it was sent to by email, if anyone.
    pub email: Option<String>,
    pub created_by: Id,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub max_uses: Option<i64>,
    pub uses: i64,
}

impl Invite {
    pub fn is_usable(&self, now_ms: i64) -> bool {
        self.expires_at.is_none_or(|t| t > now_ms) && self.max_uses.is_none_or(|m| self.uses < m)
    }
}

/// One page of a channel's history, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePage {
    pub messages: Vec<Message>,
    /// Pass as `before` to get the next older page; `None` at the beginning.
    pub next_before: Option<Id>,
}

/// What a search found, and the sensitive channels it left out, by name
/// in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    pub unsearched: Vec<String>,
}

/// A message found by search, with where it is and a highlighted excerpt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    pub message: Message,
    pub channel_name: String,
    pub workspace_id: Id,
    /// An HTML-escaped excerpt with `<mark>` around what matched.
    pub highlight: String,
}

/// A scheduled meeting (or an instant call). Its call happens in a private
/// voice channel of its own whose members are the organizer and participants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meeting {
    pub id: Id,
    pub workspace_id: Id,
    pub channel_id: Id,
    pub organizer: UserSummary,
    pub title: String,
    pub description: String,
    /// Milliseconds since the epoch.
    pub starts_at: i64,
    pub ends_at: i64,
    /// The organizer may record its call.
    pub enable_recording: bool,
    /// Started at once rather than scheduled.
    pub instant: bool,
    pub ended_at: Option<i64>,
    pub created_at: i64,
    /// Invited people, the organizer not among them.
    pub participants: Vec<UserSummary>,
}

impl Meeting {
    /// Whether `user` organises it or is invited.
    pub fn includes(&self, user: Id) -> bool {
        self.organizer.id == user || self.participants.iter().any(|p| p.id == user)
    }
}

/// One in-app notification for one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub id: Id,
    pub user_id: Id,
    pub workspace_id: Option<Id>,
    /// `mention`, `direct_message`, `thread_reply`, `reaction`, `meeting_invitation`.
    pub kind: String,
    pub title: String,
    pub content: String,
    /// `low`, `normal`, `high` or `urgent`.
    pub priority: String,
    /// What it leads to.
    pub channel_id: Option<Id>,
    pub message_id: Option<Id>,
    pub thread_id: Option<Id>,
    pub read_at: Option<i64>,
    pub created_at: i64,
    /// A custom notification's template id (empty: its type's template).
    pub template: String,
    /// The template data, a JSON object.
    pub data: String,
}

impl Notification {
    /// A new unread notification.
    pub fn new(user_id: Id, workspace_id: Id, kind: &str, title: String, content: String) -> Self {
        Notification {
            id: Id::new(),
            user_id,
            workspace_id: Some(workspace_id),
            kind: kind.into(),
            title,
            content,
            priority: "normal".into(),
            channel_id: None,
            message_id: None,
            thread_id: None,
            read_at: None,
            created_at: crate::now_ms(),
            template: String::new(),
            data: "{}".into(),
        }
    }
}

/// A device that takes part in end-to-end encrypted conversations (a
/// browser, a bot): the server knows it by its public signature key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub id: Id,
    pub user_id: Id,
    /// What its person called it ("Firefox on the laptop").
    pub name: String,
    /// Its Ed25519 public key, base64.
    pub signature_key: String,
    /// Its person's identity key's signature of it, base64.
    pub identity_signature: String,
    pub created_at: i64,
}

/// A person's identity key, which signs their devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityKey {
    pub user_id: Id,
    /// Ed25519 public key, base64.
    pub public_key: String,
    pub created_at: i64,
}

/// A person's key backup, sealed in their browser with their recovery key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyBackup {
    /// 1 for the first, one more with each replacement.
    pub version: i64,
    /// The sealed backup, base64.
    pub data: String,
    pub updated_at: i64,
}

/// A key package handed out to add `device` to a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedKeyPackage {
    pub device: Device,
    /// The MLS key package, base64.
    pub key_package: String,
    /// The identity key of the device's person (which signed the device), base64.
    pub identity_key: String,
}

/// A change to an encrypted conversation's keys, accepted for `epoch`
/// (after it, the conversation is at `epoch + 1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupCommit {
    pub channel_id: Id,
    pub epoch: i64,
    pub device_id: Id,
    /// The MLS commit, base64.
    pub data: String,
    pub created_at: i64,
}

/// The latest messages of an encrypted conversation that shares its
/// history, shared by a member's device with a device it added (see
/// `hub/shared_history.rs`), kept until that device takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedHistory {
    pub id: Id,
    /// The device it is for.
    pub device_id: Id,
    pub channel_id: Id,
    /// The device that shared it, its person, and their display name.
    pub from_device_id: Id,
    pub from_user_id: Id,
    pub from_name: String,
    /// The epoch it is encrypted for (the one that added the device).
    pub epoch: i64,
    /// The MLS application message, base64.
    pub data: String,
    pub created_at: i64,
}

/// What lets a device join an encrypted conversation it was added to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    pub id: Id,
    pub device_id: Id,
    pub channel_id: Id,
    /// The epoch the device joins at.
    pub epoch: i64,
    /// The MLS welcome, base64.
    pub data: String,
    pub created_at: i64,
}
