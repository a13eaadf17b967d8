//! Workspace settings: roles (create, colour, permissions, order by drag
//! and drop), members (roles, kick, ban, timeout), channels (type, flags,
//! per-channel permissions, categories, order by drag and drop), guest
//! invites, bans and the audit log. Every form also works without
//! JavaScript. Sections the reader may not manage say so instead.

mod encryption;
mod retention;

use crate::api::{
    ArrangeChannels, ConfigureChannel, CreateGuestInvite, CreateRole, DeleteRole, ModerateMember,
    PlacedChannel, ReorderRoles, RevokeInvite, SaveCategory, SetArchivist, SetChannelOverride,
    SetDirectEncryption, SetMemberRole, SetRetention, SettingsViewDto, UpdateRole, settings_view,
};
use crate::components::confirm::Confirm;
use crate::components::errors::{FieldError, form_error};
use crate::components::sidebar::Sidebar;
use crate::components::time::{DateTimeOr, Time};
use crate::wire::{ChannelDto, ChannelKind, MemberDto, OverrideDto, RoleDto};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// A one-button form posting `fields` to `action`: what drag and drop does,
/// for the keyboard and for pages without JavaScript.
macro_rules! step_form {
    ($action:expr, $fields:expr, $label:expr, $glyph:expr) => {{
        let (fields, label): (Vec<(String, String)>, String) = ($fields, $label);
        view! {
            <ActionForm action=$action attr:class="inline step">
                {hidden(fields)}
                <button type="submit" class="link" aria-label=label.clone() title=label>{$glyph}</button>
            </ActionForm>
        }
    }};
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    // Any change made here reloads the page's data.
    let changed = RwSignal::new(0u32);
    let data = crate::codec::page_data(
        move || {
            (
                params.read().get("ws").unwrap_or_default(),
                query.read().get("action"),
                query.read().get("user"),
                changed.get(),
            )
        },
        |(ws, action, user, _)| settings_view(ws, action, user),
    );
    view! {
        {super::page_screen(data, move |view| settings_screen(view, changed))}
    }
}

/// Bumps `changed` whenever `action` completes.
fn reload_after<A, O>(action: ServerAction<A>, changed: RwSignal<u32>)
where
    A: leptos::server_fn::ServerFn<Output = O> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
    A::Error: Clone + Send + Sync + 'static,
    ServerAction<A>: Copy,
{
    Effect::new(move |prev: Option<usize>| {
        let v = action.version().get();
        if prev.is_some_and(|p| p != v) {
            changed.update(|n| *n += 1);
        }
        v
    });
}

