//! Outgoing webhooks: their section of the integrations page (the list,
//! with what each hears and where it calls; a form to add one, whose token
//! and signing secret are shown once; removal) and each webhook's log
//! (`/w/:ws/integrations/outgoing/:id`): its latest calls, each attempt's
//! time, answer code, latency and excerpt, and a button to send a call
//! again. Every form works without JavaScript.

use crate::api::{
    CreateOutgoingWebhook, DeleteOutgoingWebhook, OutgoingLogDto, OutgoingViewDto, RedeliverCall,
    outgoing_log,
};
use crate::components::confirm::Confirm;
use crate::components::errors::{FieldError, field_error, form_error};
use crate::components::time::DateTimeOr;
use crate::wire::{CreatedOutgoingWebhookDto, OutgoingWebhookDto, WebhookDeliveryDto};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// What an outgoing webhook can be called for, as the form offers it.
const EVENTS: [(&str, &str); 4] = [
    ("message_posted", "Messages"),
    ("member_joined", "Members joining"),
    ("reaction_added", "Reactions"),
    ("meeting_started", "Calls and meetings starting"),
];

fn event_label(name: &str) -> &str {
    EVENTS.iter().find(|(n, _)| *n == name).map_or(name, |(_, l)| l)
}

/// The integrations page's outgoing webhooks section.
pub(super) fn outgoing_section(
    ws_id: String,
    view: OutgoingViewDto,
    create: ServerAction<CreateOutgoingWebhook>,
    delete: ServerAction<DeleteOutgoingWebhook>,
) -> impl IntoView {
    let OutgoingViewDto { webhooks, channels, made } = view;
    let listed = (!webhooks.is_empty()).then(|| {
        let rows = webhooks.into_iter().map(|w| outgoing_row(&ws_id, w, delete)).collect_view();
        view! {
            <table class="webhooks outgoing-webhooks">
                <thead><tr>
                    <th>"Name"</th><th>"Calls"</th><th>"For"</th><th>"Hears"</th><th>"Made by"</th>
                    <th><span class="visually-hidden">"Log and removal"</span></th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
    });
    let created = create.value();
    let events = EVENTS
        .iter()
        .enumerate()
        .map(|(i, (name, label))| {
            view! {
                <label class="check">
                    <input type="checkbox" name=format!("events[{i}]") value=*name checked=i == 0 />
                    " " {*label}
                </label>
            }
        })
        .collect_view();
    let channel_boxes = channels
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            view! {
                <label class="check">
                    <input type="checkbox" name=format!("channel_ids[{i}]") value=c.id />
                    " " {c.label}
                </label>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="outgoing-title">
            <h2 id="outgoing-title">"Outgoing webhooks"</h2>
            <p class="hint">"Parley calls a URL of yours when something happens in the channels you choose, with Slack's \
                payload (" <code>"token"</code> ", " <code>"channel_name"</code> ", " <code>"user_name"</code> ", "
                <code>"text"</code> ", " <code>"trigger_word"</code> "…), signed with HMAC-SHA256, tried again if it \
                fails. If it answers " <code>"{\"text\": \"…\"}"</code> ", that is posted as its bot."</p>
            {made.map(made_box)}
            {listed}
            <FieldError id="delete-outgoing-error" message=form_error(delete.value()) />
            <ActionForm action=create attr:class="stack" attr:aria-label="Add an outgoing webhook">
                <input type="hidden" name="workspace_id" value=ws_id.clone() />
                <label for="outgoing-name">"Name (its answers show it)"</label>
                <input id="outgoing-name" name="name" maxlength="80" required placeholder="Deploy bot" />
                <FieldError id="outgoing-name-error" message=field_error(created, "name") />
                <label for="outgoing-url">"URL to call"</label>
                <input id="outgoing-url" name="url" type="url" maxlength="2000" required
                    placeholder="https://ci.example.com/parley" />
                <FieldError id="outgoing-url-error" message=field_error(created, "url") />
                <fieldset>
                    <legend>"Call it for"</legend>
                    {events}
                </fieldset>
                <FieldError id="outgoing-events-error" message=field_error(created, "events") />
                <fieldset>
                    <legend>"In these channels (none ticked: every public channel)"</legend>
                    {channel_boxes}
                </fieldset>
                <FieldError id="outgoing-channels-error" message=field_error(created, "channels") />
                <label for="outgoing-words">"Only messages starting with (optional; words separated by spaces)"</label>
                <input id="outgoing-words" name="trigger_words" maxlength="900" placeholder="deploy !status" />
                <FieldError id="outgoing-words-error" message=field_error(created, "trigger_words") />
                <label for="outgoing-format">"Send as"</label>
                <select id="outgoing-format" name="format">
                    <option value="json">"JSON (with the event as Slack's Events API shows it)"</option>
                    <option value="form">"Form fields (as Slack's classic outgoing webhooks)"</option>
                </select>
                <FieldError id="outgoing-error" message=form_error(created) />
                <button type="submit">"Add outgoing webhook"</button>
            </ActionForm>
        </section>
    }
}

fn outgoing_row(
    ws_id: &str,
    w: OutgoingWebhookDto,
    delete: ServerAction<DeleteOutgoingWebhook>,
) -> impl IntoView {
    let label = format!("Remove the outgoing webhook {}", w.name);
    let what = format!(
        "Parley stops calling {} for “{}”, queued calls included. What it answered stays.",
        w.url, w.name
    );
    let events: Vec<&str> = w.events.iter().map(|e| event_label(e)).collect();
    let mut hears = match w.channels.is_empty() {
        true => "every public channel".to_string(),
        false => w.channels.iter().map(|c| format!("#{}", c.name)).collect::<Vec<_>>().join(", "),
    };
    if !w.trigger_words.is_empty() {
        hears.push_str(&format!(" · messages starting with {}", w.trigger_words.join(", ")));
    }
    let log = crate::paths::outgoing_webhook_log(ws_id, &w.id);
    let log_label = format!("Calls of {}", w.name);
    view! {
        <tr class="webhook-row outgoing-row">
            <td>{w.name.clone()} " " <span class="bot-tag">"BOT"</span></td>
            <td><code>{w.url.clone()}</code></td>
            <td>{events.join(", ")}</td>
            <td>{hears}</td>
            <td>{w.created_by.display_name}</td>
            <td>
                <a href=log aria-label=log_label>"Calls"</a>
                <Confirm action="Remove" what=what>
                    <ActionForm action=delete attr:class="inline">
                        <input type="hidden" name="id" value=w.id />
                        <button type="submit" class="danger" aria-label=label>"Remove webhook"</button>
                    </ActionForm>
                </Confirm>
            </td>
        </tr>
    }
}

/// The token and signing secret of the outgoing webhook just made.
fn made_box(made: CreatedOutgoingWebhookDto) -> impl IntoView {
    let ready = format!(
        "The outgoing webhook “{}” is ready. Copy its token and signing secret now: they are not shown again.",
        made.webhook.name
    );
    secrets_box(
        ready,
        "outgoing",
        "Token (sent in each payload's token field)",
        made.token,
        made.signing_secret,
    )
}

/// What calls out (an outgoing webhook, a slash command) is shown with once,
/// when it is made: the token its calls carry and the secret they are signed
/// with (fields `<id>-token` and `<id>-secret`).
pub(super) fn secrets_box(
    ready: String,
    id: &'static str,
    token_label: &'static str,
    token: String,
    secret: String,
) -> impl IntoView {
    let (token_id, secret_id) = (format!("{id}-token"), format!("{id}-secret"));
    view! {
        <div class="invite-box made-webhook" role="status">
            <p>{ready}</p>
            <label for=token_id.clone()>{token_label}</label>
            <input id=token_id readonly value=token on:focus=crate::components::select_all />
            <label for=secret_id.clone()>"Signing secret"</label>
            <input id=secret_id readonly value=secret on:focus=crate::components::select_all />
            <p class="hint">"Each call carries " <code>"X-Parley-Request-Timestamp"</code> " and "
                <code>"X-Parley-Signature: v0=<hex HMAC-SHA256 of v0:timestamp:body>"</code>
                " (and the same under Slack's X-Slack-… names): check it with this secret."</p>
        </div>
    }
}

/// An outgoing webhook's calls, newest first.
#[component]
pub fn OutgoingLogPage() -> impl IntoView {
    let params = use_params_map();
    let redeliver = ServerAction::<RedeliverCall>::new();
    let data = crate::codec::page_data(
        move || {
            let p = params.read();
            (p.get("ws").unwrap_or_default(), p.get("id").unwrap_or_default(), redeliver.version().get())
        },
        |(ws, id, _)| outgoing_log(ws, id),
    );
    view! {
        {super::page_screen(data, move |log| log_screen(log, redeliver))}
    }
}

fn log_screen(log: OutgoingLogDto, redeliver: ServerAction<RedeliverCall>) -> impl IntoView {
    let OutgoingLogDto { workspace, webhook, calls } = log;
    let title = format!("Calls of {} · {}", webhook.name, workspace.name);
    let back = crate::paths::integrations(&workspace.id);
    let list = match calls.is_empty() {
        true => {
            view! { <p class="hint">"No calls yet: nothing it hears has happened since it was made."</p> }
                .into_any()
        }
        false => {
            let items = calls.into_iter().map(|c| call_item(webhook.id.clone(), c, redeliver)).collect_view();
            view! { <ol class="webhook-calls">{items}</ol> }.into_any()
        }
    };
    view! {
        <Title text=title />
        <main class="settings integrations" aria-labelledby="log-title">
            <p><a href=back>"← Integrations"</a></p>
            <h1 id="log-title">{format!("Calls of {}", webhook.name)}</h1>
            <p class="hint">"To " <code>{webhook.url}</code> ". The latest 50, newest first; a failed call is tried \
                again with growing waits, then given up on. “Send again” repeats a call as it was first sent."</p>
            <FieldError id="redeliver-error" message=form_error(redeliver.value()) />
            {list}
        </main>
    }
}

fn call_item(
    webhook_id: String,
    c: WebhookDeliveryDto,
    redeliver: ServerAction<RedeliverCall>,
) -> impl IntoView {
    let state = match c.state.as_str() {
        "delivered" => "delivered",
        "failed" => "failed (given up)",
        _ => "waiting",
    };
    let attempts = c
        .attempts
        .into_iter()
        .map(|a| {
            let code = a.status_code.map_or("no answer".to_string(), |s| format!("HTTP {s}"));
            view! {
                <li class=if a.ok { "attempt ok" } else { "attempt failed" }>
                    <DateTimeOr ms=Some(a.at) none="" /> " · " {code} " · " {format!("{} ms", a.latency_ms)}
                    {(!a.excerpt.is_empty()).then(|| view! { " · " <code class="excerpt">{a.excerpt}</code> })}
                </li>
            }
        })
        .collect_view();
    let label = format!("Send the {} call again", event_label(&c.event).to_lowercase());
    view! {
        <li class="webhook-call" data-state=c.state.clone()>
            <strong>{event_label(&c.event).to_string()}</strong> " · " <DateTimeOr ms=Some(c.created_at) none="" />
            " · " <span class="call-state">{state}</span>
            <details>
                <summary>"Payload"</summary>
                <pre class="payload">{c.payload}</pre>
            </details>
            <ul class="attempts">{attempts}</ul>
            <ActionForm action=redeliver attr:class="inline">
                <input type="hidden" name="webhook_id" value=webhook_id />
                <input type="hidden" name="id" value=c.id />
                <button type="submit" aria-label=label>"Send again"</button>
            </ActionForm>
        </li>
    }
}
