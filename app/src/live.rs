//! The browser's connection to the gateway (`/ws`). One WebSocket per page,
//! opened on first use and reopened with backoff when it drops. A reopened
//! connection resumes the page's session (`RESUME` with the last position
//! seen), so the events missed meanwhile arrive like any others and nothing
//! needs reloading; views get [`LiveEvent::Resumed`]. When the server cannot
//! resume (the page was away longer than the event log keeps), or on the
//! first connection, views get [`LiveEvent::Connected`] and reload what they
//! show.
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

// Events are handed out one at a time by reference; their size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum LiveEvent {
    Gateway(GatewayEvent),
    /// A new gateway session: reload what is shown.
    Connected,
    /// The session continued on a new connection; every event missed
    /// meanwhile was delivered (only what belongs to a connection, such as
    /// a call, starts over).
    Resumed,
}

type Handler = Rc<dyn Fn(&LiveEvent)>;

thread_local! {
    static HANDLERS: RefCell<Vec<(u64, Handler)>> = const { RefCell::new(Vec::new()) };
    static NEXT_ID: Cell<u64> = const { Cell::new(0) };
    static STARTED: Cell<bool> = const { Cell::new(false) };
    static HYDRATED: Cell<bool> = const { Cell::new(false) };
    /// Where commands go while a connection is open.
    static OUTBOX: RefCell<Option<mpsc::UnboundedSender<String>>> = const { RefCell::new(None) };
    /// Whether the person has used this page lately (online versus away).
    static ACTIVE: Cell<bool> = const { Cell::new(true) };
    static LAST_INPUT: Cell<f64> = const { Cell::new(0.0) };
    /// The page's gateway session and the last log position it received.
    static SESSION: RefCell<Option<(String, i64)>> = const { RefCell::new(None) };
    /// Whether the connection is past its handshake (commands may be sent).
    static LIVE_NOW: Cell<bool> = const { Cell::new(false) };
    /// The channel on screen, and which view said so.
    static VIEWING: RefCell<Option<(u64, String)>> = const { RefCell::new(None) };
}

/// How often the page sends `PING` (the server asks for at most 25 s).
const HEARTBEAT_MS: u64 = 20_000;

/// Remembers how far the page has read the event log.
fn advance(seq: i64) {
    SESSION.with(|s| {
        if let Some((_, last)) = s.borrow_mut().as_mut() {
            *last = (*last).max(seq);
        }
    });
}

/// The answer to `HELLO`: resume the page's session if it has one.
fn greeting() -> GatewayCommand {
    match SESSION.with(|s| s.borrow().clone()) {
        Some((session_id, seq)) => GatewayCommand::Resume { session_id, seq },
        None => GatewayCommand::Identify,
    }
}

/// After this long without input, or while the page is hidden, it counts as idle.
const IDLE_AFTER_MS: f64 = 5.0 * 60.0 * 1000.0;

fn set_active(active: bool) {
    if ACTIVE.with(|a| a.replace(active)) != active {
        send(&GatewayCommand::Activity { active });
    }
}

/// Watches input and visibility to tell the gateway when this page goes
/// idle and comes back (presence: online versus away).
fn watch_activity() {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    LAST_INPUT.with(|t| t.set(js_sys::Date::now()));
    let document = leptos::prelude::document();
    let on_input = Closure::<dyn FnMut()>::new(|| {
        LAST_INPUT.with(|t| t.set(js_sys::Date::now()));
        set_active(true);
    });
    for event in ["keydown", "pointerdown", "pointermove", "focus"] {
        let _ = document.add_event_listener_with_callback(event, on_input.as_ref().unchecked_ref());
    }
    on_input.forget();
    let on_visibility = Closure::<dyn FnMut()>::new(|| {
        let visible = leptos::prelude::document().visibility_state() == web_sys::VisibilityState::Visible;
        if visible {
            LAST_INPUT.with(|t| t.set(js_sys::Date::now()));
        }
        set_active(visible);
    });
    let _ =
        document.add_event_listener_with_callback("visibilitychange", on_visibility.as_ref().unchecked_ref());
    on_visibility.forget();
    let _ = leptos::prelude::set_interval_with_handle(
        || {
            if js_sys::Date::now() - LAST_INPUT.with(Cell::get) > IDLE_AFTER_MS {
                set_active(false);
            }
        },
        Duration::from_secs(30),
    );
}

/// A number for a subscription or a view, new on this page.
fn next_id() -> u64 {
    NEXT_ID.with(|n| {
        let id = n.get();
        n.set(id + 1);
        id
    })
}

