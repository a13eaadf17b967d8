//! Shared by the benchmarks (and the integration tests): [`call_peer`], a
//! call participant as a program; [`server`], a `parley` process to measure.

pub mod call_peer;
pub mod server;
