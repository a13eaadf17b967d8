//! Server functions of the meetings page: the list, scheduling (or an
//! instant call), ending, and one's calendar-feed address.

use crate::wire::{ApiError, ChannelDto, MeDto, MeetingDto, WorkspaceDto};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Everything the meetings page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeetingsViewDto {
    pub me: MeDto,
    pub workspace: WorkspaceDto,
    pub channels: Vec<ChannelDto>,
    pub meetings: Vec<MeetingDto>,
}

#[server]
pub async fn meetings_view(workspace_id: String) -> Result<MeetingsViewDto, ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            let workspace = hub.workspace(user.id, ws).await?;
            let meetings = hub.meetings(user.id, ws).await?;
            Ok(MeetingsViewDto {
                me: MeDto::from(&user),
                workspace: WorkspaceDto::from(&workspace),
                channels: hub.channels(user.id, ws).await?.iter().map(ChannelDto::from).collect(),
                meetings: meetings
                    .iter()
                    .map(|m| {
                        let video = hub.video_link(&user, m);
                        crate::conversions::meeting_dto(m, &hub.call_shown(m.channel_id), video)
                    })
                    .collect(),
            })
        }
        .await,
    )
}

/// Schedules a meeting from the page's form (times as the form sends them,
/// `utc_offset` minutes east of UTC), or starts an instant call and opens it.
#[server]
pub async fn schedule_meeting(
    workspace_id: String,
    title: Option<String>,
    description: Option<String>,
    /// Usernames, separated by spaces or commas.
    participants: Option<String>,
    starts: Option<String>,
    ends: Option<String>,
    utc_offset: Option<String>,
    enable_recording: Option<String>,
    instant: Option<String>,
) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            let instant = crate::ssr::checked(&instant);
            let offset: i64 = utc_offset.as_deref().and_then(|o| o.trim().parse().ok()).unwrap_or(0);
            let time = |field: &'static str, text: &Option<String>| -> Result<i64, ApiError> {
                if instant {
                    return Ok(0);
                }
                domain::calendar::parse_local(text.as_deref().unwrap_or(""), offset)
                    .ok_or_else(|| ApiError::from(domain::Error::invalid(field, "Choose a date and a time.")))
            };
            let title = title.unwrap_or_default();
            let new = domain::hub::NewMeeting {
                title: if instant && title.trim().is_empty() { "Call" } else { &title },
                description: description.as_deref().unwrap_or(""),
                participants: participants
                    .unwrap_or_default()
                    .split([' ', ',', '\n'])
                    .filter(|p| !p.trim().is_empty())
                    .map(|p| p.trim().to_string())
                    .collect(),
                starts_at: time("starts", &starts)?,
                ends_at: time("ends", &ends)?,
                enable_recording: crate::ssr::checked(&enable_recording),
                instant,
            };
            let m = hub.schedule_meeting(user.id, ws, new).await?;
            let to = if instant {
                crate::paths::channel(&workspace_id, &m.channel_id.to_string())
            } else {
                crate::paths::meetings(&workspace_id)
            };
            crate::ssr::redirect(&to);
            Ok(())
        }
        .await,
    )
}

/// Ends a meeting for everyone (its organizer).
#[server]
pub async fn end_meeting(workspace_id: String, meeting_id: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            hub.end_meeting(user.id, crate::ssr::parse_id("meeting_id", &meeting_id)?).await?;
            crate::ssr::redirect(&crate::paths::meetings(&workspace_id));
            Ok(())
        }
        .await,
    )
}

/// A new private address of one's calendar feed (the old one stops working);
/// the page shows it.
#[server]
pub async fn renew_calendar_feed(workspace_id: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let token = hub.renew_calendar_feed(user.id).await?;
            let public = crate::ssr::services()?.public_url;
            let url = format!("{public}{}", crate::paths::calendar_feed(&token));
            crate::ssr::redirect(&format!("{}?feed={url}", crate::paths::meetings(&workspace_id)));
            Ok(())
        }
        .await,
    )
}
