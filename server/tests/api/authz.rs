//! The authorisation matrix: every server function, every REST route and
//! every gateway operation, tried by seven kinds of person (owner, admin,
//! moderator, member, guest, someone from outside, someone banned) in five
//! kinds of channel (public, private, announcement, external, archived).
//!
//! Each cell asserts allowed (a 2xx answer, or the thing seen: a search hit,
//! a listed channel, a live event) or denied (403 or 404 with a message, or
//! nothing seen). The expectations are the named grids below, written from
//! what people expect of such a workspace, not read off the code. The test
//! fails when a route or server function has no rows, so it stays complete
//! as the API grows; a gateway command without rows does not compile.

use crate::gateway::{Ws, connect_as, next_any_event};
use crate::helpers::{TestApp, User, json_of, workspace};
use app::wire::{GatewayCommand, IceCandidateDto};
use futures::SinkExt;
use futures::future::BoxFuture;
use leptos::server_fn::ServerFn;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

// ---------------------------------------------------------------------------
// Who and where.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Actor {
    Owner,
    Admin,
    Moderator,
    Member,
    Guest,
    Outsider,
    Banned,
}
use Actor::*;
const ACTORS: [Actor; 7] = [Owner, Admin, Moderator, Member, Guest, Outsider, Banned];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Public,
    Private,
    Announcement,
    External,
    Archived,
}
const KINDS: [Kind; 5] = [Kind::Public, Kind::Private, Kind::Announcement, Kind::External, Kind::Archived];

/// One cell: who tries, and in which kind of channel (none for operations
/// on a workspace or an account).
#[derive(Debug, Clone, Copy)]
struct Cell {
    actor: Actor,
    kind: Option<Kind>,
}

impl Cell {
    fn kind(self) -> Kind {
        self.kind.expect("a channel cell")
    }
}

// ---------------------------------------------------------------------------
// The expectations. A channel grid has a row per actor (in ACTORS order) and
// a column per kind (in KINDS order); a person grid a letter per actor.
// `Y`: allowed, `.`: denied.
//
// The fixture: the owner made every channel. The admin holds Admin, the
// moderator Moderator, the member only Member. Everyone but the guest is in
// the public, announcement and archived channels; the private channel has the
// owner, the moderator and the member (not the admin: private channels show
// only to their members); the external channel (private, open to guests) has
// everyone including the guest. The outsider never joined; the banned person
// joined and was banned.

type ChannelGrid = [&'static str; 7];

/// A device's public key and a key package, as the matrix sends them: the
/// server stores them for the devices, which do the cryptography.
const SIGNATURE_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const KEY_PACKAGE: &str = "bWF0cml4IGtleSBwYWNrYWdl";
/// 64 bytes, as an identity key's signature of a device is.
const SIGNATURE: &str =
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==";

/// Reading: messages, threads, pins, read marks, files, search hits, events.
const VIEW: ChannelGrid = ["YYYYY", "Y.YYY", "YYYYY", "YYYYY", "...Y.", ".....", "....."];
/// Posting a new message: announcement channels only for those allowed
/// (owner and admin), archived channels for nobody.
const POST: ChannelGrid = ["YYYY.", "Y.YY.", "YY.Y.", "YY.Y.", "...Y.", ".....", "....."];
/// Replying in threads and reacting: open in announcement channels.
const CONTRIBUTE: ChannelGrid = ["YYYY.", "Y.YY.", "YYYY.", "YYYY.", "...Y.", ".....", "....."];
/// Pinning: those who may post, and message managers (the moderator).
const PIN: ChannelGrid = ["YYYY.", "Y.YY.", "YYYY.", "YY.Y.", "...Y.", ".....", "....."];
/// Channel settings, permissions, topic, deletion: manage_channels (or the
/// creator, here the owner); archived channels too, so they can be unarchived.
const MANAGE: ChannelGrid = ["YYYYY", "Y.YYY", ".....", ".....", ".....", ".....", "....."];
/// Deleting the owner's message: its author, and manage_messages.
const DELETE_OWNERS: ChannelGrid = ["YYYY.", "Y.YY.", "YYYY.", ".....", ".....", ".....", "....."];
/// Editing the owner's message: its author only.
const EDIT_OWNERS: ChannelGrid = ["YYYY.", ".....", ".....", ".....", ".....", ".....", "....."];
/// Joining by oneself: public, unarchived channels; never for guests.
const JOIN: ChannelGrid = ["Y.Y..", "Y.Y..", "Y.Y..", "Y.Y..", ".....", ".....", "....."];
/// Adding someone: members of the channel, not guests, not when archived.
const ADD_MEMBER: ChannelGrid = ["YYYY.", "Y.YY.", "YYYY.", "YYYY.", ".....", ".....", "....."];

/// Adding an incoming webhook: manage_webhooks (owner and admin) where one
/// may post, since the webhook posts with its maker's right to.
const WEBHOOK_ADD: ChannelGrid = ["YYYY.", "Y.YY.", ".....", ".....", ".....", ".....", "....."];
/// Removing one: manage_webhooks where one sees the channel, archived too.
const WEBHOOK_MANAGE: ChannelGrid = ["YYYYY", "Y.YYY", ".....", ".....", ".....", ".....", "....."];
/// Calling a webhook's address (the owner's): whoever has it, but not into
/// an archived channel.
const WEBHOOK_CALL: ChannelGrid = ["YYYY."; 7];

type PersonGrid = &'static str;

const EVERYONE: PersonGrid = "YYYYYYY";
/// Members, guests included.
const MEMBERS: PersonGrid = "YYYYY..";
/// Members, not guests.
const FULL_MEMBERS: PersonGrid = "YYYY...";
/// manage_channels or manage_roles workspace-wide: owner and admin.
const STAFF: PersonGrid = "YY.....";
/// manage_webhooks workspace-wide: owner and admin (outgoing webhooks,
/// their log and redelivery).
const OUTGOING_MANAGERS: PersonGrid = "YY.....";
/// manage_workspace: owner and admin (making bots, and managing one the
/// owner made).
const BOT_MANAGERS: PersonGrid = "YY.....";
/// kick, ban, timeout, bans and the audit log: down to the moderator.
const MODERATORS: PersonGrid = "YYY....";
/// A meeting's organizer (the owner) and the person invited (the member).
const INVITED: PersonGrid = "Y..Y...";
/// Leaving a workspace: anyone in it but its owner.
const LEAVERS: PersonGrid = ".YYYY..";
/// Nobody: what needs a state no one here is in (a call, for signalling).
const NOBODY: PersonGrid = ".......";
/// The deployment's administrators: its first account (the owner here).
const DEPLOYMENT_ADMINS: PersonGrid = "Y......";
/// The members of a fresh end-to-end encrypted private channel: its
/// creator (the owner), the moderator and the member.
const KEY_HOLDERS: PersonGrid = "Y.YY...";
/// The member alone (what only their own device may do).
const THE_MEMBER: PersonGrid = "...Y...";
/// Making a conversation end-to-end encrypted: private channels (the
/// external one is private too) by who may change them; never a public one.
const ENCRYPT: ChannelGrid = [".Y.Y.", "...Y.", ".....", ".....", ".....", ".....", "....."];

/// Joining a public workspace or accepting an invite: anyone not banned
/// (members are already in; it changes nothing for them).
const JOINERS: PersonGrid = "YYYYYY.";

enum Expect {
    Person(PersonGrid),
    Channel(ChannelGrid),
}

impl Expect {
    fn allows(&self, cell: Cell) -> bool {
        let a = ACTORS.iter().position(|x| *x == cell.actor).unwrap();
        let letter = match self {
            Expect::Person(g) => g.as_bytes()[a],
            Expect::Channel(g) => g[a].as_bytes()[KINDS.iter().position(|k| Some(*k) == cell.kind).unwrap()],
        };
        letter == b'Y'
    }
}

// ---------------------------------------------------------------------------
// Rows.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Covers {
    ServerFn(&'static str),
    Rest(&'static str, &'static str),
    Gateway(&'static str),
}

enum Outcome {
    Allowed(String),
    Denied(String),
    /// Neither: a bad request, a server error. Always a failure.
    Broken(String),
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Allowed(d) => write!(f, "allowed ({d})"),
            Outcome::Denied(d) => write!(f, "denied ({d})"),
            Outcome::Broken(d) => write!(f, "broken ({d})"),
        }
    }
}

type Run = fn(Arc<Ctx>, Cell) -> BoxFuture<'static, Outcome>;

struct Row {
    covers: Covers,
    /// What this row tries, where a route has several rows.
    what: &'static str,
    expect: Expect,
    run: Run,
}

fn path_of<F: ServerFn>() -> &'static str {
    F::PATH
}

/// A row calling server function `$f` as `who` with form arguments.
macro_rules! sfn {
    ($f:ty, $what:literal, $expect:expr, |$cx:ident, $cell:ident| $body:expr) => {
        Row {
            covers: Covers::ServerFn(path_of::<$f>()),
            what: $what,
            expect: $expect,
            run: |$cx, $cell| {
                Box::pin(async move {
                    let (who, args): (User, Vec<(&str, String)>) = $body;
                    $cx.call(path_of::<$f>(), &who, &args).await
                })
            },
        }
    };
}

/// A row calling a REST route as `who`: path parameters and a JSON body.
macro_rules! rest {
    ($method:literal $route:literal, $what:literal, $expect:expr, |$cx:ident, $cell:ident| $body:expr) => {
        Row {
            covers: Covers::Rest($method, $route),
            what: $what,
            expect: $expect,
            run: |$cx, $cell| {
                Box::pin(async move {
                    let (who, params, body): (User, Vec<(&str, String)>, Option<Value>) = $body;
                    $cx.rest(&who, $method, &fill($route, &params), body).await
                })
            },
        }
    };
}

/// A row whose body decides the outcome itself (what was seen).
macro_rules! custom {
    ($covers:expr, $what:literal, $expect:expr, |$cx:ident, $cell:ident| $body:expr) => {
        Row {
            covers: $covers,
            what: $what,
            expect: $expect,
            run: |$cx, $cell| Box::pin(async move { $body }),
        }
    };
}

fn fill(route: &str, params: &[(&str, String)]) -> String {
    let mut path = route.to_string();
    for (k, v) in params {
        path = path.replace(&format!("{{{k}}}"), v);
    }
    assert!(!path.contains('{'), "every parameter of {route} is given: {path}");
    path
}

fn s(v: &str) -> String {
    v.to_string()
}

/// Every gateway command, by the name a client sends. Adding a command
/// without adding it here does not compile.
fn command_name(c: &GatewayCommand) -> &'static str {
    match c {
        GatewayCommand::Identify => "IDENTIFY",
        GatewayCommand::Resume { .. } => "RESUME",
        GatewayCommand::Ping => "PING",
        GatewayCommand::MessageCreate { .. } => "MESSAGE_CREATE",
        GatewayCommand::Typing { .. } => "TYPING",
        GatewayCommand::View { .. } => "VIEW",
        GatewayCommand::Activity { .. } => "ACTIVITY",
        GatewayCommand::VoiceJoin { .. } => "VOICE_JOIN",
        GatewayCommand::VoiceLeave => "VOICE_LEAVE",
        GatewayCommand::VoiceScreen { .. } => "VOICE_SCREEN",
        GatewayCommand::VoiceSelf { .. } => "VOICE_SELF",
        GatewayCommand::VoiceMute { .. } => "VOICE_MUTE",
        GatewayCommand::VoiceRecord { .. } => "VOICE_RECORD",
        GatewayCommand::CallDecline { .. } => "CALL_DECLINE",
        GatewayCommand::RtcAnswer { .. } => "RTC_ANSWER",
        GatewayCommand::RtcCandidate(_) => "RTC_CANDIDATE",
    }
}

