//! Pieces the pages share.

pub mod bell;
pub mod call;
pub mod composer;
pub mod errors;
pub mod message_list;
pub mod sidebar;
pub mod thread_panel;
pub mod time;