/// Empties a form that adds something (its choice and its ticks) once it
/// is sent: after this event, when ActionForm has read what it sends. The
/// page's data then reloads into the same elements, which would otherwise
/// keep the last choice: one no longer offered, the list having just lost it.
fn start_afresh(ev: leptos::ev::SubmitEvent) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(form) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok()) {
            set_timeout(move || form.reset(), std::time::Duration::ZERO);
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

fn settings_screen(view: SettingsViewDto, changed: RwSignal<u32>) -> impl IntoView {
    let SettingsViewDto {
        me,
        workspace,
        my_permissions,
        my_top,
        roles,
        members,
        channels,
        categories,
        permissions,
        bans,
        audit,
        templates,
        invites,
        overrides,
        retention,
        channel_retention,
        encrypt_direct,
        can_require_encryption,
        archivist,
    } = view;
    let can = |p: &str| my_permissions.iter().any(|m| m == p);
    let (manage_roles, manage_channels) = (can("manage_roles"), can("manage_channels"));
    let (kick, ban, timeout, audit_ok) =
        (can("kick_members"), can("ban_members"), can("timeout_members"), can("view_audit_log"));
    let invite_ok = can("create_invite");
    let title = format!("Settings · {}", workspace.name);
    let sidebar_channels = RwSignal::new(channels.clone());

    let create_role = ServerAction::<CreateRole>::new();
    let update_role = ServerAction::<UpdateRole>::new();
    let delete_role = ServerAction::<DeleteRole>::new();
    let reorder = ServerAction::<ReorderRoles>::new();
    let member_role = ServerAction::<SetMemberRole>::new();
    let moderate = ServerAction::<ModerateMember>::new();
    let configure = ServerAction::<ConfigureChannel>::new();
    let set_override = ServerAction::<SetChannelOverride>::new();
    let category = ServerAction::<SaveCategory>::new();
    let arrange = ServerAction::<ArrangeChannels>::new();
    let guest_invite = ServerAction::<CreateGuestInvite>::new();
    let revoke = ServerAction::<RevokeInvite>::new();
    let set_retention = ServerAction::<SetRetention>::new();
    reload_after(create_role, changed);
    reload_after(update_role, changed);
    reload_after(delete_role, changed);
    reload_after(reorder, changed);
    reload_after(member_role, changed);
    reload_after(moderate, changed);
    reload_after(configure, changed);
    reload_after(set_override, changed);
    reload_after(category, changed);
    reload_after(arrange, changed);
    reload_after(revoke, changed);
    reload_after(set_retention, changed);
    let set_encryption = ServerAction::<SetDirectEncryption>::new();
    reload_after(set_encryption, changed);
    let name_archivist = ServerAction::<SetArchivist>::new();
    reload_after(name_archivist, changed);
    let templates_section =
        (!templates.is_empty()).then(|| templates_editor(&workspace.id, templates, changed));

    let ws_id = workspace.id.clone();
    let channel_perms: Vec<_> = permissions.iter().filter(|p| p.per_channel).cloned().collect();

    // Roles -----------------------------------------------------------------
    let movable: Vec<String> = roles
        .iter()
        .filter(|r| {
            r.position < my_top && !matches!(r.builtin.as_deref(), Some("member" | "guest" | "owner"))
        })
        .map(|r| r.id.clone())
        .collect();
    let dragged_role = RwSignal::new(None::<String>);
    let role_items = roles
        .iter()
        .map(|r| {
            let editable = manage_roles && r.position < my_top && r.builtin.as_deref() != Some("owner");
            let draggable = manage_roles && movable.contains(&r.id);
            let (rid, order_base, ws) = (r.id.clone(), movable.clone(), ws_id.clone());
            let on_drop = move |ev: leptos::ev::DragEvent| {
                ev.prevent_default();
                let Some(from) = dragged_role.get_untracked() else { return };
                let mut order: Vec<String> = order_base.iter().filter(|id| **id != from).cloned().collect();
                let at = order.iter().position(|id| *id == rid).unwrap_or(order.len());
                order.insert(at, from);
                reorder.dispatch(ReorderRoles { workspace_id: ws.clone(), order });
            };
            let drag_id = r.id.clone();
            let swatch = (!r.colour.is_empty()).then(|| format!("background: {}", r.colour));
            let name_style = (!r.colour.is_empty()).then(|| format!("--role: {}", r.colour));
            let editor = editable.then(|| role_editor(r, &ws_id, &permissions, update_role, delete_role));
            let steps = movable.iter().position(|id| *id == r.id).filter(|_| draggable).map(|i| {
                let form = |order: Option<Vec<String>>, label: String, glyph: &'static str| {
                    order.map(|order| step_form!(reorder, role_order_fields(&ws_id, order), label, glyph))
                };
                view! {
                    <span class="order-steps">
                        {form(moved(&movable, i, true), format!("Move {} up", r.name), "↑")}
                        {form(moved(&movable, i, false), format!("Move {} down", r.name), "↓")}
                    </span>
                }
            });
            view! {
                <li class="role" data-role=r.name.clone() draggable=draggable.then_some("true")
                    on:dragstart=move |_| dragged_role.set(Some(drag_id.clone()))
                    on:dragover=|ev: leptos::ev::DragEvent| ev.prevent_default()
                    on:drop=on_drop>
                    <span class="swatch" style=swatch aria-hidden="true"></span>
                    <strong class="role-name" style=name_style>{r.name.clone()}</strong>
                    {r.builtin.is_some().then(|| view! { <span class="hint">" built-in"</span> })}
                    <span class="hint">{format!(" · {} permissions", r.permissions.len())}</span>
                    {steps}
                    {editor}
                </li>
            }
        })
        .collect_view();
    let create_value = create_role.value();
    let ws_new_role = ws_id.clone();
    let new_role_perms = permissions
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let checked = matches!(p.name.as_str(), "view_channel" | "send_messages" | "send_in_threads" | "add_reactions");
            view! {
                <label class="check" title=p.description.clone()>
                    <input type="checkbox" name=format!("permissions[{i}]") value=p.name.clone() checked=checked />
                    " " {p.name.clone()}
                </label>
            }
        })
        .collect_view();
    let roles_section = view! {
        <section class="settings-roles" aria-labelledby="roles-title">
            <h2 id="roles-title">"Roles"</h2>
            <p class="hint">{if manage_roles {
                "The higher a role, the more it wins. Drag roles (or use ↑ ↓) to reorder them; you can change only roles below your own highest."
            } else {
                "You do not have permission to manage roles."
            }}</p>
            <ol class="roles">{role_items}</ol>
            {manage_roles.then(|| view! {
                <details class="new-role">
                    <summary>"+ New role"</summary>
                    <ActionForm action=create_role attr:class="stack" attr:aria-label="Create a role">
                        <input type="hidden" name="workspace_id" value=ws_new_role />
                        <label for="role-name">"Name"</label>
                        <input id="role-name" name="name" required maxlength="32" />
                        <label for="role-colour">"Colour"</label>
                        <input id="role-colour" name="colour" type="color" value="#3366cc" />
                        <fieldset class="perms"><legend>"Permissions"</legend>{new_role_perms}</fieldset>
                        <FieldError id="role-error" message=form_error(create_value) />
                        <button type="submit">"Create role"</button>
                    </ActionForm>
                </details>
            })}
        </section>
    };

    // Members ---------------------------------------------------------------
    let assignable: Vec<RoleDto> = roles
        .iter()
        .filter(|r| {
            manage_roles
                && r.position < my_top
                && !matches!(r.builtin.as_deref(), Some("owner" | "member" | "guest"))
        })
        .cloned()
        .collect();
    let member_items = members
        .iter()
        .map(|m| {
            member_row(m, &me.id, &ws_id, &roles, &assignable, member_role, moderate, (kick, ban, timeout))
        })
        .collect_view();
    let moderate_value = moderate.value();
    let role_value = member_role.value();
    let members_section = view! {
        <section class="settings-members" aria-labelledby="members-title">
            <h2 id="members-title">"Members"</h2>
            <FieldError id="moderate-error" message=form_error(moderate_value) />
            <FieldError id="member-role-error" message=form_error(role_value) />
            <ul class="member-settings">{member_items}</ul>
            {(ban && !bans.is_empty()).then(|| {
                let items = bans.iter().map(|b| {
                    let (ws, uid) = (ws_id.clone(), b.user.id.clone());
                    view! {
                        <li class="ban">
                            <strong>{b.user.display_name.clone()}</strong> " @" {b.user.username.clone()}
                            {(!b.reason.is_empty()).then(|| format!(" — {}", b.reason))}
                            <ActionForm action=moderate attr:class="inline">
                                <input type="hidden" name="workspace_id" value=ws />
                                <input type="hidden" name="user_id" value=uid />
                                <input type="hidden" name="action" value="unban" />
                                <button type="submit" class="link">"Unban"</button>
                            </ActionForm>
                        </li>
                    }
                }).collect_view();
                view! { <h3>"Banned"</h3><ul class="bans">{items}</ul> }
            })}
        </section>
    };

    // Channels --------------------------------------------------------------
    let dragged_channel = RwSignal::new(None::<String>);
    let order: Vec<(String, String)> =
        channels.iter().map(|c| (c.id.clone(), c.category_id.clone().unwrap_or_default())).collect();
    let category_ids: Vec<String> = categories.iter().map(|c| c.id.clone()).collect();
    let channel_items = channels
        .iter()
        .map(|c| {
            let (cid, cat, base, cats, ws) =
                (c.id.clone(), c.category_id.clone().unwrap_or_default(), order.clone(), category_ids.clone(), ws_id.clone());
            let on_drop = move |ev: leptos::ev::DragEvent| {
                ev.prevent_default();
                let Some(from) = dragged_channel.get_untracked() else { return };
                let mut list: Vec<(String, String)> = base.iter().filter(|(id, _)| *id != from).cloned().collect();
                let at = list.iter().position(|(id, _)| *id == cid).unwrap_or(list.len());
                list.insert(at, (from, cat.clone()));
                let channels =
                    list.into_iter().map(|(channel_id, category_id)| PlacedChannel { channel_id, category_id }).collect();
                arrange.dispatch(ArrangeChannels { workspace_id: ws.clone(), categories: cats.clone(), channels });
            };
            let drag_id = c.id.clone();
            let manage = manage_channels || c.can("manage_channels");
            let set = overrides.get(&c.id).map(Vec::as_slice).unwrap_or_default();
            let editor = manage.then(|| channel_editor(c, &ws_id, &roles, &members, set, &channel_perms, &categories, configure, set_override, arrange));
            let steps = order.iter().position(|(id, _)| *id == c.id).filter(|_| manage_channels).map(|i| {
                let form = |placed: Option<Vec<(String, String)>>, label: String, glyph: &'static str| {
                    placed.map(|placed| {
                        step_form!(arrange, channel_order_fields(&ws_id, &category_ids, placed), label, glyph)
                    })
                };
                view! {
                    <span class="order-steps">
                        {form(moved(&order, i, true), format!("Move {} up", c.name), "↑")}
                        {form(moved(&order, i, false), format!("Move {} down", c.name), "↓")}
                    </span>
                }
            });
            view! {
                <li class="channel-settings" data-channel=c.name.clone() draggable=manage_channels.then_some("true")
                    on:dragstart=move |_| dragged_channel.set(Some(drag_id.clone()))
                    on:dragover=|ev: leptos::ev::DragEvent| ev.prevent_default()
                    on:drop=on_drop>
                    <a href=crate::paths::channel(&c.workspace_id, &c.id) class="channel-link">{c.label(&me.id)}</a>
                    <span class="hint">{channel_kind_label(c)}</span>
                    {steps}
                    {editor}
                </li>
            }
        })
        .collect_view();
    let category_value = category.value();
    let ws_category = ws_id.clone();
    let configure_value = configure.value();
    let override_value = set_override.value();
    let channels_section = view! {
        <section class="settings-channels" aria-labelledby="channels-title">
            <h2 id="channels-title">"Channels"</h2>
            <p class="hint">{if manage_channels {
                "Drag channels (or use ↑ ↓) to reorder them. Archived channels are read-only and leave the sidebar; search still finds them."
            } else {
                "You can change only the channels you created."
            }}</p>
            <FieldError id="configure-error" message=form_error(configure_value) />
            <FieldError id="override-error" message=form_error(override_value) />
            <ul class="channel-settings-list">{channel_items}</ul>
            {manage_channels.then(|| view! {
                <ActionForm action=category attr:class="inline" attr:aria-label="Create a category">
                    <input type="hidden" name="workspace_id" value=ws_category />
                    <input type="hidden" name="category_id" value="" />
                    <label for="category-name">"New category"</label>
                    <input id="category-name" name="name" required maxlength="40" />
                    <button type="submit">"Add category"</button>
                </ActionForm>
                <FieldError id="category-error" message=form_error(category_value) />
            })}
        </section>
    };

    // Who may set the retention manages the workspace: they see its analytics.
    let analytics_link = retention.may_change.then(|| crate::paths::analytics(&ws_id));
    let encryption_section = encryption::encryption_section(
        ws_id.clone(),
        encrypt_direct,
        can_require_encryption,
        set_encryption,
        archivist,
        name_archivist,
    );
    let retention_section =
        retention::retention_section(ws_id.clone(), retention, channel_retention, &channels, set_retention);

    // Guest invites ---------------------------------------------------------
    let external: Vec<ChannelDto> =
        channels.iter().filter(|c| c.is_external && !c.archived).cloned().collect();
    let guest_value = guest_invite.value();
    let guests_section = invite_ok.then(|| {
        let boxes = external
            .iter()
            .enumerate()
            .map(|(i, c)| {
                view! {
                    <label class="check"><input type="checkbox" name=format!("channel_ids[{i}]") value=c.id.clone() />
                        " #" {c.name.clone()}</label>
                }
            })
            .collect_view();
        view! {
            <section class="settings-guests" aria-labelledby="guests-title">
                <h2 id="guests-title">"Invite a guest"</h2>
                <p class="hint">"Guests see only the channels you choose here (channels open to guests), and the people in them."</p>
                <ActionForm action=guest_invite attr:class="stack" attr:aria-label="Invite a guest">
                    <input type="hidden" name="workspace_id" value=ws_id.clone() />
                    <fieldset><legend>"Channels"</legend>{boxes}</fieldset>
                    <label for="guest-email">"Email (optional: we send them the link)"</label>
                    <input id="guest-email" name="email" type="email" />
                    {invite_terms_fields("guest")}
                    <FieldError id="guest-error" message=form_error(guest_value) />
                    <button type="submit">"Make guest invite link"</button>
                </ActionForm>
                {move || guest_value.get().and_then(|r| r.ok()).map(|invite| view! {
                    <p class="invite-link">"Guest invite: " <input readonly class="guest-link" value=invite.url /></p>
                    {invite.email.map(|to| view! { <p class="hint" role="status">{format!("The invitation is on its way to {to}.")}</p> })}
                })}
            </section>
        }
    });

    // Invites that still work ------------------------------------------------
    let invites_section = invite_ok.then(|| {
        let revoke_value = revoke.value();
        let channel_name = |id: &String| {
            channels.iter().find(|c| &c.id == id).map_or_else(|| "a channel".to_string(), |c| format!("#{}", c.name))
        };
        let member_name = |id: &String| {
            members.iter().find(|m| &m.user.id == id).map_or_else(|| "a former member".to_string(), |m| m.user.display_name.clone())
        };
        let rows = invites
            .iter()
            .map(|i| {
                let admits = match i.channel_ids.is_empty() {
                    true => "the workspace".to_string(),
                    false => i.channel_ids.iter().map(channel_name).collect::<Vec<_>>().join(", "),
                };
                let kind = if i.is_guest { "Guest" } else { "Member" };
                let uses = match i.max_uses {
                    Some(max) => format!("{} of {max}", i.uses),
                    None => i.uses.to_string(),
                };
                let label = format!("Revoke the invite made by {} to {admits}", member_name(&i.created_by));
                let code = i.code.clone();
                view! {
                    <tr class="invite-row">
                        <td><input readonly class="invite-url" aria-label="Invite link" value=i.url.clone()
                            on:focus=crate::components::select_all /></td>
                        <td>{kind}</td>
                        <td>{admits.clone()}</td>
                        <td>{member_name(&i.created_by)}</td>
                        <td>{uses}</td>
                        <td><DateTimeOr ms=i.expires_at none="never" /></td>
                        <td>
                            <ActionForm action=revoke attr:class="inline">
                                <input type="hidden" name="code" value=code />
                                <button type="submit" class="danger" aria-label=label>"Revoke"</button>
                            </ActionForm>
                        </td>
                    </tr>
                }
            })
            .collect_view();
        let empty = invites.is_empty().then(|| view! { <p class="hint">"No invite links are open."</p> });
        view! {
            <section class="settings-invites" aria-labelledby="invites-title">
                <h2 id="invites-title">"Invite links"</h2>
                <p class="hint">"Links that still work. Revoking one stops it at once; whoever already joined stays."</p>
                {empty}
                {(!invites.is_empty()).then(|| view! {
                    <table class="invites">
                        <thead><tr><th>"Link"</th><th>"Joins as"</th><th>"Admits to"</th><th>"Made by"</th>
                            <th>"Used"</th><th>"Expires"</th><th><span class="visually-hidden">"Revoke"</span></th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                })}
                <FieldError id="revoke-error" message=form_error(revoke_value) />
            </section>
        }
    });

    // Audit log -------------------------------------------------------------
    let audit_section = audit_ok.then(|| {
        let rows = audit
            .iter()
            .map(|e| {
                view! {
                    <tr class="audit-entry">
                        <td><Time ms=e.created_at /></td>
                        <td>{e.actor.display_name.clone()}</td>
                        <td><code>{e.action.clone()}</code></td>
                        <td>{e.target_user.as_ref().map(|u| u.display_name.clone())}</td>
                        <td>{e.summary.clone()}</td>
                    </tr>
                }
            })
            .collect_view();
        let people = members
            .iter()
            .map(|m| view! { <option value=m.user.id.clone()>{m.user.display_name.clone()}</option> })
            .collect_view();
        view! {
            <section class="settings-audit" aria-labelledby="audit-title">
                <h2 id="audit-title">"Audit log"</h2>
                <form method="get" class="inline" aria-label="Filter the audit log">
                    <label for="audit-action">"Action"</label>
                    <select id="audit-action" name="action">
                        <option value="">"Everything"</option>
                        <option value="member">"Members (kick, ban, timeout, roles)"</option>
                        <option value="role">"Roles"</option>
                        <option value="channel">"Channels"</option>
                        <option value="message">"Messages"</option>
                        <option value="invite">"Invites"</option>
                    </select>
                    <label for="audit-user">"Concerning"</label>
                    <select id="audit-user" name="user"><option value="">"Anyone"</option>{people}</select>
                    <button type="submit">"Filter"</button>
                </form>
                <table class="audit">
                    <thead><tr><th>"When"</th><th>"Who"</th><th>"Action"</th><th>"Member"</th><th>"What"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </section>
        }
    });

    view! {
        <Title text=title />
        <div class="app">
            <Sidebar workspace=workspace.clone() channels=sidebar_channels current="settings".to_string() me=me.clone() categories />
            <main class="settings" aria-labelledby="settings-title">
                <h1 id="settings-title">"Workspace settings"</h1>
                {analytics_link.map(|href| view! { <p><a href=href>"Analytics"</a></p> })}
                {roles_section}
                {members_section}
                {channels_section}
                {guests_section}
                {invites_section}
                {retention_section}
                {encryption_section}
                {audit_section}
                {templates_section}
            </main>
        </div>
    }
    .into_any()
}

