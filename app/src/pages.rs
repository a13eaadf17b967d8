//! One component per route.

pub mod account;
pub mod auth;
pub mod channel;
pub mod home;
pub mod invite;
pub mod meetings;
pub mod not_found;
pub mod notification_settings;
pub mod search;
pub mod settings;
pub mod threads;
pub mod workspace;