fn rows() -> Vec<Row> {
    use Expect::{Channel as C, Person as P};
    use app::api::*;
    vec![
        // ---- Server functions: accounts and workspaces.
        sfn!(Signup, "", P(EVERYONE), |cx, cell| {
            let name = cx.unique("signup");
            (
                cx.who(cell),
                vec![
                    ("username", name.clone()),
                    ("display_name", name.clone()),
                    ("email", format!("{name}@example.com")),
                    ("password", s("correct horse battery")),
                ],
            )
        }),
        sfn!(Login, "", P(EVERYONE), |cx, cell| {
            (cx.who(cell), vec![("username", cx.name(cell.actor)), ("password", s("correct horse battery"))])
        }),
        sfn!(Logout, "a fresh session", P(EVERYONE), |cx, cell| (cx.fresh_login(cell.actor).await, vec![])),
        sfn!(Me, "", P(EVERYONE), |cx, cell| (cx.who(cell), vec![])),
        // One's own account: anyone signed in (a newcomer, where it signs people out).
        sfn!(AccountView, "", P(EVERYONE), |cx, cell| (cx.who(cell), vec![])),
        sfn!(ChangePassword, "a newcomer's own", P(EVERYONE), |cx, _cell| {
            let args = vec![
                ("current_password", s("correct horse battery")),
                ("new_password", s("another long one")),
            ];
            (cx.newcomer().await, args)
        }),
        sfn!(SignOutEverywhere, "a newcomer's own", P(EVERYONE), |cx, _cell| (cx.newcomer().await, vec![])),
        sfn!(CreateToken, "", P(EVERYONE), |cx, cell| (cx.who(cell), vec![("name", s("matrix bot"))])),
        sfn!(RevokeToken, "their own fresh token", P(EVERYONE), |cx, cell| {
            let who = cx.who(cell);
            let id = cx.fresh_token(&who).await;
            (who, vec![("id", id)])
        }),
        sfn!(RequestPasswordReset, "", P(EVERYONE), |cx, cell| {
            (cx.who(cell), vec![("email", format!("{}@example.com", cx.name(cell.actor)))])
        }),
        sfn!(ResetPassword, "a made-up link", P(NOBODY), |cx, cell| {
            (cx.who(cell), vec![("token", s("pt_made_up")), ("new_password", s("another long one"))])
        }),
        sfn!(Home, "", P(EVERYONE), |cx, cell| (cx.who(cell), vec![])),
        sfn!(CreateWorkspace, "", P(EVERYONE), |cx, cell| {
            (cx.who(cell), vec![("name", s("Elsewhere")), ("description", s("")), ("icon", s(""))])
        }),
        sfn!(JoinWorkspace, "a fresh person of each kind", P(JOINERS), |cx, cell| {
            (cx.fresh(cell.actor).await, vec![("workspace_id", cx.ws.clone())])
        }),
        sfn!(LeaveWorkspace, "a fresh person of each kind", P(LEAVERS), |cx, cell| {
            (cx.fresh(cell.actor).await, vec![("workspace_id", cx.ws.clone())])
        }),
        sfn!(CreateInvite, "", P(FULL_MEMBERS), |cx, cell| {
            (cx.who(cell), vec![("workspace_id", cx.ws.clone())])
        }),
        sfn!(RevokeInvite, "their own fresh invite", P(FULL_MEMBERS), |cx, cell| {
            let who = cx.who(cell);
            let code = cx.fresh_invite(&who).await;
            (who, vec![("code", code)])
        }),
        sfn!(RevokeInvite, "the owner's fresh invite", P(STAFF), |cx, cell| {
            let code = cx.fresh_invite(cx.person(Owner)).await;
            (cx.who(cell), vec![("code", code)])
        }),
        sfn!(InvitePreview, "", P(EVERYONE), |cx, cell| (cx.who(cell), vec![("code", cx.invite.clone())])),
        sfn!(AcceptInvite, "a fresh person of each kind", P(JOINERS), |cx, cell| {
            (cx.fresh(cell.actor).await, vec![("code", cx.invite.clone())])
        }),
        sfn!(WorkspaceEntry, "", P(MEMBERS), |cx, cell| (
            cx.who(cell),
            vec![("workspace_id", cx.ws.clone())]
        )),
        sfn!(OpenDirect, "with the owner", P(MEMBERS), |cx, cell| {
            (cx.who(cell), vec![("workspace_id", cx.ws.clone()), ("usernames", cx.name(Owner))])
        }),
        sfn!(CreateChannel, "", P(FULL_MEMBERS), |cx, cell| {
            (cx.who(cell), vec![("workspace_id", cx.ws.clone()), ("name", cx.unique("made"))])
        }),
        sfn!(ThreadsView, "", P(MEMBERS), |cx, cell| (cx.who(cell), vec![("workspace_id", cx.ws.clone())])),
        sfn!(WorkspacePeople, "", P(MEMBERS), |cx, cell| (
            cx.who(cell),
            vec![("workspace_id", cx.ws.clone())]
        )),
        sfn!(SettingsView, "", P(MEMBERS), |cx, cell| (cx.who(cell), vec![("workspace_id", cx.ws.clone())])),
        sfn!(CreateGuestInvite, "to the external channel", P(FULL_MEMBERS), |cx, cell| {
            (
                cx.who(cell),
                vec![("workspace_id", cx.ws.clone()), ("channel_ids[0]", cx.channel(Kind::External))],
            )
        }),
        // ---- Server functions: roles and moderation.
        sfn!(CreateRole, "", P(STAFF), |cx, cell| {
            (
                cx.who(cell),
                vec![
                    ("workspace_id", cx.ws.clone()),
                    ("name", cx.unique("Role")),
                    ("colour", s("#123456")),
                    ("permissions[0]", s("add_reactions")),
                ],
            )
        }),
        sfn!(UpdateRole, "unchanged", P(STAFF), |cx, cell| {
            (
                cx.who(cell),
                vec![
                    ("workspace_id", cx.ws.clone()),
                    ("role_id", cx.plain.clone()),
                    ("name", s("Plain")),
                    ("colour", s("")),
                ],
            )
        }),
        sfn!(DeleteRole, "a fresh role", P(STAFF), |cx, cell| {
            (cx.who(cell), vec![("workspace_id", cx.ws.clone()), ("role_id", cx.fresh_role().await)])
        }),
        sfn!(ReorderRoles, "the same order", P(STAFF), |cx, cell| {
            let mut args = vec![("workspace_id", cx.ws.clone())];
            for (i, id) in cx.movable_roles(cell.actor).await.into_iter().enumerate() {
                args.push((ORDER_KEYS[i], id));
            }
            (cx.who(cell), args)
        }),
        sfn!(SetMemberRole, "give", P(STAFF), |cx, cell| { (cx.who(cell), cx.member_role_args(true)) }),
        sfn!(SetMemberRole, "take", P(STAFF), |cx, cell| { (cx.who(cell), cx.member_role_args(false)) }),
        sfn!(ModerateMember, "kick a fresh member", P(MODERATORS), |cx, cell| {
            let target = cx.fresh(Member).await;
            (cx.who(cell), cx.moderation_args(&target.id, "kick"))
        }),
        sfn!(ModerateMember, "ban a fresh member", P(MODERATORS), |cx, cell| {
            let target = cx.fresh(Member).await;
            (cx.who(cell), cx.moderation_args(&target.id, "ban"))
        }),
        sfn!(ModerateMember, "unban a fresh banned person", P(MODERATORS), |cx, cell| {
            let target = cx.fresh(Banned).await;
            (cx.who(cell), cx.moderation_args(&target.id, "unban"))
        }),
        sfn!(ModerateMember, "time out", P(MODERATORS), |cx, cell| {
            let mut args = cx.moderation_args(&cx.spare.id, "timeout");
            args.push(("minutes", s("5")));
            (cx.who(cell), args)
        }),
        sfn!(SaveCategory, "", P(STAFF), |cx, cell| {
            (cx.who(cell), vec![("workspace_id", cx.ws.clone()), ("name", cx.unique("Cat"))])
        }),
        sfn!(ArrangeChannels, "", P(STAFF), |cx, cell| {
            (
                cx.who(cell),
                vec![
                    ("workspace_id", cx.ws.clone()),
                    ("categories[0]", cx.category.clone()),
                    ("channels[0][channel_id]", cx.channel(Kind::Public)),
                    ("channels[0][category_id]", cx.category.clone()),
                ],
            )
        }),
        // ---- Server functions: channels and messages.
        sfn!(ChannelView, "", C(VIEW), |cx, cell| {
            (cx.who(cell), vec![("workspace_id", cx.ws.clone()), ("channel_id", cx.ch(cell))])
        }),
        sfn!(ChannelInfo, "", C(VIEW), |cx, cell| (cx.who(cell), vec![("channel_id", cx.ch(cell))])),
        sfn!(MessagePage, "", C(VIEW), |cx, cell| (cx.who(cell), vec![("channel_id", cx.ch(cell))])),
        sfn!(PostMessage, "a new message", C(POST), |cx, cell| {
            (cx.who(cell), vec![("channel_id", cx.ch(cell)), ("body", s("hello"))])
        }),
        sfn!(PostMessage, "a thread reply", C(CONTRIBUTE), |cx, cell| {
            (cx.who(cell), vec![("channel_id", cx.ch(cell)), ("body", s("re")), ("thread_id", cx.msg(cell))])
        }),
        sfn!(PostMessage, "a command that posts (/shrug)", C(POST), |cx, cell| {
            (cx.who(cell), vec![("channel_id", cx.ch(cell)), ("body", s("/shrug"))])
        }),
        sfn!(CommandList, "", C(VIEW), |cx, cell| (cx.who(cell), vec![("channel_id", cx.ch(cell))])),
        sfn!(ThreadView, "", C(VIEW), |cx, cell| (cx.who(cell), vec![("thread_id", cx.msg(cell))])),
        sfn!(ReadThread, "", C(VIEW), |cx, cell| (cx.who(cell), vec![("thread_id", cx.msg(cell))])),
        sfn!(FollowThread, "", C(VIEW), |cx, cell| {
            (cx.who(cell), vec![("message_id", cx.msg(cell)), ("follow", s("on"))])
        }),
        sfn!(MarkRead, "", C(VIEW), |cx, cell| (cx.who(cell), vec![("channel_id", cx.ch(cell))])),
        sfn!(Readers, "", C(VIEW), |cx, cell| (cx.who(cell), vec![("message_id", cx.msg(cell))])),
        sfn!(PinMessage, "", C(PIN), |cx, cell| (cx.who(cell), vec![("message_id", cx.msg(cell))])),
        sfn!(React, "add", C(CONTRIBUTE), |cx, cell| {
            (cx.who(cell), vec![("message_id", cx.msg(cell)), ("emoji", s("👍"))])
        }),
        sfn!(React, "remove", C(CONTRIBUTE), |cx, cell| {
            (cx.who(cell), vec![("message_id", cx.msg(cell)), ("emoji", s("👍")), ("remove", s("on"))])
        }),
        sfn!(EditMessage, "the owner's message", C(EDIT_OWNERS), |cx, cell| {
            (cx.who(cell), vec![("message_id", cx.msg(cell)), ("body", cx.parent_body(cell.kind()))])
        }),
        sfn!(RemoveLinkPreview, "a fresh previewed message by the owner", C(DELETE_OWNERS), |cx, cell| {
            (cx.who(cell), vec![("message_id", cx.fresh_previewed(cell.kind()).await), ("position", s("0"))])
        }),
        sfn!(AdminView, "", P(DEPLOYMENT_ADMINS), |cx, cell| (cx.who(cell), vec![])),
        sfn!(SetDeploymentRetention, "unchanged (none set)", P(DEPLOYMENT_ADMINS), |cx, cell| {
            (cx.who(cell), vec![("messages_days", s("")), ("files_days", s(""))])
        }),
        sfn!(SetComplianceArchive, "unchanged (off)", P(DEPLOYMENT_ADMINS), |cx, cell| {
            (cx.who(cell), vec![("enabled", s("false"))])
        }),
        sfn!(CreateHold, "a hold on the spare member", P(DEPLOYMENT_ADMINS), |cx, cell| {
            let args = vec![
                ("name", cx.unique("Hold")),
                ("reason", s("Audit")),
                ("usernames", cx.spare_name.clone()),
                ("workspace", s("")),
                ("channels", s("")),
            ];
            (cx.who(cell), args)
        }),
        sfn!(ReleaseHold, "a fresh hold", P(DEPLOYMENT_ADMINS), |cx, cell| {
            (cx.who(cell), vec![("hold_id", cx.fresh_hold().await)])
        }),
        sfn!(RequestExport, "an export of today", P(DEPLOYMENT_ADMINS), |cx, cell| {
            let today = domain::export::day_of(domain::now_ms());
            let args = vec![
                ("format", s("json")),
                ("from", today.clone()),
                ("to", today),
                ("workspace", s("")),
                ("channels", s("")),
                ("people", s("")),
            ];
            (cx.who(cell), args)
        }),
        sfn!(DeleteExport, "a fresh export", P(DEPLOYMENT_ADMINS), |cx, cell| {
            (cx.who(cell), vec![("export_id", cx.fresh_export().await)])
        }),
        sfn!(SetDailyExport, "unchanged (off)", P(DEPLOYMENT_ADMINS), |cx, cell| {
            (cx.who(cell), vec![("format", s("off"))])
        }),
        sfn!(AnalyticsView, "a workspace's", P(STAFF), |cx, cell| {
            (cx.who(cell), vec![("workspace_id", cx.ws.clone()), ("days", s("30"))])
        }),
        sfn!(SetRetention, "unchanged (none)", P(STAFF), |cx, cell| {
            let args = vec![
                ("workspace_id", cx.ws.clone()),
                ("channel_id", s("")),
                ("messages_days", s("")),
                ("files_days", s("")),
            ];
            (cx.who(cell), args)
        }),
        sfn!(SetLinkPreviews, "unchanged (on)", P(STAFF), |cx, cell| {
            (cx.who(cell), vec![("workspace_id", cx.ws.clone()), ("enabled", s("true"))])
        }),
        sfn!(SetDirectEncryption, "unchanged (not required)", P(STAFF), |cx, cell| {
            (cx.who(cell), vec![("workspace_id", cx.ws.clone()), ("required", s("false"))])
        }),
        sfn!(SetArchivist, "unchanged (nobody archives)", P(STAFF), |cx, cell| {
            (cx.who(cell), vec![("workspace_id", cx.ws.clone()), ("username", s(""))])
        }),
        sfn!(ConsentToArchive, "nothing to agree to", P(MEMBERS), |cx, cell| {
            (cx.who(cell), vec![("workspace_id", cx.ws.clone())])
        }),
        sfn!(DeleteMessage, "a fresh message by the owner", C(DELETE_OWNERS), |cx, cell| {
            (cx.who(cell), vec![("message_id", cx.fresh_message(cell.kind()).await)])
        }),
        sfn!(JoinChannel, "", C(JOIN), |cx, cell| (cx.who(cell), vec![("channel_id", cx.ch(cell))])),
        sfn!(LeaveChannel, "a fresh channel", C(VIEW), |cx, cell| {
            (cx.who(cell), vec![("channel_id", cx.fresh_channel(cell.kind(), true).await)])
        }),
        sfn!(AddChannelMember, "", C(ADD_MEMBER), |cx, cell| {
            (cx.who(cell), vec![("channel_id", cx.ch(cell)), ("username", cx.spare_name.clone())])
        }),
        sfn!(SetTopic, "", C(MANAGE), |cx, cell| {
            (cx.who(cell), vec![("channel_id", cx.ch(cell)), ("topic", s("Matrix"))])
        }),
        sfn!(ChannelOverrides, "", C(MANAGE), |cx, cell| (cx.who(cell), vec![("channel_id", cx.ch(cell))])),
        sfn!(SetChannelOverride, "", C(MANAGE), |cx, cell| {
            (
                cx.who(cell),
                vec![
                    ("channel_id", cx.ch(cell)),
                    ("target", format!("role:{}", cx.plain)),
                    ("allow[0]", s("add_reactions")),
                ],
            )
        }),
        sfn!(ConfigureChannel, "unchanged", C(MANAGE), |cx, cell| {
            let mut args = vec![("channel_id", cx.ch(cell))];
            args.extend(settings_form(cell.kind()));
            (cx.who(cell), args)
        }),
        custom!(Covers::ServerFn(path_of::<Search>()), "a word only in this channel", C(VIEW), |cx, cell| {
            let args = vec![("workspace_id", cx.ws.clone()), ("q", s(word(cell.kind())))];
            let res = cx.call_raw(path_of::<Search>(), &cx.who(cell), &args).await;
            cx.checked("POST", res, |found| {
                serde_json::from_value::<app::api::SearchViewDto>(found.clone())
                    .is_ok_and(|f| f.hits.iter().any(|h| h.message.channel_id == cx.ch(cell)))
            })
            .await
        }),
        // ---- REST: accounts and workspaces.
        rest!("get" "/api/openapi.json", "", P(EVERYONE), |cx, cell| (cx.who(cell), vec![], None)),
        rest!("post" "/api/auth/signup", "", P(EVERYONE), |cx, cell| {
            let name = cx.unique("signup");
            let body = json!({"username": name, "display_name": name, "email": format!("{name}@example.com"),
                "password": "correct horse battery"});
            (cx.who(cell), vec![], Some(body))
        }),
        rest!("post" "/api/auth/login", "", P(EVERYONE), |cx, cell| {
            (cx.who(cell), vec![], Some(json!({"username": cx.name(cell.actor), "password": "correct horse battery"})))
        }),
        rest!("post" "/api/auth/logout", "a fresh token", P(EVERYONE), |cx, cell| {
            (cx.fresh_login(cell.actor).await, vec![], None)
        }),
        rest!("get" "/api/auth/me", "", P(EVERYONE), |cx, cell| (cx.who(cell), vec![], None)),
        rest!("post" "/api/auth/logout_everywhere", "a newcomer's own", P(EVERYONE), |cx, _cell| {
            (cx.newcomer().await, vec![], Some(json!({})))
        }),
        rest!("post" "/api/auth/password", "a newcomer's own", P(EVERYONE), |cx, _cell| {
            let body = json!({"current_password": "correct horse battery", "new_password": "another long one"});
            (cx.newcomer().await, vec![], Some(body))
        }),
        rest!("post" "/api/auth/password_reset", "", P(EVERYONE), |cx, cell| {
            (cx.who(cell), vec![], Some(json!({"email": format!("{}@example.com", cx.name(cell.actor))})))
        }),
        rest!("post" "/api/auth/password_reset/confirm", "a made-up link", P(NOBODY), |cx, cell| {
            (cx.who(cell), vec![], Some(json!({"token": "pt_made_up", "new_password": "another long one"})))
        }),
        rest!("get" "/api/auth/tokens", "", P(EVERYONE), |cx, cell| (cx.who(cell), vec![], None)),
        rest!("post" "/api/auth/tokens", "", P(EVERYONE), |cx, cell| {
            (cx.who(cell), vec![], Some(json!({"name": "matrix bot", "expires_in_days": 1})))
        }),
        rest!("delete" "/api/auth/tokens/{id}", "their own fresh token", P(EVERYONE), |cx, cell| {
            let who = cx.who(cell);
            let id = cx.fresh_token(&who).await;
            (who, vec![("id", id)], None)
        }),
        rest!("get" "/api/workspaces", "", P(EVERYONE), |cx, cell| (cx.who(cell), vec![], None)),
        rest!("post" "/api/workspaces", "", P(EVERYONE), |cx, cell| {
            (cx.who(cell), vec![], Some(json!({"name": "Elsewhere"})))
        }),
        rest!("get" "/api/workspaces/discover", "", P(EVERYONE), |cx, cell| (cx.who(cell), vec![], None)),
        rest!("get" "/api/workspaces/{id}", "", P(MEMBERS), |cx, cell| (cx.who(cell), cx.ws_param(), None)),
        rest!("post" "/api/workspaces/{id}/join", "a fresh person of each kind", P(JOINERS), |cx, cell| {
            (cx.fresh(cell.actor).await, cx.ws_param(), Some(json!({})))
        }),
        rest!("post" "/api/workspaces/{id}/leave", "a fresh person of each kind", P(LEAVERS), |cx, cell| {
            (cx.fresh(cell.actor).await, cx.ws_param(), Some(json!({})))
        }),
        rest!("get" "/api/workspaces/{id}/members", "", P(MEMBERS), |cx, cell| {
            (cx.who(cell), cx.ws_param(), None)
        }),
        rest!("post" "/api/workspaces/{id}/invites", "for members", P(FULL_MEMBERS), |cx, cell| {
            (cx.who(cell), cx.ws_param(), Some(json!({})))
        }),
        rest!("post" "/api/workspaces/{id}/invites", "for a guest", P(FULL_MEMBERS), |cx, cell| {
            let body = json!({"guest": true, "channel_ids": [cx.channel(Kind::External)], "email": "g@example.com"});
            (cx.who(cell), cx.ws_param(), Some(body))
        }),
        rest!("get" "/api/workspaces/{id}/invites", "", P(FULL_MEMBERS), |cx, cell| {
            (cx.who(cell), cx.ws_param(), None)
        }),
        rest!("delete" "/api/invites/{code}", "their own fresh invite", P(FULL_MEMBERS), |cx, cell| {
            let who = cx.who(cell);
            let code = cx.fresh_invite(&who).await;
            (who, vec![("code", code)], None)
        }),
        rest!("delete" "/api/invites/{code}", "the owner's fresh invite", P(STAFF), |cx, cell| {
            let code = cx.fresh_invite(cx.person(Owner)).await;
            (cx.who(cell), vec![("code", code)], None)
        }),
        rest!("get" "/api/invites/{code}", "", P(EVERYONE), |cx, cell| {
            (cx.who(cell), vec![("code", cx.invite.clone())], None)
        }),
        rest!("post" "/api/invites/{code}/accept", "a fresh person of each kind", P(JOINERS), |cx, cell| {
            (cx.fresh(cell.actor).await, vec![("code", cx.invite.clone())], Some(json!({})))
        }),
        // ---- REST: channels.
        custom!(
            Covers::Rest("get", "/api/communication/channels/"),
            "the channel is listed",
            C(VIEW),
            |cx, cell| {
                let path = format!("/api/communication/channels/?workspace_id={}", cx.ws);
                let res = cx.raw(&cx.who(cell), "GET", &path, None).await;
                cx.checked("GET", res, |list| {
                    list.as_array().is_some_and(|l| l.iter().any(|c| c["id"] == cx.ch(cell)))
                })
                .await
            }
        ),
        rest!("post" "/api/communication/channels/", "", P(FULL_MEMBERS), |cx, cell| {
            (cx.who(cell), vec![], Some(json!({"workspace_id": cx.ws, "name": cx.unique("made")})))
        }),
        rest!("post" "/api/communication/channels/create_direct/", "with the owner", P(MEMBERS), |cx, cell| {
            (cx.who(cell), vec![], Some(json!({"workspace_id": cx.ws, "usernames": [cx.name(Owner)]})))
        }),
        rest!("get" "/api/communication/channels/{id}/", "", C(VIEW), |cx, cell| {
            (cx.who(cell), cx.ch_param(cell), None)
        }),
        rest!("put" "/api/communication/channels/{id}/", "topic and flags unchanged", C(MANAGE), |cx, cell| {
            let body = json!({"topic": "Matrix", "archived": cell.kind() == Kind::Archived});
            (cx.who(cell), cx.ch_param(cell), Some(body))
        }),
        rest!("delete" "/api/communication/channels/{id}/", "a fresh channel", C(MANAGE), |cx, cell| {
            (cx.who(cell), vec![("id", cx.fresh_channel(cell.kind(), true).await)], None)
        }),
        rest!("post" "/api/communication/channels/{id}/add_members/", "", C(ADD_MEMBER), |cx, cell| {
            (cx.who(cell), cx.ch_param(cell), Some(json!({"usernames": [cx.spare_name]})))
        }),
        rest!("get" "/api/communication/channels/{id}/commands/", "", C(VIEW), |cx, cell| {
            (cx.who(cell), cx.ch_param(cell), None)
        }),
        rest!("post" "/api/communication/channels/{id}/commands/", "/shrug, which posts", C(POST), |cx, cell| {
            (cx.who(cell), cx.ch_param(cell), Some(json!({"command": "/shrug"})))
        }),
        rest!("post" "/api/communication/channels/{id}/join/", "", C(JOIN), |cx, cell| {
            (cx.who(cell), cx.ch_param(cell), Some(json!({})))
        }),
        rest!("post" "/api/communication/channels/{id}/leave/", "a fresh channel", C(VIEW), |cx, cell| {
            (cx.who(cell), vec![("id", cx.fresh_channel(cell.kind(), true).await)], Some(json!({})))
        }),
        rest!("post" "/api/communication/channels/{id}/read/", "", C(VIEW), |cx, cell| {
            (cx.who(cell), cx.ch_param(cell), Some(json!({})))
        }),
        rest!("get" "/api/communication/channels/{id}/reads/", "", C(VIEW), |cx, cell| {
            (cx.who(cell), cx.ch_param(cell), None)
        }),
        // ---- Notifications: one's own.
        sfn!(Bell, "", P(EVERYONE), |cx, cell| (cx.who(cell), vec![])),
        sfn!(MarkAllNotificationsRead, "", P(EVERYONE), |cx, cell| (cx.who(cell), vec![])),
        sfn!(MarkNotificationRead, "the member's", P("...Y..."), |cx, cell| {
            let id = cx.member_notification().await.remove(0).1;
            (cx.who(cell), vec![("notification_id", id)])
        }),
        rest!("get" "/api/communication/notifications/", "", P(EVERYONE), |cx, cell| (cx.who(cell), vec![], None)),
        rest!("post" "/api/communication/notifications/", "to the member", P(STAFF), |cx, cell| {
            let body = json!({"workspace_id": cx.ws, "recipients": [cx.name(Member)], "title": "Matrix"});
            (cx.who(cell), vec![], Some(body))
        }),
        rest!("get" "/api/communication/notifications/unread_count/", "", P(EVERYONE), |cx, cell| {
            (cx.who(cell), vec![], None)
        }),
        rest!("post" "/api/communication/notifications/mark_all_read/", "", P(EVERYONE), |cx, cell| {
            (cx.who(cell), vec![], None)
        }),
        rest!("post" "/api/communication/notifications/{id}/mark_read/", "the member's", P("...Y..."), |cx, cell| {
            (cx.who(cell), cx.member_notification().await, None)
        }),
        // ---- Notification settings: one's own; templates: who manages the workspace.
        sfn!(NotificationPreferences, "", P(EVERYONE), |cx, cell| (cx.who(cell), vec![])),
        sfn!(SaveNotificationPreferences, "", P(EVERYONE), |cx, cell| {
            let args = vec![
                ("time_zone", s("Europe/Berlin")),
                ("quiet_start", s("22:00")),
                ("quiet_end", s("07:00")),
            ];
            (cx.who(cell), args)
        }),
        sfn!(SetChannelNotifyLevel, "", C(VIEW), |cx, cell| {
            (cx.who(cell), vec![("channel_id", cx.ch(cell)), ("level", s("all"))])
        }),
        sfn!(SubscribePush, "", P(EVERYONE), |cx, cell| {
            let (endpoint, p256dh, auth) = cx.push_subscription();
            (cx.who(cell), vec![("endpoint", endpoint), ("p256dh", p256dh), ("auth", auth)])
        }),
        sfn!(UnsubscribePush, "their own", P(EVERYONE), |cx, cell| {
            let who = cx.who(cell);
            let endpoint = cx.subscribed(&who).await;
            (who, vec![("endpoint", endpoint)])
        }),
        sfn!(NotificationTemplates, "", P(STAFF), |cx, cell| (
            cx.who(cell),
            vec![("workspace_id", cx.ws.clone())]
        )),
        sfn!(SaveNotificationTemplate, "", P(STAFF), |cx, cell| {
            let args = vec![
                ("workspace_id", cx.ws.clone()),
                ("name", s("matrix")),
                ("channel", s("email")),
                ("body", s("{{content}}")),
            ];
            (cx.who(cell), args)
        }),
        sfn!(ResetNotificationTemplate, "the owner's", P(STAFF), |cx, cell| {
            let id = cx.owner_template().await;
            (cx.who(cell), vec![("workspace_id", cx.ws.clone()), ("template_id", id)])
        }),
        sfn!(CreateDefaultTemplates, "", P(STAFF), |cx, cell| (
            cx.who(cell),
            vec![("workspace_id", cx.ws.clone())]
        )),
        rest!("get" "/api/communication/notification_preferences/", "", P(EVERYONE), |cx, cell| {
            (cx.who(cell), vec![], None)
        }),
        rest!("put" "/api/communication/notification_preferences/", "", P(EVERYONE), |cx, cell| {
            let body = json!({"time_zone": "UTC", "quiet_hours_enabled": false, "quiet_start": "22:00",
                "quiet_end": "07:00", "quiet_days": [], "urgent_breaks_through": true, "switches": []});
            (cx.who(cell), vec![], Some(body))
        }),
        rest!("post" "/api/communication/push_subscriptions/", "", P(EVERYONE), |cx, cell| {
            let (endpoint, p256dh, auth) = cx.push_subscription();
            (cx.who(cell), vec![], Some(json!({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}})))
        }),
        rest!("post" "/api/communication/push_subscriptions/unsubscribe/", "their own", P(EVERYONE), |cx, cell| {
            let who = cx.who(cell);
            let endpoint = cx.subscribed(&who).await;
            (who, vec![], Some(json!({"endpoint": endpoint})))
        }),
        rest!("post" "/api/communication/channels/{id}/notification_level/", "", C(VIEW), |cx, cell| {
            (cx.who(cell), cx.ch_param(cell), Some(json!({"level": "muted"})))
        }),
        rest!("get" "/api/communication/workspaces/{id}/notification_templates/", "", P(STAFF), |cx, cell| {
            (cx.who(cell), vec![("id", cx.ws.clone())], None)
        }),
        rest!("post" "/api/communication/workspaces/{id}/notification_templates/", "", P(STAFF), |cx, cell| {
            let body = json!({"name": "matrix", "channel": "push", "subject": "{{title}}", "body": "{{content}}"});
            (cx.who(cell), vec![("id", cx.ws.clone())], Some(body))
        }),
        rest!("delete" "/api/communication/workspaces/{id}/notification_templates/{template_id}/", "the owner's",
            P(STAFF), |cx, cell| {
            let id = cx.owner_template().await;
            (cx.who(cell), vec![("id", cx.ws.clone()), ("template_id", id)], None)
        }),
        rest!("post" "/api/communication/workspaces/{id}/notification_templates/create_defaults/", "", P(STAFF),
            |cx, cell| (cx.who(cell), vec![("id", cx.ws.clone())], None)),
        // ---- Meetings: the owner's, with the member invited.
        sfn!(MeetingsView, "", P(MEMBERS), |cx, cell| (cx.who(cell), vec![("workspace_id", cx.ws.clone())])),
        sfn!(ScheduleMeeting, "inviting the member", P(FULL_MEMBERS), |cx, cell| {
            (
                cx.who(cell),
                vec![
                    ("workspace_id", cx.ws.clone()),
                    ("title", s("Matrix")),
                    ("participants", cx.name(Member)),
                    ("starts", s("2099-01-01T09:00")),
                    ("ends", s("2099-01-01T10:00")),
                    ("utc_offset", s("60")),
                ],
            )
        }),
        sfn!(EndMeeting, "a fresh meeting", P(STAFF), |cx, cell| {
            let mut args = vec![("workspace_id", cx.ws.clone())];
            args.extend(cx.meeting_param().await.into_iter().map(|(_, id)| ("meeting_id", id)));
            (cx.who(cell), args)
        }),
        sfn!(RenewCalendarFeed, "one's own", P(EVERYONE), |cx, cell| {
            (cx.who(cell), vec![("workspace_id", cx.ws.clone())])
        }),
        rest!("get" "/api/communication/meetings/", "in all one's workspaces", P(EVERYONE), |cx, cell| {
            (cx.who(cell), vec![], None)
        }),
        custom!(
            Covers::Rest("get", "/api/communication/meetings/"),
            "in the workspace",
            P(MEMBERS),
            |cx, cell| {
                let path = format!("/api/communication/meetings/?workspace_id={}", cx.ws);
                cx.rest(&cx.who(cell), "get", &path, None).await
            }
        ),
        rest!("post" "/api/communication/meetings/", "inviting the member", P(FULL_MEMBERS), |cx, cell| {
            let body = json!({"workspace_id": cx.ws, "title": "Matrix", "participants": [cx.name(Member)],
                "scheduled_start": "2099-01-01T09:00:00Z", "scheduled_end": "2099-01-01T10:00:00Z"});
            (cx.who(cell), vec![], Some(body))
        }),
        rest!("post" "/api/communication/meetings/instant/", "", P(FULL_MEMBERS), |cx, cell| {
            (cx.who(cell), vec![], Some(json!({"workspace_id": cx.ws})))
        }),
        rest!("post" "/api/communication/meetings/calendar_feed/", "one's own", P(EVERYONE), |cx, cell| {
            (cx.who(cell), vec![], None)
        }),
        rest!("get" "/api/communication/meetings/{id}/", "", P(INVITED), |cx, cell| {
            (cx.who(cell), cx.meeting_param().await, None)
        }),
        rest!("post" "/api/communication/meetings/{id}/join/", "", P(INVITED), |cx, cell| {
            (cx.who(cell), cx.meeting_param().await, None)
        }),
        rest!("get" "/api/communication/meetings/{id}/ics/", "", P(INVITED), |cx, cell| {
            (cx.who(cell), cx.meeting_param().await, None)
        }),
        rest!("post" "/api/communication/meetings/{id}/end/", "a fresh meeting", P(STAFF), |cx, cell| {
            (cx.who(cell), cx.meeting_param().await, None)
        }),
        rest!("get" "/calendar/{file}", "with a made-up secret", P(NOBODY), |cx, cell| {
            (cx.who(cell), vec![("file", format!("{}.ics", cx.unique("guess")))], None)
        }),
        rest!("get" "/api/communication/channels/{id}/pins/", "", C(VIEW), |cx, cell| {
            (cx.who(cell), cx.ch_param(cell), None)
        }),
        rest!("get" "/api/communication/channels/{id}/permissions/", "", C(MANAGE), |cx, cell| {
            (cx.who(cell), cx.ch_param(cell), None)
        }),
        rest!("put" "/api/communication/channels/{id}/permissions/", "", C(MANAGE), |cx, cell| {
            let body = json!({"target_kind": "role", "target_id": cx.plain, "allow": ["add_reactions"], "deny": []});
            (cx.who(cell), cx.ch_param(cell), Some(body))
        }),
        // ---- REST: messages.
        custom!(Covers::Rest("get", "/api/communication/messages/"), "", C(VIEW), |cx, cell| {
            let path = format!("/api/communication/messages/?channel_id={}", cx.ch(cell));
            cx.checked("GET", cx.raw(&cx.who(cell), "GET", &path, None).await, |_| true).await
        }),
        rest!("post" "/api/communication/messages/", "a new message", C(POST), |cx, cell| {
            (cx.who(cell), vec![], Some(json!({"channel_id": cx.ch(cell), "body": "hello"})))
        }),
        rest!("post" "/api/communication/messages/", "a thread reply", C(CONTRIBUTE), |cx, cell| {
            let body = json!({"channel_id": cx.ch(cell), "body": "re", "thread_id": cx.msg(cell)});
            (cx.who(cell), vec![], Some(body))
        }),
        custom!(
            Covers::Rest("post", "/api/communication/messages/"),
            "a message with a file",
            C(POST),
            |cx, cell| {
                let form = reqwest::multipart::Form::new()
                    .text("channel_id", cx.ch(cell))
                    .text("body", "see attached")
                    .part("file", reqwest::multipart::Part::bytes(b"notes".to_vec()).file_name("notes.txt"));
                let who = cx.who(cell);
                let req = who
                    .client
                    .post(cx.app.url("/api/communication/messages/"))
                    .header("accept", "application/json");
                cx.checked("POST", req.bearer_auth(&who.token).multipart(form).send().await.unwrap(), |_| {
                    true
                })
                .await
            }
        ),
        custom!(
            Covers::Rest("post", "/api/communication/messages/search/"),
            "a word only in this channel",
            C(VIEW),
            |cx, cell| {
                let body = json!({"query": word(cell.kind()), "workspace_id": cx.ws});
                let res =
                    cx.raw(&cx.who(cell), "POST", "/api/communication/messages/search/", Some(body)).await;
                cx.checked("POST", res, |hits| {
                    hits.as_array()
                        .is_some_and(|h| h.iter().any(|x| x["message"]["channel_id"] == cx.ch(cell)))
                })
                .await
            }
        ),
        rest!("put" "/api/communication/messages/{id}/", "the owner's message", C(EDIT_OWNERS), |cx, cell| {
            (cx.who(cell), cx.msg_param(cell), Some(json!({"body": cx.parent_body(cell.kind())})))
        }),
        rest!("delete" "/api/communication/messages/{id}/", "a fresh message by the owner", C(DELETE_OWNERS), |cx, cell| {
            (cx.who(cell), vec![("id", cx.fresh_message(cell.kind()).await)], None)
        }),
        rest!("post" "/api/communication/messages/{id}/add_reaction/", "", C(CONTRIBUTE), |cx, cell| {
            (cx.who(cell), cx.msg_param(cell), Some(json!({"emoji": ":tada:"})))
        }),
        rest!("post" "/api/communication/messages/{id}/remove_reaction/", "", C(CONTRIBUTE), |cx, cell| {
            (cx.who(cell), cx.msg_param(cell), Some(json!({"emoji": ":tada:"})))
        }),
        rest!("get" "/api/communication/messages/{id}/", "", C(VIEW), |cx, cell| {
            (cx.who(cell), cx.msg_param(cell), None)
        }),
        rest!("get" "/api/communication/messages/{id}/thread/", "", C(VIEW), |cx, cell| {
            (cx.who(cell), cx.msg_param(cell), None)
        }),
        rest!("post" "/api/communication/messages/{id}/follow/", "", C(VIEW), |cx, cell| {
            (cx.who(cell), cx.msg_param(cell), Some(json!({"following": true})))
        }),
        rest!("post" "/api/communication/messages/{id}/pin/", "", C(PIN), |cx, cell| {
            (cx.who(cell), cx.msg_param(cell), Some(json!({"pinned": true})))
        }),
        rest!("get" "/api/communication/messages/{id}/readers/", "", C(VIEW), |cx, cell| {
            (cx.who(cell), cx.msg_param(cell), None)
        }),
        custom!(Covers::Rest("get", "/api/communication/threads/"), "", P(MEMBERS), |cx, cell| {
            let path = format!("/api/communication/threads/?workspace_id={}", cx.ws);
            cx.checked("GET", cx.raw(&cx.who(cell), "GET", &path, None).await, |_| true).await
        }),
        custom!(
            Covers::Rest("get", "/files/{id}/{name}"),
            "the channel's attachment",
            C(VIEW),
            |cx, cell| {
                let url = cx.files[&cell.kind()].clone();
                cx.checked("GET", cx.raw(&cx.who(cell), "GET", &url, None).await, |_| true).await
            }
        ),
        rest!("delete" "/api/communication/messages/{id}/link-previews/{position}/", "a fresh previewed message by the owner", C(DELETE_OWNERS), |cx, cell| {
            (cx.who(cell), vec![("id", cx.fresh_previewed(cell.kind()).await), ("position", s("0"))], None)
        }),
        custom!(
            Covers::Rest("get", "/files/previews/{id}/{position}"),
            "the owner's previewed message",
            C(VIEW),
            |cx, cell| {
                let url = format!("/files/previews/{}/0", cx.previewed[&cell.kind()]);
                cx.checked("GET", cx.raw(&cx.who(cell), "GET", &url, None).await, |_| true).await
            }
        ),
        rest!("get" "/api/communication/workspaces/{id}/link-previews/", "", P(MEMBERS), |cx, cell| {
            (cx.who(cell), cx.ws_param(), None)
        }),
        rest!("put" "/api/communication/workspaces/{id}/link-previews/", "unchanged (on)", P(STAFF), |cx, cell| {
            (cx.who(cell), cx.ws_param(), Some(json!({"enabled": true})))
        }),
        rest!("post" "/api/communication/workspaces/{id}/link-previews/", "a page's preview", P(MEMBERS), |cx, cell| {
            (cx.who(cell), cx.ws_param(), Some(json!({"url": cx.site.url("/article")})))
        }),
        rest!("get" "/api/communication/workspaces/{id}/encryption/", "", P(MEMBERS), |cx, cell| {
            (cx.who(cell), cx.ws_param(), None)
        }),
        rest!("put" "/api/communication/workspaces/{id}/encryption/", "unchanged (not required)", P(STAFF), |cx, cell| {
            (cx.who(cell), cx.ws_param(), Some(json!({"encrypt_direct": false})))
        }),
        rest!("get" "/api/communication/workspaces/{id}/encryption/archive/", "", P(MEMBERS), |cx, cell| {
            (cx.who(cell), cx.ws_param(), None)
        }),
        rest!("put" "/api/communication/workspaces/{id}/encryption/archive/", "unchanged (nobody archives)", P(STAFF), |cx, cell| {
            (cx.who(cell), cx.ws_param(), Some(json!({"username": null})))
        }),
        rest!("post" "/api/communication/workspaces/{id}/encryption/archive/consent/", "nothing to agree to", P(MEMBERS), |cx, cell| {
            (cx.who(cell), cx.ws_param(), Some(json!({})))
        }),
        // ---- REST: compliance.
        rest!("get" "/api/admin/retention/", "", P(DEPLOYMENT_ADMINS), |cx, cell| (cx.who(cell), vec![], None)),
        rest!("put" "/api/admin/retention/", "unchanged (none set)", P(DEPLOYMENT_ADMINS), |cx, cell| {
            (cx.who(cell), vec![], Some(json!({"messages_days": null, "files_days": null})))
        }),
        rest!("get" "/api/admin/compliance-archive/", "", P(DEPLOYMENT_ADMINS), |cx, cell| {
            (cx.who(cell), vec![], None)
        }),
        rest!("put" "/api/admin/compliance-archive/", "unchanged (off)", P(DEPLOYMENT_ADMINS), |cx, cell| {
            (cx.who(cell), vec![], Some(json!({"enabled": false})))
        }),
        rest!("get" "/api/admin/holds/", "", P(DEPLOYMENT_ADMINS), |cx, cell| (cx.who(cell), vec![], None)),
        rest!("post" "/api/admin/holds/", "a hold on the spare member", P(DEPLOYMENT_ADMINS), |cx, cell| {
            let body = json!({"name": cx.unique("Hold"), "reason": "Audit", "user_ids": [cx.spare.id]});
            (cx.who(cell), vec![], Some(body))
        }),
        rest!("post" "/api/admin/holds/{id}/release/", "a fresh hold", P(DEPLOYMENT_ADMINS), |cx, cell| {
            (cx.who(cell), vec![("id", cx.fresh_hold().await)], None)
        }),
        rest!("get" "/api/admin/audit/", "", P(DEPLOYMENT_ADMINS), |cx, cell| (cx.who(cell), vec![], None)),
        rest!("get" "/api/admin/exports/", "", P(DEPLOYMENT_ADMINS), |cx, cell| (cx.who(cell), vec![], None)),
        rest!("post" "/api/admin/exports/", "an export of today", P(DEPLOYMENT_ADMINS), |cx, cell| {
            let today = domain::export::day_of(domain::now_ms());
            (cx.who(cell), vec![], Some(json!({"format": "csv", "from": today, "to": today})))
        }),
        rest!("get" "/api/admin/exports/{id}/", "a fresh export", P(DEPLOYMENT_ADMINS), |cx, cell| {
            (cx.who(cell), vec![("id", cx.fresh_export().await)], None)
        }),
        rest!("delete" "/api/admin/exports/{id}/", "a fresh export", P(DEPLOYMENT_ADMINS), |cx, cell| {
            (cx.who(cell), vec![("id", cx.fresh_export().await)], None)
        }),
        rest!("get" "/api/admin/exports/{id}/archive", "a finished export", P(DEPLOYMENT_ADMINS), |cx, cell| {
            (cx.who(cell), vec![("id", cx.finished_export().await)], None)
        }),
        rest!("get" "/api/admin/daily-export/", "", P(DEPLOYMENT_ADMINS), |cx, cell| (cx.who(cell), vec![], None)),
        rest!("get" "/api/admin/analytics/", "", P(DEPLOYMENT_ADMINS), |cx, cell| (cx.who(cell), vec![], None)),
        rest!("get" "/api/admin/analytics/{figure}/", "", P(DEPLOYMENT_ADMINS), |cx, cell| {
            (cx.who(cell), vec![("figure", s("messages"))], None)
        }),
        rest!("get" "/api/admin/analytics/{figure}/csv", "", P(DEPLOYMENT_ADMINS), |cx, cell| {
            (cx.who(cell), vec![("figure", s("channels"))], None)
        }),
        rest!("get" "/api/communication/workspaces/{id}/analytics/", "", P(STAFF), |cx, cell| {
            (cx.who(cell), cx.ws_param(), None)
        }),
        rest!("get" "/api/communication/workspaces/{id}/analytics/{figure}/", "", P(STAFF), |cx, cell| {
            let mut params = cx.ws_param();
            params.push(("figure", s("active_people")));
            (cx.who(cell), params, None)
        }),
        rest!("get" "/api/communication/workspaces/{id}/analytics/{figure}/csv", "", P(STAFF), |cx, cell| {
            let mut params = cx.ws_param();
            params.push(("figure", s("messages")));
            (cx.who(cell), params, None)
        }),
        rest!("put" "/api/admin/daily-export/", "unchanged (off)", P(DEPLOYMENT_ADMINS), |cx, cell| {
            (cx.who(cell), vec![], Some(json!({"format": "off"})))
        }),
        rest!("get" "/api/communication/workspaces/{id}/retention/", "", P(MEMBERS), |cx, cell| {
            (cx.who(cell), cx.ws_param(), None)
        }),
        rest!("put" "/api/communication/workspaces/{id}/retention/", "unchanged (none)", P(STAFF), |cx, cell| {
            (cx.who(cell), cx.ws_param(), Some(json!({})))
        }),
        rest!("get" "/api/communication/channels/{id}/retention/", "", C(VIEW), |cx, cell| {
            (cx.who(cell), cx.ch_param(cell), None)
        }),
        rest!("put" "/api/communication/channels/{id}/retention/", "unchanged (none)", C(MANAGE), |cx, cell| {
            (cx.who(cell), cx.ch_param(cell), Some(json!({})))
        }),
        // ---- REST: roles and moderation.
        rest!("get" "/api/communication/permissions/", "", P(EVERYONE), |cx, cell| (cx.who(cell), vec![], None)),
        rest!("get" "/api/communication/files/policy/", "", P(EVERYONE), |cx, cell| (cx.who(cell), vec![], None)),
        rest!("get" "/api/communication/workspaces/{id}/roles/", "", P(MEMBERS), |cx, cell| {
            (cx.who(cell), cx.ws_param(), None)
        }),
        rest!("post" "/api/communication/workspaces/{id}/roles/", "", P(STAFF), |cx, cell| {
            let body = json!({"name": cx.unique("Role"), "colour": "#654321", "permissions": ["add_reactions"]});
            (cx.who(cell), cx.ws_param(), Some(body))
        }),
        rest!("put" "/api/communication/workspaces/{id}/roles/{role_id}/", "unchanged", P(STAFF), |cx, cell| {
            let mut params = cx.ws_param();
            params.push(("role_id", cx.plain.clone()));
            (cx.who(cell), params, Some(json!({"name": "Plain", "colour": "", "permissions": []})))
        }),
        rest!("delete" "/api/communication/workspaces/{id}/roles/{role_id}/", "a fresh role", P(STAFF), |cx, cell| {
            let mut params = cx.ws_param();
            params.push(("role_id", cx.fresh_role().await));
            (cx.who(cell), params, None)
        }),
        rest!(
            "put" "/api/communication/workspaces/{id}/members/{user_id}/roles/{role_id}/",
            "give",
            P(STAFF),
            |cx, cell| (cx.who(cell), cx.member_role_params(), Some(json!({})))
        ),
        rest!(
            "delete" "/api/communication/workspaces/{id}/members/{user_id}/roles/{role_id}/",
            "take",
            P(STAFF),
            |cx, cell| (cx.who(cell), cx.member_role_params(), None)
        ),
        rest!("post" "/api/communication/workspaces/{id}/members/{user_id}/kick/", "a fresh member", P(MODERATORS), |cx, cell| {
            let target = cx.fresh(Member).await;
            (cx.who(cell), cx.user_params(&target.id), Some(json!({})))
        }),
        rest!("post" "/api/communication/workspaces/{id}/members/{user_id}/ban/", "a fresh member", P(MODERATORS), |cx, cell| {
            let target = cx.fresh(Member).await;
            (cx.who(cell), cx.user_params(&target.id), Some(json!({"reason": "spam"})))
        }),
        rest!("post" "/api/communication/workspaces/{id}/members/{user_id}/timeout/", "", P(MODERATORS), |cx, cell| {
            (cx.who(cell), cx.user_params(&cx.spare.id), Some(json!({"minutes": 5})))
        }),
        rest!("put" "/api/communication/workspaces/{id}/role_order/", "the same order", P(STAFF), |cx, cell| {
            (cx.who(cell), cx.ws_param(), Some(json!({"order": cx.movable_roles(cell.actor).await})))
        }),
        rest!("get" "/api/communication/workspaces/{id}/categories/", "", P(MEMBERS), |cx, cell| {
            (cx.who(cell), cx.ws_param(), None)
        }),
        rest!("post" "/api/communication/workspaces/{id}/categories/", "", P(STAFF), |cx, cell| {
            (cx.who(cell), cx.ws_param(), Some(json!({"name": cx.unique("Cat")})))
        }),
        rest!("put" "/api/communication/workspaces/{id}/categories/{category_id}/", "unchanged", P(STAFF), |cx, cell| {
            let mut params = cx.ws_param();
            params.push(("category_id", cx.category.clone()));
            (cx.who(cell), params, Some(json!({"name": "Projects"})))
        }),
        rest!("delete" "/api/communication/workspaces/{id}/categories/{category_id}/", "a fresh category", P(STAFF), |cx, cell| {
            let mut params = cx.ws_param();
            params.push(("category_id", cx.fresh_category().await));
            (cx.who(cell), params, None)
        }),
        rest!("put" "/api/communication/workspaces/{id}/channel_order/", "", P(STAFF), |cx, cell| {
            let body = json!({"categories": [cx.category],
                "channels": [{"channel_id": cx.channel(Kind::Public), "category_id": cx.category}]});
            (cx.who(cell), cx.ws_param(), Some(body))
        }),
        rest!("get" "/api/communication/workspaces/{id}/bans/", "", P(MODERATORS), |cx, cell| {
            (cx.who(cell), cx.ws_param(), None)
        }),
        rest!("delete" "/api/communication/workspaces/{id}/bans/{user_id}/", "a fresh banned person", P(MODERATORS), |cx, cell| {
            let target = cx.fresh(Banned).await;
            (cx.who(cell), cx.user_params(&target.id), None)
        }),
        rest!("get" "/api/communication/workspaces/{id}/audit_log/", "", P(MODERATORS), |cx, cell| {
            (cx.who(cell), cx.ws_param(), None)
        }),
        rest!("get" "/api/communication/workspaces/{id}/webhooks/", "", P(MEMBERS), |cx, cell| {
            (cx.who(cell), cx.ws_param(), None)
        }),
        rest!("post" "/api/communication/workspaces/{id}/webhooks/", "", C(WEBHOOK_ADD), |cx, cell| {
            (cx.who(cell), cx.ws_param(), Some(json!({"channel_id": cx.ch(cell), "name": "Matrix hook"})))
        }),
        rest!("delete" "/api/communication/webhooks/{id}/", "the owner's fresh webhook", C(WEBHOOK_MANAGE), |cx, cell| {
            let (id, _) = cx.fresh_webhook(cell.kind()).await;
            (cx.who(cell), vec![("id", id)], None)
        }),
        rest!("post" "/hooks/{token}", "the owner's fresh webhook, called by anyone", C(WEBHOOK_CALL), |cx, cell| {
            let (_, token) = cx.fresh_webhook(cell.kind()).await;
            (cx.who(cell), vec![("token", token)], Some(json!({"text": "From the *matrix*"})))
        }),
        rest!("get" "/api/communication/workspaces/{id}/outgoing-webhooks/", "", P(OUTGOING_MANAGERS), |cx, cell| {
            (cx.who(cell), cx.ws_param(), None)
        }),
        rest!("post" "/api/communication/workspaces/{id}/outgoing-webhooks/", "", P(OUTGOING_MANAGERS), |cx, cell| {
            // Called only when a call starts: not for every message the matrix posts.
            let body = json!({"name": "Matrix out", "url": "http://127.0.0.1:9/matrix", "events": ["meeting_started"]});
            (cx.who(cell), cx.ws_param(), Some(body))
        }),
        rest!("delete" "/api/communication/outgoing-webhooks/{id}/", "the owner's fresh outgoing webhook", P(OUTGOING_MANAGERS), |cx, cell| {
            (cx.who(cell), vec![("id", cx.fresh_outgoing().await)], None)
        }),
        rest!("get" "/api/communication/outgoing-webhooks/{id}/deliveries/", "the owner's fresh outgoing webhook", P(OUTGOING_MANAGERS), |cx, cell| {
            (cx.who(cell), vec![("id", cx.fresh_outgoing().await)], None)
        }),
        rest!("post" "/api/communication/outgoing-webhooks/{id}/deliveries/{delivery}/redeliver/", "a call of the owner's fresh outgoing webhook", P(OUTGOING_MANAGERS), |cx, cell| {
            let (hook, call) = cx.fresh_outgoing_call().await;
            (cx.who(cell), vec![("id", hook), ("delivery", call)], Some(json!({})))
        }),
        rest!("get" "/api/communication/workspaces/{id}/slash-commands/", "", P(OUTGOING_MANAGERS), |cx, cell| {
            (cx.who(cell), cx.ws_param(), None)
        }),
        rest!("post" "/api/communication/workspaces/{id}/slash-commands/", "", P(OUTGOING_MANAGERS), |cx, cell| {
            let body = json!({"name": cx.unique("matrix"), "url": "http://127.0.0.1:9/matrix"});
            (cx.who(cell), cx.ws_param(), Some(body))
        }),
        rest!("delete" "/api/communication/slash-commands/{id}/", "the owner's fresh command", P(OUTGOING_MANAGERS), |cx, cell| {
            (cx.who(cell), vec![("id", cx.fresh_command().await)], None)
        }),
        rest!("get" "/api/communication/slash-commands/{id}/uses/", "the owner's fresh command", P(OUTGOING_MANAGERS), |cx, cell| {
            (cx.who(cell), vec![("id", cx.fresh_command().await)], None)
        }),
        rest!("post" "/api/communication/commands/answers/{secret}/", "a response URL never issued", P(NOBODY), |cx, cell| {
            (cx.who(cell), vec![("secret", s("scr_never_issued"))], Some(json!({"text": "late"})))
        }),
        rest!("get" "/api/communication/workspaces/{id}/bots/", "", P(MEMBERS), |cx, cell| {
            (cx.who(cell), cx.ws_param(), None)
        }),
        rest!("post" "/api/communication/workspaces/{id}/bots/", "", P(BOT_MANAGERS), |cx, cell| {
            (cx.who(cell), cx.ws_param(), Some(json!({"username": cx.unique("bot"), "display_name": "Matrix Bot"})))
        }),
        rest!("delete" "/api/communication/bots/{id}/", "the owner's fresh bot", P(BOT_MANAGERS), |cx, cell| {
            (cx.who(cell), vec![("id", cx.fresh_bot().await)], None)
        }),
        rest!("get" "/api/communication/bots/{id}/tokens/", "the owner's fresh bot", P(BOT_MANAGERS), |cx, cell| {
            (cx.who(cell), vec![("id", cx.fresh_bot().await)], None)
        }),
        rest!("post" "/api/communication/bots/{id}/tokens/", "the owner's fresh bot", P(BOT_MANAGERS), |cx, cell| {
            (cx.who(cell), vec![("id", cx.fresh_bot().await)], Some(json!({"name": "matrix"})))
        }),
        rest!("delete" "/api/communication/bots/{id}/tokens/{token_id}/", "a fresh token of the owner's fresh bot", P(BOT_MANAGERS), |cx, cell| {
            let bot = cx.fresh_bot().await;
            let token = cx.fresh_bot_token(&bot).await;
            (cx.who(cell), vec![("id", bot), ("token_id", token)], None)
        }),
        rest!("put" "/api/communication/key_backup/", "their own, at its version", P(EVERYONE), |cx, cell| {
            let who = cx.who(cell);
            let version = cx.backup_version(&who).await;
            (who, vec![], Some(json!({"version": version, "backup": KEY_PACKAGE})))
        }),
        rest!("get" "/api/communication/key_backup/", "their own", P(EVERYONE), |cx, cell| {
            let who = cx.who(cell);
            cx.fresh_backup(&who).await;
            (who, vec![], None)
        }),
        rest!("delete" "/api/communication/key_backup/", "their own", P(EVERYONE), |cx, cell| {
            let who = cx.who(cell);
            cx.fresh_backup(&who).await;
            (who, vec![], None)
        }),
        rest!("put" "/api/communication/identity/", "their own", P(EVERYONE), |cx, cell| {
            (cx.who(cell), vec![], Some(json!({"public_key": SIGNATURE_KEY})))
        }),
        custom!(
            Covers::Rest("get", "/api/communication/identity/"),
            "the owner's",
            P(MEMBERS),
            |cx, cell| {
                cx.set_identity(cx.person(Owner)).await;
                let path = format!("/api/communication/identity/?user_id={}", cx.person(Owner).id);
                cx.checked("GET", cx.raw(&cx.who(cell), "GET", &path, None).await, |_| true).await
            }
        ),
        rest!("post" "/api/communication/devices/", "after setting their identity", P(EVERYONE), |cx, cell| {
            let who = cx.who(cell);
            cx.set_identity(&who).await;
            let body = json!({"name": "Matrix laptop", "signature_key": SIGNATURE_KEY, "identity_signature": SIGNATURE});
            (who, vec![], Some(body))
        }),
        rest!("get" "/api/communication/devices/", "their own", P(EVERYONE), |cx, cell| {
            (cx.who(cell), vec![], None)
        }),
        rest!("delete" "/api/communication/devices/{id}/", "a fresh device of their own", P(EVERYONE), |cx, cell| {
            let who = cx.who(cell);
            let device = cx.fresh_device(&who).await;
            (who, vec![("id", device)], None)
        }),
        rest!("get" "/api/communication/devices/{id}/key_packages/", "a fresh device of their own", P(EVERYONE), |cx, cell| {
            let who = cx.who(cell);
            let device = cx.fresh_device(&who).await;
            (who, vec![("id", device)], None)
        }),
        rest!("post" "/api/communication/devices/{id}/key_packages/", "a fresh device of their own", P(EVERYONE), |cx, cell| {
            let who = cx.who(cell);
            let device = cx.fresh_device(&who).await;
            (who, vec![("id", device)], Some(json!({"key_packages": [KEY_PACKAGE]})))
        }),
        rest!("get" "/api/communication/devices/{id}/welcomes/", "a fresh device of their own", P(EVERYONE), |cx, cell| {
            let who = cx.who(cell);
            let device = cx.fresh_device(&who).await;
            (who, vec![("id", device)], None)
        }),
        rest!("delete" "/api/communication/devices/{id}/welcomes/{welcome_id}/", "the member's device's fresh welcome", P(THE_MEMBER), |cx, cell| {
            let (device, welcome) = cx.fresh_welcome().await;
            (cx.who(cell), vec![("id", device), ("welcome_id", welcome)], None)
        }),
        rest!("post" "/api/communication/channels/{id}/end_to_end/", "a fresh channel of the kind", C(ENCRYPT), |cx, cell| {
            (cx.who(cell), vec![("id", cx.fresh_channel(cell.kind(), true).await)], Some(json!({})))
        }),
        rest!("get" "/api/communication/channels/{id}/devices/", "a fresh encrypted private channel", P(KEY_HOLDERS), |cx, cell| {
            (cx.who(cell), vec![("id", cx.fresh_encrypted().await)], None)
        }),
        rest!("post" "/api/communication/channels/{id}/key_packages/", "the owner's device in a fresh encrypted private channel", P(KEY_HOLDERS), |cx, cell| {
            let channel = cx.fresh_encrypted().await;
            let device = cx.kept_device(Owner).await;
            (cx.who(cell), vec![("id", channel)], Some(json!({"device_ids": [device]})))
        }),
        rest!("get" "/api/communication/channels/{id}/commits/", "a fresh encrypted private channel", P(KEY_HOLDERS), |cx, cell| {
            (cx.who(cell), vec![("id", cx.fresh_encrypted().await)], None)
        }),
        rest!("post" "/api/communication/channels/{id}/commits/", "a fresh encrypted private channel, from a fresh device of their own", P(KEY_HOLDERS), |cx, cell| {
            let who = cx.who(cell);
            let device = cx.fresh_device(&who).await;
            let body = json!({"device_id": device, "epoch": 0, "commit": KEY_PACKAGE});
            (who, vec![("id", cx.fresh_encrypted().await)], Some(body))
        }),
        rest!("put" "/api/communication/channels/{id}/history_sharing/", "a fresh channel of the kind, encrypted where it can be", C(ENCRYPT), |cx, cell| {
            (cx.who(cell), vec![("id", cx.fresh_encrypted_of(cell.kind()).await)], Some(json!({"on": true})))
        }),
        sfn!(
            SetHistorySharing,
            "a fresh channel of the kind, encrypted where it can be",
            C(ENCRYPT),
            |cx, cell| {
                (
                    cx.who(cell),
                    vec![("channel_id", cx.fresh_encrypted_of(cell.kind()).await), ("share", s("on"))],
                )
            }
        ),
        rest!("post" "/api/communication/channels/{id}/shared_histories/", "a fresh encrypted private channel sharing its history, from and for a device of their own", P(KEY_HOLDERS), |cx, cell| {
            let who = cx.who(cell);
            let device = cx.kept_device(cell.actor).await;
            let body = json!({"device_id": device, "epoch": 0, "history": KEY_PACKAGE, "device_ids": [device]});
            (who, vec![("id", cx.fresh_sharing().await)], Some(body))
        }),
        rest!("get" "/api/communication/devices/{id}/shared_histories/", "a device of their own", P(EVERYONE), |cx, cell| {
            (cx.who(cell), vec![("id", cx.kept_device(cell.actor).await)], None)
        }),
        rest!("delete" "/api/communication/devices/{id}/shared_histories/{history_id}/", "the member's device's fresh shared history", P(THE_MEMBER), |cx, cell| {
            let (device, shared) = cx.fresh_shared_history().await;
            (cx.who(cell), vec![("id", device), ("history_id", shared)], None)
        }),
        sfn!(CreateBot, "", P(BOT_MANAGERS), |cx, cell| {
            let args = vec![
                ("workspace_id", cx.ws.clone()),
                ("username", cx.unique("bot")),
                ("display_name", s("Matrix Bot")),
                ("emoji", s("")),
                ("description", s("")),
            ];
            (cx.who(cell), args)
        }),
        sfn!(RemoveBot, "the owner's fresh bot", P(BOT_MANAGERS), |cx, cell| {
            (cx.who(cell), vec![("bot_id", cx.fresh_bot().await)])
        }),
        sfn!(CreateBotToken, "the owner's fresh bot", P(BOT_MANAGERS), |cx, cell| {
            (cx.who(cell), vec![("bot_id", cx.fresh_bot().await), ("name", s("matrix"))])
        }),
        sfn!(RevokeBotToken, "a fresh token of the owner's fresh bot", P(BOT_MANAGERS), |cx, cell| {
            let bot = cx.fresh_bot().await;
            let token = cx.fresh_bot_token(&bot).await;
            (cx.who(cell), vec![("bot_id", bot), ("id", token)])
        }),
        sfn!(IntegrationsView, "", P(MEMBERS), |cx, cell| (
            cx.who(cell),
            vec![("workspace_id", cx.ws.clone())]
        )),
        sfn!(CreateWebhook, "", C(WEBHOOK_ADD), |cx, cell| {
            let args = vec![
                ("workspace_id", cx.ws.clone()),
                ("channel_id", cx.ch(cell)),
                ("name", s("Matrix hook")),
            ];
            (cx.who(cell), args)
        }),
        sfn!(DeleteWebhook, "the owner's fresh webhook", C(WEBHOOK_MANAGE), |cx, cell| {
            let (id, _) = cx.fresh_webhook(cell.kind()).await;
            (cx.who(cell), vec![("id", id)])
        }),
        sfn!(CreateSlashCommand, "", P(OUTGOING_MANAGERS), |cx, cell| {
            let args = vec![
                ("workspace_id", cx.ws.clone()),
                ("name", cx.unique("matrix")),
                ("url", s("http://127.0.0.1:9/matrix")),
            ];
            (cx.who(cell), args)
        }),
        sfn!(DeleteSlashCommand, "the owner's fresh command", P(OUTGOING_MANAGERS), |cx, cell| {
            (cx.who(cell), vec![("id", cx.fresh_command().await)])
        }),
        sfn!(CommandUses, "the owner's fresh command", P(OUTGOING_MANAGERS), |cx, cell| {
            (cx.who(cell), vec![("workspace_id", cx.ws.clone()), ("id", cx.fresh_command().await)])
        }),
        sfn!(CreateOutgoingWebhook, "", P(OUTGOING_MANAGERS), |cx, cell| {
            let args = vec![
                ("workspace_id", cx.ws.clone()),
                ("name", s("Matrix out")),
                ("url", s("http://127.0.0.1:9/matrix")),
                ("events[0]", s("meeting_started")),
            ];
            (cx.who(cell), args)
        }),
        sfn!(
            DeleteOutgoingWebhook,
            "the owner's fresh outgoing webhook",
            P(OUTGOING_MANAGERS),
            |cx, cell| { (cx.who(cell), vec![("id", cx.fresh_outgoing().await)]) }
        ),
        sfn!(OutgoingLog, "the owner's fresh outgoing webhook", P(OUTGOING_MANAGERS), |cx, cell| {
            (cx.who(cell), vec![("workspace_id", cx.ws.clone()), ("id", cx.fresh_outgoing().await)])
        }),
        sfn!(
            RedeliverCall,
            "a call of the owner's fresh outgoing webhook",
            P(OUTGOING_MANAGERS),
            |cx, cell| {
                let (hook, call) = cx.fresh_outgoing_call().await;
                (cx.who(cell), vec![("webhook_id", hook), ("id", call)])
            }
        ),
        // ---- Gateway.
        custom!(Covers::Gateway("IDENTIFY"), "a new session", P(EVERYONE), |cx, cell| {
            let mut socket = crate::gateway::open_as(&cx.app, cx.person(cell.actor)).await;
            send(&mut socket, &GatewayCommand::Identify).await;
            match crate::gateway::next_wire(&mut socket).await {
                app::wire::GatewayEvent::Ready { .. } => Outcome::Allowed(s("READY")),
                other => Outcome::Denied(format!("{other:?}")),
            }
        }),
        custom!(Covers::Gateway("RESUME"), "one's own session, resumed", P(EVERYONE), |cx, cell| {
            let mut first = crate::gateway::open_as(&cx.app, cx.person(cell.actor)).await;
            send(&mut first, &GatewayCommand::Identify).await;
            let app::wire::GatewayEvent::Ready { session_id, seq, .. } =
                crate::gateway::next_wire(&mut first).await
            else {
                return Outcome::Denied(s("no READY"));
            };
            drop(first);
            let mut socket = crate::gateway::open_as(&cx.app, cx.person(cell.actor)).await;
            send(&mut socket, &GatewayCommand::Resume { session_id, seq }).await;
            loop {
                match crate::gateway::next_wire(&mut socket).await {
                    app::wire::GatewayEvent::Resumed { .. } => break Outcome::Allowed(s("RESUMED")),
                    app::wire::GatewayEvent::InvalidSession { reason } => break Outcome::Denied(reason),
                    _ => continue,
                }
            }
        }),
        custom!(Covers::Gateway("PING"), "answered", P(EVERYONE), |cx, cell| {
            let mut socket = cx.socket(cell.actor).await;
            sync(&mut socket, |_| false).await;
            Outcome::Allowed(s("PONG"))
        }),
        custom!(Covers::Gateway("MESSAGE_CREATE"), "a new message", C(POST), |cx, cell| {
            let nonce = cx.unique("gw");
            let send = GatewayCommand::MessageCreate {
                channel_id: cx.ch(cell),
                body: s("hello over the socket"),
                nonce,
                thread_id: None,
            };
            cx.command(cell.actor, send, Some(|e: &Value| e["type"] == "MESSAGE_ACK")).await
        }),
        custom!(Covers::Gateway("ACTIVITY"), "accepted, the connection stays", P(EVERYONE), |cx, cell| {
            let mut socket = cx.socket(cell.actor).await;
            send(&mut socket, &GatewayCommand::Activity { active: false }).await;
            send(&mut socket, &GatewayCommand::Activity { active: true }).await;
            sync(&mut socket, |_| false).await;
            Outcome::Allowed(s("still connected"))
        }),
        // Which channel a page shows decides only which typing it is sent;
        // on a connection of its own: the shared one stays sent every channel's typing.
        custom!(Covers::Gateway("VIEW"), "accepted, the connection stays", P(EVERYONE), |cx, cell| {
            let mut socket = connect_as(&cx.app, cx.person(cell.actor)).await;
            send(&mut socket, &GatewayCommand::View { channel_id: Some(cx.voice.clone()) }).await;
            send(&mut socket, &GatewayCommand::View { channel_id: None }).await;
            sync(&mut socket, |_| false).await;
            Outcome::Allowed(s("still connected"))
        }),
        custom!(Covers::Gateway("VOICE_JOIN"), "the voice channel's call", P(FULL_MEMBERS), |cx, cell| {
            let join = GatewayCommand::VoiceJoin { channel_id: cx.voice.clone() };
            let got = cx.command(cell.actor, join, Some(|e: &Value| e["type"] == "VOICE_JOINED")).await;
            cx.command(cell.actor, GatewayCommand::VoiceLeave, None).await;
            got
        }),
        custom!(Covers::Gateway("VOICE_LEAVE"), "", P(EVERYONE), |cx, cell| {
            cx.command(cell.actor, GatewayCommand::VoiceLeave, None).await
        }),
        custom!(Covers::Gateway("VOICE_SELF"), "", P(EVERYONE), |cx, cell| {
            cx.command(cell.actor, GatewayCommand::VoiceSelf { muted: true, camera: false }, None).await
        }),
        custom!(
            Covers::Gateway("CALL_DECLINE"),
            "in the owner's direct conversation with the member",
            P("Y..Y..."),
            |cx, cell| {
                let body = json!({"workspace_id": cx.ws, "usernames": [cx.name(Member)]});
                let dm = cx
                    .raw(cx.person(Owner), "POST", "/api/communication/channels/create_direct/", Some(body))
                    .await;
                let dm: Value = dm.json().await.unwrap();
                let channel_id = dm["id"].as_str().expect("the conversation").to_string();
                cx.command(cell.actor, GatewayCommand::CallDecline { channel_id }, None).await
            }
        ),
        custom!(Covers::Gateway("VOICE_RECORD"), "start, in the call", P(MODERATORS), |cx, cell| {
            cx.command(cell.actor, GatewayCommand::VoiceJoin { channel_id: cx.voice.clone() }, None).await;
            let got = cx.command(cell.actor, GatewayCommand::VoiceRecord { recording: true }, None).await;
            cx.command(cell.actor, GatewayCommand::VoiceRecord { recording: false }, None).await;
            cx.command(cell.actor, GatewayCommand::VoiceLeave, None).await;
            got
        }),
        custom!(Covers::Gateway("VOICE_MUTE"), "oneself, in the call", P(MODERATORS), |cx, cell| {
            cx.command(cell.actor, GatewayCommand::VoiceJoin { channel_id: cx.voice.clone() }, None).await;
            let me = cx.person(cell.actor).id.clone();
            let mute = GatewayCommand::VoiceMute { channel_id: cx.voice.clone(), user_id: me, muted: true };
            let got = cx.command(cell.actor, mute, None).await;
            cx.command(cell.actor, GatewayCommand::VoiceLeave, None).await;
            got
        }),
        custom!(
            Covers::Gateway("VOICE_SCREEN"),
            "in the voice channel's call",
            P(FULL_MEMBERS),
            |cx, cell| {
                cx.command(cell.actor, GatewayCommand::VoiceJoin { channel_id: cx.voice.clone() }, None)
                    .await;
                // Accepted; the offer it causes waits for the answer to the first one,
                // which this connection (no peer behind it) never sends.
                let got = cx.command(cell.actor, GatewayCommand::VoiceScreen { sharing: true }, None).await;
                cx.command(cell.actor, GatewayCommand::VoiceLeave, None).await;
                got
            }
        ),
        custom!(Covers::Gateway("RTC_ANSWER"), "without being in a call", P(NOBODY), |cx, cell| {
            cx.command(cell.actor, GatewayCommand::RtcAnswer { sdp: s("v=0") }, None).await
        }),
        custom!(Covers::Gateway("RTC_CANDIDATE"), "without being in a call", P(NOBODY), |cx, cell| {
            let candidate = s("candidate:1 1 udp 2130706431 127.0.0.1 9 typ host");
            cx.command(
                cell.actor,
                GatewayCommand::RtcCandidate(IceCandidateDto {
                    candidate,
                    sdp_mid: None,
                    sdp_mline_index: None,
                }),
                None,
            )
            .await
        }),
        custom!(Covers::Gateway("TYPING"), "seen by another member", C(POST), |cx, cell| {
            let channel = cx.ch(cell);
            {
                let mut socket = cx.socket(cell.actor).await;
                send(&mut socket, &GatewayCommand::Typing { channel_id: channel.clone() }).await;
                sync(&mut socket, |_| false).await;
            }
            let watcher = if cell.actor == Moderator { Owner } else { Moderator };
            let me = cx.person(cell.actor).id.clone();
            let mut socket = cx.socket(watcher).await;
            let seen = sync(&mut socket, |e| {
                e["type"] == "TYPING_START"
                    && e["channel_id"] == channel.as_str()
                    && e["user"]["id"] == me.as_str()
            })
            .await;
            if seen { Outcome::Allowed(s("typing shown")) } else { Outcome::Denied(s("nobody saw it")) }
        }),
        custom!(Covers::Gateway("events"), "the owner's activity arrives live", C(VIEW), |cx, cell| {
            let channel = cx.ch(cell);
            cx.sync_socket(cell.actor).await;
            let owner = cx.person(Owner);
            if cell.kind() == Kind::Archived {
                let body = json!({"topic": "Matrix"});
                let res = owner.put(&cx.app, &format!("/api/communication/channels/{channel}/"), body).await;
                assert!(res.status().is_success(), "the owner changes the archived channel's topic");
            } else {
                crate::helpers::say(&cx.app, owner, &channel, "live").await;
            }
            let mut socket = cx.socket(cell.actor).await;
            let seen = sync(&mut socket, |e| {
                (e["type"] == "MESSAGE_CREATE" && e["message"]["channel_id"] == channel.as_str())
                    || (e["type"] == "CHANNEL_UPDATE" && e["channel"]["id"] == channel.as_str())
            })
            .await;
            if seen { Outcome::Allowed(s("event arrived")) } else { Outcome::Denied(s("no event")) }
        }),
    ]
}

