//! Compliance exports over the API: asked for, written by the server's
//! worker, downloaded whole and resumed with `Range`, audited once; the
//! daily export's setting; only deployment administrators, with reasons
//! for what is refused.

use crate::helpers::{TestApp, User, assert_error, json_of, say, workspace};
use app::wire::{ComplianceExportDto, DailyExportDto, DeploymentAuditEntryDto};
use reqwest::StatusCode;
use serde_json::json;
use std::io::Read;
use std::time::Duration;

/// Waits (up to 20 s) until the server has written export `id`; returns it.
pub async fn finished(app: &TestApp, admin: &User, id: &str) -> ComplianceExportDto {
    let path = format!("/api/admin/exports/{id}/");
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let export: ComplianceExportDto =
                serde_json::from_value(json_of(admin.get(app, &path).await, StatusCode::OK).await).unwrap();
            match export.state.as_str() {
                "done" => return export,
                "failed" => panic!("the export failed: {}", export.error),
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    })
    .await
    .expect("the export is written within 20 s")
}

fn today() -> String {
    domain::export::day_of(domain::now_ms())
}

/// An administrator asks for an export; the server writes it; the zip
/// downloads with the day's messages, a cut-off download resumes with
/// `Range`, and the deployment's audit log notes it once.
async fn an_export_is_written_and_downloaded(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    say(&app, &ana, &general, "for the record").await;
    let body = json!({"format": "json", "from": today(), "to": today(), "workspace_ids": [ws]});
    let asked: ComplianceExportDto = serde_json::from_value(
        json_of(ana.post(&app, "/api/admin/exports/", body).await, StatusCode::ACCEPTED).await,
    )
    .unwrap();
    assert_eq!((asked.format.as_str(), asked.workspace_ids.clone()), ("json", vec![ws.clone()]));
    let done = finished(&app, &ana, &asked.id).await;
    assert_eq!((done.messages, done.files), (1, 0));

    let archive = format!("/api/admin/exports/{}/archive", done.id);
    let whole = ana.get(&app, &archive).await;
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(whole.headers()["content-type"], "application/zip");
    let disposition = whole.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.contains(&done.file_name), "{disposition}");
    let bytes = whole.bytes().await.unwrap();
    assert_eq!(bytes.len() as i64, done.bytes);
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut day = String::new();
    zip.by_name(&format!("Acme-{ws}/general/{}.json", today())).unwrap().read_to_string(&mut day).unwrap();
    assert!(day.contains("for the record"), "{day}");

    let rest = ana.send(&app, "GET", ana.client.get(app.url(&archive)).header("range", "bytes=100-")).await;
    assert_eq!(rest.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(rest.bytes().await.unwrap(), bytes[100..]);
    let past = ana
        .send(
            &app,
            "GET",
            ana.client.get(app.url(&archive)).header("range", format!("bytes={}-", bytes.len() + 10)),
        )
        .await;
    assert_error(past, StatusCode::RANGE_NOT_SATISFIABLE, "invalid", Some("range")).await;
    let log: Vec<DeploymentAuditEntryDto> =
        serde_json::from_value(json_of(ana.get(&app, "/api/admin/audit/").await, StatusCode::OK).await)
            .unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["export.download", "export.finish", "export.create"]);
    app
}

/// Deleting an export removes it; it is then not found.
async fn a_deleted_export_is_gone(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let body = json!({"format": "eml", "from": today(), "to": today()});
    let asked = json_of(ana.post(&app, "/api/admin/exports/", body).await, StatusCode::ACCEPTED).await;
    let id = asked["id"].as_str().unwrap();
    finished(&app, &ana, id).await;
    let path = format!("/api/admin/exports/{id}/");
    assert_eq!(ana.delete(&app, &path).await.status(), StatusCode::NO_CONTENT);
    assert_error(ana.get(&app, &path).await, StatusCode::NOT_FOUND, "not_found", None).await;
    let archive = format!("/api/admin/exports/{id}/archive");
    assert_error(ana.get(&app, &archive).await, StatusCode::NOT_FOUND, "not_found", None).await;
    let listed: Vec<ComplianceExportDto> =
        serde_json::from_value(json_of(ana.get(&app, "/api/admin/exports/").await, StatusCode::OK).await)
            .unwrap();
    assert!(listed.is_empty());
    app
}

/// Only deployment administrators export; a wrong format, date or id is
/// refused with the field it concerns.
async fn exports_are_for_deployment_administrators_and_bad_requests_say_why(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let good = json!({"format": "csv", "from": today(), "to": today()});
    assert_error(bob.post(&app, "/api/admin/exports/", good).await, StatusCode::FORBIDDEN, "forbidden", None)
        .await;
    assert_error(bob.get(&app, "/api/admin/exports/").await, StatusCode::FORBIDDEN, "forbidden", None).await;
    let cases = [
        (json!({"format": "pdf", "from": today(), "to": today()}), "format"),
        (json!({"format": "csv", "from": "2026-13-01", "to": today()}), "from"),
        (json!({"format": "csv", "from": today(), "to": "2020-01-01"}), "to"),
    ];
    for (body, field) in cases {
        let refused = ana.post(&app, "/api/admin/exports/", body).await;
        assert_error(refused, StatusCode::BAD_REQUEST, "invalid", Some(field)).await;
    }
    let unknown = json!({"format": "csv", "from": today(), "to": today(), "channel_ids": ["42"]});
    assert_error(
        ana.post(&app, "/api/admin/exports/", unknown).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;
    app
}

/// The daily export's format is kept; an unknown one is refused.
async fn the_daily_export_is_set_and_read_back(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let read =
        |res| async { serde_json::from_value::<DailyExportDto>(json_of(res, StatusCode::OK).await).unwrap() };
    assert_eq!(read(ana.get(&app, "/api/admin/daily-export/").await).await.format, "off");
    assert_eq!(
        read(ana.put(&app, "/api/admin/daily-export/", json!({"format": "eml"})).await).await.format,
        "eml"
    );
    assert_eq!(read(ana.get(&app, "/api/admin/daily-export/").await).await.format, "eml");
    let bad = ana.put(&app, "/api/admin/daily-export/", json!({"format": "weekly"})).await;
    assert_error(bad, StatusCode::BAD_REQUEST, "invalid", Some("format")).await;
    let refused = bob.put(&app, "/api/admin/daily-export/", json!({"format": "off"})).await;
    assert_error(refused, StatusCode::FORBIDDEN, "forbidden", None).await;
    app
}

crate::on_both_backends! {
    an_export_is_written_and_downloaded => an_export_is_written_and_downloaded;
    a_deleted_export_is_gone => a_deleted_export_is_gone;
    exports_are_for_deployment_administrators_and_bad_requests_say_why => exports_are_for_deployment_administrators_and_bad_requests_say_why;
    the_daily_export_is_set_and_read_back => the_daily_export_is_set_and_read_back;
}
