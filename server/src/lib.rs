//! Parley's server: one axum application that serves the Leptos app (SSR
//! and server functions), the JSON API under `/api`, and the WebSocket
//! gateway at `/ws`.
//!
//! - [`config`]: settings from the environment.
//! - [`startup`]: builds the router and runs it ([`startup::Application`]).
//! - [`http`]: the JSON API, its errors, authentication and CSRF guard.
//! - [`gateway`]: live events over WebSocket.
//! - [`jobs`]: background workers.
//! - [`stopping`]: where a stopping server is (what holds it up).
//! - [`telemetry`] sets up logging.

#![recursion_limit = "512"]

pub mod cli;
pub mod cluster;
pub mod config;
pub mod gateway;
pub mod http;
pub mod jobs;
pub mod notify;
pub mod rtc;
pub mod startup;
pub mod stopping;
pub mod telemetry;