/// How long an invite lasts and how often it may be used.
fn invite_terms_fields(prefix: &'static str) -> impl IntoView {
    let (expires, uses) = (format!("{prefix}-expires"), format!("{prefix}-max-uses"));
    view! {
        <label for=expires.clone()>"Expires after"</label>
        <select id=expires name="expires_in_hours">
            <option value="1">"1 hour"</option>
            <option value="24">"1 day"</option>
            <option value="168" selected>"7 days"</option>
            <option value="720">"30 days"</option>
            <option value="0">"Never"</option>
        </select>
        <label for=uses.clone()>"Number of uses"</label>
        <select id=uses name="max_uses">
            <option value="0" selected>"No limit"</option>
            <option value="1">"1 use"</option>
            <option value="5">"5 uses"</option>
            <option value="10">"10 uses"</option>
            <option value="25">"25 uses"</option>
            <option value="100">"100 uses"</option>
        </select>
    }
}

/// `items` with the one at `i` swapped with its neighbour above (`up`) or
/// below, if it has one.
fn moved<T: Clone>(items: &[T], i: usize, up: bool) -> Option<Vec<T>> {
    let j = if up { i.checked_sub(1)? } else { i + 1 };
    (j < items.len()).then(|| {
        let mut v = items.to_vec();
        v.swap(i, j);
        v
    })
}