/// A channel on screen, until [`Viewing::end`].
pub struct Viewing(u64);

/// Says that this page shows `channel_id`: the gateway then sends it typing
/// only from there (see `VIEW`). Said again on every new connection.
pub fn view(channel_id: String) -> Viewing {
    let id = next_id();
    VIEWING.with(|v| *v.borrow_mut() = Some((id, channel_id.clone())));
    if LIVE_NOW.get() {
        send(&GatewayCommand::View { channel_id: Some(channel_id) });
    }
    Viewing(id)
}

impl Viewing {
    /// The channel left the screen, unless another view showed one since.
    pub fn end(self) {
        let ended = VIEWING.with(|v| {
            let mut v = v.borrow_mut();
            let mine = v.as_ref().is_some_and(|(id, _)| *id == self.0);
            if mine {
                *v = None;
            }
            mine
        });
        if ended && LIVE_NOW.get() {
            send(&GatewayCommand::View { channel_id: None });
        }
    }
}

/// Sends a command if the gateway is connected; dropped otherwise (commands
/// are hints like "typing", or a call's signalling, which starts over on
/// the next connection). Returns whether it was sent.
pub fn send(command: &GatewayCommand) -> bool {
    let Ok(text) = serde_json::to_string(command) else { return false };
    OUTBOX.with(|o| o.borrow().as_ref().is_some_and(|tx| tx.unbounded_send(text).is_ok()))
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
    let id = next_id();
    HANDLERS.with(|h| h.borrow_mut().push((id, Rc::new(handler))));
    if HYDRATED.get() {
        start();
    }
    Subscription(id)
}

/// Says the page is hydrated, and opens the connection if anything
/// subscribed meanwhile.
///
/// Invariant: the connection opens only once the page is hydrated. A view
/// that reloads on [`LiveEvent::Connected`] (or takes an event) while
/// hydration still waits for a lazily loaded part would no longer match
/// the server's HTML, and hydration would fail.
pub fn page_hydrated() {
    HYDRATED.set(true);
    if HANDLERS.with(|h| !h.borrow().is_empty()) {
        start();
    }
}

/// Opens the connection, once per page.
fn start() {
    if !STARTED.with(|s| s.replace(true)) {
        watch_activity();
        leptos::task::spawn_local(run());
    }
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

/// Counts the page's resumed sessions on `<html data-live-resumes>`.
fn count_resume() {
    if let Some(root) = leptos::prelude::document().document_element() {
        let n = root.get_attribute("data-live-resumes").and_then(|n| n.parse::<u32>().ok()).unwrap_or(0);
        let _ = root.set_attribute("data-live-resumes", &(n + 1).to_string());
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
            let mut beat = Box::pin(sleep(HEARTBEAT_MS).fuse());
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
                    _ = beat => {
                        beat = Box::pin(sleep(HEARTBEAT_MS).fuse());
                        send(&GatewayCommand::Ping);
                        continue;
                    }
                };
                let text = match frame {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Bytes(_))) => continue,
                    Some(Err(_)) | None => break,
                };
                let Some((event, seq)) = GatewayEvent::from_frame(&text) else { continue };
                if let Some(seq) = seq {
                    advance(seq);
                }
                let started = match &event {
                    GatewayEvent::Hello { .. } => {
                        send(&greeting());
                        None
                    }
                    GatewayEvent::Ready { session_id, seq, .. } => {
                        SESSION.with(|s| *s.borrow_mut() = Some((session_id.clone(), *seq)));
                        Some(LiveEvent::Connected)
                    }
                    GatewayEvent::Resumed { seq, .. } => {
                        advance(*seq);
                        count_resume();
                        Some(LiveEvent::Resumed)
                    }
                    GatewayEvent::Pong { seq } => {
                        advance(*seq);
                        None
                    }
                    _ => None,
                };
                if let Some(started) = started {
                    delay = 500;
                    set_state("connected");
                    LIVE_NOW.set(true);
                    // A new connection starts active, showing no channel in
                    // particular: say what this page is.
                    if !ACTIVE.with(Cell::get) {
                        send(&GatewayCommand::Activity { active: false });
                    }
                    if let Some((_, channel_id)) = VIEWING.with(|v| v.borrow().clone()) {
                        send(&GatewayCommand::View { channel_id: Some(channel_id) });
                    }
                    dispatch(&started);
                }
                dispatch(&LiveEvent::Gateway(event));
            }
            OUTBOX.with(|o| *o.borrow_mut() = None);
            LIVE_NOW.set(false);
        }
        set_state("disconnected");
        sleep(delay).await;
        delay = (delay * 2).min(15_000);
    }
}
