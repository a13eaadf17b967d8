//! Retention and legal holds over the API: a channel's policy set by who
//! manages its workspace, applied by another node, and the purge seen live
//! by an open client; holds and the deployment's policy kept to the
//! deployment's administrators, with their audit log.

use crate::gateway::{Ws, connect_as};
use crate::helpers::{TestApp, assert_error, join, json_of, say, workspace};
use app::wire::{
    AuditEntryDto, DeploymentAuditEntryDto, DeploymentRetentionDto, GatewayEvent, LegalHoldDto,
    MessagePageDto, RetentionDto, RetentionPolicyDto,
};
use domain::hub::RetentionOutcome;
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The next `MESSAGES_PURGE` on `ws`: its message ids.
async fn next_purge(ws: &mut Ws) -> Vec<String> {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let frame = ws.next().await.expect("open").expect("frame");
            let Message::Text(text) = frame else { continue };
            if let Ok(GatewayEvent::MessagesPurge { message_ids, .. }) = serde_json::from_str(&text) {
                return message_ids;
            }
        }
    })
    .await
    .expect("a MESSAGES_PURGE within 10 s")
}

/// Who manages a workspace sets a channel's retention; when another node
/// applies it a month later, an open client hears of the purge and the
/// channel is empty.
async fn a_channels_retention_applied_elsewhere_reaches_an_open_client(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let path = format!("/api/communication/channels/{general}/retention/");
    let refused = bob.put(&app, &path, json!({"messages_days": 1})).await;
    assert_error(refused, StatusCode::FORBIDDEN, "forbidden", None).await;
    let set: RetentionDto = serde_json::from_value(
        json_of(ana.put(&app, &path, json!({"messages_days": 30})).await, StatusCode::OK).await,
    )
    .unwrap();
    assert_eq!(set.effective, RetentionPolicyDto { messages_days: Some(30), files_days: None });
    let seen: RetentionDto =
        serde_json::from_value(json_of(bob.get(&app, &path).await, StatusCode::OK).await).unwrap();
    assert_eq!((seen.own.messages_days, seen.may_change), (Some(30), false));
    let bad = ana.put(&app, &path, json!({"messages_days": -3})).await;
    assert_error(bad, StatusCode::BAD_REQUEST, "invalid", Some("messages_days")).await;

    let first = say(&app, &ana, &general, "first").await["id"].as_str().unwrap().to_string();
    let second = say(&app, &bob, &general, "second").await["id"].as_str().unwrap().to_string();
    let mut bobs = connect_as(&app, &bob).await;
    let other_node = app.other_node().await;
    let outcome = other_node.run_retention(domain::now_ms() + 31 * DAY_MS, None).await.unwrap();
    assert_eq!(outcome, RetentionOutcome::Finished { messages: 2, files: 0 });
    assert_eq!(next_purge(&mut bobs).await, vec![first, second]);
    let page = json_of(
        bob.get(&app, &format!("/api/communication/messages/?channel_id={general}")).await,
        StatusCode::OK,
    )
    .await;
    let page: MessagePageDto = serde_json::from_value(page).unwrap();
    assert!(page.messages.is_empty());
    let audit = json_of(
        ana.get(&app, &format!("/api/communication/workspaces/{ws}/audit_log/")).await,
        StatusCode::OK,
    )
    .await;
    let audit: Vec<AuditEntryDto> = serde_json::from_value(audit).unwrap();
    assert!(audit.iter().any(|e| e.action == "channel.retention"));
    assert!(audit.iter().any(|e| e.action == "retention.purge" && e.summary.contains("2 messages")));
    app
}

/// The first account holds and releases; others cannot see holds, the
/// deployment's policy or its audit log.
async fn deployment_administrators_hold_and_release(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let body = json!({"name": "Case 7", "reason": "Litigation", "user_ids": [bob.id]});
    assert_error(
        bob.post(&app, "/api/admin/holds/", body.clone()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    )
    .await;
    let hold: LegalHoldDto = serde_json::from_value(
        json_of(ana.post(&app, "/api/admin/holds/", body).await, StatusCode::CREATED).await,
    )
    .unwrap();
    assert_eq!(hold.users.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["bob"]);
    assert_error(bob.get(&app, "/api/admin/holds/").await, StatusCode::FORBIDDEN, "forbidden", None).await;
    let listed: Vec<LegalHoldDto> =
        serde_json::from_value(json_of(ana.get(&app, "/api/admin/holds/").await, StatusCode::OK).await)
            .unwrap();
    assert_eq!(listed, vec![hold.clone()]);
    let release = format!("/api/admin/holds/{}/release/", hold.id);
    assert_eq!(ana.post(&app, &release, json!({})).await.status(), StatusCode::NO_CONTENT);
    assert_error(ana.post(&app, &release, json!({})).await, StatusCode::CONFLICT, "conflict", Some("hold"))
        .await;
    let missing = ana.post(&app, "/api/admin/holds/42/release/", json!({})).await;
    assert_error(missing, StatusCode::NOT_FOUND, "not_found", None).await;

    assert_error(
        bob.put(&app, "/api/admin/retention/", json!({"messages_days": 1})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    )
    .await;
    let set = ana.put(&app, "/api/admin/retention/", json!({"messages_days": 365, "files_days": 90})).await;
    let set: DeploymentRetentionDto = serde_json::from_value(json_of(set, StatusCode::OK).await).unwrap();
    assert_eq!(set.effective, RetentionPolicyDto { messages_days: Some(365), files_days: Some(90) });
    assert_error(bob.get(&app, "/api/admin/audit/").await, StatusCode::FORBIDDEN, "forbidden", None).await;
    let log: Vec<DeploymentAuditEntryDto> =
        serde_json::from_value(json_of(ana.get(&app, "/api/admin/audit/").await, StatusCode::OK).await)
            .unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["settings.retention", "hold.release", "hold.create"]);
    app
}

crate::on_both_backends! {
    a_channels_retention_applied_elsewhere_reaches_an_open_client => a_channels_retention_applied_elsewhere_reaches_an_open_client;
    deployment_administrators_hold_and_release => deployment_administrators_hold_and_release;
}
