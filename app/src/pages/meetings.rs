use crate::api::{EndMeeting, MeetingsViewDto, RenewCalendarFeed, ScheduleMeeting, meetings_view};
use crate::components::confirm::Confirm;
use crate::components::errors::{FieldError, field_error, form_error};
use crate::components::sidebar::Sidebar;
use crate::components::time::{DateTime, utc_offset_minutes};
use crate::wire::MeetingDto;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The reader's meetings in a workspace: schedule one, start an instant
/// call, open, add to a calendar, end; and their calendar-feed address.
#[component]
pub fn MeetingsPage() -> impl IntoView {
    let params = use_params_map();
    let schedule = ServerAction::<ScheduleMeeting>::new();
    let end = ServerAction::<EndMeeting>::new();
    let data = crate::codec::page_data(
        move || (params.read().get("ws").unwrap_or_default(), schedule.version().get(), end.version().get()),
        |(ws, _, _)| meetings_view(ws),
    );
    view! {
        {super::page_screen(data, move |view| meetings_screen(view, schedule, end))}
    }
}

fn meetings_screen(
    view: MeetingsViewDto,
    schedule: ServerAction<ScheduleMeeting>,
    end: ServerAction<EndMeeting>,
) -> impl IntoView {
    let MeetingsViewDto { me, workspace, channels, meetings } = view;
    let channels = RwSignal::new(channels);
    let title = format!("Meetings · {}", workspace.name);
    let feed = ServerAction::<RenewCalendarFeed>::new();
    let query = use_query_map();
    let hydrated = use_context::<crate::Hydrated>().map(|h| h.0);
    let offset = move || if hydrated.is_some_and(|h| h.get()) { utc_offset_minutes() } else { 0 }.to_string();
    let value = schedule.value();
    let ws_id = workspace.id.clone();
    let (instant_ws, feed_ws, form_ws) = (ws_id.clone(), ws_id.clone(), ws_id.clone());
    // Ended ones below the others, the most recent first.
    let (mut ended, upcoming): (Vec<_>, Vec<_>) = meetings.into_iter().partition(|m| m.status == "ended");
    ended.reverse();
    let list = |meetings: Vec<MeetingDto>| {
        let items = meetings.into_iter().map(|m| meeting_item(m, &me.id, &ws_id, end)).collect_view();
        view! { <ul class="meeting-list">{items}</ul> }
    };
    let upcoming = if upcoming.is_empty() {
        view! { <p class="empty">"No meetings ahead. Schedule one, or start an instant call."</p> }.into_any()
    } else {
        list(upcoming).into_any()
    };
    let ended = (!ended.is_empty()).then(|| {
        let list = list(ended);
        view! {
            <section class="meetings-section" aria-labelledby="ended-title">
                <h2 id="ended-title">"Ended in the last day"</h2>
                {list}
            </section>
        }
    });
    view! {
        <Title text=title />
        <div class="app">
            <Sidebar workspace=workspace.clone() channels current="meetings".to_string() me=me.clone() />
            <main class="meetings-view" aria-labelledby="meetings-title">
                <h1 id="meetings-title">"Meetings"</h1>
                <div class="meeting-actions">
                    <ActionForm action=schedule attr:class="inline">
                        <input type="hidden" name="workspace_id" value=instant_ws />
                        <input type="hidden" name="instant" value="true" />
                        <button type="submit">"Start an instant call"</button>
                    </ActionForm>
                    <ActionForm action=feed attr:class="inline">
                        <input type="hidden" name="workspace_id" value=feed_ws />
                        <button type="submit" class="link">"Get my calendar link"</button>
                    </ActionForm>
                </div>
                {move || query.read().get("feed").map(|url| view! {
                    <div class="invite-box" role="status">
                        <label for="feed-link">"Your calendar feed: subscribe to it in your calendar app. Anyone with this address sees your meetings; getting a new one turns this one off."</label>
                        <input id="feed-link" readonly value=url on:focus=crate::components::select_all />
                    </div>
                })}
                <details class="schedule-meeting" open=move || value.with(|v| matches!(v, Some(Err(_))))>
                    <summary>"+ Schedule a meeting"</summary>
                    <ActionForm action=schedule attr:class="stack" attr:aria-label="Schedule a meeting">
                        <input type="hidden" name="workspace_id" value=form_ws />
                        <input type="hidden" name="utc_offset" value=offset />
                        <label for="meeting-title">"Title"</label>
                        <input id="meeting-title" name="title" required maxlength="200" />
                        <FieldError id="meeting-title-error" message=field_error(value, "title") />
                        <label for="meeting-description">"Description"</label>
                        <textarea id="meeting-description" name="description" rows="2" maxlength="500"></textarea>
                        <label for="meeting-participants">"Invite (usernames, separated by spaces)"</label>
                        <input id="meeting-participants" name="participants" placeholder="e.g. bob carol" />
                        <FieldError id="meeting-participants-error" message=field_error(value, "participants") />
                        <label for="meeting-starts">"Starts"</label>
                        <input id="meeting-starts" name="starts" type="datetime-local" required />
                        <FieldError id="meeting-starts-error" message=field_error(value, "starts") />
                        <label for="meeting-ends">"Ends"</label>
                        <input id="meeting-ends" name="ends" type="datetime-local" required />
                        <FieldError id="meeting-ends-error" message=move || field_error(value, "ends")().or_else(field_error(value, "scheduled_end")) />
                        <noscript><p class="help">"Without JavaScript, times are in UTC."</p></noscript>
                        <label class="check"><input type="checkbox" name="enable_recording" value="true" />
                            " Let me record the call"</label>
                        <FieldError id="meeting-error" message=form_error(value) />
                        <button type="submit">"Schedule meeting"</button>
                    </ActionForm>
                </details>
                <section class="meetings-section" aria-labelledby="upcoming-title">
                    <h2 id="upcoming-title">"Upcoming and in progress"</h2>
                    {upcoming}
                </section>
                {ended}
            </main>
        </div>
    }
}

