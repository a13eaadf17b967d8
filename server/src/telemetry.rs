//! Logging to stderr, filtered by `PARLEY_LOG` (or `RUST_LOG`) directives.
//!
//! The `webrtc` crates report every ICE candidate closed and every SRTP
//! session ended at `warn`, which is routine when someone leaves a call;
//! they log at `error` only, unless the directives name them.

use tracing_subscriber::EnvFilter;

/// The `webrtc` family's crates, quiet unless asked for.
const MEDIA_CRATES: &[&str] = &[
    "webrtc",
    "webrtc_ice",
    "webrtc_srtp",
    "webrtc_dtls",
    "webrtc_sctp",
    "webrtc_mdns",
    "interceptor",
    "turn",
];

pub fn init(directives: &str) {
    let mut filter = EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"));
    for name in MEDIA_CRATES {
        if !directives.contains(name)
            && let Ok(d) = format!("{name}=error").parse()
        {
            filter = filter.add_directive(d);
        }
    }
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).try_init();
}
