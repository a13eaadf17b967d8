//! Integration tests: each boots the real server on 127.0.0.1:0 with a
//! fresh database (SQLite and PostgreSQL) and talks HTTP and WebSocket to it.

mod contract;
mod helpers;

mod access;
mod accounts;
mod analytics;
mod authz;
mod bots;
mod calls;
mod cluster;
mod commands;
mod conversations;
mod delivery;
mod e2ee;
mod encryption;
mod exports;
mod faults;
mod gateway;
mod hardening;
mod link_previews;
mod mail;
mod meetings;
mod messages;
mod notifications;
mod outgoing_webhooks;
mod pages;
mod resume;
mod retention;
mod server_fns;
mod shared_history;
mod sink;
mod site;
mod virus_scan;
mod webhooks;
mod workspaces;
