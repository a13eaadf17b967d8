use domain::Backend;
use domain::testing::{TempDir, TestDb};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use server::config::Config;
use server::startup::Application;
use server::stopping::StopProgress;
use std::time::Duration;
use tokio::sync::oneshot;

pub struct TestApp {
    pub base: String,
    /// The server's OpenAPI document; API answers are checked against it.
    pub contract: std::sync::Arc<crate::contract::Contract>,
    pub port: u16,
    pub db: TestDb,
    pub data: TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    /// Where the server is on its way to stopping (said when it is slow).
    progress: StopProgress,
    configure: Configure,
}

/// Changes the test configuration before the server starts (and restarts).
pub type Configure = std::sync::Arc<dyn Fn(&mut Config) + Send + Sync>;

impl TestApp {
    /// The server's database, opened with the server's keys.
    pub async fn store(&self) -> domain::Store {
        self.db.store_with(self.keys()).await
    }

    /// A hub on the server's database, as another node's (with the server's keys).
    pub async fn other_node(&self) -> domain::Hub {
        self.db.hub_with(self.keys()).await
    }

    fn keys(&self) -> domain::crypto::Keyring {
        let mut config = Config::for_tests(self.db.url.clone(), self.data.0.clone());
        (self.configure)(&mut config);
        config.keyring().expect("the server's keys")
    }

    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, std::sync::Arc::new(|_: &mut Config| {})).await
    }

    /// Like [`TestApp::spawn`], with `configure` applied to the configuration.
    pub async fn spawn_with(backend: Backend, configure: Configure) -> TestApp {
        Self::spawn_on(TestDb::new(backend).await, configure).await
    }

    /// A server on `db`, with `configure` applied to the configuration.
    /// The servers' logs go to stderr when `PARLEY_TEST_LOG` holds log
    /// directives (as `PARLEY_LOG` does for the server), e.g.
    /// `PARLEY_TEST_LOG=server=debug,domain=debug`.
    pub async fn spawn_on(db: TestDb, configure: Configure) -> TestApp {
        if let Ok(directives) = std::env::var("PARLEY_TEST_LOG") {
            server::telemetry::init(&directives);
        }
        let data = TempDir::new("parley-app");
        let Started { port, stop, task, progress } = start(&db.url, &data, &configure).await;
        let doc: Value = reqwest::get(format!("http://127.0.0.1:{port}/api/openapi.json"))
            .await
            .expect("the OpenAPI document is served")
            .json()
            .await
            .expect("the OpenAPI document is JSON");
        TestApp {
            contract: std::sync::Arc::new(crate::contract::Contract::new(doc)),
            base: format!("http://127.0.0.1:{port}"),
            port,
            db,
            data,
            stop: Some(stop),
            task: Some(task),
            progress,
            configure,
        }
    }

    /// Another node of the same deployment: a server on this one's
    /// database, with its own data directory and `configure`d.
    pub async fn another_node(&self, configure: Configure) -> TestApp {
        let db = self.db.shared();
        let data = TempDir::new("parley-node");
        let Started { port, stop, task, progress } = start(&db.url, &data, &configure).await;
        TestApp {
            contract: self.contract.clone(),
            base: format!("http://127.0.0.1:{port}"),
            port,
            db,
            data,
            stop: Some(stop),
            task: Some(task),
            progress,
            configure,
        }
    }

    /// Stops the server and starts another on the same database (new port).
    pub async fn restart(&mut self) {
        self.shutdown().await;
        let Started { port, stop, task, progress } = start(&self.db.url, &self.data, &self.configure).await;
        self.base = format!("http://127.0.0.1:{port}");
        self.port = port;
        self.stop = Some(stop);
        self.task = Some(task);
        self.progress = progress;
    }

    async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            match tokio::time::timeout(Duration::from_secs(10), task).await {
                Ok(ended) => ended.expect("server task"),
                Err(_) => panic!("the server did not stop within 10 s: {}", self.progress.describe()),
            }
        }
    }

    /// Stops the server and drops its database.
    pub async fn finish(mut self) {
        self.shutdown().await;
        let TestApp { db, .. } = self;
        db.drop_database().await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A browser-like client: keeps cookies, does not follow redirects.
    pub fn client(&self) -> Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("accept", "text/html,application/json;q=0.9".parse().unwrap());
        Client::builder()
            .cookie_store(true)
            // A request that hangs fails the test instead of stalling the run
            // (generous: the whole suite shares two cores with PostgreSQL).
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .build()
            .unwrap()
    }

    /// Signs up `name` with a fresh cookie jar; returns the client and the API token.
    pub async fn user(&self, name: &str) -> User {
        let client = self.client();
        let res = client
            .post(self.url("/api/auth/signup"))
            .json(&json!({
                "username": name,
                "display_name": format!("{name} D"),
                "email": format!("{name}@example.com"),
                "password": "correct horse battery",
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED, "signup {name}");
        let body: Value = res.json().await.unwrap();
        User {
            client,
            token: body["token"].as_str().unwrap().to_string(),
            id: body["user"]["id"].as_str().unwrap().to_string(),
        }
    }
}

/// A server running in the test's runtime.
struct Started {
    port: u16,
    /// Stops it when sent to (or dropped).
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
    progress: StopProgress,
}

async fn start(url: &str, data: &TempDir, configure: &Configure) -> Started {
    let mut config = Config::for_tests(url.to_string(), data.0.clone());
    configure(&mut config);
    let app = Application::build(config).await.expect("server builds");
    let (port, progress) = (app.port(), app.stop_progress());
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        app.run_until_stopped(async move {
            let _ = rx.await;
        })
        .await
        .expect("server runs");
    });
    Started { port, stop: tx, task, progress }
}

