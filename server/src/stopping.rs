//! Where a stopping server is, so that whoever waits for it to stop can say
//! what holds it up: the step it is at, and in the HTTP step the requests
//! not yet answered.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A server's progress towards stopping; cloned, it is read while the
/// server stops.
#[derive(Clone, Default)]
pub struct StopProgress(Arc<Progress>);

#[derive(Default)]
struct Progress {
    step: Mutex<Step>,
    /// The requests whose handlers have not answered, by number.
    in_flight: Mutex<BTreeMap<u64, String>>,
    next: AtomicU64,
}

/// What a server is doing, from the moment it serves until it has stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Step {
    #[default]
    Serving,
    /// Told to stop: no new connections; those open finish their requests.
    AnsweringRequestsInFlight,
    /// Gateway connections end their calls.
    EndingGatewayConnections,
    /// Waiting for this background worker to stop.
    StoppingWorker(&'static str),
    ClosingDatabase,
    Stopped,
}

impl StopProgress {
    pub(crate) fn set(&self, step: Step) {
        *self.0.step.lock().expect("stop progress lock") = step;
    }

    pub fn step(&self) -> Step {
        self.0.step.lock().expect("stop progress lock").clone()
    }

    /// The step, in words; in the HTTP step, with the requests not yet answered.
    pub fn describe(&self) -> String {
        match self.step() {
            Step::Serving => "serving (not told to stop)".into(),
            Step::AnsweringRequestsInFlight => {
                let waiting: Vec<String> =
                    self.0.in_flight.lock().expect("stop progress lock").values().cloned().collect();
                match waiting.is_empty() {
                    true => "closing HTTP connections (every request was answered)".into(),
                    false => format!("answering requests in flight: {}", waiting.join(", ")),
                }
            }
            Step::EndingGatewayConnections => "ending gateway connections".into(),
            Step::StoppingWorker(name) => format!("waiting for the {name} to stop"),
            Step::ClosingDatabase => "closing the database".into(),
            Step::Stopped => "stopped".into(),
        }
    }

    /// Middleware: keeps each request in the list until its handler answers
    /// (or the request is dropped).
    pub async fn track(self, req: Request, next: Next) -> Response {
        let id = self.0.next.fetch_add(1, Ordering::Relaxed);
        let what = format!("{} {}", req.method(), req.uri().path());
        self.0.in_flight.lock().expect("stop progress lock").insert(id, what);
        let _answered = Answered { progress: &self, id };
        next.run(req).await
    }
}

/// Takes a request off the list when dropped.
struct Answered<'a> {
    progress: &'a StopProgress,
    id: u64,
}

impl Drop for Answered<'_> {
    fn drop(&mut self) {
        if let Ok(mut in_flight) = self.progress.0.in_flight.lock() {
            in_flight.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_http_step_names_the_requests_not_yet_answered() {
        let progress = StopProgress::default();
        progress.0.in_flight.lock().unwrap().insert(7, "GET /api/slow".into());
        progress.set(Step::AnsweringRequestsInFlight);
        assert_eq!(progress.describe(), "answering requests in flight: GET /api/slow");
        progress.0.in_flight.lock().unwrap().clear();
        assert_eq!(progress.describe(), "closing HTTP connections (every request was answered)");
        progress.set(Step::StoppingWorker("exporter"));
        assert_eq!(progress.describe(), "waiting for the exporter to stop");
    }
}
