//! One component per route.

pub mod account;
pub mod admin;
pub mod analytics;
pub mod auth;
pub mod channel;
pub mod home;
pub mod integrations;
pub mod invite;
pub mod meetings;
pub mod not_found;
pub mod notification_settings;
pub mod outgoing_webhooks;
pub mod search;
pub mod settings;
pub mod slash_commands;
pub mod threads;
pub mod workspace;

use crate::codec::Json;
use crate::components::deferred::deferred;
use crate::components::errors::page_error;
use crate::wire::ApiError;
use leptos::prelude::*;
use serde::{Serialize, de::DeserializeOwned};

/// A page's screen: "Loading…" until its data (from
/// [`crate::codec::page_data`]) arrive, then `screen` of them, or the page's
/// error. While the data load again, the screen stays. The screen is built
/// once per render ([`crate::components::deferred`] says why that needs
/// saying).
pub fn page_screen<T, V>(
    data: Resource<Result<T, ApiError>, Json>,
    screen: impl Fn(T) -> V + Clone + Send + Sync + 'static,
) -> impl IntoView
where
    T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || {
                let screen = screen.clone();
                Suspend::new(async move {
                    match data.await {
                        Ok(value) => deferred(move || screen(value)).into_any(),
                        Err(e) => page_error(e),
                    }
                })
            }}
        </Transition>
    }
}

/// Declares a route whose page is loaded when it is first shown: in the
/// browser its code is a part of the app fetched then (see `site-build`),
/// not in the WebAssembly every page loads. On the server it renders as
/// any other route.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident => $page:path) => {
        $(#[$doc])*
        pub struct $route;

        #[leptos_router::lazy_route]
        impl leptos_router::LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> leptos::prelude::AnyView {
                leptos::prelude::IntoAny::into_any($page())
            }
        }
    };
}

lazy_page!(
    /// The deployment's administration, for its few administrators.
    AdminRoute => admin::AdminPage
);

lazy_page!(
    /// Analytics, of a workspace or of the deployment, for the few who manage them.
    AnalyticsRoute => analytics::AnalyticsPage
);

lazy_page!(
    /// Workspace settings, the largest page and one few people open.
    SettingsRoute => settings::SettingsPage
);
lazy_page!(
    /// Notification settings.
    NotificationSettingsRoute => notification_settings::NotificationSettingsPage
);
lazy_page!(
    /// A workspace's integrations.
    IntegrationsRoute => integrations::IntegrationsPage
);
lazy_page!(
    /// An outgoing webhook's calls.
    OutgoingLogRoute => outgoing_webhooks::OutgoingLogPage
);
lazy_page!(
    /// A workspace's own slash command's uses.
    CommandUsesRoute => slash_commands::CommandUsesPage
);
lazy_page!(
    /// One's account.
    AccountRoute => account::AccountPage
);
lazy_page!(
    /// A workspace's meetings.
    MeetingsRoute => meetings::MeetingsPage
);
lazy_page!(
    /// Search results.
    SearchRoute => search::SearchPage
);
lazy_page!(
    /// The threads one follows.
    ThreadsRoute => threads::ThreadsPage
);
lazy_page!(
    /// An invite link, opened once.
    InviteRoute => invite::InvitePage
);
