//! A workspace's own slash commands: their section of the integrations
//! page (the list, with where each calls and a link to its uses; a form to
//! add one, whose token and signing secret are shown once; removal), and
//! each command's log of uses. Every form works without JavaScript.

use crate::api::{CommandUsesDto, CommandsViewDto, CreateSlashCommand, DeleteSlashCommand, command_uses};
use crate::components::confirm::Confirm;
use crate::components::errors::{FieldError, field_error, form_error};
use crate::components::time::DateTimeOr;
use crate::wire::{CommandUseDto, CreatedSlashCommandDto, SlashCommandDto};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// The integrations page's slash commands section.
pub(super) fn commands_section(
    ws_id: String,
    view: CommandsViewDto,
    create: ServerAction<CreateSlashCommand>,
    delete: ServerAction<DeleteSlashCommand>,
) -> impl IntoView {
    let CommandsViewDto { commands, made } = view;
    let listed = (!commands.is_empty()).then(|| {
        let rows = commands.into_iter().map(|c| command_row(c, delete)).collect_view();
        view! {
            <table class="webhooks slash-commands">
                <thead><tr>
                    <th>"Command"</th><th>"Calls"</th><th>"Says"</th><th>"Made by"</th>
                    <th><span class="visually-hidden">"Remove"</span></th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
    });
    let created = create.value();
    view! {
        <section aria-labelledby="commands-title">
            <h2 id="commands-title">"Slash commands"</h2>
            <p class="hint">"Typing " <code>"/name text"</code> " in any channel sends Slack's form fields ("
                <code>"command"</code> ", " <code>"text"</code> ", " <code>"user_id"</code> ", "
                <code>"channel_id"</code> ", " <code>"response_url"</code> ", " <code>"trigger_id"</code>
                "…), signed with HMAC-SHA256, to your URL. Its answer within 3 seconds — "
                <code>"{\"text\": \"…\"}"</code> " — shows only to whoever typed it, or with "
                <code>"\"response_type\": \"in_channel\""</code> " is posted as its bot; the "
                <code>"response_url"</code> " takes up to five later answers for 30 minutes."</p>
            {made.map(made_box)}
            {listed}
            <FieldError id="delete-command-error" message=form_error(delete.value()) />
            <ActionForm action=create attr:class="stack" attr:aria-label="Add a slash command">
                <input type="hidden" name="workspace_id" value=ws_id />
                <label for="command-name">"Command (typed after the slash)"</label>
                <input id="command-name" name="name" maxlength="33" required placeholder="deploy" />
                <FieldError id="command-name-error" message=field_error(created, "name") />
                <label for="command-url">"URL to call"</label>
                <input id="command-url" name="url" type="url" maxlength="2000" required
                    placeholder="https://ci.example.com/parley/deploy" />
                <FieldError id="command-url-error" message=field_error(created, "url") />
                <label for="command-description">"What it does (shown by /help and the suggestions)"</label>
                <input id="command-description" name="description" maxlength="200" placeholder="Deploy a branch" />
                <FieldError id="command-description-error" message=field_error(created, "description") />
                <label for="command-usage">"What follows it (optional)"</label>
                <input id="command-usage" name="usage_hint" maxlength="200" placeholder="[branch] [environment]" />
                <FieldError id="command-usage-error" message=field_error(created, "usage_hint") />
                <FieldError id="command-error" message=form_error(created) />
                <button type="submit">"Add command"</button>
            </ActionForm>
        </section>
    }
}

fn command_row(c: SlashCommandDto, delete: ServerAction<DeleteSlashCommand>) -> impl IntoView {
    let label = format!("Remove the command /{}", c.name);
    let uses = crate::paths::command_uses(&c.workspace_id, &c.id);
    let uses_label = format!("Uses of /{}", c.name);
    let what = format!("Typing /{} will do nothing more, and its calls' response URLs stop working.", c.name);
    let typed = match c.usage_hint.is_empty() {
        true => format!("/{}", c.name),
        false => format!("/{} {}", c.name, c.usage_hint),
    };
    view! {
        <tr class="webhook-row command-row">
            <td><code>{typed}</code> " " <a href=uses aria-label=uses_label>"Uses"</a></td>
            <td><code>{c.url}</code></td>
            <td>{c.description}</td>
            <td>{c.created_by.display_name}</td>
            <td>
                <Confirm action="Remove" what=what>
                    <ActionForm action=delete attr:class="inline">
                        <input type="hidden" name="id" value=c.id />
                        <button type="submit" class="danger" aria-label=label>"Remove command"</button>
                    </ActionForm>
                </Confirm>
            </td>
        </tr>
    }
}

/// The token and signing secret of the command just made.
fn made_box(made: CreatedSlashCommandDto) -> impl IntoView {
    let ready = format!(
        "The command /{} is ready. Copy its token and signing secret now: they are not shown again.",
        made.command.name
    );
    super::outgoing_webhooks::secrets_box(
        ready,
        "command",
        "Token (sent in each call's token field)",
        made.token,
        made.signing_secret,
    )
}

/// A command's latest uses, newest first: who typed what, and how its
/// call answered.
#[component]
pub fn CommandUsesPage() -> impl IntoView {
    let params = use_params_map();
    let data = crate::codec::page_data(
        move || {
            let p = params.read();
            (p.get("ws").unwrap_or_default(), p.get("id").unwrap_or_default())
        },
        |(ws, id)| command_uses(ws, id),
    );
    view! {
        {super::page_screen(data, uses_screen)}
    }
}

fn uses_screen(page: CommandUsesDto) -> impl IntoView {
    let CommandUsesDto { workspace, command, uses } = page;
    let title = format!("Uses of /{} · {}", command.name, workspace.name);
    let back = crate::paths::integrations(&workspace.id);
    let list = match uses.is_empty() {
        true => view! { <p class="hint">"Nobody has typed it in the last day."</p> }.into_any(),
        false => {
            let items = uses.into_iter().map(use_item).collect_view();
            view! { <ol class="webhook-calls command-uses">{items}</ol> }.into_any()
        }
    };
    view! {
        <Title text=title />
        <main class="settings integrations" aria-labelledby="uses-title">
            <p><a href=back>"← Integrations"</a></p>
            <h1 id="uses-title">{format!("Uses of /{}", command.name)}</h1>
            <p class="hint">"Calls to " <code>{command.url}</code> ". The latest 50 of the last day, newest first."</p>
            {list}
        </main>
    }
}

fn use_item(u: CommandUseDto) -> impl IntoView {
    let ok = u.status_code.is_some_and(|s| (200..300).contains(&s));
    let code = u.status_code.map_or("no answer".to_string(), |s| format!("HTTP {s}"));
    let later = (u.answers > 0)
        .then(|| format!(" · {} later answer{}", u.answers, if u.answers == 1 { "" } else { "s" }));
    view! {
        <li class=if ok { "command-use ok" } else { "command-use failed" }>
            <strong>{u.user.display_name}</strong> " · " <DateTimeOr ms=Some(u.at) none="" />
            " · " <code>{u.text}</code>
            <div class="attempt">
                {code} " · " {format!("{} ms", u.latency_ms)} {later}
                {(!u.excerpt.is_empty()).then(|| view! { " · " <code class="excerpt">{u.excerpt}</code> })}
            </div>
        </li>
    }
}