const ORDER_KEYS: [&str; 40] = [
    "order[0]",
    "order[1]",
    "order[2]",
    "order[3]",
    "order[4]",
    "order[5]",
    "order[6]",
    "order[7]",
    "order[8]",
    "order[9]",
    "order[10]",
    "order[11]",
    "order[12]",
    "order[13]",
    "order[14]",
    "order[15]",
    "order[16]",
    "order[17]",
    "order[18]",
    "order[19]",
    "order[20]",
    "order[21]",
    "order[22]",
    "order[23]",
    "order[24]",
    "order[25]",
    "order[26]",
    "order[27]",
    "order[28]",
    "order[29]",
    "order[30]",
    "order[31]",
    "order[32]",
    "order[33]",
    "order[34]",
    "order[35]",
    "order[36]",
    "order[37]",
    "order[38]",
    "order[39]",
];

/// A word that appears in one channel only, for search.
fn word(kind: Kind) -> &'static str {
    match kind {
        Kind::Public => "aardvark",
        Kind::Private => "bumblebee",
        Kind::Announcement => "chinchilla",
        Kind::External => "dromedary",
        Kind::Archived => "echidna",
    }
}

/// The settings form of a channel of `kind`, as it already is.
fn settings_form(kind: Kind) -> Vec<(&'static str, String)> {
    let mut form = vec![
        ("kind", s(if kind == Kind::Announcement { "announcement" } else { "text" })),
        ("user_limit", s("0")),
    ];
    match kind {
        Kind::Private => form.push(("is_private", s("on"))),
        Kind::External => form.extend([("is_private", s("on")), ("is_external", s("on"))]),
        Kind::Archived => form.push(("archived", s("on"))),
        Kind::Public | Kind::Announcement => {}
    }
    form
}

