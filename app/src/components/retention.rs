//! How long messages and files are kept, in words.

use crate::wire::RetentionPolicyDto;

/// "30 days", "forever", or what `none` says (nothing set here).
pub fn kept(days: Option<i64>, none: &str) -> String {
    match days {
        None => none.to_string(),
        Some(0) => "forever".to_string(),
        Some(1) => "1 day".to_string(),
        Some(d) => format!("{d} days"),
    }
}

/// "messages 30 days, files forever".
pub fn policy(p: RetentionPolicyDto, none: &str) -> String {
    format!("messages {}, files {}", kept(p.messages_days, none), kept(p.files_days, none))
}
