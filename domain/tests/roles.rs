//! Roles, channel overrides, channel types, guests, moderation and the
//! audit log, through the hub, on both backends.

use domain::hub::{ChannelSettings, NewChannel, RoleChange};
use domain::model::ChannelKind;
use domain::permissions::{Builtin, Override, OverrideTarget, Perm, Perms};
use domain::store::AuditFilter;
use domain::testing::TestDb;
use domain::{ErrorKind, Hub, Id};

mod common;
use common::{hub, user, workspace};

async fn builtin(hub: &Hub, actor: Id, ws: Id, b: Builtin) -> Id {
    hub.roles(actor, ws).await.unwrap().into_iter().find(|r| r.builtin == Some(b)).unwrap().id
}

async fn roles_and_overrides(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await; // owner
    let bob = user(&hub, "bob").await; // admin
    let cat = user(&hub, "cat").await; // member with a custom role
    let dan = user(&hub, "dan").await; // moderator
    let (ws, general) = workspace(&hub, ana, false).await;
    for u in [bob, cat, dan] {
        hub.join_workspace(u, ws).await.unwrap();
    }
    let roles = hub.roles(ana, ws).await.unwrap();
    assert_eq!(
        roles.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["Owner", "Admin", "Moderator", "Member", "Guest"],
        "built-in roles, highest first"
    );
    hub.set_member_role(ana, ws, bob, builtin(&hub, ana, ws, Builtin::Admin).await, true).await.unwrap();
    hub.set_member_role(bob, ws, dan, builtin(&hub, ana, ws, Builtin::Moderator).await, true).await.unwrap();

    // A coloured custom role that may not post in #general.
    let quiet = hub
        .create_role(
            bob,
            ws,
            RoleChange {
                name: "Quiet".into(),
                colour: "#AA3300".into(),
                permissions: Perms::of(&[Perm::ViewChannel]),
            },
        )
        .await
        .unwrap();
    assert_eq!(quiet.colour, "#aa3300");
    assert_eq!(quiet.position, 2, "a new role sits just above Member");
    hub.set_member_role(bob, ws, cat, quiet.id, true).await.unwrap();
    let deny = Override {
        target: OverrideTarget::Role(quiet.id),
        allow: Perms::NONE,
        deny: Perms::of(&[Perm::SendMessages]),
    };
    hub.set_override(bob, general, deny).await.unwrap();
    let err = hub.post_message(cat, general, "hello", None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert!(err.to_string().contains("permission to send messages"), "{err}");
    let listing = hub.channel(cat, general).await.unwrap();
    assert!(listing.post_block.is_some() && !listing.perms.has(Perm::SendMessages));
    assert!(listing.perms.has(Perm::AddReactions), "other permissions stay");
    // The admin and the owner are not subject to overrides; dan (moderator) is not in the role.
    hub.post_message(bob, general, "admin here", None).await.unwrap();
    let (m, _) = hub.post_message(dan, general, "moderator here", None).await.unwrap();
    // A member override allowing it beats the role's deny.
    let allow = Override {
        target: OverrideTarget::Member(cat),
        allow: Perms::of(&[Perm::SendMessages]),
        deny: Perms::NONE,
    };
    hub.set_override(bob, general, allow).await.unwrap();
    let (posted, _) = hub.post_message(cat, general, "now I may", None).await.unwrap();
    assert_eq!(posted.author_colour, "#aa3300", "names carry the highest coloured role");
    assert_eq!(hub.overrides(bob, general).await.unwrap().len(), 2);
    assert_eq!(hub.overrides(cat, general).await.unwrap_err().kind(), ErrorKind::Forbidden);

    // Hierarchy: nobody edits or gives a role at or above their own highest.
    let admin_role = builtin(&hub, ana, ws, Builtin::Admin).await;
    let change = RoleChange { name: "Admin".into(), colour: String::new(), permissions: Perms::ALL };
    assert_eq!(
        hub.update_role(dan, ws, admin_role, change.clone()).await.unwrap_err().kind(),
        ErrorKind::Forbidden
    );
    assert_eq!(hub.update_role(bob, ws, admin_role, change).await.unwrap_err().kind(), ErrorKind::Forbidden);
    assert_eq!(
        hub.set_member_role(dan, ws, cat, admin_role, true).await.unwrap_err().kind(),
        ErrorKind::Forbidden
    );
    // Moderators delete others' messages; members do not.
    let (cats, _) = hub.post_message(cat, general, "spam", None).await.unwrap();
    assert_eq!(hub.delete_message(cat, m.id).await.unwrap_err().kind(), ErrorKind::Forbidden);
    hub.delete_message(dan, cats.id).await.unwrap();

    // Reordering puts the custom role above Moderator for those allowed.
    let moderator = builtin(&hub, ana, ws, Builtin::Moderator).await;
    let roles = hub.reorder_roles(bob, ws, &[quiet.id, moderator]).await.unwrap();
    let pos = |id: Id| roles.iter().find(|r| r.id == id).unwrap().position;
    assert!(pos(quiet.id) > pos(moderator));
    assert_eq!(hub.reorder_roles(bob, ws, &[quiet.id]).await.unwrap_err().kind(), ErrorKind::Invalid);

    let log = hub.audit_log(ana, ws, &AuditFilter::default()).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    for a in ["role.create", "member.role_add", "channel.permissions", "message.delete", "role.reorder"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    let only_roles = hub
        .audit_log(ana, ws, &AuditFilter { action: Some("role".into()), ..Default::default() })
        .await
        .unwrap();
    assert!(only_roles.iter().all(|e| e.action.starts_with("role.")) && !only_roles.is_empty());
    assert_eq!(
        hub.audit_log(cat, ws, &AuditFilter::default()).await.unwrap_err().kind(),
        ErrorKind::Forbidden
    );
}

async fn channel_types_and_guests(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await;
    let bob = user(&hub, "bob").await;
    let gus = user(&hub, "gus").await;
    let (ws, general) = workspace(&hub, ana, false).await;
    hub.join_workspace(bob, ws).await.unwrap();

    // Announcement: only permitted roles post; everyone reacts and replies in threads.
    let mut new = NewChannel::text("news", "", false);
    new.kind = ChannelKind::Announcement;
    new.auto_join = true;
    let news = hub.create_channel_with(ana, ws, new).await.unwrap();
    let (post, _) = hub.post_message(ana, news.id, "Release today", None).await.unwrap();
    assert!(
        hub.channel(bob, news.id).await.unwrap().is_member,
        "auto-join channels take in existing members"
    );
    let err = hub.post_message(bob, news.id, "me too", None).await.unwrap_err();
    assert!(err.to_string().contains("announcement"), "{err}");
    hub.add_reaction(bob, post.id, "🎉").await.unwrap();
    hub.post(bob, news.id, domain::hub::Post { body: "Nice", thread: Some(post.id), ..Default::default() })
        .await
        .unwrap();

    // External channel and a guest invite to it only.
    let mut ext = NewChannel::text("with-client", "", true);
    ext.is_external = true;
    let ext = hub.create_channel_with(ana, ws, ext).await.unwrap();
    let secret = hub.create_channel(ana, ws, "secret", "", true).await.unwrap();
    assert_eq!(
        hub.create_guest_invite(ana, ws, &[general], None, Default::default()).await.unwrap_err().kind(),
        ErrorKind::Invalid
    );
    let invite = hub
        .create_guest_invite(ana, ws, &[ext.id], Some("gus@example.com"), Default::default())
        .await
        .unwrap();
    let (_, opened) = hub.accept_invite(gus, &invite.code).await.unwrap();
    assert_eq!(opened.id, ext.id);
    let seen: Vec<String> =
        hub.channels(gus, ws).await.unwrap().into_iter().map(|l| l.channel.name).collect();
    assert_eq!(seen, ["with-client"], "a guest sees only their channel");
    assert_eq!(hub.messages(gus, general, None, 10).await.unwrap_err().kind(), ErrorKind::NotFound);
    hub.post_message(gus, ext.id, "hello from outside", None).await.unwrap();
    hub.post_message(bob, general, "outside words are secret", None).await.unwrap();
    assert!(
        hub.search(gus, "outside", Some(ws)).await.unwrap().iter().all(|h| h.message.channel_id == ext.id)
    );
    let people: Vec<Id> = hub.members(gus, ws).await.unwrap().into_iter().map(|m| m.user.id).collect();
    assert!(
        people.contains(&ana) && people.contains(&gus) && !people.contains(&bob),
        "only people in their channels"
    );
    assert!(hub.create_channel(gus, ws, "mine", "", false).await.is_err());
    assert!(hub.create_invite(gus, ws, None, Default::default()).await.is_err());
    assert_eq!(hub.add_channel_member(ana, secret.id, "gus").await.unwrap_err().kind(), ErrorKind::Invalid);

    // Archive: read-only, out of the first-channel choice, still searchable; unarchive restores.
    let settings = ChannelSettings {
        kind: ChannelKind::Text,
        is_private: false,
        is_external: false,
        auto_join: true,
        archived: true,
        user_limit: 0,
        sensitive: false,
    };
    hub.configure_channel(ana, general, settings).await.unwrap();
    let err = hub.post_message(bob, general, "anyone?", None).await.unwrap_err();
    assert!(err.to_string().contains("archived"), "{err}");
    assert_eq!(
        hub.search(bob, "secret", Some(ws)).await.unwrap().len(),
        1,
        "archived channels stay searchable"
    );
    hub.configure_channel(ana, general, ChannelSettings { archived: false, ..settings }).await.unwrap();
    hub.post_message(bob, general, "back", None).await.unwrap();

    // Voice channels keep a user limit; categories and order.
    let mut voice = NewChannel::text("lounge", "", false);
    voice.kind = ChannelKind::Voice;
    voice.user_limit = 5;
    let lounge = hub.create_channel_with(ana, ws, voice).await.unwrap();
    assert_eq!((lounge.kind, lounge.user_limit), (ChannelKind::Voice, 5));
    let cat = hub.create_category(ana, ws, "Team").await.unwrap();
    hub.arrange_channels(ana, ws, &[cat.id], &[(lounge.id, Some(cat.id)), (general, None)]).await.unwrap();
    let list = hub.channels(ana, ws).await.unwrap();
    assert_eq!(list.iter().find(|l| l.channel.id == lounge.id).unwrap().channel.category_id, Some(cat.id));
    assert_eq!(
        list.iter().find(|l| l.channel.category_id.is_none()).unwrap().channel.id,
        general,
        "general first"
    );
    assert_eq!(hub.arrange_channels(bob, ws, &[], &[]).await.unwrap_err().kind(), ErrorKind::Forbidden);
}

async fn moderation(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await;
    let bob = user(&hub, "bob").await;
    let dan = user(&hub, "dan").await;
    let (ws, general) = workspace(&hub, ana, true).await;
    let invite = hub.create_invite(ana, ws, None, Default::default()).await.unwrap();
    for u in [bob, dan] {
        hub.accept_invite(u, &invite.code).await.unwrap();
    }
    hub.set_member_role(ana, ws, dan, builtin(&hub, ana, ws, Builtin::Moderator).await, true).await.unwrap();

    // Timeout: no posting or reacting for a while; lifting it restores.
    hub.timeout(dan, ws, bob, 10).await.unwrap();
    let err = hub.post_message(bob, general, "hi", None).await.unwrap_err();
    assert!(err.to_string().contains("timed out"), "{err}");
    assert_eq!(hub.timeout(dan, ws, bob, 50_000).await.unwrap_err().kind(), ErrorKind::Invalid);
    hub.timeout(dan, ws, bob, 0).await.unwrap();
    hub.post_message(bob, general, "hi", None).await.unwrap();

    // A moderator cannot act on the owner or on themselves; a member cannot kick.
    assert_eq!(hub.kick(dan, ws, ana).await.unwrap_err().kind(), ErrorKind::Forbidden);
    assert_eq!(hub.kick(bob, ws, dan).await.unwrap_err().kind(), ErrorKind::Forbidden);
    assert_eq!(hub.kick(dan, ws, dan).await.unwrap_err().kind(), ErrorKind::Forbidden);

    // Kick: gone, but an invite brings them back.
    hub.kick(dan, ws, bob).await.unwrap();
    assert_eq!(hub.messages(bob, general, None, 5).await.unwrap_err().kind(), ErrorKind::NotFound);
    hub.accept_invite(bob, &invite.code).await.unwrap();

    // Ban: gone, and no invite brings them back until unbanned.
    hub.ban(dan, ws, bob, "spam").await.unwrap();
    let err = hub.accept_invite(bob, &invite.code).await.unwrap_err();
    assert!(err.to_string().contains("banned"), "{err}");
    assert_eq!(hub.bans(ana, ws).await.unwrap()[0].reason, "spam");
    hub.unban(ana, ws, bob).await.unwrap();
    hub.accept_invite(bob, &invite.code).await.unwrap();

    let log =
        hub.audit_log(ana, ws, &AuditFilter { target_user: Some(bob), ..Default::default() }).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["member.unban", "member.ban", "member.kick", "member.timeout", "member.timeout"]);
    assert_eq!(log[1].summary, "Banned: spam");
}

/// What announces a change of roles is logged in the change's own commit:
/// one `WorkspaceUpdated` for each change made, none for a change that
/// changed nothing or was refused.
async fn a_role_change_is_logged_with_its_announcement(db: &TestDb) {
    use domain::events::EventKind;
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await;
    let bob = user(&hub, "bob").await;
    let (ws, _) = workspace(&hub, ana, false).await;
    hub.join_workspace(bob, ws).await.unwrap();
    let change = RoleChange { name: "Crew".into(), colour: "#3366ff".into(), permissions: Perms::NONE };
    let before = hub.event_position().await.unwrap();
    let crew = hub.create_role(ana, ws, change.clone()).await.unwrap();
    hub.set_member_role(ana, ws, bob, crew.id, true).await.unwrap();
    hub.set_member_role(ana, ws, bob, crew.id, true).await.unwrap();
    assert!(hub.create_role(ana, ws, change).await.is_err(), "the name is taken");

    let logged = hub.events_after(before).await.unwrap();
    let updates: Vec<i64> = logged
        .iter()
        .filter(|e| matches!(e.kind, EventKind::WorkspaceUpdated { workspace_id } if workspace_id == ws))
        .map(|e| e.seq)
        .collect();
    assert_eq!(updates.len(), 2, "the role made and the role given, nothing else: {logged:?}");
    assert_eq!(hub.event_position().await.unwrap(), *updates.last().unwrap());
}

async fn a_post_shows_its_author_s_highest_coloured_role(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await; // owner
    let bob = user(&hub, "bob").await;
    let cat = user(&hub, "cat").await;
    let (ws, general) = workspace(&hub, ana, false).await;
    for u in [bob, cat] {
        hub.join_workspace(u, ws).await.unwrap();
    }
    let moderator = builtin(&hub, ana, ws, Builtin::Moderator).await;
    let admin = builtin(&hub, ana, ws, Builtin::Admin).await;
    hub.set_member_role(ana, ws, cat, moderator, true).await.unwrap();
    hub.set_member_role(ana, ws, cat, admin, true).await.unwrap();
    let colour = |who| {
        let hub = hub.clone();
        async move { hub.post_message(who, general, "hi", None).await.unwrap().0.author_colour }
    };
    assert_eq!(colour(ana).await, Builtin::Owner.colour(), "the owner's name takes the Owner role's colour");
    assert_eq!(colour(bob).await, "", "Member has no colour");
    assert_eq!(colour(cat).await, Builtin::Admin.colour(), "the highest of two coloured roles");
}

async fn a_workspace_s_standing_holds_a_member_s_roles_and_none_for_an_outsider(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await; // owner
    let bob = user(&hub, "bob").await;
    let cat = user(&hub, "cat").await;
    let (ws, _) = workspace(&hub, ana, false).await;
    hub.join_workspace(bob, ws).await.unwrap();
    let moderator = builtin(&hub, ana, ws, Builtin::Moderator).await;
    hub.set_member_role(ana, ws, bob, moderator, true).await.unwrap();
    let standing = |who| hub.store().workspace_standing(ws, who);

    let (workspace, bob_there) = standing(bob).await.unwrap().expect("the workspace");
    assert_eq!(workspace.id, ws);
    let mut held: Vec<Id> = bob_there.expect("bob is a member").roles.iter().map(|r| r.id).collect();
    held.sort();
    let member = builtin(&hub, ana, ws, Builtin::Member).await;
    let mut expected = vec![member, moderator];
    expected.sort();
    assert_eq!(held, expected, "Member and the role given");

    let (_, cat_there) = standing(cat).await.unwrap().expect("the workspace");
    assert!(cat_there.is_none(), "an outsider has no standing");
    assert!(hub.store().workspace_standing(Id::new(), bob).await.unwrap().is_none(), "no such workspace");
}

async fn the_settings_page_sees_the_overrides_of_the_channels_its_reader_may_change(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await; // owner
    let cat = user(&hub, "cat").await; // a member who creates a channel of her own
    let (ws, general) = workspace(&hub, ana, false).await;
    hub.join_workspace(cat, ws).await.unwrap();
    let cats = hub.create_channel(cat, ws, "cats", "", false).await.unwrap();
    let member = builtin(&hub, ana, ws, Builtin::Member).await;
    let quiet = |channel| {
        (
            channel,
            Override {
                target: OverrideTarget::Role(member),
                allow: Perms::NONE,
                deny: Perms::of(&[Perm::SendMessages]),
            },
        )
    };
    for (channel, o) in [quiet(general), quiet(cats.id)] {
        hub.set_override(ana, channel, o).await.unwrap();
    }
    let all = hub.manageable_overrides(ana, ws).await.unwrap();
    assert_eq!(all.len(), 2, "the owner changes every channel");
    assert_eq!(all[&general], vec![quiet(general).1]);
    let hers = hub.manageable_overrides(cat, ws).await.unwrap();
    assert_eq!(hers.keys().collect::<Vec<_>>(), [&cats.id], "a member only the channel she created");
    // As everything of a workspace one is not in: not found.
    let stranger = user(&hub, "dan").await;
    assert_eq!(hub.manageable_overrides(stranger, ws).await.unwrap_err().kind(), ErrorKind::NotFound);
}

domain::both_backends! {
    the_settings_page_sees_the_overrides_of_the_channels_its_reader_may_change => the_settings_page_sees_the_overrides_of_the_channels_its_reader_may_change;
    a_workspace_s_standing_holds_a_member_s_roles_and_none_for_an_outsider => a_workspace_s_standing_holds_a_member_s_roles_and_none_for_an_outsider;
    a_post_shows_its_author_s_highest_coloured_role => a_post_shows_its_author_s_highest_coloured_role;
    a_role_change_is_logged_with_its_announcement => a_role_change_is_logged_with_its_announcement;
    roles_overrides_hierarchy_and_colours => roles_and_overrides;
    announcement_external_guests_archive_voice_and_order => channel_types_and_guests;
    timeouts_kicks_bans_and_the_audit_log => moderation;
}
