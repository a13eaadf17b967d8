//! Analytics over the API: a workspace's figures for who manages it, the
//! deployment's for its administrators, as JSON and as CSV; what is
//! refused, with the field it concerns.

use crate::helpers::{TestApp, assert_error, json_of, say, workspace};
use app::wire::FigureDto;
use domain::hub::ROLL_UP_LAG_MS;
use reqwest::StatusCode;

/// Who manages a workspace reads its figures once the messages are rolled
/// up (here by another node), as JSON and as CSV.
async fn a_workspaces_figures_read_as_json_and_csv(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    crate::helpers::join(&app, &bob, &ws).await;
    say(&app, &ana, &general, "one").await;
    say(&app, &bob, &general, "two").await;
    let other_node = app.other_node().await;
    assert_eq!(other_node.roll_up_activity(domain::now_ms() + ROLL_UP_LAG_MS + 1_000).await.unwrap(), 2);

    let path = format!("/api/communication/workspaces/{ws}/analytics/?days=7");
    let figures: Vec<FigureDto> =
        serde_json::from_value(json_of(ana.get(&app, &path).await, StatusCode::OK).await).unwrap();
    let names: Vec<&str> = figures.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["messages", "active_people", "channels"]);
    assert_eq!(figures[0].series[0].values[6], 2);
    assert_eq!(figures[1].series[0].values[6], 2);
    assert_eq!((figures[2].ranking[0].label.as_str(), figures[2].ranking[0].value), ("#general", 2));

    let csv = ana.get(&app, &figures[0].csv).await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 8, "{text}");
    assert_eq!(lines[0], "day,messages,thread replies");
    assert!(lines[7].ends_with(",2,0"), "{text}");
    app
}

/// A member who does not manage the workspace, and anyone but the
/// deployment's administrators for its figures, are refused; a wrong
/// period or figure says which.
async fn figures_are_refused_with_reasons(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let (ws, _) = workspace(&app, &ana, false).await;
    crate::helpers::join(&app, &bob, &ws).await;
    let base = format!("/api/communication/workspaces/{ws}/analytics");
    assert_error(bob.get(&app, &format!("{base}/")).await, StatusCode::FORBIDDEN, "forbidden", None).await;
    assert_error(bob.get(&app, "/api/admin/analytics/").await, StatusCode::FORBIDDEN, "forbidden", None)
        .await;
    let zero = ana.get(&app, &format!("{base}/?days=0")).await;
    assert_error(zero, StatusCode::BAD_REQUEST, "invalid", Some("days")).await;
    let unknown = ana.get(&app, &format!("{base}/weather/")).await;
    assert_error(unknown, StatusCode::BAD_REQUEST, "invalid", Some("figure")).await;
    let figure: FigureDto = serde_json::from_value(
        json_of(ana.get(&app, "/api/admin/analytics/active_people/?days=3").await, StatusCode::OK).await,
    )
    .unwrap();
    assert_eq!((figure.days.len(), figure.series[0].values.clone()), (3, vec![0, 0, 0]));
    app
}

crate::on_both_backends! {
    a_workspaces_figures_read_as_json_and_csv => a_workspaces_figures_read_as_json_and_csv;
    figures_are_refused_with_reasons => figures_are_refused_with_reasons;
}
