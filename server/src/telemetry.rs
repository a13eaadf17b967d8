//! Logging to stderr, filtered by `PARLEY_LOG` (or `RUST_LOG`) directives.

use tracing_subscriber::EnvFilter;

pub fn init(directives: &str) {
    let filter = EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).try_init();
}
