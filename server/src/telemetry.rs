//! Logging to stderr, filtered by `PARLEY_LOG` (or `RUST_LOG`) directives.
//!
//! The `webrtc` crates report every ICE candidate closed and every SRTP
//! session ended at `warn`, which is routine when someone leaves a call;
//! they log at `error` only, unless the directives name them.

use tracing_subscriber::EnvFilter;

/// The `webrtc` family's crates (by their names in code), quiet unless
/// asked for. `dtls` warns of every DTLS 1.3 extension a browser offers
/// in its hello (Chromium offers three, on every connection).
const MEDIA_CRATES: &[&str] = &[
    "webrtc",
    "webrtc_ice",
    "webrtc_srtp",
    "dtls",
    "webrtc_sctp",
    "webrtc_mdns",
    "webrtc_data",
    "webrtc_media",
    "webrtc_util",
    "interceptor",
    "rtp",
    "rtcp",
    "stun",
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
