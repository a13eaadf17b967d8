//! The notification settings page (`/settings/notifications`): where each
//! type of notification goes (in the app, email, push, SMS), quiet hours in
//! one's time zone, a phone number for SMS, push in this browser, and the
//! channels given their own level.

use crate::api::{
    SaveNotificationPreferences, SetChannelNotifyLevel, UnsubscribePush, notification_preferences,
};
use crate::components::errors::{FieldError, field_error, form_error};
use crate::components::time::DateTime;
use crate::wire::NotificationPreferencesDto;
use leptos::prelude::*;
use leptos_meta::Title;

const DAYS: [(&str, &str); 7] = [
    ("mon", "Mon"),
    ("tue", "Tue"),
    ("wed", "Wed"),
    ("thu", "Thu"),
    ("fri", "Fri"),
    ("sat", "Sat"),
    ("sun", "Sun"),
];
const CHANNELS: [(&str, &str); 4] =
    [("in_app", "In the app"), ("email", "Email"), ("push", "Push"), ("sms", "SMS")];
pub const LEVELS: [(&str, &str); 4] = [
    ("all", "All new messages"),
    ("mentions", "Mentions and direct messages"),
    ("nothing", "Nothing"),
    ("muted", "Muted"),
];

#[component]
pub fn NotificationSettingsPage() -> impl IntoView {
    let save = ServerAction::<SaveNotificationPreferences>::new();
    let level = ServerAction::<SetChannelNotifyLevel>::new();
    let unsubscribe = ServerAction::<UnsubscribePush>::new();
    let pushed = RwSignal::new(0u32);
    let data = crate::codec::page_data(
        move || (save.version().get(), level.version().get(), unsubscribe.version().get(), pushed.get()),
        |_| notification_preferences(),
    );
    view! {
        <Title text="Notification settings" />
        {super::page_screen(data, move |p| settings_screen(p, save, level, unsubscribe, pushed))}
    }
}