// ---------------------------------------------------------------------------
// The fixture and what cells use.

struct Ctx {
    app: TestApp,
    people: HashMap<Actor, User>,
    names: HashMap<Actor, String>,
    /// A member in no channel: added to channels, given roles, timed out.
    spare: User,
    spare_name: String,
    ws: String,
    channels: HashMap<Kind, String>,
    /// The owner's message in each channel, with a reply: a thread.
    parents: HashMap<Kind, String>,
    files: HashMap<Kind, String>,
    /// The owner's message in each channel with a link, previewed.
    previewed: HashMap<Kind, String>,
    /// The site those links are to.
    site: crate::link_previews::Site,
    invite: String,
    guest_invite: String,
    /// A custom role without permissions.
    plain: String,
    admin_role: String,
    moderator_role: String,
    category: String,
    /// A public voice channel.
    voice: String,
    seq: AtomicUsize,
    sockets: HashMap<Actor, tokio::sync::Mutex<Option<Ws>>>,
    /// A device of each person's made once for the cells that need one
    /// but do not change it, so that their devices stay within the limit.
    kept_devices: HashMap<Actor, tokio::sync::OnceCell<String>>,
}

impl Ctx {
    fn person(&self, a: Actor) -> &User {
        &self.people[&a]
    }

    fn who(&self, cell: Cell) -> User {
        self.person(cell.actor).clone()
    }

