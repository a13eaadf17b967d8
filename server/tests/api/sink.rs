//! A loopback HTTP server standing for a service Parley calls (a push
//! service, an SMS provider, an outgoing webhook's receiver): it records
//! each request and answers with the status and body it is set to.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// An HTTP request as the sink received it.
pub struct Captured {
    pub path: String,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Captured {
    /// A header's value, or empty.
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

pub struct HttpSink {
    pub port: u16,
    status: Arc<AtomicU16>,
    body: Arc<Mutex<String>>,
    received: mpsc::UnboundedReceiver<Captured>,
}

impl HttpSink {
    /// A sink answering `status` with an empty body.
    pub async fn start(status: u16) -> HttpSink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, received) = mpsc::unbounded_channel();
        let status = Arc::new(AtomicU16::new(status));
        let body = Arc::new(Mutex::new(String::new()));
        let (answer, answer_body) = (status.clone(), body.clone());
        let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
            let (tx, answer, answer_body) = (tx.clone(), answer.clone(), answer_body.clone());
            async move {
                // The answer is the one set when the request arrived: a test
                // that sees this request and sets the next answer changes
                // only the answers after it.
                let status = axum::http::StatusCode::from_u16(answer.load(Ordering::SeqCst)).unwrap();
                let text = answer_body.lock().unwrap().clone();
                let (parts, body) = req.into_parts();
                let body = axum::body::to_bytes(body, 1 << 20).await.unwrap().to_vec();
                let _ =
                    tx.send(Captured { path: parts.uri.path().to_string(), headers: parts.headers, body });
                (status, [(axum::http::header::CONTENT_TYPE, "application/json")], text)
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        HttpSink { port, status, body, received }
    }

    /// Answers `status` and `body` from now on.
    pub fn answer(&self, status: u16, body: &str) {
        self.status.store(status, Ordering::SeqCst);
        *self.body.lock().unwrap() = body.to_string();
    }

    /// The address of `path` on the sink.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The next request, waited for up to 10 seconds.
    pub async fn next(&mut self) -> Captured {
        tokio::time::timeout(Duration::from_secs(10), self.received.recv())
            .await
            .expect("a request within 10 s")
            .expect("the sink runs")
    }
}