/// Hidden form fields.
fn hidden(fields: Vec<(String, String)>) -> impl IntoView + use<> {
    fields
        .into_iter()
        .map(|(name, value)| view! { <input type="hidden" name=name value=value /> })
        .collect_view()
}

/// The fields that save `order` as the order of roles.
fn role_order_fields(ws: &str, order: Vec<String>) -> Vec<(String, String)> {
    std::iter::once(("workspace_id".to_string(), ws.to_string()))
        .chain(order.into_iter().enumerate().map(|(i, id)| (format!("order[{i}]"), id)))
        .collect()
}

/// The fields that save `placed` (channel, category) as the order of channels.
fn channel_order_fields(
    ws: &str,
    categories: &[String],
    placed: Vec<(String, String)>,
) -> Vec<(String, String)> {
    let mut fields = vec![("workspace_id".to_string(), ws.to_string())];
    fields.extend(categories.iter().enumerate().map(|(i, id)| (format!("categories[{i}]"), id.clone())));
    for (i, (channel, category)) in placed.into_iter().enumerate() {
        fields.push((format!("channels[{i}][channel_id]"), channel));
        fields.push((format!("channels[{i}][category_id]"), category));
    }
    fields
}

fn channel_kind_label(c: &ChannelDto) -> String {
    let mut parts = vec![
        match c.kind {
            ChannelKind::Announcement => "announcement",
            ChannelKind::Voice => "voice",
            _ if c.is_private => "private",
            _ => "public",
        }
        .to_string(),
    ];
    if c.is_external {
        parts.push("open to guests".into());
    }
    if c.auto_join {
        parts.push("auto-join".into());
    }
    if c.archived {
        parts.push("archived".into());
    }
    format!(" {}", parts.join(" · "))
}

