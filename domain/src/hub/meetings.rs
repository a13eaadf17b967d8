//! Meetings (seed 000): scheduled or instant, each with a call in a private
//! voice channel of its own; `.ics` files and private calendar feeds.

use super::Hub;
use crate::error::{Error, Result, Thing};
use crate::events::{Audience, EventKind, NewEvent};
use crate::id::Id;
use crate::input::{ChannelName, Description};
use crate::model::{Channel, ChannelKind, Meeting, User, UserSummary};
use crate::permissions;

/// The longest a meeting may be scheduled for.
const MAX_LENGTH_MS: i64 = 24 * 60 * 60 * 1000;
/// How long an instant call is booked for.
const INSTANT_LENGTH_MS: i64 = 60 * 60 * 1000;
/// The feed shows meetings that ended at most this long ago.
const FEED_PAST_MS: i64 = 30 * 24 * 60 * 60 * 1000;

/// What someone asks for when scheduling.
#[derive(Debug, Default)]
pub struct NewMeeting<'a> {
    pub title: &'a str,
    pub description: &'a str,
    /// Usernames of the people invited (the organizer comes anyway).
    pub participants: Vec<String>,
    /// Milliseconds since the epoch; ignored for an instant call.
    pub starts_at: i64,
    pub ends_at: i64,
    pub enable_recording: bool,
    /// Start now, for an hour.
    pub instant: bool,
}

