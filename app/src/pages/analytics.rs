//! Analytics (`/w/{ws}/analytics` for who manages a workspace,
//! `/admin/analytics` for the deployment's administrators): messages and
//! the people who posted, per day, and the busiest channels, over a chosen
//! period; charts drawn on the server, each with its numbers and a CSV.

use crate::api::{AnalyticsViewDto, analytics_view};
use crate::components::chart::chart;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The periods offered, in days.
const PERIODS: [i64; 4] = [7, 30, 90, 365];

#[component]
pub fn AnalyticsPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let data = crate::codec::page_data(
        move || (params.read().get("ws").unwrap_or_default(), query.read().get("days")),
        |(ws, days)| analytics_view(ws, days),
    );
    view! { {super::page_screen(data, analytics_screen)} }
}

fn analytics_screen(view: AnalyticsViewDto) -> impl IntoView {
    let AnalyticsViewDto { workspace_id, workspace, days, figures } = view;
    let (title, back, back_label) = if workspace.is_empty() {
        ("Deployment analytics".to_string(), crate::paths::admin(), "← Administration")
    } else {
        (format!("Analytics · {workspace}"), crate::paths::settings(&workspace_id), "← Workspace settings")
    };
    let periods = PERIODS
        .into_iter()
        .map(|p| {
            let current = (p == days).then_some("page");
            view! { <a href=format!("?days={p}") aria-current=current>{format!("{p} days")}</a> }
        })
        .collect_view();
    let charts = figures.iter().map(chart).collect_view();
    view! {
        <Title text=title.clone() />
        <main class="settings analytics" aria-labelledby="analytics-title">
            <p><a href=back>{back_label}</a></p>
            <h1 id="analytics-title">{title}</h1>
            <nav class="periods" aria-label="Period">{periods}</nav>
            <p class="hint">
                "Counted by day (UTC) as messages are written, a few seconds behind; what retention removed "
                "later still counts."
            </p>
            {charts}
        </main>
    }
}
