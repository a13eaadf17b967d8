//! Where a stopping server is, so that whoever waits for it to stop can say
//! what holds it up: the step it is at, and in the HTTP step how many
//! requests are not yet answered (their paths are in the request log).

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A server's progress towards stopping; cloned, it is read while the
/// server stops.
#[derive(Clone, Default)]
pub struct StopProgress(Arc<Progress>);

#[derive(Default)]
struct Progress {
    step: Mutex<Step>,
    /// How many requests' handlers have not answered (two atomic steps a
    /// request: this is on every request's path).
    in_flight: AtomicUsize,
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
            Step::AnsweringRequestsInFlight => match self.0.in_flight.load(Ordering::Relaxed) {
                0 => "closing HTTP connections (every request was answered)".into(),
                n => format!("answering {n} request{} in flight", if n == 1 { "" } else { "s" }),
            },
            Step::EndingGatewayConnections => "ending gateway connections".into(),
            Step::StoppingWorker(name) => format!("waiting for the {name} to stop"),
            Step::ClosingDatabase => "closing the database".into(),
            Step::Stopped => "stopped".into(),
        }
    }

    /// Middleware: counts each request until its handler answers (or the
    /// request is dropped).
    pub async fn track(self, req: Request, next: Next) -> Response {
        self.0.in_flight.fetch_add(1, Ordering::Relaxed);
        let _answered = Answered(&self);
        next.run(req).await
    }
}

/// Counts a request out when dropped.
struct Answered<'a>(&'a StopProgress);

impl Drop for Answered<'_> {
    fn drop(&mut self) {
        self.0.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_http_step_counts_the_requests_not_yet_answered() {
        let progress = StopProgress::default();
        progress.0.in_flight.store(2, Ordering::Relaxed);
        progress.set(Step::AnsweringRequestsInFlight);
        assert_eq!(progress.describe(), "answering 2 requests in flight");
        progress.0.in_flight.store(0, Ordering::Relaxed);
        assert_eq!(progress.describe(), "closing HTTP connections (every request was answered)");
        progress.set(Step::StoppingWorker("exporter"));
        assert_eq!(progress.describe(), "waiting for the exporter to stop");
    }
}