fn settings_screen(
    p: NotificationPreferencesDto,
    save: ServerAction<SaveNotificationPreferences>,
    level: ServerAction<SetChannelNotifyLevel>,
    unsubscribe: ServerAction<UnsubscribePush>,
    pushed: RwSignal<u32>,
) -> impl IntoView {
    let value = save.value();
    let sms_note = if !p.sms_available {
        Some("SMS is not available on this server (its administrator has not set up an SMS provider).")
    } else if p.phone.is_empty() {
        Some("Add your phone number below to receive SMS.")
    } else {
        None
    };
    let sms_off = sms_note.is_some();
    let mut index = 0usize;
    let rows = p
        .types
        .iter()
        .map(|t| {
            let cells = CHANNELS
                .iter()
                .map(|(channel, label)| {
                    let on = p.switches.iter().any(|s| s.kind == t.kind && s.channel == *channel && s.enabled);
                    let name = format!("switches[{index}]");
                    index += 1;
                    let value = format!("{}:{channel}", t.kind);
                    let aria = format!("{}: {label}", t.label);
                    let disabled = *channel == "sms" && sms_off;
                    view! {
                        <td>
                            <input type="checkbox" name=name value=value checked=on disabled=disabled aria-label=aria />
                            // A disabled box is not sent; keep what was set.
                            {(disabled && on).then(|| view! { <input type="hidden" name=format!("switches[{}]", 1000 + index) value=format!("{}:sms", t.kind) /> })}
                        </td>
                    }
                })
                .collect_view();
            view! { <tr><th scope="row">{t.label.clone()}</th>{cells}</tr> }
        })
        .collect_view();
    let days = DAYS
        .iter()
        .enumerate()
        .map(|(i, (day, label))| {
            let on = p.quiet_days.iter().any(|d| d == day);
            view! { <label class="check day"><input type="checkbox" name=format!("quiet_days[{i}]") value=*day checked=on />" " {*label}</label> }
        })
        .collect_view();
    let saved = move || value.with(|v| matches!(v, Some(Ok(_))));
    let push_key = p.push_public_key.clone();
    let subscriptions = p.push_subscriptions.clone();
    let levels = p.channel_levels.clone();
    view! {
        <main class="settings notification-settings">
            <p><a href="/">"← Your workspaces"</a></p>
            <h1>"Notification settings"</h1>
            <ActionForm action=save attr:class="stack" attr:aria-label="Notification settings">
                <section aria-labelledby="where-heading">
                    <h2 id="where-heading">"Where notifications go"</h2>
                    <table class="switches">
                        <thead><tr><th scope="col">"Type"</th>
                            {CHANNELS.iter().map(|(_, label)| view! { <th scope="col">{*label}</th> }).collect_view()}
                        </tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                    {sms_note.map(|n| view! { <p class="help" id="sms-note">{n}</p> })}
                    <p class="help">"Emails that are not urgent wait a few minutes and arrive together as one. Push reaches only the browsers where you turned it on below."</p>
                </section>
                <section aria-labelledby="quiet-heading">
                    <h2 id="quiet-heading">"Quiet hours"</h2>
                    <label class="check"><input type="checkbox" name="quiet_enabled" value="true" checked=p.quiet_hours_enabled />
                        " Hold email, push and SMS during quiet hours (they arrive when quiet hours end)"</label>
                    <div class="row">
                        <label for="quiet-start">"From"</label>
                        <input id="quiet-start" name="quiet_start" type="time" required value=p.quiet_start.clone() />
                        <label for="quiet-end">"to"</label>
                        <input id="quiet-end" name="quiet_end" type="time" required value=p.quiet_end.clone() />
                    </div>
                    <FieldError id="quiet-start-error" message=field_error(value, "quiet_start") />
                    <FieldError id="quiet-end-error" message=field_error(value, "quiet_end") />
                    <fieldset class="days"><legend>"On nights starting"</legend>{days}</fieldset>
                    <FieldError id="quiet-days-error" message=field_error(value, "quiet_days") />
                    <label for="time-zone">"Time zone"</label>
                    <input id="time-zone" name="time_zone" required value=p.time_zone.clone() list="time-zones" placeholder="e.g. Europe/Berlin" />
                    <TimeZoneHint />
                    <FieldError id="time-zone-error" message=field_error(value, "time_zone") />
                    <label class="check"><input type="checkbox" name="urgent_breaks_through" value="true" checked=p.urgent_breaks_through />
                        " Let high-priority notifications through"</label>
                </section>
                <section aria-labelledby="phone-heading">
                    <h2 id="phone-heading">"Phone for SMS"</h2>
                    <label for="phone">"Phone number, with country code"</label>
                    <input id="phone" name="phone" type="tel" value=p.phone.clone() placeholder="+44 20 7946 0958" disabled=!p.sms_available />
                    <FieldError id="phone-error" message=field_error(value, "phone") />
                </section>
                <FieldError id="settings-error" message=form_error(value) />
                <button type="submit">"Save"</button>
                <span class="saved" role="status">{move || saved().then_some("Saved.")}</span>
            </ActionForm>
            <section aria-labelledby="push-heading">
                <h2 id="push-heading">"Push notifications"</h2>
                {match push_key {
                    Some(key) => view! { <PushToggle key pushed /> }.into_any(),
                    None => view! { <p class="help">"Push is not available on this server."</p> }.into_any(),
                }}
                {(!subscriptions.is_empty()).then(|| view! {
                    <ul class="push-list" aria-label="Browsers with push on">
                        {subscriptions.into_iter().map(|s| view! {
                            <li>
                                <span class="agent">{browser_name(&s.user_agent)}</span>
                                " · on since " <DateTime ms=s.created_at />
                                <ActionForm action=unsubscribe attr:class="inline">
                                    <input type="hidden" name="endpoint" value=s.endpoint.clone() />
                                    <button type="submit" class="link">"Turn off"</button>
                                </ActionForm>
                            </li>
                        }).collect_view()}
                    </ul>
                })}
            </section>
            <section aria-labelledby="levels-heading">
                <h2 id="levels-heading">"Channels with their own setting"</h2>
                {if levels.is_empty() {
                    view! { <p class="empty">"None yet. Choose how much a channel notifies you from the bell in its header."</p> }.into_any()
                } else {
                    view! {
                        <ul class="level-list">
                            {levels.into_iter().map(|l| {
                                let href = crate::paths::channel(&l.workspace_id, &l.channel_id);
                                view! {
                                    <li>
                                        <a href=href>"#" {l.channel_name.clone()}</a>
                                        <LevelForm action=level channel_id=l.channel_id.clone() current=l.level.clone() />
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>
        </main>
    }
}

/// A short name for a browser from its user agent.
fn browser_name(agent: &str) -> String {
    let name = ["Edg/", "Firefox/", "Chrome/", "Safari/"]
        .iter()
        .find(|k| agent.contains(**k))
        .map(|k| match *k {
            "Edg/" => "Edge",
            "Firefox/" => "Firefox",
            "Chrome/" => "Chrome",
            _ => "Safari",
        })
        .unwrap_or("A browser");
    let os = ["Android", "iPhone", "Windows", "Mac OS", "Linux"].iter().find(|k| agent.contains(**k));
    match os {
        Some(os) => format!("{name} on {}", os.replace("Mac OS", "macOS")),
        None => name.to_string(),
    }
}

/// How much one channel notifies: a select and a button.
#[component]
pub fn LevelForm(
    action: ServerAction<SetChannelNotifyLevel>,
    channel_id: String,
    current: String,
) -> impl IntoView {
    let id = format!("level-{channel_id}");
    view! {
        <ActionForm action=action attr:class="inline level-form">
            <input type="hidden" name="channel_id" value=channel_id />
            <label for=id.clone() class="visually-hidden">"Notify me about"</label>
            <select id=id name="level">
                {LEVELS.iter().map(|(v, label)| view! { <option value=*v selected=*v == current>{*label}</option> }).collect_view()}
            </select>
            <button type="submit" class="small">"Set"</button>
        </ActionForm>
    }
}

/// Suggests the browser's own time zone (known only after hydration).
#[component]
fn TimeZoneHint() -> impl IntoView {
    let hydrated = use_context::<crate::Hydrated>().map(|h| h.0);
    let zone = move || {
        if !hydrated.is_some_and(|h| h.get()) {
            return None;
        }
        #[cfg(feature = "hydrate")]
        {
            let options = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
                .resolved_options();
            js_sys::Reflect::get(&options, &"timeZone".into()).ok().and_then(|z| z.as_string())
        }
        #[cfg(not(feature = "hydrate"))]
        None::<String>
    };
    view! {
        <datalist id="time-zones">{move || zone().map(|z| view! { <option value=z></option> })}</datalist>
        {move || zone().map(|z| view! { <p class="help">"This browser is in " <strong>{z}</strong> "."</p> })}
    }
}

/// Turns push on or off in this browser (needs JavaScript).
#[component]
fn PushToggle(key: String, pushed: RwSignal<u32>) -> impl IntoView {
    let status = RwSignal::new(None::<String>);
    // Whether this browser has push on; unknown until asked, and never
    // known in a browser without push.
    let here = RwSignal::new(None::<bool>);
    let supported = RwSignal::new(true);
    let hydrated = use_context::<crate::Hydrated>().map(|h| h.0);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if hydrated.is_some_and(|h| h.get()) {
            supported.set(crate::pwa::push_supported());
            if crate::pwa::push_supported() {
                leptos::task::spawn_local(async move {
                    here.set(Some(crate::pwa::current_endpoint().await.is_some()));
                });
            }
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = pushed;
    let turn_on = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let key = key.clone();
            status.set(Some("Asking the browser…".into()));
            leptos::task::spawn_local(async move {
                match crate::pwa::enable_push(&key).await {
                    Ok(sub) => {
                        let agent = Some(crate::pwa::user_agent());
                        match crate::api::subscribe_push(sub.endpoint, sub.keys.p256dh, sub.keys.auth, agent)
                            .await
                        {
                            Ok(()) => {
                                status.set(Some("Push is on in this browser.".into()));
                                here.set(Some(true));
                                pushed.update(|n| *n += 1);
                            }
                            Err(e) => status.set(Some(e.message)),
                        }
                    }
                    Err(e) => status.set(Some(e)),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &key;
    };
    let turn_off = move |_| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            if let Some(endpoint) = crate::pwa::disable_push().await {
                let _ = crate::api::unsubscribe_push(endpoint).await;
            }
            here.set(Some(false));
            status.set(Some("Push is off in this browser.".into()));
            pushed.update(|n| *n += 1);
        });
    };
    view! {
        <noscript><p class="help">"Turning push on needs JavaScript."</p></noscript>
        {move || match (hydrated.is_some_and(|h| h.get()), here.get()) {
            (false, _) => None,
            (true, None) if supported.get() => None,
            (true, Some(true)) => Some(view! {
                <p>"Push is on in this browser. "
                    <button type="button" class="link" on:click=turn_off>"Turn off"</button></p>
            }.into_any()),
            (true, Some(false)) => Some(view! {
                <button type="button" on:click=turn_on.clone()>"Turn on push in this browser"</button>
            }.into_any()),
            (true, None) => Some(view! { <p class="help">"This browser cannot receive push notifications."</p> }.into_any()),
        }}
        <p class="help" role="status">{move || status.get()}</p>
    }
}
