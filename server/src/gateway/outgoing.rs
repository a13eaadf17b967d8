//! What one connection writes to its client: a bounded queue of frames,
//! written by the connection's own task as the socket takes them.
//!
//! There is no writer task: the connection loop waits on [`Outgoing::write`]
//! beside its other sources, so a delivery wakes one task, not two, and an
//! idle connection is one future.

use super::feed::TooSlow;
use axum::extract::ws::{Message, WebSocket};
use futures::stream::SplitSink;
use futures::{Sink, SinkExt};
use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

/// Frames waiting for a client before it counts as too slow.
pub(crate) const QUEUE: usize = 256;

/// The socket failed, or a close frame went out: nothing more is written.
#[derive(Debug)]
pub(super) struct Closed;

/// The writing half of a connection and the frames waiting for it.
pub(super) struct Outgoing {
    sink: SplitSink<WebSocket, Message>,
    queue: VecDeque<Message>,
    /// Frames handed to the socket since it was last flushed.
    unflushed: bool,
    /// A close frame was queued: what comes after it is dropped.
    closing: bool,
    /// The close frame was handed to the socket.
    close_sent: bool,
    /// The close frame went out, or the socket failed.
    done: bool,
}

impl Outgoing {
    pub fn new(sink: SplitSink<WebSocket, Message>) -> Outgoing {
        Outgoing {
            sink,
            queue: VecDeque::new(),
            unflushed: false,
            closing: false,
            close_sent: false,
            done: false,
        }
    }

    /// Queues a frame, unless [`QUEUE`] frames already wait: then the client
    /// does not take its events fast enough.
    pub fn push(&mut self, frame: Message) -> Result<(), TooSlow> {
        if self.queue.len() >= QUEUE {
            return Err(TooSlow);
        }
        self.push_anyway(frame);
        Ok(())
    }

    /// Queues a frame, first writing what is queued if the queue is full
    /// (a replay, which may be longer than the queue).
    pub async fn send(&mut self, frame: Message) {
        if self.queue.len() >= QUEUE {
            let _ = self.write().await;
        }
        self.push_anyway(frame);
    }

    /// Queues a frame whatever the queue holds: an answer the client is
    /// waiting for (one per command it sent, so the client bounds them).
    pub fn push_anyway(&mut self, frame: Message) {
        if self.closing || self.done {
            return;
        }
        self.closing = matches!(frame, Message::Close(_));
        self.queue.push_back(frame);
    }

    /// Queues a close frame ahead of what is queued, which is dropped: a
    /// slow consumer's backlog, which its client reads again when it resumes.
    pub fn close_now(&mut self, frame: Message) {
        self.queue.clear();
        self.closing = false;
        self.push_anyway(frame);
    }

    /// Whether anything is waiting to be written.
    pub fn pending(&self) -> bool {
        !self.done && (self.unflushed || !self.queue.is_empty())
    }

    /// Writes what is queued as the socket takes it, with one flush (one
    /// system call for a burst). Cancel-safe: a frame leaves the queue only
    /// once the socket has taken it. `Err` once the socket failed or the
    /// close frame went out.
    pub async fn write(&mut self) -> Result<(), Closed> {
        std::future::poll_fn(|cx| self.poll_write(cx)).await
    }

    fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Closed>> {
        if self.done {
            return Poll::Ready(Err(Closed));
        }
        let mut sink = Pin::new(&mut self.sink);
        while !self.queue.is_empty() && !self.close_sent {
            if ready!(sink.as_mut().poll_ready(cx)).is_err() {
                self.done = true;
                return Poll::Ready(Err(Closed));
            }
            let frame = self.queue.pop_front().expect("a queued frame");
            self.close_sent = matches!(frame, Message::Close(_));
            if sink.as_mut().start_send(frame).is_err() {
                self.done = true;
                return Poll::Ready(Err(Closed));
            }
            self.unflushed = true;
        }
        if self.unflushed {
            let flushed = ready!(sink.as_mut().poll_flush(cx));
            self.unflushed = false;
            if flushed.is_err() || self.close_sent {
                self.done = true;
                return Poll::Ready(Err(Closed));
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Writes what is left and closes the socket, for at most `limit`: a
    /// client that stopped reading is then cut off.
    pub async fn finish(mut self, limit: Duration) {
        let _ = tokio::time::timeout(limit, async {
            while self.pending() {
                if self.write().await.is_err() {
                    break;
                }
            }
            let _ = self.sink.close().await;
        })
        .await;
    }
}