fn role_editor(
    r: &RoleDto,
    ws_id: &str,
    permissions: &[crate::wire::PermissionDto],
    update: ServerAction<UpdateRole>,
    delete: ServerAction<DeleteRole>,
) -> impl IntoView + use<> {
    let boxes = permissions
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let on = r.permissions.contains(&p.name);
            view! {
                <label class="check" title=p.description.clone()>
                    <input type="checkbox" name=format!("permissions[{i}]") value=p.name.clone() checked=on />
                    " " {p.name.clone()}
                </label>
            }
        })
        .collect_view();
    let colour = if r.colour.is_empty() { "#000000".to_string() } else { r.colour.clone() };
    let value = update.value();
    let is_custom = r.builtin.is_none();
    let (ws2, rid2, role_name) = (ws_id.to_string(), r.id.clone(), r.name.clone());
    let (ws1, rid1, name, label) =
        (ws_id.to_string(), r.id.clone(), r.name.clone(), format!("Edit role {}", r.name));
    view! {
        <details class="role-edit">
            <summary>"Edit"</summary>
            <ActionForm action=update attr:class="stack" attr:aria-label=label>
                <input type="hidden" name="workspace_id" value=ws1 />
                <input type="hidden" name="role_id" value=rid1 />
                <label>"Name" <input name="name" value=name required maxlength="32" /></label>
                <label>"Colour" <input name="colour" type="color" value=colour /></label>
                <fieldset class="perms"><legend>"Permissions"</legend>{boxes}</fieldset>
                <FieldError id="role-edit-error" message=form_error(value) />
                <button type="submit">"Save role"</button>
            </ActionForm>
            {is_custom.then(|| view! {
                <Confirm action="Delete role" what=format!("Everyone who holds {role_name} loses what it gives them. This cannot be undone.")>
                    <ActionForm action=delete attr:class="inline">
                        <input type="hidden" name="workspace_id" value=ws2 />
                        <input type="hidden" name="role_id" value=rid2 />
                        <button type="submit" class="danger">{format!("Delete {role_name}")}</button>
                    </ActionForm>
                </Confirm>
            })}
        </details>
    }
}

