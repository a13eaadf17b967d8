//! The browser's connection to the gateway (`/ws`). One WebSocket per page,
//! opened on first use and reopened with backoff when it drops. Views
//! subscribe with a callback; after every (re)connection they get
//! [`LiveEvent::Connected`] so they can reload what they may have missed.
//!
//! The connection state is mirrored on `<html data-live="...">`, which is
//! also what end-to-end tests wait for.

use crate::wire::{GatewayCommand, GatewayEvent};
use futures::channel::mpsc;
use futures::{FutureExt, SinkExt, StreamExt};
use gloo_net::websocket::{Message, futures::WebSocket};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

pub enum LiveEvent {
    Gateway(GatewayEvent),
    /// The gateway is (again) connected and ready.
    Connected,
}

type Handler = Rc<dyn Fn(&LiveEvent)>;

thread_local! {
    static HANDLERS: RefCell<Vec<(u64, Handler)>> = const { RefCell::new(Vec::new()) };
    static NEXT_ID: Cell<u64> = const { Cell::new(0) };
    static STARTED: Cell<bool> = const { Cell::new(false) };
    /// Where commands go while a connection is open.
    static OUTBOX: RefCell<Option<mpsc::UnboundedSender<String>>> = const { RefCell::new(None) };
}

/// Sends a command if the gateway is connected; dropped otherwise (commands
/// are hints like "typing", never data that must arrive).
pub fn send(command: &GatewayCommand) {
    let Ok(text) = serde_json::to_string(command) else { return };
    OUTBOX.with(|o| {
        if let Some(tx) = o.borrow().as_ref() {
            let _ = tx.unbounded_send(text);
        }
    });
}

/// A live subscription; [`Subscription::cancel`] ends it.
pub struct Subscription(u64);

impl Subscription {
    pub fn cancel(self) {
        HANDLERS.with(|h| h.borrow_mut().retain(|(id, _)| *id != self.0));
    }
}

/// Calls `handler` for every live event until the subscription is cancelled.
pub fn subscribe(handler: impl Fn(&LiveEvent) + 'static) -> Subscription {
    let id = NEXT_ID.with(|n| {
        let id = n.get();
        n.set(id + 1);
        id
    });
    HANDLERS.with(|h| h.borrow_mut().push((id, Rc::new(handler))));
    if !STARTED.with(|s| s.replace(true)) {
        leptos::task::spawn_local(run());
    }
    Subscription(id)
}

fn dispatch(event: &LiveEvent) {
    let handlers: Vec<Handler> = HANDLERS.with(|h| h.borrow().iter().map(|(_, f)| f.clone()).collect());
    for f in handlers {
        f(event);
    }
}

fn set_state(state: &str) {
    if let Some(root) = leptos::prelude::document().document_element() {
        let _ = root.set_attribute("data-live", state);
    }
}

fn gateway_url() -> String {
    let location = leptos::prelude::window().location();
    let scheme = if location.protocol().unwrap_or_default() == "https:" { "wss" } else { "ws" };
    format!("{scheme}://{}/ws", location.host().unwrap_or_default())
}

async fn sleep(ms: u64) {
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    leptos::prelude::set_timeout(
        move || {
            let _ = tx.send(());
        },
        Duration::from_millis(ms),
    );
    let _ = rx.await;
}

async fn run() {
    let mut delay = 500;
    loop {
        set_state("connecting");
        if let Ok(ws) = WebSocket::open(&gateway_url()) {
            let (mut sink, mut stream) = ws.split();
            let (tx, mut outbox) = mpsc::unbounded::<String>();
            OUTBOX.with(|o| *o.borrow_mut() = Some(tx));
            loop {
                let frame = futures::select! {
                    frame = stream.next().fuse() => frame,
                    out = outbox.next() => {
                        if let Some(text) = out
                            && sink.send(Message::Text(text)).await.is_err()
                        {
                            break;
                        }
                        continue;
                    }
                };
                let text = match frame {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Bytes(_))) => continue,
                    Some(Err(_)) | None => break,
                };
                let Ok(event) = serde_json::from_str::<GatewayEvent>(&text) else { continue };
                if matches!(event, GatewayEvent::Ready { .. }) {
                    delay = 500;
                    set_state("connected");
                    dispatch(&LiveEvent::Connected);
                }
                dispatch(&LiveEvent::Gateway(event));
            }
            OUTBOX.with(|o| *o.borrow_mut() = None);
        }
        set_state("disconnected");
        sleep(delay).await;
        delay = (delay * 2).min(15_000);
    }
}
