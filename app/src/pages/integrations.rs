//! A workspace's integrations (`/w/:ws/integrations`): its incoming
//! webhooks (its outgoing webhooks are in [`super::outgoing_webhooks`], its
//! slash commands in [`super::slash_commands`]), listed with where they
//! post, who made them and when they last
//! posted; a form to add one (its address, and its signing secret when it
//! requires signed calls, shown once); and a button to remove each. Then its
//! bot accounts: each with its owner and description, and for who manages
//! it its tokens (made, shown once, revoked) and removal; a form to make
//! one. Whether links get previews, with a button to turn them off or on
//! for who manages the workspace. Every form works without JavaScript.

use crate::api::{
    CreateBot, CreateBotToken, CreateOutgoingWebhook, CreateSlashCommand, CreateWebhook,
    DeleteOutgoingWebhook, DeleteSlashCommand, DeleteWebhook, IntegrationsViewDto, NewBotTokenDto, RemoveBot,
    RevokeBotToken, SetLinkPreviews, integrations_view,
};
use crate::components::confirm::Confirm;
use crate::components::errors::{FieldError, field_error, form_error};
use crate::components::time::DateTimeOr;
use crate::wire::{BotDto, CreatedWebhookDto, WebhookDto};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn IntegrationsPage() -> impl IntoView {
    let params = use_params_map();
    let actions = Actions {
        create: ServerAction::new(),
        delete: ServerAction::new(),
        create_bot: ServerAction::new(),
        bot_token: ServerAction::new(),
        revoke_token: ServerAction::new(),
        remove_bot: ServerAction::new(),
        create_outgoing: ServerAction::new(),
        delete_outgoing: ServerAction::new(),
        create_command: ServerAction::new(),
        delete_command: ServerAction::new(),
        link_previews: ServerAction::new(),
    };
    let data = crate::codec::page_data(
        move || (params.read().get("ws").unwrap_or_default(), actions.versions()),
        |(ws, _)| integrations_view(ws),
    );
    view! {
        {super::page_screen(data, move |view| integrations_screen(view, actions))}
    }
}

/// The page's forms; when any completes, the page reads its data again.
#[derive(Clone, Copy)]
struct Actions {
    create: ServerAction<CreateWebhook>,
    delete: ServerAction<DeleteWebhook>,
    create_bot: ServerAction<CreateBot>,
    bot_token: ServerAction<CreateBotToken>,
    revoke_token: ServerAction<RevokeBotToken>,
    remove_bot: ServerAction<RemoveBot>,
    create_outgoing: ServerAction<CreateOutgoingWebhook>,
    delete_outgoing: ServerAction<DeleteOutgoingWebhook>,
    create_command: ServerAction<CreateSlashCommand>,
    delete_command: ServerAction<DeleteSlashCommand>,
    link_previews: ServerAction<SetLinkPreviews>,
}

impl Actions {
    fn versions(self) -> [usize; 11] {
        [
            self.create.version().get(),
            self.delete.version().get(),
            self.create_bot.version().get(),
            self.bot_token.version().get(),
            self.revoke_token.version().get(),
            self.remove_bot.version().get(),
            self.create_outgoing.version().get(),
            self.delete_outgoing.version().get(),
            self.create_command.version().get(),
            self.delete_command.version().get(),
            self.link_previews.version().get(),
        ]
    }
}