#[allow(clippy::too_many_arguments)]
fn member_row(
    m: &MemberDto,
    me_id: &str,
    ws_id: &str,
    roles: &[RoleDto],
    assignable: &[RoleDto],
    member_role: ServerAction<SetMemberRole>,
    moderate: ServerAction<ModerateMember>,
    (kick, ban, timeout): (bool, bool, bool),
) -> impl IntoView + use<> {
    let held: Vec<RoleDto> =
        m.roles.iter().filter_map(|id| roles.iter().find(|r| r.id == *id)).cloned().collect();
    let chips = held
        .iter()
        .map(|r| {
            let removable = assignable.iter().any(|a| a.id == r.id);
            let (ws, uid, rid) = (ws_id.to_string(), m.user.id.clone(), r.id.clone());
            view! {
                <span class="role-chip" style=(!r.colour.is_empty()).then(|| format!("border-color: {}", r.colour))>
                    {r.name.clone()}
                    {removable.then(|| view! {
                        <ActionForm action=member_role attr:class="inline">
                            <input type="hidden" name="workspace_id" value=ws />
                            <input type="hidden" name="user_id" value=uid />
                            <input type="hidden" name="role_id" value=rid />
                            <input type="hidden" name="on" value="false" />
                            <button type="submit" class="link" aria-label="Remove role">"×"</button>
                        </ActionForm>
                    })}
                </span>
            }
        })
        .collect_view();
    let options = assignable
        .iter()
        .filter(|r| !m.roles.contains(&r.id))
        .map(|r| view! { <option value=r.id.clone()>{r.name.clone()}</option> })
        .collect_view();
    let is_self = m.user.id == me_id;
    let acts = !is_self && !m.is_owner;
    let give = (!assignable.is_empty()).then(|| {
        let (ws, uid) = (ws_id.to_string(), m.user.id.clone());
        view! {
            <ActionForm action=member_role attr:class="inline" attr:aria-label=format!("Give {} a role", m.user.display_name)>
                <input type="hidden" name="workspace_id" value=ws />
                <input type="hidden" name="user_id" value=uid />
                <input type="hidden" name="on" value="true" />
                <select name="role_id" aria-label="Role">{options}</select>
                <button type="submit">"Give role"</button>
            </ActionForm>
        }
    });
    let name = m.user.display_name.clone();
    // Kick, ban and time out ask first: the summary opens what it will do,
    // and the button inside does it (so without JavaScript too).
    let confirmed = |action: &'static str, label: &'static str, what: String, extra: AnyView| {
        let (ws, uid) = (ws_id.to_string(), m.user.id.clone());
        let button = format!("{label} {name}");
        view! {
            <Confirm action=label what=what>
                <ActionForm action=moderate attr:class="inline">
                    <input type="hidden" name="workspace_id" value=ws />
                    <input type="hidden" name="user_id" value=uid />
                    <input type="hidden" name="action" value=action />
                    {extra}
                    <button type="submit" class="danger">{button}</button>
                </ActionForm>
            </Confirm>
        }
    };
    let timed_out = m.timeout_until.is_some();
    let lift = (acts && timeout && timed_out).then(|| {
        let (ws, uid) = (ws_id.to_string(), m.user.id.clone());
        view! {
            <ActionForm action=moderate attr:class="inline">
                <input type="hidden" name="workspace_id" value=ws />
                <input type="hidden" name="user_id" value=uid />
                <input type="hidden" name="action" value="timeout" />
                <input type="hidden" name="minutes" value="0" />
                <button type="submit" class="link">"Lift timeout"</button>
            </ActionForm>
        }
    });
    let time_out = (acts && timeout && !timed_out).then(|| {
        confirmed(
            "timeout",
            "Time out",
            format!("{name} can read but not post, react or join calls until the time is up."),
            view! { <select name="minutes" aria-label="For">
                <option value="10">"10 minutes"</option><option value="60">"1 hour"</option>
                <option value="1440">"1 day"</option><option value="10080">"1 week"</option>
            </select> }
            .into_any(),
        )
    });
    let kick_form = (acts && kick).then(|| {
        confirmed(
            "kick",
            "Kick",
            format!("{name} leaves the workspace at once; an invite brings them back."),
            ().into_any(),
        )
    });
    let ban_form = (acts && ban).then(|| {
        confirmed(
            "ban",
            "Ban",
            format!("{name} leaves the workspace and cannot come back, even with an invite, until unbanned."),
            view! { <input name="reason" placeholder="Reason" aria-label="Reason for the ban" maxlength="500" /> }.into_any(),
        )
    });
    view! {
        <li class="member-setting" data-user=m.user.username.clone()>
            <span class="who"><strong>{m.user.display_name.clone()}</strong> <span class="username">"@" {m.user.username.clone()}</span></span>
            {m.is_owner.then(|| view! { <span class="role-chip owner">"Owner"</span> })}
            {m.is_guest.then(|| view! { <span class="role-chip guest">"Guest"</span> })}
            {timed_out.then(|| view! { <span class="role-chip timed-out">"Timed out"</span> })}
            {chips}
            <span class="actions">{give}{lift}{time_out}{kick_form}{ban_form}</span>
        </li>
    }
}