    fn name(&self, a: Actor) -> String {
        self.names[&a].clone()
    }

    fn channel(&self, kind: Kind) -> String {
        self.channels[&kind].clone()
    }

    fn ch(&self, cell: Cell) -> String {
        self.channel(cell.kind())
    }

    fn msg(&self, cell: Cell) -> String {
        self.parents[&cell.kind()].clone()
    }

    fn parent_body(&self, kind: Kind) -> String {
        format!("The {} plan", word(kind))
    }

    fn ws_param(&self) -> Vec<(&'static str, String)> {
        vec![("id", self.ws.clone())]
    }

    fn ch_param(&self, cell: Cell) -> Vec<(&'static str, String)> {
        vec![("id", self.ch(cell))]
    }

    fn msg_param(&self, cell: Cell) -> Vec<(&'static str, String)> {
        vec![("id", self.msg(cell))]
    }

    fn user_params(&self, user: &str) -> Vec<(&'static str, String)> {
        vec![("id", self.ws.clone()), ("user_id", user.to_string())]
    }

    fn member_role_params(&self) -> Vec<(&'static str, String)> {
        let mut p = self.user_params(&self.spare.id);
        p.push(("role_id", self.plain.clone()));
        p
    }

    fn member_role_args(&self, on: bool) -> Vec<(&'static str, String)> {
        vec![
            ("workspace_id", self.ws.clone()),
            ("user_id", self.spare.id.clone()),
            ("role_id", self.plain.clone()),
            ("on", on.to_string()),
        ]
    }

