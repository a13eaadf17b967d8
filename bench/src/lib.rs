//! Shared by the benchmarks (and the integration tests): [`call_peer`], a
//! call participant as a program.

pub mod call_peer;