#[allow(clippy::too_many_arguments)]
fn channel_editor(
    c: &ChannelDto,
    ws_id: &str,
    roles: &[RoleDto],
    members: &[MemberDto],
    overrides: &[OverrideDto],
    channel_perms: &[crate::wire::PermissionDto],
    categories: &[crate::wire::CategoryDto],
    configure: ServerAction<ConfigureChannel>,
    set_override: ServerAction<SetChannelOverride>,
    arrange: ServerAction<ArrangeChannels>,
) -> impl IntoView + use<> {
    let kind = c.kind.as_str();
    let kinds = ["text", "announcement", "voice"]
        .map(|k| view! { <option value=k selected=k == kind>{k}</option> })
        .collect_view();
    // Who an override can be for: roles (but the owner's) and members, as
    // (`role:<id>` or `member:<id>`, what the page calls them).
    let targets: Vec<(String, String)> = roles
        .iter()
        .filter(|r| r.builtin.as_deref() != Some("owner"))
        .map(|r| (format!("role:{}", r.id), format!("Role: {}", r.name)))
        .chain(
            members
                .iter()
                .map(|m| (format!("member:{}", m.user.id), format!("Member: {}", m.user.display_name))),
        )
        .collect();
    let key = |o: &OverrideDto| format!("{}:{}", o.target_kind, o.target_id);
    let existing = overrides
        .iter()
        .map(|o| {
            let target = key(o);
            let name = targets.iter().find(|(k, _)| *k == target).map_or_else(|| target.clone(), |(_, n)| n.clone());
            let summary = override_summary(o);
            let label = format!("Permissions of {name} in {}", c.name);
            view! {
                <li>
                    <details class="override">
                        <summary><strong>{name.clone()}</strong> " " <span class="hint">{summary}</span></summary>
                        {override_form(set_override, &c.id, OverrideFor::Set(target), Some(o), channel_perms, label)}
                    </details>
                </li>
            }
        })
        .collect_view();
    let open_targets: Vec<(String, String)> =
        targets.into_iter().filter(|(k, _)| !overrides.iter().any(|o| key(o) == *k)).collect();
    let cat_options = categories
        .iter()
        .map(|k| {
            let selected = c.category_id.as_deref() == Some(k.id.as_str());
            view! { <option value=k.id.clone() selected=selected>{k.name.clone()}</option> }
        })
        .collect_view();
    let (cid, cid2) = (c.id.clone(), c.id.clone());
    let no_category = c.category_id.is_none();
    let (settings_label, perms_label, cid0) =
        (format!("Settings of {}", c.name), format!("Permissions in {}", c.name), c.id.clone());
    let (private, external, auto_join, archived, limit, sensitive) =
        (c.is_private, c.is_external, c.auto_join, c.archived, c.user_limit, c.sensitive);
    let ws = ws_id.to_string();
    let category_inputs = hidden(
        categories.iter().enumerate().map(|(i, k)| (format!("categories[{i}]"), k.id.clone())).collect(),
    );
    let category_label = format!("Category of {}", c.name);
    view! {
        <details class="channel-edit">
            <summary>"Settings"</summary>
            <ActionForm action=configure attr:class="stack" attr:aria-label=settings_label>
                <input type="hidden" name="channel_id" value=cid0 />
                <label>"Type " <select name="kind">{kinds}</select></label>
                <label class="check"><input type="checkbox" name="is_private" value="true" checked=private />" Private"</label>
                <label class="check"><input type="checkbox" name="is_external" value="true" checked=external />" Open to guests (external)"</label>
                <label class="check"><input type="checkbox" name="auto_join" value="true" checked=auto_join />" New members join it automatically"</label>
                <label class="check"><input type="checkbox" name="archived" value="true" checked=archived />" Archived (read-only)"</label>
                <label class="check"><input type="checkbox" name="sensitive" value="true" checked=sensitive />" Sensitive: kept out of search, not quoted in notifications"</label>
                <label>"User limit (voice) " <input name="user_limit" type="number" min="0" max="99" value=limit /></label>
                <button type="submit">"Save channel"</button>
            </ActionForm>
            {(!categories.is_empty()).then(|| view! {
                <ActionForm action=arrange attr:class="inline" attr:aria-label=category_label>
                    <input type="hidden" name="workspace_id" value=ws />
                    {category_inputs}
                    <input type="hidden" name="channels[0][channel_id]" value=cid2 />
                    <label>"Category "
                        <select class="category-select" name="channels[0][category_id]">
                            <option value="" selected=no_category>"None"</option>
                            {cat_options}
                        </select>
                    </label>
                    " "
                    <button type="submit">"Move to category"</button>
                </ActionForm>
            })}
            <h4>"Permissions here"</h4>
            {if overrides.is_empty() {
                view! { <p class="hint">"Everyone has here what their roles give them everywhere."</p> }.into_any()
            } else {
                view! { <ul class="overrides-set">{existing}</ul> }.into_any()
            }}
            <details class="override">
                <summary>"Set permissions for a role or member…"</summary>
                {override_form(set_override, &cid, OverrideFor::Choose(open_targets), None, channel_perms, perms_label)}
            </details>
        </details>
    }
}

/// Whom an override form is for: one already set (its `role:<id>` or
/// `member:<id>`), or a choice among those without one (with their names).
enum OverrideFor {
    Set(String),
    Choose(Vec<(String, String)>),
}

/// What an override does, in a few words: "allows X; denies Y".
fn override_summary(o: &OverrideDto) -> String {
    let mut parts = Vec::new();
    if !o.allow.is_empty() {
        parts.push(format!("allows {}", o.allow.join(", ")));
    }
    if !o.deny.is_empty() {
        parts.push(format!("denies {}", o.deny.join(", ")));
    }
    parts.join("; ")
}