    fn moderation_args(&self, user: &str, action: &str) -> Vec<(&'static str, String)> {
        vec![
            ("workspace_id", self.ws.clone()),
            ("user_id", user.to_string()),
            ("action", s(action)),
            ("reason", s("spam")),
        ]
    }

    /// A new notification of the member's (the owner mentions them), as a path parameter.
    async fn member_notification(&self) -> Vec<(&'static str, String)> {
        let body =
            json!({"channel_id": self.channel(Kind::Public), "body": format!("@{} look", self.name(Member))});
        let sent = self.raw(self.person(Owner), "POST", "/api/communication/messages/", Some(body)).await;
        assert!(sent.status().is_success(), "the owner mentions the member");
        let list = self.raw(self.person(Member), "GET", "/api/communication/notifications/", None).await;
        let list: Value = list.json().await.unwrap();
        vec![("id", list[0]["id"].as_str().expect("the member's notification").to_string())]
    }

    /// A fresh push subscription: a loopback endpoint and a browser's keys
    /// (RFC 8291's example user agent).
    fn push_subscription(&self) -> (String, String, String) {
        (
            format!("http://127.0.0.1:9/push/{}", self.unique("sub")),
            s("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"),
            s("BTBZMqHH6r4Tts7J_aSIgg"),
        )
    }