fn meeting_item(
    m: MeetingDto,
    me_id: &str,
    ws_id: &str,
    end: ServerAction<EndMeeting>,
) -> impl IntoView + use<> {
    let ended = m.status == "ended";
    let mine = m.organizer.id == me_id;
    let people: Vec<String> = std::iter::once(m.organizer.display_name.clone())
        .chain(m.participants.iter().map(|p| p.display_name.clone()))
        .collect();
    let in_call: Vec<String> = m.call.iter().map(|p| p.user.display_name.clone()).collect();
    let status = match m.status.as_str() {
        "live" => "In progress",
        "ended" => "Ended",
        _ => "Scheduled",
    };
    let (ws_id, meeting_id) = (ws_id.to_string(), m.id.clone());
    view! {
        <li class="meeting" data-status=m.status.clone() aria-label=m.title.clone()>
            <h3>{m.title.clone()} <span class="badge">{status}</span></h3>
            <p class="meeting-time"><DateTime ms=m.starts_at /> " – " <DateTime ms=m.ends_at /></p>
            {(!m.description.is_empty()).then(|| view! { <p class="meeting-description">{m.description.clone()}</p> })}
            <p class="meeting-people">{format!("With {}", people.join(", "))}</p>
            {(!in_call.is_empty()).then(|| view! { <p class="meeting-call">{format!("In the call: {}", in_call.join(", "))}</p> })}
            <p class="meeting-links">
                {(!ended).then(|| view! { <a class="button" href=m.url.clone()>"Open the meeting"</a> })}
                {m.video_url.clone().filter(|_| !ended).map(|v| view! {
                    " " <a class="button" href=v target="_blank" rel="noopener noreferrer"
                        aria-label=format!("Join {} on Jitsi (opens a new tab)", m.title)>"Join on Jitsi"</a>
                })}
                " " <a href=m.ics_url.clone() download="meeting.ics">"Add to calendar (.ics)"</a>
            </p>
            {(mine && !ended).then(|| view! {
                <Confirm action="End meeting" what="The call ends for everyone in it, and the meeting shows as ended.">
                    <ActionForm action=end attr:class="inline">
                        <input type="hidden" name="workspace_id" value=ws_id />
                        <input type="hidden" name="meeting_id" value=meeting_id />
                        <button type="submit" class="danger">"End meeting for everyone"</button>
                    </ActionForm>
                </Confirm>
            })}
        </li>
    }
}
