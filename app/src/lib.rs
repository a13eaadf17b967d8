//! Parley's web app: the Leptos UI (rendered on the server, hydrated in the
//! browser), the server functions it calls, and the wire types that every
//! client sees.
//!
//! - [`wire`]: DTOs, the API error, gateway events.
//! - [`api`]: server functions; [`codec`]: how pages' data is carried.
//! - [`pages`]: one component per route; [`components`]: the pieces they share.
//! - [`live`] (browser only): the gateway connection; `call` (browser
//!   only): the media and peer connection of a call; `pwa` (browser only):
//!   the service worker and web push.
//! - `ssr` and `conversions` (server only): services, authentication, and
//!   the domain-to-wire boundary.

#![recursion_limit = "512"]
// A server function takes its form's fields as arguments (the meeting form has nine).
#![allow(clippy::too_many_arguments)]

pub mod api;
#[cfg(feature = "hydrate")]
pub mod call;
pub mod codec;
pub mod components;
#[cfg(feature = "ssr")]
pub mod conversions;
pub mod e2ee;
#[cfg(feature = "hydrate")]
pub mod live;
pub mod pages;
pub mod paths;
#[cfg(feature = "hydrate")]
pub mod pwa;
#[cfg(feature = "ssr")]
pub mod schema;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod wire;

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{Lazy, SsrMode, path};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    ssr::protect_page();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="theme-color" content="#3b2a5c" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="manifest" href="/manifest.webmanifest" />
                <link rel="apple-touch-icon" href="/icons/icon-192.png" />
                <HashedStylesheet options=options.clone() id="leptos" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Set once the page is hydrated; lets views switch from what the server
/// can know (UTC times) to what only the browser knows (local times).
#[derive(Clone, Copy)]
pub struct Hydrated(pub ReadSignal<bool>);

#[cfg(feature = "hydrate")]
thread_local! {
    /// Where [`hydrate`] says the page is hydrated, once it is.
    static SET_HYDRATED: std::cell::Cell<Option<WriteSignal<bool>>> = const { std::cell::Cell::new(None) };
}

/// Hydrates the server-rendered page: first loads the part of the app a
/// lazily loaded page needs (see [`pages`]), then tells the views that the
/// page is hydrated ([`Hydrated`]; `data-hydrated` on the document, for
/// tests and styles), opens the gateway connection (`live`) and registers
/// the service worker.
///
/// Invariant: [`Hydrated`] turns true only after the whole page is
/// hydrated. Hydration waits for a lazily loaded page's part; a view that
/// switched while it waited would no longer match the server's HTML (and
/// hydration would fail).
#[cfg(feature = "hydrate")]
pub fn hydrate() {
    wasm_bindgen_futures::spawn_local(async {
        let body = document().body().expect("a page has a body");
        let owner = leptos::mount::hydrate_from_async(body, App).await;
        owner.forget();
        if let Some(set) = SET_HYDRATED.take() {
            set.set(true);
        }
        live::page_hydrated();
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "");
        }
        pwa::register_service_worker();
    });
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let (hydrated, set_hydrated) = signal(false);
    provide_context(Hydrated(hydrated));
    #[cfg(feature = "hydrate")]
    SET_HYDRATED.set(Some(set_hydrated));
    #[cfg(not(feature = "hydrate"))]
    let _ = set_hydrated;
    // The call outlives the page it started on.
    provide_context(components::call::CallUi::new());
    // So does the emoji list, fetched once.
    provide_context(components::emoji::EmojiList::new());
    // And what a command said, until dismissed.
    provide_context(components::commands::CommandNotices::new());

    view! {
        <Title formatter=|title: String| if title.is_empty() { "Parley".to_string() } else { format!("{title} · Parley") } />
        <Router>
            <Routes fallback=pages::not_found::NotFound>
                <Route path=path!("/") view=pages::home::HomePage ssr=SsrMode::Async />
                <Route path=path!("/login") view=pages::auth::LoginPage ssr=SsrMode::Async />
                <Route path=path!("/signup") view=pages::auth::SignupPage ssr=SsrMode::Async />
                <Route path=path!("/forgot-password") view=pages::auth::ForgotPasswordPage ssr=SsrMode::Async />
                <Route path=path!("/reset-password") view=pages::auth::ResetPasswordPage ssr=SsrMode::Async />
                <Route path=path!("/account") view={Lazy::<pages::AccountRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/admin") view={Lazy::<pages::AdminRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/admin/analytics") view={Lazy::<pages::AnalyticsRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/invite/:code") view={Lazy::<pages::InviteRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/settings/notifications") view={Lazy::<pages::NotificationSettingsRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/w/:ws") view=pages::workspace::WorkspacePage ssr=SsrMode::Async />
                <Route path=path!("/w/:ws/c/:ch") view=pages::channel::ChannelPage ssr=SsrMode::Async />
                <Route path=path!("/w/:ws/search") view={Lazy::<pages::SearchRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/w/:ws/threads") view={Lazy::<pages::ThreadsRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/w/:ws/meetings") view={Lazy::<pages::MeetingsRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/w/:ws/settings") view={Lazy::<pages::SettingsRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/w/:ws/analytics") view={Lazy::<pages::AnalyticsRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/w/:ws/integrations") view={Lazy::<pages::IntegrationsRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/w/:ws/integrations/outgoing/:id") view={Lazy::<pages::OutgoingLogRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/w/:ws/integrations/commands/:id") view={Lazy::<pages::CommandUsesRoute>::new()} ssr=SsrMode::Async />
            </Routes>
        </Router>
    }
}