    /// Subscribes `who` to push; returns the endpoint.
    async fn subscribed(&self, who: &User) -> String {
        let (endpoint, p256dh, auth) = self.push_subscription();
        let body = json!({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}});
        let res = self.raw(who, "POST", "/api/communication/push_subscriptions/", Some(body)).await;
        assert_eq!(res.status(), reqwest::StatusCode::CREATED, "push is turned on");
        endpoint
    }

    /// A template the owner stored, by id.
    async fn owner_template(&self) -> String {
        let body = json!({"name": self.unique("t"), "channel": "email", "subject": "S", "body": "B"});
        let path = format!("/api/communication/workspaces/{}/notification_templates/", self.ws);
        let res = self.raw(self.person(Owner), "POST", &path, Some(body)).await;
        assert_eq!(res.status(), reqwest::StatusCode::OK, "the owner stores a template");
        let t: Value = res.json().await.unwrap();
        t["id"].as_str().unwrap().to_string()
    }

    /// A new meeting of the owner's with the member invited, as a path parameter.
    async fn meeting_param(&self) -> Vec<(&'static str, String)> {
        let body = json!({"workspace_id": self.ws, "title": "Matrix", "participants": [self.name(Member)],
            "scheduled_start": "2099-01-01T09:00:00Z", "scheduled_end": "2099-01-01T10:00:00Z"});
        let made = self.raw(self.person(Owner), "POST", "/api/communication/meetings/", Some(body)).await;
        assert_eq!(made.status(), reqwest::StatusCode::CREATED, "the owner schedules a meeting");
        let made: Value = made.json().await.unwrap();
        vec![("id", made["id"].as_str().unwrap().to_string())]
    }

    fn unique(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.seq.fetch_add(1, Ordering::Relaxed))
    }

    /// Calls a server function, form-encoded, as the hydrated app does.
    async fn call_raw(&self, path: &str, who: &User, args: &[(&str, String)]) -> reqwest::Response {
        who.client
            .post(self.app.url(path))
            .bearer_auth(&who.token)
            .header("accept", "application/json")
            .form(args)
            .send()
            .await
            .unwrap()
    }

    async fn call(&self, path: &str, who: &User, args: &[(&str, String)]) -> Outcome {
        self.checked("POST", self.call_raw(path, who, args).await, |_| true).await
    }

    /// Calls a REST route; an answer of `/api/communication/` must also be
    /// what the OpenAPI document promises.
    async fn rest(&self, who: &User, method: &str, path: &str, body: Option<Value>) -> Outcome {
        let method = method.to_uppercase();
        self.checked(&method, self.raw(who, &method, path, body).await, |_| true).await
    }

    async fn checked(&self, method: &str, res: reqwest::Response, found: impl Fn(&Value) -> bool) -> Outcome {
        let status = res.status();
        let path = res.url().path().to_string();
        let body = res.bytes().await.unwrap_or_default();
        if path.starts_with("/api/communication/")
            && let Err(e) = self.app.contract.verify(method, &path, status.as_u16(), &body)
        {
            return Outcome::Broken(e);
        }
        let text = String::from_utf8_lossy(&body);
        match judge(status, &text) {
            Outcome::Allowed(line) => {
                let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                if found(&json) {
                    Outcome::Allowed(line)
                } else {
                    Outcome::Denied(format!("not there: {line}"))
                }
            }
            other => other,
        }
    }

    /// Sends a request as `who`, unchecked.
    async fn raw(&self, who: &User, method: &str, path: &str, body: Option<Value>) -> reqwest::Response {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = who.client.request(m, self.app.url(path)).bearer_auth(&who.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.unwrap()
    }

    /// Someone who just signed up, for what ends their sessions.
    async fn newcomer(&self) -> User {
        self.app.user(&self.unique("newcomer")).await
    }

    /// A new API token of `who`'s; returns its id.
    async fn fresh_token(&self, who: &User) -> String {
        let res = who.post(&self.app, "/api/auth/tokens", json!({"name": "to revoke"})).await;
        json_of(res, StatusCode::CREATED).await["info"]["id"].as_str().unwrap().to_string()
    }

    /// A new invite made by `maker`, or by the owner when `maker` may not
    /// make one; returns its code.
    async fn fresh_invite(&self, maker: &User) -> String {
        let path = format!("/api/workspaces/{}/invites", self.ws);
        let res = maker.post(&self.app, &path, json!({})).await;
        let res = match res.status() {
            StatusCode::CREATED => res,
            _ => self.person(Owner).post(&self.app, &path, json!({})).await,
        };
        json_of(res, StatusCode::CREATED).await["code"].as_str().unwrap().to_string()
    }

    /// A new person of the kind `a` (the owner stays the owner).
    async fn fresh(&self, a: Actor) -> User {
        if a == Owner {
            return self.person(Owner).clone();
        }
        let name = self.unique("person");
        let user = self.app.user(&name).await;
        let owner = self.person(Owner);
        match a {
            Owner | Outsider => {}
            Guest => {
                let path = format!("/api/invites/{}/accept", self.guest_invite);
                json_of(user.post(&self.app, &path, json!({})).await, StatusCode::OK).await;
            }
            Admin | Moderator | Member | Banned => {
                crate::helpers::join(&self.app, &user, &self.ws).await;
                let role = match a {
                    Admin => Some(&self.admin_role),
                    Moderator => Some(&self.moderator_role),
                    _ => None,
                };
                if let Some(role) = role {
                    let path = format!(
                        "/api/communication/workspaces/{}/members/{}/roles/{role}/",
                        self.ws, user.id
                    );
                    let res = owner.put(&self.app, &path, json!({})).await;
                    assert!(res.status().is_success(), "the owner gives the role: {}", res.status());
                }
                if a == Banned {
                    let path = format!("/api/communication/workspaces/{}/members/{}/ban/", self.ws, user.id);
                    let res = owner.post(&self.app, &path, json!({"reason": "spam"})).await;
                    assert_eq!(res.status(), StatusCode::NO_CONTENT, "the owner bans");
                }
            }
        }
        user
    }

    /// A new session of `a`'s (cookie and token), to end.
    async fn fresh_login(&self, a: Actor) -> User {
        let client = self.app.client();
        let res = client
            .post(self.app.url("/api/auth/login"))
            .json(&json!({"username": self.name(a), "password": "correct horse battery"}))
            .send()
            .await
            .unwrap();
        let body = json_of(res, StatusCode::OK).await;
        User { client, token: body["token"].as_str().unwrap().to_string(), id: self.person(a).id.clone() }
    }

    /// A new channel of `kind` made by the owner with the fixture's members
    /// (archived when `archive`).
    async fn fresh_channel(&self, kind: Kind, archive: bool) -> String {
        let owner = self.person(Owner);
        let (channel_type, members) = match kind {
            Kind::Public | Kind::Archived => ("public", vec![]),
            Kind::Announcement => ("announcement", vec![]),
            Kind::Private => ("private", vec![Moderator, Member]),
            Kind::External => ("external", vec![Admin, Moderator, Member, Guest]),
        };
        let body = json!({
            "workspace_id": self.ws,
            "name": self.unique(channel_type),
            "channel_type": channel_type,
            "members": members.iter().map(|a| self.name(*a)).collect::<Vec<_>>(),
        });
        let created =
            json_of(owner.post(&self.app, "/api/communication/channels/", body).await, StatusCode::CREATED)
                .await;
        let id = created["id"].as_str().unwrap().to_string();
        if matches!(kind, Kind::Public | Kind::Announcement | Kind::Archived) {
            for a in [Admin, Moderator, Member] {
                let path = format!("/api/communication/channels/{id}/join/");
                json_of(self.person(a).post(&self.app, &path, json!({})).await, StatusCode::OK).await;
            }
        }
        if archive && kind == Kind::Archived {
            self.archive(&id).await;
        }
        id
    }

    /// A new incoming webhook by the owner in the channel of `kind` (for
    /// the archived kind, in a fresh channel archived once it is made): its
    /// id and the secret part of its address.
    async fn fresh_webhook(&self, kind: Kind) -> (String, String) {
        let channel = if kind == Kind::Archived {
            self.fresh_channel(Kind::Archived, false).await
        } else {
            self.channel(kind)
        };
        let path = format!("/api/communication/workspaces/{}/webhooks/", self.ws);
        let body = json!({"channel_id": channel, "name": self.unique("Hook")});
        let res = self.person(Owner).post(&self.app, &path, body).await;
        let made: app::wire::CreatedWebhookDto =
            serde_json::from_value(json_of(res, StatusCode::CREATED).await).unwrap();
        if kind == Kind::Archived {
            self.archive(&channel).await;
        }
        let token = made.url.rsplit('/').next().unwrap().to_string();
        (made.webhook.id, token)
    }

    /// `a`'s device made the first time one is asked for (see `kept_devices`).
    async fn kept_device(&self, a: Actor) -> String {
        self.kept_devices[&a].get_or_init(|| self.fresh_device(self.person(a))).await.clone()
    }

    /// A new device of `who`'s, with two key packages and a last-resort
    /// one (their content is the devices' business: the server stores it).
    async fn fresh_device(&self, who: &User) -> String {
        self.set_identity(who).await;
        let body = json!({"name": self.unique("device"), "signature_key": SIGNATURE_KEY,
            "identity_signature": SIGNATURE});
        let made =
            json_of(who.post(&self.app, "/api/communication/devices/", body).await, StatusCode::CREATED)
                .await;
        let id = made["id"].as_str().unwrap().to_string();
        let path = format!("/api/communication/devices/{id}/key_packages/");
        let body = json!({"key_packages": [KEY_PACKAGE, KEY_PACKAGE], "last_resort": KEY_PACKAGE});
        json_of(who.post(&self.app, &path, body).await, StatusCode::OK).await;
        id
    }

    /// The version of `who`'s key backup (0: none).
    async fn backup_version(&self, who: &User) -> i64 {
        let res = who.get(&self.app, "/api/communication/key_backup/").await;
        if res.status() == StatusCode::NOT_FOUND {
            return 0;
        }
        json_of(res, StatusCode::OK).await["version"].as_i64().unwrap()
    }

    /// Saves a new key backup of `who`'s.
    async fn fresh_backup(&self, who: &User) {
        let body = json!({"version": self.backup_version(who).await, "backup": KEY_PACKAGE});
        json_of(who.put(&self.app, "/api/communication/key_backup/", body).await, StatusCode::OK).await;
    }

    /// Sets `who`'s identity key (the same as before changes nothing).
    async fn set_identity(&self, who: &User) {
        let body = json!({"public_key": SIGNATURE_KEY});
        json_of(who.put(&self.app, "/api/communication/identity/", body).await, StatusCode::OK).await;
    }

    /// A new private channel of the owner's (with the moderator and the
    /// member), made end-to-end encrypted.
    async fn fresh_encrypted(&self) -> String {
        let id = self.fresh_channel(Kind::Private, false).await;
        let path = format!("/api/communication/channels/{id}/end_to_end/");
        json_of(self.person(Owner).post(&self.app, &path, json!({})).await, StatusCode::OK).await;
        id
    }

    /// A new channel of `kind`, made end-to-end encrypted by the owner
    /// where that can be (not a public one).
    async fn fresh_encrypted_of(&self, kind: Kind) -> String {
        let id = self.fresh_channel(kind, true).await;
        let path = format!("/api/communication/channels/{id}/end_to_end/");
        self.person(Owner).post(&self.app, &path, json!({})).await;
        id
    }

    /// A new encrypted private channel of the owner's that shares its
    /// history with the devices it adds.
    async fn fresh_sharing(&self) -> String {
        let id = self.fresh_encrypted().await;
        let path = format!("/api/communication/channels/{id}/history_sharing/");
        json_of(self.person(Owner).put(&self.app, &path, json!({"on": true})).await, StatusCode::OK).await;
        id
    }

    /// A history shared with the member's device by the owner's, in a
    /// fresh channel that shares it: the member's device's id and the
    /// history's (the newest shared with it).
    async fn fresh_shared_history(&self) -> (String, String) {
        let channel = self.fresh_sharing().await;
        let owners = self.kept_device(Owner).await;
        let members = self.kept_device(Member).await;
        let body = json!({"device_id": owners, "epoch": 0, "history": KEY_PACKAGE, "device_ids": [members]});
        let path = format!("/api/communication/channels/{channel}/shared_histories/");
        let res = self.person(Owner).post(&self.app, &path, body).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let path = format!("/api/communication/devices/{members}/shared_histories/");
        let shared = json_of(self.person(Member).get(&self.app, &path).await, StatusCode::OK).await;
        let newest = shared.as_array().unwrap().last().unwrap()["id"].as_str().unwrap().to_string();
        (members, newest)
    }

    /// A welcome for a new device of the member's, from the owner's device
    /// adding it to a fresh encrypted channel: the device's id and the welcome's.
    async fn fresh_welcome(&self) -> (String, String) {
        let channel = self.fresh_encrypted().await;
        let owners = self.fresh_device(self.person(Owner)).await;
        let members = self.fresh_device(self.person(Member)).await;
        let body = json!({"device_id": owners, "epoch": 0, "commit": KEY_PACKAGE, "welcome": KEY_PACKAGE,
            "welcomed": [members]});
        let path = format!("/api/communication/channels/{channel}/commits/");
        json_of(self.person(Owner).post(&self.app, &path, body).await, StatusCode::CREATED).await;
        let path = format!("/api/communication/devices/{members}/welcomes/");
        let welcomes = json_of(self.person(Member).get(&self.app, &path).await, StatusCode::OK).await;
        (members, welcomes[0]["id"].as_str().unwrap().to_string())
    }

    /// A new bot made by the owner: its id.
    async fn fresh_bot(&self) -> String {
        let path = format!("/api/communication/workspaces/{}/bots/", self.ws);
        let body = json!({"username": self.unique("bot"), "display_name": "Fresh Bot"});
        let res = self.person(Owner).post(&self.app, &path, body).await;
        json_of(res, StatusCode::CREATED).await["user"]["id"].as_str().unwrap().to_string()
    }

    /// A new outgoing webhook by the owner, hearing a fresh public channel of
    /// its own (not the matrix's, where every message would call it): its
    /// id and the channel's.
    async fn fresh_outgoing_in(&self) -> (String, String) {
        let channel = self.fresh_channel(Kind::Public, false).await;
        let path = format!("/api/communication/workspaces/{}/outgoing-webhooks/", self.ws);
        let body = json!({
            "name": self.unique("Out"),
            "url": "http://127.0.0.1:9/fresh",
            "events": ["message_posted"],
            "channel_ids": [channel],
        });
        let res = self.person(Owner).post(&self.app, &path, body).await;
        let id = json_of(res, StatusCode::CREATED).await["webhook"]["id"].as_str().unwrap().to_string();
        (id, channel)
    }

    /// A new slash command by the owner: its id.
    async fn fresh_command(&self) -> String {
        let path = format!("/api/communication/workspaces/{}/slash-commands/", self.ws);
        let body = json!({"name": self.unique("fresh"), "url": "http://127.0.0.1:9/fresh"});
        let res = self.person(Owner).post(&self.app, &path, body).await;
        json_of(res, StatusCode::CREATED).await["command"]["id"].as_str().unwrap().to_string()
    }

    /// A new outgoing webhook by the owner: its id.
    async fn fresh_outgoing(&self) -> String {
        self.fresh_outgoing_in().await.0
    }

    /// A fresh outgoing webhook of the owner's and a call it was made for
    /// (the owner posted in its channel): their ids.
    async fn fresh_outgoing_call(&self) -> (String, String) {
        let (hook, channel) = self.fresh_outgoing_in().await;
        crate::helpers::say(&self.app, self.person(Owner), &channel, "for the webhook").await;
        let log = format!("/api/communication/outgoing-webhooks/{hook}/deliveries/");
        let calls = || async {
            let res = self.person(Owner).get(&self.app, &log).await;
            json_of(res, StatusCode::OK).await.as_array().unwrap().clone()
        };
        crate::helpers::until(10, "a call queued", || async { !calls().await.is_empty() }).await;
        let call = calls().await[0]["id"].as_str().unwrap().to_string();
        (hook, call)
    }

    /// A new token of `bot`, made by the owner: its id.
    async fn fresh_bot_token(&self, bot: &str) -> String {
        let path = format!("/api/communication/bots/{bot}/tokens/");
        let res = self.person(Owner).post(&self.app, &path, json!({"name": "to revoke"})).await;
        json_of(res, StatusCode::CREATED).await["info"]["id"].as_str().unwrap().to_string()
    }

    async fn archive(&self, channel: &str) {
        let path = format!("/api/communication/channels/{channel}/");
        let res = self.person(Owner).put(&self.app, &path, json!({"archived": true})).await;
        json_of(res, StatusCode::OK).await;
    }

    /// A new message by the owner in the channel of `kind`; in the archived
    /// channel, where nobody posts, its thread's first message.
    async fn fresh_message(&self, kind: Kind) -> String {
        if kind == Kind::Archived {
            return self.parents[&kind].clone();
        }
        let m = crate::helpers::say(&self.app, self.person(Owner), &self.channels[&kind], "to delete").await;
        m["id"].as_str().unwrap().to_string()
    }

    /// A new legal hold (on the spare member), for releasing.
    async fn fresh_hold(&self) -> String {
        let body = json!({"name": self.unique("Hold"), "reason": "Audit", "user_ids": [self.spare.id]});
        let hold =
            json_of(self.person(Owner).post(&self.app, "/api/admin/holds/", body).await, StatusCode::CREATED)
                .await;
        hold["id"].as_str().unwrap().to_string()
    }

    /// A new compliance export of today (by the owner, the deployment's
    /// first account), finished or not.
    async fn fresh_export(&self) -> String {
        let today = domain::export::day_of(domain::now_ms());
        let body = json!({"format": "json", "from": today, "to": today, "workspace_ids": [self.ws]});
        let export = json_of(
            self.person(Owner).post(&self.app, "/api/admin/exports/", body).await,
            StatusCode::ACCEPTED,
        )
        .await;
        export["id"].as_str().unwrap().to_string()
    }

    /// The id of a compliance export once the server has written it. The
    /// worker writes exports one at a time, oldest first, so the exports
    /// earlier cells asked for and left unfinished are deleted first: the
    /// wait is for this export alone, not for a queue that grows with the
    /// matrix.
    async fn finished_export(&self) -> String {
        let owner = self.person(Owner);
        let listed = json_of(owner.get(&self.app, "/api/admin/exports/").await, StatusCode::OK).await;
        let exports: Vec<app::wire::ComplianceExportDto> = serde_json::from_value(listed).unwrap();
        for waiting in exports.iter().filter(|e| matches!(e.state.as_str(), "pending" | "running")) {
            let path = format!("/api/admin/exports/{}/", waiting.id);
            assert_eq!(owner.delete(&self.app, &path).await.status(), StatusCode::NO_CONTENT);
        }
        let id = self.fresh_export().await;
        crate::exports::finished(&self.app, self.person(Owner), &id).await;
        id
    }

    /// A new message by the owner in `kind`'s channel with a link, once
    /// its preview is shown (the archived channel's, posted before it was
    /// archived, for every cell).
    async fn fresh_previewed(&self, kind: Kind) -> String {
        if kind == Kind::Archived {
            return self.previewed[&kind].clone();
        }
        self.previewed_message(kind).await
    }

    async fn previewed_message(&self, kind: Kind) -> String {
        let channel = &self.channels[&kind];
        let body = format!("see {}", self.site.url("/article"));
        let m = crate::helpers::say(&self.app, self.person(Owner), channel, &body).await;
        let id = m["id"].as_str().unwrap().to_string();
        let path = format!("/api/communication/messages/?channel_id={channel}");
        crate::helpers::until(10, "the link's preview", || async {
            let page = json_of(self.person(Owner).get(&self.app, &path).await, StatusCode::OK).await;
            page["messages"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["id"] == id.as_str() && m["link_previews"][0].is_object())
        })
        .await;
        id
    }

    async fn fresh_category(&self) -> String {
        let path = format!("/api/communication/workspaces/{}/categories/", self.ws);
        let res = self.person(Owner).post(&self.app, &path, json!({"name": self.unique("Gone")})).await;
        json_of(res, StatusCode::CREATED).await["id"].as_str().unwrap().to_string()
    }

    async fn fresh_role(&self) -> String {
        let path = format!("/api/communication/workspaces/{}/roles/", self.ws);
        let res = self.person(Owner).post(&self.app, &path, json!({"name": self.unique("Doomed")})).await;
        json_of(res, StatusCode::CREATED).await["id"].as_str().unwrap().to_string()
    }

    /// The roles `a` may reorder (below their highest; Member and Guest
    /// stay), highest first as they are now: reordering them changes nothing.
    async fn movable_roles(&self, a: Actor) -> Vec<String> {
        let path = format!("/api/communication/workspaces/{}/roles/", self.ws);
        let roles = json_of(self.person(Owner).get(&self.app, &path).await, StatusCode::OK).await;
        let position_of = |builtin: &str| {
            roles.as_array().unwrap().iter().find(|r| r["builtin"] == builtin).unwrap()["position"]
                .as_i64()
                .unwrap()
        };
        let top = match a {
            Owner => i64::MAX,
            Admin => position_of("admin"),
            Moderator => position_of("moderator"),
            _ => position_of("member"),
        };
        let mut movable: Vec<(i64, String)> = roles
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| !matches!(r["builtin"].as_str(), Some("owner" | "member" | "guest")))
            .filter(|r| r["position"].as_i64().unwrap() < top)
            .map(|r| (r["position"].as_i64().unwrap(), r["id"].as_str().unwrap().to_string()))
            .collect();
        movable.sort_by_key(|r| std::cmp::Reverse(r.0));
        if movable.is_empty() {
            // Someone who may not reorder anything still names a role.
            return vec![self.plain.clone()];
        }
        movable.into_iter().map(|(_, id)| id).collect()
    }

    /// `a`'s gateway connection, opened on first use.
    async fn socket(&self, a: Actor) -> tokio::sync::MappedMutexGuard<'_, Ws> {
        let mut slot = self.sockets[&a].lock().await;
        if slot.is_none() {
            *slot = Some(connect_as(&self.app, self.person(a)).await);
        }
        tokio::sync::MutexGuard::map(slot, |s| s.as_mut().unwrap())
    }

    /// Sends `command` on `a`'s connection: denied when the server answers
    /// with a `COMMAND_ERROR` (forbidden or not found), allowed when it does
    /// not and, with `expect`, when an event like that arrives.
    async fn command(
        &self,
        a: Actor,
        command: GatewayCommand,
        expect: Option<fn(&Value) -> bool>,
    ) -> Outcome {
        let mut socket = self.socket(a).await;
        sync(&mut socket, |_| false).await;
        send(&mut socket, &command).await;
        let name = command_name(&command);
        let mut error = None;
        let mut seen = false;
        sync(&mut socket, |e| {
            if e["type"] == "COMMAND_ERROR" && e["command"] == name {
                error = Some(e["error"].clone());
            }
            seen |= expect.is_some_and(|f| f(e));
            false
        })
        .await;
        match error {
            Some(e) if matches!(e["code"].as_str(), Some("forbidden" | "not_found")) => {
                Outcome::Denied(e.to_string())
            }
            Some(e) => Outcome::Broken(format!("{name} refused: {e}")),
            None if expect.is_none() || seen => Outcome::Allowed(format!("{name} accepted")),
            None => Outcome::Broken(format!("{name} neither refused nor answered")),
        }
    }

    /// Reads `a`'s connection up to now, dropping what came before.
    async fn sync_socket(&self, a: Actor) {
        let mut socket = self.socket(a).await;
        sync(&mut socket, |_| false).await;
    }
}

