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
    /// Workspace settings, the largest page and one few people open.
    SettingsRoute => settings::SettingsPage
);
lazy_page!(
    /// Notification settings.
    NotificationSettingsRoute => notification_settings::NotificationSettingsPage
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
