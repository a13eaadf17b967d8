//! How a connection speaks. Parley's own clients speak the gateway protocol
//! (`/ws`); clients written to the two formats the communication API's
//! first description and the servers-and-channels one give are served too:
//!
//! - [`Dialect::Communication`] at `/ws/communication/messages/`: the client
//!   sends `{"type": "message", "channel_id", "content", "nonce"?}` and gets
//!   `{"type": "message", "message": {…}}` for every new message it may see,
//!   `{"type": "message_sent", "nonce", "message"}` once its own is stored,
//!   and `{"type": "error", "error": {…}, "nonce"?}` when one is refused.
//! - [`Dialect::TextChannel`] at `/ws/text/{channel}/`: the client sends
//!   `{"action": "chat_message", "message"}` and everyone connected to that
//!   channel gets `{"type": "chat.message", "message", "username"}`.
//!
//! Either way the frame becomes a [`GatewayCommand`] and goes through the
//! same checks (permissions, rate limits) as everything else.

use app::wire::{GatewayCommand, GatewayEvent};
use axum::body::Bytes;
use axum::extract::ws::{Message, Utf8Bytes};
use domain::Id;
use domain::events::Event;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Parley's gateway protocol (`app::wire`).
    Gateway,
    /// `/ws/communication/messages/`.
    Communication,
    /// `/ws/text/{channel}/`: one channel's chat.
    TextChannel(Id),
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum CommunicationFrame {
    Message { channel_id: String, content: String, nonce: Option<String> },
}

#[derive(Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
enum TextChannelFrame {
    ChatMessage { message: String },
}

/// An event in the gateway protocol: one JSON text frame.
pub fn frame(event: &GatewayEvent) -> Message {
    Message::Text(Utf8Bytes::from(serde_json::to_string(event).expect("gateway events serialise")))
}

/// A logged event in the gateway protocol, with its position:
/// `{"seq": 42, "type": …}`.
pub fn frame_logged(seq: i64, event: &GatewayEvent) -> Message {
    let json = serde_json::to_string(event).expect("gateway events serialise");
    // Every event is a JSON object with at least its `type`.
    let fields = json.strip_prefix('{').expect("gateway events are JSON objects");
    Message::Text(Utf8Bytes::from(format!("{{\"seq\":{seq},{fields}")))
}

/// A nonce for a message whose client gave none: each such send is its own.
fn fresh_nonce() -> String {
    format!("ws-{}", Id::new())
}

impl Dialect {
    /// A text frame from the client as a command; `None` when it is not one.
    pub fn parse(self, text: &str) -> Option<GatewayCommand> {
        match self {
            Dialect::Gateway => serde_json::from_str(text).ok(),
            Dialect::Communication => match serde_json::from_str(text).ok()? {
                CommunicationFrame::Message { channel_id, content, nonce } => {
                    Some(GatewayCommand::MessageCreate {
                        channel_id,
                        body: content,
                        nonce: nonce.unwrap_or_else(fresh_nonce),
                        thread_id: None,
                    })
                }
            },
            Dialect::TextChannel(channel) => match serde_json::from_str(text).ok()? {
                TextChannelFrame::ChatMessage { message } => Some(GatewayCommand::MessageCreate {
                    channel_id: channel.to_string(),
                    body: message,
                    nonce: fresh_nonce(),
                    thread_id: None,
                }),
            },
        }
    }

    /// A logged event as this client reads it (only the gateway protocol
    /// carries its position). The gateway's frame is made once per event and
    /// shared by every connection that sends it.
    pub fn render_logged(self, event: &Event) -> Option<Message> {
        match self {
            Dialect::Gateway => {
                let wire = event.wire.get_or_init(|| {
                    let Message::Text(text) = frame_logged(event.seq, &GatewayEvent::from(&event.kind))
                    else {
                        unreachable!("frames are text")
                    };
                    Bytes::from(text)
                });
                Some(Message::Text(Utf8Bytes::try_from(wire).expect("made from text")))
            }
            _ => self.render(&GatewayEvent::from(&event.kind)),
        }
    }

    /// `event` as this client reads it; `None` when this dialect does not carry it.
    pub fn render(self, event: &GatewayEvent) -> Option<Message> {
        let value = match (self, event) {
            (Dialect::Gateway, event) => return Some(frame(event)),
            (Dialect::Communication, GatewayEvent::MessageCreate { message }) => {
                json!({"type": "message", "message": message})
            }
            (Dialect::Communication, GatewayEvent::MessageAck { nonce, message }) => {
                json!({"type": "message_sent", "nonce": nonce, "message": message})
            }
            (Dialect::TextChannel(channel), GatewayEvent::MessageCreate { message })
                if message.channel_id == channel.to_string() && message.thread_id.is_none() =>
            {
                json!({"type": "chat.message", "message": message.body, "username": message.author.username})
            }
            (
                Dialect::Communication | Dialect::TextChannel(_),
                GatewayEvent::CommandError { error, nonce, .. },
            ) => {
                json!({"type": "error", "error": error, "nonce": nonce})
            }
            _ => return None,
        };
        Some(Message::Text(Utf8Bytes::from(value.to_string())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logged_event_carries_its_position() {
        let event =
            GatewayEvent::MessageDelete { channel_id: "5".into(), message_id: "6".into(), thread_id: None };
        let Message::Text(text) = frame_logged(42, &event) else { panic!("text") };
        let position: app::wire::Sequenced = serde_json::from_str(&text).unwrap();
        assert_eq!(position.seq, Some(42));
        assert_eq!(serde_json::from_str::<GatewayEvent>(&text).unwrap(), event);
        assert_eq!(GatewayEvent::from_frame(&text), Some((event, Some(42))));
    }

    /// The browser reads each frame tagged around its fields: the frames
    /// made here turn into exactly that.
    #[test]
    fn a_frame_is_retagged_around_its_fields_for_the_browser() {
        let event =
            GatewayEvent::MessageDelete { channel_id: "5".into(), message_id: "6".into(), thread_id: None };
        let Message::Text(logged) = frame_logged(42, &event) else { panic!("text") };
        let (around, seq) = app::wire::retag(&logged).unwrap();
        assert_eq!(seq, Some(42));
        assert_eq!(around, r#"{"MESSAGE_DELETE":{"channel_id":"5","message_id":"6"}}"#);
        let Message::Text(plain) = frame(&GatewayEvent::Pong { seq: 7 }) else { panic!("text") };
        assert_eq!(app::wire::retag(&plain), Some((r#"{"PONG":{"seq":7}}"#.to_string(), None)));
        // What the server never writes is not an event.
        assert_eq!(app::wire::retag(r#"{"kind":"PONG"}"#), None);
        assert_eq!(app::wire::retag(r#"{"type":"pong\"}"#), None);
    }

    #[test]
    fn the_seed_formats_become_message_commands() {
        let sent = Dialect::Communication.parse(r#"{"type":"message","channel_id":"5","content":"hi"}"#);
        assert!(matches!(sent, Some(GatewayCommand::MessageCreate { channel_id, body, .. })
            if channel_id == "5" && body == "hi"));
        let chat = Dialect::TextChannel(Id(7)).parse(r#"{"action":"chat_message","message":"hello"}"#);
        assert!(matches!(chat, Some(GatewayCommand::MessageCreate { channel_id, body, .. })
            if channel_id == "7" && body == "hello"));
        assert!(Dialect::TextChannel(Id(7)).parse(r#"{"type":"PING"}"#).is_none());
        assert!(Dialect::Communication.parse(r#"{"type":"TYPING","channel_id":"5"}"#).is_none());
    }
}