/// 2xx (or a redirect): allowed; 403 or 404 with an explanation: denied.
fn judge(status: StatusCode, body: &str) -> Outcome {
    let line = format!("{status} {}", body.chars().take(160).collect::<String>());
    if status.is_success() || status.is_redirection() {
        return Outcome::Allowed(line);
    }
    if status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND {
        let explained = serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|v| v["message"].as_str().map(|m| m.len() > 10))
            .unwrap_or(false);
        return if explained {
            Outcome::Denied(line)
        } else {
            Outcome::Broken(format!("unexplained: {line}"))
        };
    }
    Outcome::Broken(line)
}

async fn send(socket: &mut Ws, command: &GatewayCommand) {
    let text = serde_json::to_string(command).unwrap();
    socket.send(Message::Text(text.into())).await.expect("the gateway takes the command");
}

/// Reads events until the server has answered two PINGs sent one after the
/// other (so everything published before the first was sent has arrived),
/// and tells whether any of them matched `wanted`. A closed connection fails.
async fn sync(socket: &mut Ws, mut wanted: impl FnMut(&Value) -> bool) -> bool {
    let mut seen = false;
    for _ in 0..2 {
        send(socket, &GatewayCommand::Ping).await;
        loop {
            let e = next_any_event(socket).await;
            if e["type"] == "PONG" {
                break;
            }
            seen |= wanted(&e);
        }
    }
    seen
}

// ---------------------------------------------------------------------------
// The fixture.

async fn fixture(app: TestApp) -> Ctx {
    let mut names = HashMap::new();
    let mut people = HashMap::new();
    for (a, name) in ACTORS.iter().zip(["olga", "adam", "mona", "mel", "gus", "otto", "bart"]) {
        people.insert(*a, app.user(name).await);
        names.insert(*a, name.to_string());
    }
    let spare = app.user("sam").await;
    let owner = &people[&Owner];
    let (ws, _general) = workspace(&app, owner, false).await;
    for a in [Admin, Moderator, Member, Banned] {
        crate::helpers::join(&app, &people[&a], &ws).await;
    }
    crate::helpers::join(&app, &spare, &ws).await;

    let roles_path = format!("/api/communication/workspaces/{ws}/roles/");
    let roles = json_of(owner.get(&app, &roles_path).await, StatusCode::OK).await;
    let builtin = |b: &str| {
        roles.as_array().unwrap().iter().find(|r| r["builtin"] == b).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (admin_role, moderator_role) = (builtin("admin"), builtin("moderator"));
    for (a, role) in [(Admin, &admin_role), (Moderator, &moderator_role)] {
        let path = format!("/api/communication/workspaces/{ws}/members/{}/roles/{role}/", people[&a].id);
        let res = owner.put(&app, &path, json!({})).await;
        assert!(res.status().is_success(), "the owner gives {role}: {}", res.status());
    }
    let plain =
        json_of(owner.post(&app, &roles_path, json!({"name": "Plain"})).await, StatusCode::CREATED).await;
    let plain = plain["id"].as_str().unwrap().to_string();

    let invites = format!("/api/workspaces/{ws}/invites");
    let invite = json_of(owner.post(&app, &invites, json!({})).await, StatusCode::CREATED).await;
    let invite = invite["code"].as_str().unwrap().to_string();

    let mut sockets = HashMap::new();
    for a in ACTORS {
        sockets.insert(a, tokio::sync::Mutex::new(None));
    }
    let mut cx = Ctx {
        app,
        people,
        names,
        spare_name: "sam".into(),
        spare,
        ws,
        channels: HashMap::new(),
        parents: HashMap::new(),
        files: HashMap::new(),
        previewed: HashMap::new(),
        site: crate::link_previews::Site::start().await,
        invite,
        guest_invite: String::new(),
        plain,
        admin_role,
        moderator_role,
        category: String::new(),
        voice: String::new(),
        seq: AtomicUsize::new(0),
        sockets,
        kept_devices: ACTORS.iter().map(|a| (*a, tokio::sync::OnceCell::new())).collect(),
    };

    // The guest comes in through an invite to the external channel, which
    // has to exist first; fresh_channel adds the guest to the others.
    let external = {
        let owner = cx.person(Owner);
        let body = json!({"workspace_id": cx.ws, "name": "external", "channel_type": "external",
            "members": [cx.name(Admin), cx.name(Moderator), cx.name(Member)]});
        let created =
            json_of(owner.post(&cx.app, "/api/communication/channels/", body).await, StatusCode::CREATED)
                .await;
        created["id"].as_str().unwrap().to_string()
    };
    let body = json!({"guest": true, "channel_ids": [external]});
    let guest_invite =
        json_of(cx.person(Owner).post(&cx.app, &invites, body).await, StatusCode::CREATED).await;
    cx.guest_invite = guest_invite["code"].as_str().unwrap().to_string();
    let path = format!("/api/invites/{}/accept", cx.guest_invite);
    json_of(cx.person(Guest).post(&cx.app, &path, json!({})).await, StatusCode::OK).await;
    cx.channels.insert(Kind::External, external);
    for kind in [Kind::Public, Kind::Private, Kind::Announcement, Kind::Archived] {
        let id = cx.fresh_channel(kind, false).await;
        cx.channels.insert(kind, id);
    }
    // The banned person had joined the public channel before the ban.
    let path = format!("/api/communication/channels/{}/join/", cx.channels[&Kind::Public]);
    json_of(cx.person(Banned).post(&cx.app, &path, json!({})).await, StatusCode::OK).await;

    // In each channel, a thread by the owner with an attached file.
    for kind in KINDS {
        let channel = cx.channels[&kind].clone();
        let form = reqwest::multipart::Form::new()
            .text("channel_id", channel.clone())
            .text("body", cx.parent_body(kind))
            .part("file", reqwest::multipart::Part::bytes(b"minutes".to_vec()).file_name("minutes.txt"));
        let owner = cx.person(Owner);
        let req = owner
            .client
            .post(cx.app.url("/api/communication/messages/"))
            .header("accept", "application/json");
        let parent =
            json_of(owner.send(&cx.app, "POST", req.multipart(form)).await, StatusCode::CREATED).await;
        let id = parent["id"].as_str().unwrap().to_string();
        let reply = json!({"channel_id": channel, "body": "first reply", "thread_id": id});
        json_of(owner.post(&cx.app, "/api/communication/messages/", reply).await, StatusCode::CREATED).await;
        cx.files.insert(kind, parent["attachments"][0]["url"].as_str().unwrap().to_string());
        cx.parents.insert(kind, id);
        let previewed = cx.previewed_message(kind).await;
        cx.previewed.insert(kind, previewed);
    }
    cx.archive(&cx.channels[&Kind::Archived].clone()).await;

    let path = format!("/api/communication/workspaces/{}/members/{}/ban/", cx.ws, cx.person(Banned).id);
    let res = cx.person(Owner).post(&cx.app, &path, json!({"reason": "spam"})).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    // A voice channel, for calls.
    let body = json!({"workspace_id": cx.ws, "name": "lounge", "channel_type": "voice"});
    let res = cx.person(Owner).post(&cx.app, "/api/communication/channels/", body).await;
    cx.voice = json_of(res, StatusCode::CREATED).await["id"].as_str().unwrap().to_string();

    // A category, for arranging channels.
    let path = format!("/api/communication/workspaces/{}/categories/", cx.ws);
    let res = cx.person(Owner).post(&cx.app, &path, json!({"name": "Projects"})).await;
    cx.category = json_of(res, StatusCode::CREATED).await["id"].as_str().unwrap().to_string();
    cx
}

// ---------------------------------------------------------------------------
// The test.

async fn authorisation_matrix(app: TestApp) -> TestApp {
    let rows = rows();

    // Complete: every server function, REST route and gateway command has rows.
    let covered: BTreeSet<Covers> = rows.iter().map(|r| r.covers).collect();
    let mut missing = Vec::new();
    for (path, _) in leptos::server_fn::axum::server_fn_paths() {
        if !covered.contains(&Covers::ServerFn(path)) {
            missing.push(format!("server function {path}"));
        }
    }
    for (path, methods) in server::http::ROUTES {
        for method in *methods {
            if !covered.contains(&Covers::Rest(method, path)) {
                missing.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    for command in [
        GatewayCommand::Identify,
        GatewayCommand::Resume { session_id: String::new(), seq: 0 },
        GatewayCommand::Ping,
        GatewayCommand::Typing { channel_id: String::new() },
        GatewayCommand::Activity { active: true },
        GatewayCommand::VoiceJoin { channel_id: String::new() },
        GatewayCommand::VoiceLeave,
        GatewayCommand::VoiceScreen { sharing: true },
        GatewayCommand::VoiceSelf { muted: false, camera: false },
        GatewayCommand::VoiceMute { channel_id: String::new(), user_id: String::new(), muted: false },
        GatewayCommand::VoiceRecord { recording: true },
        GatewayCommand::CallDecline { channel_id: String::new() },
        GatewayCommand::RtcAnswer { sdp: String::new() },
        GatewayCommand::RtcCandidate(IceCandidateDto {
            candidate: String::new(),
            sdp_mid: None,
            sdp_mline_index: None,
        }),
    ] {
        if !covered.contains(&Covers::Gateway(command_name(&command))) {
            missing.push(format!("gateway command {}", command_name(&command)));
        }
    }
    assert!(missing.is_empty(), "routes without rows in the authorisation matrix:\n{}", missing.join("\n"));
    // And no row names something that does not exist.
    let fns: BTreeSet<&str> = leptos::server_fn::axum::server_fn_paths().map(|(p, _)| p).collect();
    for row in &rows {
        match row.covers {
            Covers::ServerFn(p) => assert!(fns.contains(p), "{p} is a server function"),
            Covers::Rest(m, p) => assert!(
                server::http::ROUTES.iter().any(|(path, ms)| *path == p && ms.contains(&m)),
                "{m} {p} is a route"
            ),
            Covers::Gateway(_) => {}
        }
    }

    let cx = Arc::new(fixture(app).await);
    let mut cells = 0;
    let mut failures = Vec::new();
    for row in &rows {
        let kinds: Vec<Option<Kind>> = match row.expect {
            Expect::Person(_) => vec![None],
            Expect::Channel(_) => KINDS.iter().copied().map(Some).collect(),
        };
        for actor in ACTORS {
            for kind in &kinds {
                let cell = Cell { actor, kind: *kind };
                let want = row.expect.allows(cell);
                let got = tokio::time::timeout(Duration::from_secs(30), (row.run)(cx.clone(), cell))
                    .await
                    .unwrap_or_else(|_| Outcome::Broken(s("no answer in 30 s")));
                cells += 1;
                let ok = matches!((&got, want), (Outcome::Allowed(_), true) | (Outcome::Denied(_), false));
                if !ok {
                    let place = kind.map(|k| format!(" in the {k:?} channel")).unwrap_or_default();
                    failures.push(format!(
                        "{:?} {}: {actor:?}{place} should be {}, was {got}",
                        row.covers,
                        row.what,
                        if want { "allowed" } else { "denied" },
                    ));
                }
            }
        }
    }
    println!("authorisation matrix: {} rows, {cells} cells", rows.len());
    assert!(failures.is_empty(), "{} of {cells} cells failed:\n{}", failures.len(), failures.join("\n"));

    drop(rows);
    let cx = Arc::try_unwrap(cx).unwrap_or_else(|_| panic!("no cell keeps the fixture"));
    cx.app
}

/// The matrix asks each way in many times as the same people: it runs
/// without rate limits (they are tested on their own in `hardening`).
async fn matrix_without_limits(backend: domain::Backend) {
    let app = TestApp::spawn_with(backend, crate::helpers::without_rate_limits()).await;
    authorisation_matrix(app).await.finish().await;
}

mod matrix {
    crate::on_each_backend!(matrix_without_limits);
    use super::matrix_without_limits;
}
