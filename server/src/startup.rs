//! Builds the application and runs it. `main` and the integration tests
//! both go through [`Application::build`], so tests run the real thing on
//! port 0.

use crate::config::Config;
use crate::gateway;
use crate::http::{self, origin::OriginPolicy};
use crate::jobs::{EventLogKeeper, SessionSweeper};
use crate::notify::{Deliverer, Scheduler, Senders};
use app::ssr::Services;
use axum::Router;
use axum::extract::FromRef;
use axum::handler::Handler;
use axum::routing::get;
use axum::serve::ListenerExt;
use domain::session_store::DbSessionStore;
use domain::{Hub, Store};
use leptos::config::LeptosOptions;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_sessions::cookie::{SameSite, time::Duration as CookieDuration};
use tower_sessions::{Expiry, SessionManagerLayer};
use tracing::Instrument;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub leptos_options: LeptosOptions,
    pub origin: OriginPolicy,
    /// Flips to `true` when the server begins to stop.
    pub shutdown: watch::Receiver<bool>,
    /// Tracks each gateway connection while it runs; stopping waits for
    /// all of them (calls end, recordings are posted) before the database
    /// closes. Holding a clone of the state does not hold stopping up.
    pub live: tokio_util::task::TaskTracker,
    /// Where gateway connections receive their events.
    pub router: gateway::router::Router,
    /// Calls: where each connection's call commands go.
    pub calls: crate::rtc::calls::Calls,
    /// Whether `X-Forwarded-For` names the client (behind a trusted proxy).
    pub trust_proxy: bool,
    /// How large request bodies and gateway frames may be.
    pub body_limits: http::guard::BodyLimits,
    /// Redis between nodes, when configured (for `/readyz`).
    pub redis: Option<crate::cluster::Redis>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error("cannot open the database: {0}")]
    Database(#[from] domain::Error),
    #[error("the encryption keys cannot be had: {0}")]
    Keys(#[from] domain::crypto::KeyError),
    #[error("PARLEY_REDIS_URL is not a Redis URL: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
    #[error("the call server (SFU) could not start: {0}")]
    Rtc(#[from] webrtc::Error),
    #[error("the site folder {path} (PARLEY_SITE_ROOT) cannot be located: {source}")]
    SiteRoot { path: String, source: std::io::Error },
    #[error("the web push key {path} could not be read or made: {source}")]
    PushKey { path: String, source: std::io::Error },
    #[error("the key file {path} cannot be read or written: {source}")]
    KeyFile { path: String, source: std::io::Error },
    #[error("the mail settings are not usable: {0}")]
    Mail(#[from] domain::mail::MailError),
    #[error("server failed: {0}")]
    Serve(#[from] std::io::Error),
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    port: u16,
    store: Store,
    shutdown: watch::Sender<bool>,
    sweeper: SessionSweeper,
    log_keeper: EventLogKeeper,
    /// Between nodes, when Redis is configured.
    doorbell: Option<crate::cluster::Doorbell>,
    /// Presence shared through Redis, renewed by a worker with this hub.
    shared_presence: Option<(std::sync::Arc<crate::cluster::RedisPresence>, Hub)>,
    deliverer: Deliverer,
    webhook_dispatcher: crate::jobs::WebhookDispatcher,
    link_previewer: crate::jobs::LinkPreviewer,
    retention: crate::jobs::RetentionWorker,
    exporter: crate::jobs::ExportWorker,
    roll_up: crate::jobs::ActivityRollUp,
    resealer: crate::jobs::Resealer,
    scheduler: Scheduler,
    sfu: crate::rtc::sfu::Sfu,
    /// Calls across nodes, when Redis is configured.
    relay: Option<std::sync::Arc<crate::rtc::relay::Relay>>,
    live: tokio_util::task::TaskTracker,
    progress: crate::stopping::StopProgress,
}

/// How long stopping waits for gateway connections to end their calls.
const CONNECTIONS_GRACE: std::time::Duration = std::time::Duration::from_secs(10);
/// A worker that takes this long to stop is named in a warning.
const SLOW_STOP: std::time::Duration = std::time::Duration::from_secs(1);

/// Spawns `work` in the current span (the server's, which names its port).
fn in_span<F>(work: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(work.in_current_span())
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        // Before Leptos renders a page (it would set a plain Tokio executor).
        http::render::init_executor();
        std::fs::create_dir_all(&config.data_dir).map_err(|source| StartupError::DataDir {
            path: config.data_dir.display().to_string(),
            source,
        })?;
        let store = Store::open(&config.database_url(), config.keyring()?).await?;
        let listener = TcpListener::bind(config.bind)
            .await
            .map_err(|source| StartupError::Bind { addr: config.bind.to_string(), source })?;
        let addr = listener.local_addr()?;
        let public_url = config.public_url.clone().unwrap_or_else(|| format!("http://{addr}"));
        let secure = config.secure_cookies.unwrap_or(public_url.starts_with("https://"));

        // Room for a message with its most files at the largest size, and its text fields.
        let upload_limit = (config.uploads.max_bytes as usize)
            .saturating_mul(domain::files::MAX_FILES_PER_MESSAGE)
            .saturating_add(1 << 20);
        let mut files = domain::files::Files::new(config.data_dir.join("files"), config.uploads.clone());
        if let Some(scanner) = config.scanner.clone() {
            tracing::info!(clamd = %scanner.describe(), "uploads are scanned for viruses");
            files = files.with_scanner(scanner);
        }
        let mail = &config.mail;
        let notify = &config.notify;
        let vapid_path = config.data_dir.join("vapid_private_key");
        let subject = notify.push_subject.clone().unwrap_or_else(|| {
            let address =
                mail.from.rsplit_once('<').map_or(mail.from.as_str(), |(_, a)| a.trim_end_matches('>'));
            format!("mailto:{}", address.trim())
        });
        let vapid = domain::notify::push::Vapid::load_or_create(&vapid_path, &subject)
            .map_err(|source| StartupError::PushKey { path: vapid_path.display().to_string(), source })?;
        // Push, SMS and every later outgoing call: public addresses only,
        // unless the operator allows private ones.
        let outgoing = match notify.push_allow_private {
            true => domain::outgoing::Guard::allowing_private(),
            false => domain::outgoing::Guard::public_only(),
        };
        let push =
            domain::notify::push::PushSender::new(std::sync::Arc::new(vapid), notify.push_allow_private);
        let senders = Senders {
            mailer: domain::mail::Mailer::new(
                mail.smtp.as_ref(),
                &mail.from,
                config.data_dir.join("outbox"),
            )?,
            push: Some(push.clone()),
            sms: notify.sms.clone().map(|sms| domain::notify::sms::SmsSender::new(sms, outgoing)),
            webhooks: domain::webhook_call::WebhookCaller::new(outgoing),
        };
        let delivery = domain::hub::DeliveryOptions {
            digest_window_ms: notify.digest_window.as_millis() as i64,
            push_key: Some(push.public_key().to_string()),
            outgoing,
            sms_available: notify.sms.is_some(),
            reminder_minutes: notify.reminder_minutes,
        };
        let redis = config.redis_url.as_deref().map(crate::cluster::Redis::open).transpose()?;
        // People's and addresses' buckets: shared by every node through
        // Redis when there is one, else in this process.
        let limit_store: std::sync::Arc<dyn domain::limits::LimitStore> = match &redis {
            Some(r) => std::sync::Arc::new(crate::cluster::RedisLimits::new(r.clone())),
            None => std::sync::Arc::new(domain::limits::MemoryLimits::default()),
        };
        let limits = domain::limits::Limits::new(config.limits.clone(), limit_store);
        let doorbell = redis.clone().map(|r| crate::cluster::Doorbell::new(r, store.clone()));
        let shared_presence =
            redis.clone().map(|r| std::sync::Arc::new(crate::cluster::RedisPresence::new(r)));
        let mut hub = Hub::new(store.clone(), files)
            .with_public_url(&public_url)
            .with_delivery(delivery)
            .with_limits(limits)
            .with_compliance(domain::hub::ComplianceOptions {
                exports_dir: config.data_dir.join("exports"),
                ..config.compliance.clone()
            });
        if let Some(p) = &shared_presence {
            hub = hub.with_shared_presence(p.clone());
        }
        if let Some(jitsi) = &config.jitsi {
            let key_path = config.data_dir.join("jitsi_room_key");
            let video = domain::jitsi::Jitsi::load_or_create(&jitsi.url, &key_path, jitsi.token.clone())
                .map_err(|source| StartupError::KeyFile { path: key_path.display().to_string(), source })?;
            tracing::info!(url = %jitsi.url, tokens = jitsi.token.is_some(), "meetings offer Jitsi");
            hub = hub.with_video(video);
        }
        let shared_presence = shared_presence.map(|p| (p, hub.clone()));
        let services = Services { hub, public_url: public_url.clone() };
        // What a stop in the middle of work left behind is finished first.
        match services.hub.recover_leftovers().await {
            Ok(r) if r == domain::hub::Recovered::default() => {}
            Ok(r) => tracing::warn!(?r, "finished what the last run left half-done"),
            Err(e) => tracing::error!(error = ?e, "could not finish what the last run left half-done"),
        }
        let queued = services.hub.deliveries_queued();
        let scheduler = Scheduler::new(services.hub.clone());
        let webhook_dispatcher = crate::jobs::WebhookDispatcher::new(services.hub.clone());
        let link_previewer = crate::jobs::LinkPreviewer::new(services.hub.clone());
        let retention = crate::jobs::RetentionWorker::new(services.hub.clone());
        let exporter = crate::jobs::ExportWorker::new(services.hub.clone());
        let roll_up = crate::jobs::ActivityRollUp::new(services.hub.clone());
        let resealer = crate::jobs::Resealer::new(services.hub.clone());
        let deliverer_hub = services.hub.clone();
        let sfu = crate::rtc::sfu::Sfu::new(services.hub.clone(), &config.rtc)?;
        let relay = redis.clone().map(|r| std::sync::Arc::new(crate::rtc::relay::Relay::new(r, sfu.clone())));
        let calls = match &relay {
            Some(relay) => crate::rtc::calls::Calls::relayed(sfu.clone(), relay.clone()),
            None => crate::rtc::calls::Calls::here(sfu.clone()),
        };
        // A release build names the app's files after their content and
        // lists the names in the site's hash file (Leptos looks for it
        // beside the executable unless its path is absolute); a later
        // development build writes plain names.
        let hash_file =
            std::path::absolute(config.site_root.join(http::site::HASH_FILE)).map_err(|source| {
                StartupError::SiteRoot { path: config.site_root.display().to_string(), source }
            })?;
        let leptos_options = LeptosOptions::builder()
            .output_name("parley")
            .site_root(config.site_root.display().to_string())
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .env(leptos::config::Env::PROD)
            .hash_files(http::site::uses_hashed_names(&config.site_root, &hash_file))
            .hash_file(std::sync::Arc::<str>::from(hash_file.display().to_string()))
            .build();
        let (shutdown, shutdown_rx) = watch::channel(false);
        let live = tokio_util::task::TaskTracker::new();
        let router = gateway::router::Router::new(services.hub.bus());
        let state = AppState {
            services: services.clone(),
            leptos_options: leptos_options.clone(),
            origin: OriginPolicy::new(&public_url),
            shutdown: shutdown_rx,
            live: live.clone(),
            router,
            calls,
            trust_proxy: config.trust_proxy,
            body_limits: http::guard::BodyLimits { body: config.max_body_bytes, upload: upload_limit },
            redis,
        };

        let session_store = DbSessionStore::new(store.clone());
        let sessions = SessionManagerLayer::new(session_store.clone())
            .with_name("parley_session")
            .with_secure(secure)
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_expiry(Expiry::OnInactivity(CookieDuration::days(30)));

        let routes = route_list();
        let mut router = Router::new()
            .route("/ws", get(gateway::upgrade))
            .route("/ws/communication/messages/", get(gateway::upgrade_communication))
            .route("/ws/text/{channel}/", get(gateway::upgrade_text_channel))
            .route("/healthz", get(http::health::healthz))
            .route("/readyz", get(http::health::readyz))
            .merge(http::routes())
            .leptos_routes_with_context(
                &state,
                routes,
                move || {
                    leptos::prelude::provide_context(services.clone());
                    leptos_router::components::provide_server_redirect(app::ssr::redirect);
                    http::render::provide_render_abort();
                },
                {
                    let options = leptos_options.clone();
                    move || app::shell(options.clone())
                },
            )
            .nest_service(http::site::PKG_PATH, http::site::pkg_files(&config.site_root));
        for name in http::site::WORKERS {
            router =
                router.route_service(&format!("/{name}"), http::site::worker_script(&config.site_root, name));
        }
        let router = router
            .fallback_service(http::site::site_files(&config.site_root).fallback(
                leptos_axum::file_and_error_handler::<AppState, _>(app::shell).with_state(state.clone()),
            ))
            .layer(axum::middleware::from_fn(http::render::answer_even_if_rendering_panics))
            .layer(axum::middleware::from_fn(http::site::caching))
            .layer(axum::middleware::from_fn_with_state(state.clone(), http::origin::csrf_guard))
            .layer(sessions);
        let router = http::guard::security_headers(router, public_url.starts_with("https://"))
            .layer(axum::middleware::from_fn_with_state(state.clone(), http::guard::bounded_body))
            .layer(axum::middleware::from_fn_with_state(state.clone(), http::guard::client_and_rate))
            .layer(tower_http::catch_panic::CatchPanicLayer::custom(http::guard::panicked))
            .layer(tower_http::trace::TraceLayer::new_for_http())
            .with_state(state);
        let progress = crate::stopping::StopProgress::default();
        let router = router.layer(axum::middleware::from_fn({
            let progress = progress.clone();
            move |req, next| progress.clone().track(req, next)
        }));

        let deliverer =
            Deliverer::new(deliverer_hub, senders, &public_url, queued, mail.retry_after, mail.max_attempts);

        let log_keeper = EventLogKeeper::new(store.clone(), config.event_log_keep, config.event_log_poll);
        tracing::info!(%addr, %public_url, backend = ?store.backend(), "listening");
        Ok(Application {
            listener,
            router,
            port: addr.port(),
            store,
            shutdown,
            sweeper: SessionSweeper::new(session_store),
            log_keeper,
            doorbell,
            shared_presence,
            deliverer,
            webhook_dispatcher,
            link_previewer,
            retention,
            exporter,
            roll_up,
            resealer,
            scheduler,
            sfu,
            relay,
            live,
            progress,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where the server is on its way to stopping, read while it stops.
    pub fn stop_progress(&self) -> crate::stopping::StopProgress {
        self.progress.clone()
    }

    /// Serves until `stop` resolves, then closes gateway connections, waits
    /// for requests in flight, stops background work and closes the database.
    pub async fn run_until_stopped(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartupError> {
        // Each line this server logs while it serves and stops names its
        // port: several servers run in one test process.
        let span = tracing::info_span!("server", port = self.port);
        self.serve(stop).instrument(span).await
    }

    async fn serve(self, stop: impl Future<Output = ()> + Send + 'static) -> Result<(), StartupError> {
        let Application {
            listener,
            router,
            store,
            shutdown,
            sweeper,
            log_keeper,
            doorbell,
            shared_presence,
            deliverer,
            webhook_dispatcher,
            link_previewer,
            retention,
            exporter,
            roll_up,
            resealer,
            scheduler,
            sfu,
            relay,
            live,
            progress,
            ..
        } = self;
        use crate::stopping::Step;
        let workers = [
            ("session sweeper", in_span(sweeper.run(shutdown.subscribe()))),
            ("event log keeper", in_span(log_keeper.run(shutdown.subscribe()))),
            ("deliverer", in_span(deliverer.run(shutdown.subscribe()))),
            ("webhook dispatcher", in_span(webhook_dispatcher.run(shutdown.subscribe()))),
            ("link previewer", in_span(link_previewer.run(shutdown.subscribe()))),
            ("retention", in_span(retention.run(shutdown.subscribe()))),
            ("exporter", in_span(exporter.run(shutdown.subscribe()))),
            ("activity roll-up", in_span(roll_up.run(shutdown.subscribe()))),
            ("resealer", in_span(resealer.run(shutdown.subscribe()))),
            ("scheduler", in_span(scheduler.run(shutdown.subscribe()))),
            ("SFU", in_span(sfu.run(shutdown.subscribe()))),
        ];
        let doorbell = doorbell.map(|d| ("doorbell", in_span(d.run(shutdown.subscribe()))));
        let relay = relay.map(|r| ("call relay", in_span(r.run(shutdown.subscribe()))));
        let presence_keeper = shared_presence.map(|(p, hub)| {
            ("presence keeper", in_span(crate::cluster::keep_presence(p, hub, shutdown.subscribe())))
        });
        let stopping = {
            let progress = progress.clone();
            async move {
                stop.await;
                tracing::info!("shutting down");
                progress.set(Step::AnsweringRequestsInFlight);
                let _ = shutdown.send(true);
            }
            .in_current_span()
        };
        let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
        // Small frames go out at once: with Nagle's algorithm a gateway
        // acknowledgement written while the client's delayed ACK of the last
        // one is pending waits up to 40 ms for it.
        let listener = listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "could not turn off Nagle's algorithm on a connection");
            }
        });
        axum::serve(listener, service).with_graceful_shutdown(stopping).await?;
        let began = std::time::Instant::now();
        tracing::info!("HTTP server stopped");
        progress.set(Step::EndingGatewayConnections);
        // Gateway connections outlive the HTTP server (they were upgraded):
        // each ends its call (posting a recording it was the last one in)
        // before the workers stop and the database closes.
        live.close();
        let open = live.len();
        if tokio::time::timeout(CONNECTIONS_GRACE, live.wait()).await.is_err() {
            tracing::warn!(
                still_open = live.len(),
                "gateway connections did not end within {CONNECTIONS_GRACE:?}; stopping anyway"
            );
        } else {
            tracing::info!(
                connections = open,
                ms = began.elapsed().as_millis() as u64,
                "gateway connections ended"
            );
        }
        for (name, worker) in workers.into_iter().chain(doorbell).chain(presence_keeper).chain(relay) {
            let waited = std::time::Instant::now();
            progress.set(Step::StoppingWorker(name));
            let _ = worker.await;
            let (ms, waited) = (began.elapsed().as_millis() as u64, waited.elapsed());
            if waited >= SLOW_STOP {
                tracing::warn!(worker = name, ms, waited_ms = waited.as_millis() as u64, "slow to stop");
            } else {
                tracing::debug!(worker = name, ms, "stopped");
            }
        }
        tracing::info!(ms = began.elapsed().as_millis() as u64, "background workers stopped");
        progress.set(Step::ClosingDatabase);
        store.close().await;
        tracing::info!(ms = began.elapsed().as_millis() as u64, "database closed");
        progress.set(Step::Stopped);
        Ok(())
    }
}

/// The app's routes, generated once per process.
///
/// Generating them renders the app with resource loading switched off, and
/// Leptos switches it off for the whole process (one global flag in
/// `leptos_server::SuppressResourceLoad`): a page that another server in the
/// same process renders meanwhile would wait for its data forever. Once per
/// process, before any server built here can answer, nothing renders during it.
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::App)).clone()
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
