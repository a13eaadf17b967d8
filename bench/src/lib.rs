//! Shared by the benchmarks (and the integration tests): [`call_peer`], a
//! call participant as a program; [`server`], a `parley` process to measure;
//! [`client`], a gateway connection of a load client; [`synapse`], Matrix
//! Synapse run beside Parley for comparison.

pub mod call_peer;
pub mod client;
pub mod server;
pub mod synapse;
