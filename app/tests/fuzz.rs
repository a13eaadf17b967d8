//! Property tests ("fuzzing") of what the app reads from clients: gateway
//! commands (any bytes a socket may carry), return addresses after signing
//! in, and redirect targets. Each target replays its corpus under
//! `tests/corpus/<target>/` first, then `PARLEY_FUZZ_CASES` generated inputs
//! (default 1000); failures proptest finds are kept in
//! `fuzz.proptest-regressions`.

use app::api::safe_next;
use app::paths::header_safe;
use app::wire::GatewayCommand;
use proptest::prelude::*;
use std::path::PathBuf;

fn cases() -> u32 {
    std::env::var("PARLEY_FUZZ_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(1000)
}

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|f| f.unwrap().path()).collect();
    files.sort();
    assert!(!files.is_empty(), "the corpus {} has inputs", dir.display());
    files.into_iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// The gateway parses a frame into a command or refuses it; a command it
/// accepts survives a round trip unchanged.
fn check_command(bytes: &[u8]) {
    if let Ok(command) = serde_json::from_slice::<GatewayCommand>(bytes) {
        let again: GatewayCommand = serde_json::from_str(&serde_json::to_string(&command).unwrap()).unwrap();
        assert_eq!(again, command);
    }
}

/// JSON-shaped text: the command names and fields the gateway knows, with
/// values of every type.
fn command_like() -> impl Strategy<Value = String> {
    let kind = prop_oneof![
        Just("PING"),
        Just("TYPING"),
        Just("ACTIVITY"),
        Just("VOICE_JOIN"),
        Just("VOICE_LEAVE"),
        Just("VOICE_SELF"),
        Just("VOICE_SCREEN"),
        Just("VOICE_RECORD"),
        Just("CALL_DECLINE"),
        Just("VOICE_MUTE"),
        Just("RTC_ANSWER"),
        Just("RTC_CANDIDATE"),
        Just("typing"),
        Just(""),
    ];
    let field = prop_oneof![
        Just("channel_id"),
        Just("active"),
        Just("muted"),
        Just("camera"),
        Just("sharing"),
        Just("recording"),
        Just("user_id"),
        Just("sdp"),
        Just("candidate"),
        Just("sdp_mid"),
        Just("sdp_m_line_index"),
        Just("type"),
    ];
    let value = prop_oneof![
        Just("true".to_string()),
        Just("null".to_string()),
        Just("-1".to_string()),
        Just("18446744073709551616".to_string()),
        Just("1e400".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        "\"[ -~]{0,12}\"",
        any::<i64>().prop_map(|n| n.to_string()),
    ];
    (kind, prop::collection::vec((field, value), 0..6)).prop_map(|(kind, fields)| {
        let rest: String = fields.iter().map(|(f, v)| format!(",\"{f}\":{v}")).collect();
        format!("{{\"type\":\"{kind}\"{rest}}}")
    })
}

#[test]
fn gateway_corpus() {
    for bytes in corpus("gateway") {
        check_command(&bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn gateway_commands_never_panic(bytes in prop_oneof![
        command_like().prop_map(String::into_bytes),
        any::<Vec<u8>>(),
    ]) {
        check_command(&bytes);
    }

    /// Whatever a form says, signing in goes back to a path on this site.
    #[test]
    fn return_addresses_stay_on_this_site(next in prop_oneof![
        "(/|//|\\\\|https?://|/\\\\|javascript:)[ -~]{0,20}",
        any::<String>(),
    ]) {
        let to = safe_next(Some(next.clone()));
        prop_assert!(to.starts_with('/'), "{next:?} -> {to:?}");
        prop_assert!(!to.starts_with("//") && !to.contains('\\'), "{next:?} -> {to:?}");
    }

    /// A redirect target holds only what a `Location` header can; what
    /// could stand there already is left as it is.
    #[test]
    fn redirect_targets_fit_a_header(path in prop_oneof!["[!-~]{0,30}", any::<String>()]) {
        let safe = header_safe(&path);
        prop_assert!(safe.bytes().all(|b| b.is_ascii_graphic()), "{path:?} -> {safe:?}");
        if path.bytes().all(|b| b.is_ascii_graphic()) {
            prop_assert_eq!(safe, path);
        } else {
            let encoded = path.bytes().filter(|b| !b.is_ascii_graphic()).count();
            prop_assert_eq!(safe.len(), path.len() + 2 * encoded);
        }
    }
}
