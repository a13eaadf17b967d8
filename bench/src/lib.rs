//! Shared by the benchmarks (and the integration tests): [`call_peer`], a
//! call participant as a program; [`server`], a `parley` process to measure;
//! [`client`], a gateway connection of a load client; [`synapse`], Matrix
//! Synapse run beside Parley for comparison.

pub mod call_peer;
pub mod client;
pub mod server;
pub mod synapse;

/// The value at `p` (0 to 1) of sorted samples.
pub fn percentile<T: Copy>(sorted: &[T], p: f64) -> T {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// A database benchmark's arguments: `[sqlite|postgres] [count]`, the
/// count `default` when absent.
pub fn backend_and_count(default: usize) -> (domain::Backend, usize) {
    let mut args = std::env::args().skip(1);
    let backend = match args.next().as_deref() {
        None | Some("sqlite") => domain::Backend::Sqlite,
        Some("postgres") => domain::Backend::Postgres,
        Some(other) => panic!("unknown backend {other}: use sqlite or postgres"),
    };
    let count = args.next().map(|n| n.parse().expect("a count")).unwrap_or(default);
    (backend, count)
}