/// The grid of a channel's permissions, allow and deny, for one role or
/// member (ticked as `current` has them), or for one chosen from a list.
fn override_form(
    set_override: ServerAction<SetChannelOverride>,
    channel_id: &str,
    target: OverrideFor,
    current: Option<&OverrideDto>,
    channel_perms: &[crate::wire::PermissionDto],
    label: String,
) -> impl IntoView + use<> {
    let has = |list: Option<&Vec<String>>, name: &str| list.is_some_and(|l| l.iter().any(|p| p == name));
    let rows = channel_perms
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (allowed, denied) =
                (has(current.map(|o| &o.allow), &p.name), has(current.map(|o| &o.deny), &p.name));
            view! {
                <tr>
                    <th scope="row" title=p.description.clone()>{p.name.clone()}</th>
                    <td><input type="checkbox" name=format!("allow[{i}]") value=p.name.clone() checked=allowed
                        aria-label=format!("Allow {}", p.name) /></td>
                    <td><input type="checkbox" name=format!("deny[{i}]") value=p.name.clone() checked=denied
                        aria-label=format!("Deny {}", p.name) /></td>
                </tr>
            }
        })
        .collect_view();
    // A form that adds an override starts afresh once it is sent.
    let adding = matches!(target, OverrideFor::Choose(_));
    let on_submit = move |ev| {
        if adding {
            start_afresh(ev);
        }
    };
    let target = match target {
        OverrideFor::Set(key) => view! { <input type="hidden" name="target" value=key /> }.into_any(),
        OverrideFor::Choose(choices) => {
            let options = choices
                .into_iter()
                .map(|(key, name)| view! { <option value=key>{name}</option> })
                .collect_view();
            view! {
                <label>"For "
                    <select name="target" required>
                        <option value="">"Choose a role or member"</option>
                        {options}
                    </select>
                </label>
            }
            .into_any()
        }
    };
    let channel_id = channel_id.to_string();
    view! {
        <ActionForm action=set_override attr:class="stack overrides" attr:aria-label=label on:submit=on_submit>
            <input type="hidden" name="channel_id" value=channel_id />
            {target}
            <table class="override-grid">
                <thead><tr><th>"Permission"</th><th>"Allow"</th><th>"Deny"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            <p class="hint">"Unticked in both: as the role or member has it elsewhere. Saving with nothing ticked removes the override."</p>
            <button type="submit">"Save permissions"</button>
        </ActionForm>
    }
}

/// The workspace's notification templates: each editable, stored ones
/// resettable to their default; new ones for custom notifications; the
/// defaults stored for editing at once.
fn templates_editor(
    ws: &str,
    templates: Vec<crate::wire::TemplateDto>,
    changed: RwSignal<u32>,
) -> impl IntoView + use<> {
    use crate::api::{CreateDefaultTemplates, ResetNotificationTemplate, SaveNotificationTemplate};
    let save = ServerAction::<SaveNotificationTemplate>::new();
    let reset = ServerAction::<ResetNotificationTemplate>::new();
    let defaults = ServerAction::<CreateDefaultTemplates>::new();
    reload_after(save, changed);
    reload_after(reset, changed);
    reload_after(defaults, changed);
    let value = save.value();
    let items = templates
        .into_iter()
        .map(|t| {
            let label = format!("{} · {}", t.name, t.channel);
            let is_email = t.channel == "email";
            let (ws1, ws2) = (ws.to_string(), ws.to_string());
            let form_label = format!("Template {label}");
            view! {
                <li>
                    <details class="template">
                        <summary>
                            <code>{t.name.clone()}</code> " · " {t.channel.clone()}
                            {t.is_default.then(|| view! { <span class="badge">"default"</span> })}
                        </summary>
                        <ActionForm action=save attr:class="stack" attr:aria-label=form_label>
                            <input type="hidden" name="workspace_id" value=ws1 />
                            <input type="hidden" name="name" value=t.name.clone() />
                            <input type="hidden" name="channel" value=t.channel.clone() />
                            {(t.channel != "sms").then(|| view! {
                                <label>"Subject" <input name="subject" value=t.subject.clone() maxlength="200" /></label>
                            })}
                            <label>"Text" <textarea name="body" rows="4" maxlength="5000">{t.body.clone()}</textarea></label>
                            {is_email.then(|| view! {
                                <label>"HTML (optional; empty: the text in paragraphs)"
                                    <textarea name="body_html" rows="4" maxlength="20000">{t.body_html.clone()}</textarea></label>
                            })}
                            <button type="submit">"Save template"</button>
                        </ActionForm>
                        {t.id.clone().map(|id| view! {
                            <ActionForm action=reset attr:class="inline">
                                <input type="hidden" name="workspace_id" value=ws2 />
                                <input type="hidden" name="template_id" value=id />
                                <button type="submit" class="link">"Back to the default"</button>
                            </ActionForm>
                        })}
                    </details>
                </li>
            }
        })
        .collect_view();
    let (ws_new, ws_defaults) = (ws.to_string(), ws.to_string());
    view! {
        <section class="settings-templates" aria-labelledby="templates-title">
            <h2 id="templates-title">"Notification templates"</h2>
            <p class="help">"Variables: " <code>"{{title}} {{content}} {{url}} {{workspace}} {{recipient}} {{type}} {{priority}}"</code>
                ", in the digest " <code>"{{count}} {{items}}"</code>
                ", and whatever a notification sent through the API gives as template data."</p>
            <ActionForm action=defaults attr:class="inline">
                <input type="hidden" name="workspace_id" value=ws_defaults />
                <button type="submit">"Store the defaults for editing"</button>
            </ActionForm>
            <ul class="template-list">{items}</ul>
            <details class="template-new">
                <summary>"+ Add a template"</summary>
                <ActionForm action=save attr:class="stack" attr:aria-label="Add a template">
                    <input type="hidden" name="workspace_id" value=ws_new />
                    <label>"Name (a notification type, or a template id for the API)" <input name="name" required maxlength="50" placeholder="task_assigned" /></label>
                    <label>"Channel" <select name="channel">
                        <option value="email">"Email"</option>
                        <option value="push">"Push"</option>
                        <option value="sms">"SMS"</option>
                        <option value="in_app">"In the app"</option>
                    </select></label>
                    <label>"Subject" <input name="subject" maxlength="200" /></label>
                    <label>"Text" <textarea name="body" rows="4" required maxlength="5000"></textarea></label>
                    <button type="submit">"Add template"</button>
                </ActionForm>
            </details>
            <FieldError id="template-error" message=move || crate::components::errors::field_error(value, "body")().or_else(form_error(value)) />
        </section>
    }
}
