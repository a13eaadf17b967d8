//! Server rendering that always answers. A page is rendered once all its
//! resources have loaded, and each resource loads in a task of its own: a
//! panic there would end that task, the resource would never load, and the
//! request would wait forever. So Parley spawns Leptos's tasks itself
//! ([`PanicAwareExecutor`]): a task that panics tells the request it
//! belongs to ([`RenderAbort`], in the request's extensions and the page's
//! context), and [`answer_even_if_rendering_panics`] answers 500 at once.

use super::guard::{internal_error, log_panic};
use any_spawner::{CustomExecutor, Executor, PinnedFuture, PinnedLocalFuture};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use futures::FutureExt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use tokio::sync::Notify;

/// Rings when a task rendering this request's page panicked.
#[derive(Clone, Default)]
pub struct RenderAbort(Arc<Notify>);

/// Tokio, with each task's panic caught and reported to the request whose
/// page spawned it.
struct PanicAwareExecutor;

impl CustomExecutor for PanicAwareExecutor {
    fn spawn(&self, fut: PinnedFuture<()>) {
        let abort = leptos::prelude::Owner::current()
            .and_then(|owner| owner.with(leptos::prelude::use_context::<RenderAbort>));
        tokio::spawn(async move {
            if let Err(panic) = AssertUnwindSafe(fut).catch_unwind().await {
                log_panic(&*panic, "a task rendering a page panicked");
                if let Some(abort) = abort {
                    abort.0.notify_one();
                }
            }
        });
    }

    fn spawn_local(&self, fut: PinnedLocalFuture<()>) {
        tokio::task::spawn_local(fut);
    }

    fn poll_local(&self) {}
}

/// Makes Leptos spawn its tasks through [`PanicAwareExecutor`]; before the
/// first page is rendered (Leptos would otherwise set plain Tokio). Once per
/// process: later calls change nothing.
pub fn init_executor() {
    let _ = Executor::init_custom_executor(PanicAwareExecutor);
}

/// Gives the request a [`RenderAbort`] and answers 500 as soon as it rings,
/// whatever the rendering was waiting for.
pub async fn answer_even_if_rendering_panics(mut req: Request, next: Next) -> Response {
    let abort = RenderAbort::default();
    req.extensions_mut().insert(abort.clone());
    let uri = req.uri().clone();
    tokio::select! {
        response = next.run(req) => response,
        () = abort.0.notified() => {
            tracing::error!(%uri, "answered 500: a task rendering this page panicked");
            internal_error()
        }
    }
}

/// Puts the request's [`RenderAbort`] in the page's context, where the
/// executor finds it (called in the context closure of every page).
pub fn provide_render_abort() {
    use leptos::prelude::{provide_context, use_context};
    if let Some(abort) = use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<RenderAbort>().cloned())
    {
        provide_context(abort);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use leptos::prelude::*;
    use std::time::Duration;
    use tower::ServiceExt;

    #[component]
    fn Panicking() -> impl IntoView {
        let data = Resource::new(
            || (),
            |_| async {
                tokio::task::yield_now().await;
                if std::hint::black_box(true) {
                    panic!("a resource failed to load");
                }
                1
            },
        );
        view! { <Suspense fallback=|| "loading">{move || data.get().map(|n| n.to_string())}</Suspense> }
    }

    #[component]
    fn Fine() -> impl IntoView {
        let data = Resource::new(|| (), |_| async { 2 });
        view! { <Suspense fallback=|| "loading">{move || data.get().map(|n| format!("loaded {n}"))}</Suspense> }
    }

    fn page<V: IntoView + 'static>(view: fn() -> V) -> Router {
        let render = leptos_axum::render_app_async_with_context(provide_render_abort, view);
        Router::new()
            .route("/", axum::routing::get(move |req: Request| render(req)))
            .layer(axum::middleware::from_fn(answer_even_if_rendering_panics))
    }

    /// A page whose resource panics while loading answers 500 (before the
    /// fix it waited forever); a page whose resources load answers 200.
    #[tokio::test]
    async fn a_panic_while_rendering_answers_500() {
        init_executor();
        let get = || Request::builder().uri("/").body(Body::empty()).unwrap();
        let res = tokio::time::timeout(Duration::from_secs(10), page(Panicking).oneshot(get()))
            .await
            .expect("the page answers instead of waiting for a resource that will never load")
            .unwrap();
        assert_eq!(res.status(), axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        let res = page(Fine).oneshot(get()).await.unwrap();
        assert_eq!(res.status(), axum::http::StatusCode::OK);
        let body = http_body_util::BodyExt::collect(res.into_body()).await.unwrap().to_bytes();
        assert!(String::from_utf8_lossy(&body).contains("loaded 2"));
    }
}