fn integrations_screen(view: IntegrationsViewDto, actions: Actions) -> impl IntoView {
    let IntegrationsViewDto {
        workspace,
        webhooks,
        channels,
        made,
        bots,
        can_make_bots,
        new_token,
        outgoing,
        commands,
        link_previews,
        can_set_link_previews,
    } = view;
    let Actions { create, delete, .. } = actions;
    let title = format!("Integrations · {}", workspace.name);
    let (ws_id, back) = (workspace.id.clone(), crate::paths::workspace(&workspace.id));
    let created = create.value();
    let outgoing = outgoing.map(|o| {
        super::outgoing_webhooks::outgoing_section(
            ws_id.clone(),
            o,
            actions.create_outgoing,
            actions.delete_outgoing,
        )
    });
    let commands = commands.map(|c| {
        super::slash_commands::commands_section(
            ws_id.clone(),
            c,
            actions.create_command,
            actions.delete_command,
        )
    });
    let listed = (!webhooks.is_empty()).then(|| {
        let rows = webhooks.into_iter().map(|w| webhook_row(w, delete)).collect_view();
        view! {
            <table class="webhooks">
                <thead><tr>
                    <th>"Name"</th><th>"Posts in"</th><th>"Made by"</th><th>"Last post"</th><th>"Signed"</th>
                    <th><span class="visually-hidden">"Remove"</span></th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
    });
    let form = if channels.is_empty() {
        view! {
            <p class="hint">"You cannot add webhooks here: that takes the “Manage webhooks” permission in a channel \
                (or a direct conversation of yours). Ask an admin."</p>
        }
        .into_any()
    } else {
        let options =
            channels.into_iter().map(|c| view! { <option value=c.id>{c.label}</option> }).collect_view();
        view! {
            <ActionForm action=create attr:class="stack" attr:aria-label="Add an incoming webhook">
                <input type="hidden" name="workspace_id" value=ws_id.clone() />
                <label for="webhook-name">"Name (its posts show it)"</label>
                <input id="webhook-name" name="name" maxlength="80" required placeholder="Deploys" />
                <FieldError id="webhook-name-error" message=field_error(created, "name") />
                <label for="webhook-channel">"Posts in"</label>
                <select id="webhook-channel" name="channel_id">{options}</select>
                <label class="check">
                    <input type="checkbox" name="signed" value="true" />
                    " Accept only signed calls (HMAC-SHA256 with a signing secret, as Slack signs its requests)"
                </label>
                <FieldError id="webhook-error" message=form_error(created) />
                <button type="submit">"Add webhook"</button>
            </ActionForm>
        }
        .into_any()
    };
    view! {
        <Title text=title />
        <main class="settings integrations" aria-labelledby="integrations-title">
            <p><a href=back>{format!("← {}", workspace.name)}</a></p>
            <h1 id="integrations-title">"Integrations"</h1>
            <section aria-labelledby="webhooks-title">
                <h2 id="webhooks-title">"Incoming webhooks"</h2>
                <p class="hint">"A script posts to a webhook's address, and its message appears in the channel with a BOT tag. \
                    Send JSON: " <code>"{\"text\": \"Build *passed*\"}"</code> " in Slack's format (with "
                    <code>"username"</code> ", " <code>"icon_emoji"</code> ", " <code>"attachments"</code> " and "
                    <code>"blocks"</code> "), or " <code>"{\"content\": \"Markdown\"}"</code> "."</p>
                {made.map(made_box)}
                {listed}
                <FieldError id="delete-webhook-error" message=form_error(delete.value()) />
                {form}
            </section>
            {outgoing}
            {commands}
            {link_previews_section(workspace.id.clone(), link_previews, can_set_link_previews, actions.link_previews)}
            {bots_section(workspace.id, bots, can_make_bots, new_token, actions)}
        </main>
    }
}

/// Whether links posted in the workspace get previews, and for who
/// manages it a button that turns them off or on.
fn link_previews_section(
    ws_id: String,
    enabled: bool,
    can_set: bool,
    action: ServerAction<SetLinkPreviews>,
) -> impl IntoView {
    let status = if enabled {
        "On: under a message, the title, description and image of the pages it links to, \
         fetched by this server (readers never load anything from the linked site)."
    } else {
        "Off: links posted here show no preview."
    };
    let toggle = can_set.then(|| {
        view! {
            <ActionForm action=action attr:class="inline" attr:aria-label="Link previews">
                <input type="hidden" name="workspace_id" value=ws_id />
                <input type="hidden" name="enabled" value=if enabled { "false" } else { "true" } />
                <button type="submit">{if enabled { "Turn link previews off" } else { "Turn link previews on" }}</button>
            </ActionForm>
            <FieldError id="link-previews-error" message=form_error(action.value()) />
        }
    });
    view! {
        <section aria-labelledby="link-previews-title">
            <h2 id="link-previews-title">"Link previews"</h2>
            <p class="hint" id="link-previews-status">{status}</p>
            {toggle}
        </section>
    }
}

fn bots_section(
    ws_id: String,
    bots: Vec<BotDto>,
    can_make_bots: bool,
    new_token: Option<NewBotTokenDto>,
    actions: Actions,
) -> impl IntoView {
    let made = actions.create_bot.value();
    let list = (!bots.is_empty()).then(|| {
        let items = bots.into_iter().map(|b| bot_item(b, actions)).collect_view();
        view! { <ul class="bots">{items}</ul> }
    });
    let form = can_make_bots.then(|| {
        view! {
            <ActionForm action=actions.create_bot attr:class="stack" attr:aria-label="Make a bot">
                <input type="hidden" name="workspace_id" value=ws_id />
                <label for="bot-username">"Username (to add it to channels and mention it)"</label>
                <input id="bot-username" name="username" maxlength="32" required placeholder="deploy-bot" />
                <FieldError id="bot-username-error" message=field_error(made, "username") />
                <label for="bot-name">"Display name"</label>
                <input id="bot-name" name="display_name" maxlength="64" required placeholder="Deploy Bot" />
                <FieldError id="bot-name-error" message=field_error(made, "display_name") />
                <label for="bot-emoji">"Avatar (one emoji)"</label>
                <input id="bot-emoji" name="emoji" maxlength="32" placeholder="🤖" />
                <FieldError id="bot-emoji-error" message=field_error(made, "emoji") />
                <label for="bot-description">"What it does"</label>
                <input id="bot-description" name="description" maxlength="500" />
                <FieldError id="bot-error" message=form_error(made) />
                <button type="submit">"Make bot"</button>
            </ActionForm>
        }
    });
    view! {
        <section aria-labelledby="bots-title">
            <h2 id="bots-title">"Bots"</h2>
            <p class="hint">"A bot is a member that a program drives through the API and the live gateway with its own token \
                (" <code>"Authorization: Bearer <token>"</code> "). Give it roles and add it to channels like anyone; \
                it cannot sign in with a password."</p>
            {new_token.map(|t| view! {
                <div class="invite-box" role="status">
                    <label for="new-bot-token">{format!("The token “{}” (copy it now: it is not shown again)", t.name)}</label>
                    <input id="new-bot-token" readonly value=t.token on:focus=crate::components::select_all />
                </div>
            })}
            {list}
            <FieldError id="bot-remove-error" message=form_error(actions.remove_bot.value()) />
            <FieldError id="bot-token-error" message=form_error(actions.bot_token.value()) />
            <FieldError id="bot-revoke-error" message=form_error(actions.revoke_token.value()) />
            {form}
        </section>
    }
}

fn bot_item(b: BotDto, actions: Actions) -> impl IntoView {
    let (name, bot_id) = (b.user.display_name.clone(), b.user.id.clone());
    let manage = b.tokens.map(|tokens| {
        let rows = tokens
            .into_iter()
            .map(|t| {
                let label = format!("Revoke the token {} of {}", t.name, name);
                let of_bot = bot_id.clone();
                view! {
                    <li class="token-row">
                        {t.name} " · made " <DateTimeOr ms=Some(t.created_at) none="" />
                        <ActionForm action=actions.revoke_token attr:class="inline">
                            <input type="hidden" name="bot_id" value=of_bot />
                            <input type="hidden" name="id" value=t.id />
                            <button type="submit" class="link danger" aria-label=label>"Revoke"</button>
                        </ActionForm>
                    </li>
                }
            })
            .collect_view();
        let token_label = format!("Make a token for {name}");
        let remove_label = format!("Remove the bot {name}");
        let what =
            format!("{name} leaves the workspace and its tokens stop working at once. What it posted stays.");
        let (token_bot, removed_bot, field) =
            (bot_id.clone(), bot_id.clone(), format!("token-name-{bot_id}"));
        view! {
            <ul class="bot-tokens" aria-label=format!("Tokens of {name}")>{rows}</ul>
            <ActionForm action=actions.bot_token attr:class="inline" attr:aria-label=token_label>
                <input type="hidden" name="bot_id" value=token_bot />
                <label class="visually-hidden" for=field.clone()>"Token name"</label>
                <input id=field name="name" maxlength="100" required placeholder="Token name" />
                <button type="submit">"Make token"</button>
            </ActionForm>
            <Confirm action="Remove bot" what=what>
                <ActionForm action=actions.remove_bot attr:class="inline">
                    <input type="hidden" name="bot_id" value=removed_bot />
                    <button type="submit" class="danger" aria-label=remove_label>"Remove"</button>
                </ActionForm>
            </Confirm>
        }
    });
    view! {
        <li class="bot">
            <span class="bot-emoji" aria-hidden="true">{b.emoji}</span>
            <strong>{b.user.display_name.clone()}</strong> " " <span class="bot-tag">"BOT"</span>
            " @" {b.user.username.clone()} " · owner: " {b.owner.display_name}
            {(!b.description.is_empty()).then(|| view! { <p class="hint">{b.description}</p> })}
            {manage}
        </li>
    }
}

fn webhook_row(w: WebhookDto, delete: ServerAction<DeleteWebhook>) -> impl IntoView {
    let label = format!("Remove the webhook {}", w.bot.display_name);
    let what = format!(
        "Scripts posting to “{}” will be refused from now on. What it posted stays.",
        w.bot.display_name
    );
    view! {
        <tr class="webhook-row">
            <td>{w.bot.display_name.clone()} " " <span class="bot-tag">"BOT"</span></td>
            <td>{w.channel_label}</td>
            <td>{w.created_by.display_name}</td>
            <td><DateTimeOr ms=w.last_used_at none="never" /></td>
            <td>{if w.signed { "yes" } else { "no" }}</td>
            <td>
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

/// The address (and signing secret) of the webhook just made.
fn made_box(made: CreatedWebhookDto) -> impl IntoView {
    let example = format!(
        "curl -X POST -H 'Content-Type: application/json' -d '{{\"text\": \"Hello from a script\"}}' {}",
        made.url
    );
    view! {
        <div class="invite-box made-webhook" role="status">
            <p>{format!("The webhook “{}” is ready. Copy its address now: it is not shown again.", made.webhook.bot.display_name)}</p>
            <label for="webhook-url">"Address"</label>
            <input id="webhook-url" readonly value=made.url on:focus=crate::components::select_all />
            {made.signing_secret.map(|secret| view! {
                <label for="webhook-secret">"Signing secret"</label>
                <input id="webhook-secret" readonly value=secret on:focus=crate::components::select_all />
                <p class="hint">"Send " <code>"X-Parley-Request-Timestamp"</code> " (seconds since 1970) and "
                    <code>"X-Parley-Signature: v0=<hex HMAC-SHA256 of v0:timestamp:body>"</code>
                    " with every call (Slack's X-Slack-… names work too)."</p>
            })}
            <p class="hint">"Try it: " <code>{example}</code></p>
        </div>
    }
}