#[derive(Clone)]
pub struct User {
    pub client: Client,
    pub token: String,
    pub id: String,
}

impl User {
    pub async fn get(&self, app: &TestApp, path: &str) -> Response {
        self.send(app, "GET", self.client.get(app.url(path))).await
    }

    pub async fn post(&self, app: &TestApp, path: &str, body: Value) -> Response {
        self.send(app, "POST", self.client.post(app.url(path)).json(&body)).await
    }

    pub async fn put(&self, app: &TestApp, path: &str, body: Value) -> Response {
        self.send(app, "PUT", self.client.put(app.url(path)).json(&body)).await
    }

    pub async fn delete(&self, app: &TestApp, path: &str) -> Response {
        self.send(app, "DELETE", self.client.delete(app.url(path))).await
    }

    /// Sends as this user; an answer from a documented route is checked
    /// against the OpenAPI document before the test sees it.
    pub async fn send(&self, app: &TestApp, method: &str, request: reqwest::RequestBuilder) -> Response {
        let res = request.bearer_auth(&self.token).send().await.unwrap();
        checked(app, method, res).await
    }
}

/// Checks a response of `/api/communication/...` against the contract and
/// hands back an equivalent response.
pub async fn checked(app: &TestApp, method: &str, res: Response) -> Response {
    let path = res.url().path().to_string();
    if !path.starts_with("/api/communication/") {
        return res;
    }
    let status = res.status();
    let mut builder = http::Response::builder().status(status);
    for (k, v) in res.headers() {
        builder = builder.header(k, v);
    }
    let bytes = res.bytes().await.unwrap();
    app.contract.check(method, &path, status.as_u16(), &bytes);
    builder.body(bytes).unwrap().into()
}

/// Reads a JSON body, asserting the status first.
pub async fn json_of(res: Response, status: StatusCode) -> Value {
    let got = res.status();
    let body = res.text().await.unwrap();
    assert_eq!(got, status, "body: {body}");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

/// Asserts an `ApiError` body with `code` (and `field`, when given).
pub async fn assert_error(res: Response, status: StatusCode, code: &str, field: Option<&str>) -> Value {
    let body = json_of(res, status).await;
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| m.len() > 10), "a helpful message: {body}");
    if let Some(f) = field {
        assert_eq!(body["field"], f, "{body}");
    }
    body
}

/// A workspace made by `owner`: (workspace id, #general id).
pub async fn workspace(app: &TestApp, owner: &User, private: bool) -> (String, String) {
    let body = json_of(
        owner.post(app, "/api/workspaces", json!({"name": "Acme", "is_private": private})).await,
        StatusCode::CREATED,
    )
    .await;
    (body["workspace"]["id"].as_str().unwrap().into(), body["general"]["id"].as_str().unwrap().into())
}

/// `user` joins the public workspace `ws`.
pub async fn join(app: &TestApp, user: &User, ws: &str) {
    json_of(user.post(app, &format!("/api/workspaces/{ws}/join"), json!({})).await, StatusCode::OK).await;
}

/// A channel made by `user` in `ws`; returns its id.
pub async fn channel(app: &TestApp, user: &User, ws: &str, name: &str, private: bool) -> String {
    let body = json_of(
        user.post(
            app,
            "/api/communication/channels/",
            json!({"workspace_id": ws, "name": name, "channel_type": if private { "private" } else { "public" }}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    body["id"].as_str().unwrap().to_string()
}

/// A configuration without rate limits, for tests that ask the same thing
/// many times as one person.
pub fn without_rate_limits() -> Configure {
    std::sync::Arc::new(|c: &mut Config| c.limits = domain::limits::LimitSettings::unlimited())
}

/// Runs each test body on SQLite and on PostgreSQL, each with its own server.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident => $body:ident;)*) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() {
                let app = $crate::helpers::TestApp::spawn(domain::Backend::Sqlite).await;
                let app = super::$body(app).await;
                app.finish().await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() {
                let app = $crate::helpers::TestApp::spawn(domain::Backend::Postgres).await;
                let app = super::$body(app).await;
                app.finish().await;
            })*
        }
    };
}

/// Runs each test function (taking a backend) on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_each_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() {
                super::$name(domain::Backend::Sqlite).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() {
                super::$name(domain::Backend::Postgres).await;
            })*
        }
    };
}

/// `who` posts `body` in `channel` through the API; returns the message.
pub async fn say(app: &TestApp, who: &User, channel: &str, body: &str) -> Value {
    let res =
        who.post(app, "/api/communication/messages/", json!({"channel_id": channel, "body": body})).await;
    json_of(res, StatusCode::CREATED).await
}

/// Waits (at most `secs`) until `check` holds.
pub async fn until<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "{what} within {secs} s");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
