//! The analytics page's data: a workspace's figures (for who manages it)
//! or the deployment's (for its administrators).

use crate::wire::{ApiError, FigureDto};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the analytics page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalyticsViewDto {
    /// The workspace's id and name, or empty for the deployment.
    pub workspace_id: String,
    pub workspace: String,
    pub days: i64,
    pub figures: Vec<FigureDto>,
}

/// The figures of workspace `workspace_id` (empty: the whole deployment)
/// over `days` days (empty: 30).
#[server]
pub async fn analytics_view(
    workspace_id: String,
    days: Option<String>,
) -> Result<AnalyticsViewDto, ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let why = "Choose a number of days.";
            let days = crate::ssr::parse_whole("days", days.as_deref(), why)?.unwrap_or(30);
            let (scope, workspace) = match crate::ssr::parse_optional_id("workspace_id", Some(&workspace_id))?
            {
                Some(ws) => {
                    let name = hub.workspace(user.id, ws).await?.name;
                    (domain::hub::AnalyticsScope::Workspace(ws), name)
                }
                None => (domain::hub::AnalyticsScope::Deployment, String::new()),
            };
            let figures = hub.analytics(user.id, scope, days, domain::now_ms()).await?;
            let figures = figures.iter().map(|f| crate::conversions::figure_dto(f, scope, days)).collect();
            Ok(AnalyticsViewDto { workspace_id, workspace, days, figures })
        }
        .await,
    )
}
