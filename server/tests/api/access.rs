//! Access that can be taken back: invites that expire, run out and can be
//! revoked, and that stop when their maker can no longer invite.

use crate::helpers::{TestApp, User, assert_error, join, json_of, workspace};
use app::wire::{AuditEntryDto, InviteDto};
use reqwest::StatusCode;
use serde_json::{Value, json};

const HOUR_MS: i64 = 3_600_000;

async fn make_invite(app: &TestApp, who: &User, ws: &str, terms: Value) -> InviteDto {
    let res = who.post(app, &format!("/api/workspaces/{ws}/invites"), terms).await;
    serde_json::from_value(json_of(res, StatusCode::CREATED).await).unwrap()
}

async fn listed(app: &TestApp, who: &User, ws: &str) -> Vec<InviteDto> {
    let res = who.get(app, &format!("/api/workspaces/{ws}/invites")).await;
    serde_json::from_value(json_of(res, StatusCode::OK).await).unwrap()
}

async fn accept(app: &TestApp, who: &User, code: &str) -> reqwest::Response {
    who.post(app, &format!("/api/invites/{code}/accept"), json!({})).await
}

/// Without terms an invite lasts a week with no limit on uses; the maker may
/// choose an hour to a year (or never) and a number of uses.
async fn invites_last_a_week_unless_told_otherwise(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let (ws, _) = workspace(&app, &ana, true).await;
    let plain = make_invite(&app, &ana, &ws, json!({})).await;
    assert_eq!(plain.expires_at, Some(plain.created_at + 7 * 24 * HOUR_MS));
    assert_eq!((plain.max_uses, plain.uses), (None, 0));
    let short = make_invite(&app, &ana, &ws, json!({"expires_in_hours": 1, "max_uses": 2})).await;
    assert_eq!((short.expires_at, short.max_uses), (Some(short.created_at + HOUR_MS), Some(2)));
    let forever = make_invite(&app, &ana, &ws, json!({"expires_in_hours": 0})).await;
    assert_eq!(forever.expires_at, None);
    for (bad, field) in [
        (json!({"expires_in_hours": -1}), "expires_in_hours"),
        (json!({"expires_in_hours": 9_999_999}), "expires_in_hours"),
        (json!({"max_uses": 100_000}), "max_uses"),
    ] {
        let res = ana.post(&app, &format!("/api/workspaces/{ws}/invites"), bad).await;
        assert_error(res, StatusCode::BAD_REQUEST, "invalid", Some(field)).await;
    }
    let codes: Vec<String> = listed(&app, &ana, &ws).await.into_iter().map(|i| i.code).collect();
    assert_eq!(codes.len(), 3);
    assert!(codes.contains(&plain.code) && codes.contains(&short.code) && codes.contains(&forever.code));
    app
}

/// An invite for one use admits one person; the next is told it is used up,
/// and it leaves the list.
async fn an_invite_admits_only_as_many_as_its_uses(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let cy = app.user("cy").await;
    let (ws, _) = workspace(&app, &ana, true).await;
    let once = make_invite(&app, &ana, &ws, json!({"max_uses": 1})).await;
    json_of(accept(&app, &bob, &once.code).await, StatusCode::OK).await;
    let refused =
        assert_error(accept(&app, &cy, &once.code).await, StatusCode::FORBIDDEN, "forbidden", None).await;
    assert!(refused["message"].as_str().unwrap().contains("used up"), "{refused}");
    assert!(listed(&app, &ana, &ws).await.is_empty());
    app
}

/// A revoked link stops at once; members see and revoke only their own
/// invites, who may change the workspace sees and revokes all; the audit log
/// records it.
async fn a_revoked_invite_stops_at_once(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let cy = app.user("cy").await;
    let (ws, _) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let anas = make_invite(&app, &ana, &ws, json!({})).await;
    let bobs = make_invite(&app, &bob, &ws, json!({})).await;

    let bob_sees: Vec<String> = listed(&app, &bob, &ws).await.into_iter().map(|i| i.code).collect();
    assert_eq!(bob_sees, [bobs.code.as_str()], "a member sees only their own invites");
    assert_eq!(listed(&app, &ana, &ws).await.len(), 2, "the owner sees every invite");
    assert_error(
        bob.delete(&app, &format!("/api/invites/{}", anas.code)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    )
    .await;
    assert_error(
        cy.delete(&app, &format!("/api/invites/{}", anas.code)).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;

    let res = ana.delete(&app, &format!("/api/invites/{}", bobs.code)).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_error(
        cy.get(&app, &format!("/api/invites/{}", bobs.code)).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;
    assert_error(accept(&app, &cy, &bobs.code).await, StatusCode::NOT_FOUND, "not_found", None).await;
    let left: Vec<String> = listed(&app, &ana, &ws).await.into_iter().map(|i| i.code).collect();
    assert_eq!(left, [anas.code.as_str()]);

    let audit = json_of(
        ana.get(&app, &format!("/api/communication/workspaces/{ws}/audit_log/?action=invite")).await,
        StatusCode::OK,
    )
    .await;
    let audit: Vec<AuditEntryDto> = serde_json::from_value(audit).unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "invite.revoke");
    assert_eq!(audit[0].target_user.as_ref().map(|u| u.id.as_str()), Some(bob.id.as_str()));
    app
}

/// An invite speaks for its maker: once they are removed from the
/// workspace, it admits no one.
async fn an_invite_stops_when_its_maker_cannot_invite(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let cy = app.user("cy").await;
    let (ws, _) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let bobs = make_invite(&app, &bob, &ws, json!({})).await;
    let kick = format!("/api/communication/workspaces/{ws}/members/{}/kick/", bob.id);
    assert_eq!(ana.post(&app, &kick, json!({})).await.status(), StatusCode::NO_CONTENT);
    let refused =
        assert_error(accept(&app, &cy, &bobs.code).await, StatusCode::FORBIDDEN, "forbidden", None).await;
    assert!(refused["message"].as_str().unwrap().contains("no longer"), "{refused}");
    let mine = json_of(cy.get(&app, "/api/workspaces").await, StatusCode::OK).await;
    assert_eq!(mine.as_array().unwrap().len(), 0, "cy did not join");
    app
}

crate::on_both_backends! {
    invites_last_a_week_unless_told_otherwise => invites_last_a_week_unless_told_otherwise;
    an_invite_admits_only_as_many_as_its_uses => an_invite_admits_only_as_many_as_its_uses;
    a_revoked_invite_stops_at_once => a_revoked_invite_stops_at_once;
    an_invite_stops_when_its_maker_cannot_invite => an_invite_stops_when_its_maker_cannot_invite;
}