impl Hub {
    /// Schedules a meeting in `ws` (or starts an instant call): its private
    /// voice channel is made, with the organizer and participants as members.
    pub async fn schedule_meeting(&self, actor: Id, ws: Id, new: NewMeeting<'_>) -> Result<Meeting> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::schedule_meeting(facts)?;
        let title = new.title.trim();
        if title.is_empty() {
            return Err(Error::invalid("title", "Give the meeting a title."));
        }
        if title.chars().count() > 200 {
            return Err(Error::invalid("title", "A meeting title is at most 200 characters."));
        }
        let description = Description::parse(new.description)
            .map_err(|_| Error::invalid("description", "A description is at most 500 characters."))?
            .into_inner();
        let now = crate::now_ms();
        let (starts_at, ends_at) =
            if new.instant { (now, now + INSTANT_LENGTH_MS) } else { (new.starts_at, new.ends_at) };
        if ends_at <= starts_at {
            return Err(Error::invalid("scheduled_end", "The meeting must end after it starts."));
        }
        if ends_at - starts_at > MAX_LENGTH_MS {
            return Err(Error::invalid("scheduled_end", "A meeting lasts at most 24 hours."));
        }
        if ends_at < now {
            return Err(Error::invalid("scheduled_end", "That time is over. Choose a time in the future."));
        }
        let organizer = self.store.user(actor).await?.ok_or(Error::NotFound(Thing::User))?;
        let members = self.store.workspace_members(ws).await?;
        let mut participants: Vec<UserSummary> = Vec::new();
        for raw in &new.participants {
            let name = raw.trim().trim_start_matches('@');
            if name.is_empty() || name == organizer.username {
                continue;
            }
            let member = members.iter().find(|m| m.user.username == name).ok_or_else(|| {
                Error::invalid(
                    "participants",
                    format!(
                        "@{name} is not a member of this workspace. Check the spelling, or invite them first."
                    ),
                )
            })?;
            // A meeting's channel is not open to guests; neither is the meeting.
            if member.is_guest {
                return Err(Error::invalid(
                    "participants",
                    format!(
                        "@{name} is a guest; guests can only be in channels open to guests, not in meetings."
                    ),
                ));
            }
            if !participants.iter().any(|p| p.id == member.user.id) {
                participants.push(member.user.clone());
            }
        }
        if participants.len() > 100 {
            return Err(Error::invalid("participants", "Invite at most 100 people to one meeting."));
        }

        let id = Id::new();
        let slug: String = title
            .to_lowercase()
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { '-' })
            .collect::<String>()
            .split('-')
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("-");
        let slug: String = slug.chars().take(50).collect();
        let name = ChannelName::parse(&format!("meeting-{slug}-{}", id.0 % 100_000))?.into_inner();
        let mut channel = Channel::new(ws, name, ChannelKind::Voice, actor);
        channel.topic = title.to_string();
        channel.is_private = true;
        let mut members: Vec<Id> =
            std::iter::once(organizer.id).chain(participants.iter().map(|p| p.id)).collect();
        members.retain(|p| *p != actor);
        members.sort();
        members.dedup();
        let events: Vec<NewEvent> = (members.iter().chain([&actor]))
            .flat_map(|p| super::channels::channel_member_added(&channel, *p))
            .collect();
        self.store.create_channel(&channel, &members, &events).await?;
        let meeting = Meeting {
            id,
            workspace_id: ws,
            channel_id: channel.id,
            organizer: UserSummary::from(&organizer),
            title: title.to_string(),
            description,
            starts_at,
            ends_at,
            enable_recording: new.enable_recording,
            instant: new.instant,
            ended_at: None,
            created_at: now,
            participants,
        };
        self.store.insert_meeting(&meeting).await?;
        if !meeting.instant {
            self.notify_meeting(&meeting).await?;
        }
        Ok(meeting)
    }

    /// The meetings in `ws` that `actor` organises or is invited to and that
    /// have not ended more than a day ago, earliest first.
    pub async fn meetings(&self, actor: Id, ws: Id) -> Result<Vec<Meeting>> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::view_workspace(facts)?;
        self.store.meetings_of(actor, Some(ws), crate::now_ms() - 24 * 60 * 60 * 1000).await
    }

    /// One meeting, for its organizer and the people invited.
    pub async fn meeting(&self, actor: Id, id: Id) -> Result<Meeting> {
        let m = self.store.meeting(id).await?.ok_or(Error::NotFound(Thing::Meeting))?;
        let (_, facts) = self.workspace_facts(m.workspace_id, actor).await?;
        permissions::see_meeting(facts, m.includes(actor))?;
        Ok(m)
    }

    /// Joining a meeting: it must not have ended; the call is its channel's
    /// (the client joins it with `VOICE_JOIN`).
    pub async fn join_meeting(&self, actor: Id, id: Id) -> Result<Meeting> {
        let m = self.meeting(actor, id).await?;
        if m.ended_at.is_some() {
            return Err(Error::Conflict { field: "meeting", message: "This meeting has ended.".into() });
        }
        Ok(m)
    }

    /// Ends a meeting for everyone: its channel is archived, which ends the
    /// call (everyone in it leaves; a recording is posted).
    pub async fn end_meeting(&self, actor: Id, id: Id) -> Result<Meeting> {
        let mut m = self.store.meeting(id).await?.ok_or(Error::NotFound(Thing::Meeting))?;
        let (_, facts) = self.workspace_facts(m.workspace_id, actor).await?;
        permissions::end_meeting(facts, m.includes(actor), m.organizer.id == actor)?;
        let now = crate::now_ms();
        if self.store.end_meeting(m.id, now).await? {
            m.ended_at = Some(now);
            if let Some(mut ch) = self.store.channel(m.channel_id).await? {
                ch.archived_at = Some(now);
                let updated = [
                    NewEvent::new(Audience::Channel(ch.id), EventKind::ChannelUpdated(ch.clone())),
                    Self::workspace_updated(m.workspace_id),
                ];
                self.store.update_channel(&ch, &updated).await?;
                // Re-reads who may be in calls: nobody may be in an archived channel's.
                self.refresh_calls(m.workspace_id).await?;
            }
        }
        Ok(m)
    }

    /// The meeting whose call is `channel`'s, if any.
    /// The link that takes `viewer` into meeting `m`'s Jitsi room, when the
    /// operator offers Jitsi (the organizer enters as its moderator).
    pub fn video_link(&self, viewer: &User, m: &Meeting) -> Option<String> {
        let jitsi = self.video.as_ref()?;
        let guest = crate::jitsi::Guest {
            id: &viewer.id.to_string(),
            name: &viewer.display_name,
            email: &viewer.email,
            moderator: m.organizer.id == viewer.id,
        };
        let now = crate::now_ms() / 1000;
        // Good until an hour after the meeting ends, and for an hour at least.
        let until = (m.ends_at / 1000 + 3600).max(now + 3600);
        Some(jitsi.link(&m.id.to_string(), &guest, now, until))
    }

    pub async fn meeting_of_channel(&self, channel: Id) -> Result<Option<Meeting>> {
        self.store.meeting_of_channel(channel).await
    }

    /// A new secret address for `actor`'s calendar feed (the old one stops
    /// working). Returns the secret.
    pub async fn renew_calendar_feed(&self, actor: Id) -> Result<String> {
        let token = crate::password::new_token();
        self.store.set_calendar_feed(actor, &crate::password::token_digest(&token), crate::now_ms()).await?;
        Ok(token)
    }

    /// The calendar feed behind a secret: whose it is and their meetings in
    /// every workspace they still belong to (from 30 days ago on).
    pub async fn calendar_feed(&self, token: &str) -> Result<(UserSummary, Vec<Meeting>)> {
        let digest = crate::password::token_digest(token);
        let not_found = || Error::NotFound(Thing::User);
        let user = self.store.calendar_feed_user(&digest).await?.ok_or_else(not_found)?;
        let person = self.store.user(user).await?.ok_or_else(not_found)?;
        let mut mine = self.store.meetings_of(user, None, crate::now_ms() - FEED_PAST_MS).await?;
        let workspaces = self.store.workspace_ids_of(user).await?;
        mine.retain(|m| workspaces.contains(&m.workspace_id));
        Ok((UserSummary::from(&person), mine))
    }
}
