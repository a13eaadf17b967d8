//! `/healthz` and `/readyz`, for load balancers and service managers.
//! Alive means the process answers; ready means it can also do its work:
//! the database answers within [`READY_WITHIN`]. Redis, between nodes, is
//! reported but does not decide readiness.

use crate::startup::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use std::time::Duration;

/// How long the database may take to answer a readiness check.
pub const READY_WITHIN: Duration = Duration::from_secs(2);

/// `GET /healthz`: the process is alive.
pub async fn healthz() -> &'static str {
    "ok"
}

/// What `/readyz` found.
#[derive(Debug, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Readiness {
    /// `ok`, or what is wrong with the database.
    pub database: String,
    /// `ok`, `not configured` (one node), or what is wrong with Redis. A
    /// node without Redis still serves its own clients, and other nodes'
    /// events still reach them from the log (within seconds instead of at
    /// once): it stays ready, so that Redis going down never takes every
    /// node out of the balancer.
    pub redis: String,
}

/// `GET /readyz`: 200 when the database answers, 503 (with what failed)
/// when it does not, so a balancer sends no one to a node that cannot serve.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let unready = StatusCode::SERVICE_UNAVAILABLE;
    let (status, database) = match tokio::time::timeout(READY_WITHIN, state.services.hub.store().ping()).await
    {
        Ok(Ok(())) => (StatusCode::OK, "ok".to_string()),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the database does not answer");
            (unready, "the database does not answer".to_string())
        }
        Err(_) => (unready, format!("the database did not answer within {} s", READY_WITHIN.as_secs())),
    };
    let redis = match &state.redis {
        None => "not configured".to_string(),
        Some(redis) => match tokio::time::timeout(READY_WITHIN, redis.ping()).await {
            Ok(Ok(())) => "ok".to_string(),
            Ok(Err(e)) => format!("Redis does not answer: {e}"),
            Err(_) => format!("Redis did not answer within {} s", READY_WITHIN.as_secs()),
        },
    };
    (status, Json(Readiness { database, redis }))
}
