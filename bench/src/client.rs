//! The gateway as the benchmarks' load clients use it: a connection that
//! has identified and is receiving its live stream.

use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

pub type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// What a load client reads of a frame: its type, and the body of a
/// message it carries (borrowed, so reading a frame allocates little).
#[derive(Deserialize)]
pub struct Frame<'a> {
    #[serde(rename = "type")]
    pub kind: &'a str,
    #[serde(borrow)]
    pub message: Option<Body<'a>>,
    pub nonce: Option<&'a str>,
}

#[derive(Deserialize)]
pub struct Body<'a> {
    pub body: &'a str,
}

/// Opens the gateway at `base` (`http://…`) as the holder of `token`, and
/// returns once the session is READY.
pub async fn connect(base: &str, token: &str) -> Ws {
    let url = format!("{}/ws", base.replacen("http", "ws", 1));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    // Nagle's algorithm off, as browsers have it.
    let (mut ws, _) =
        tokio_tungstenite::connect_async_with_config(request, None, true).await.expect("gateway");
    loop {
        let Some(Ok(Message::Text(text))) = ws.next().await else { panic!("the gateway closed") };
        let frame: Frame = serde_json::from_str(&text).expect("a gateway frame");
        match frame.kind {
            "HELLO" => ws.send(Message::text(r#"{"type":"IDENTIFY"}"#)).await.unwrap(),
            "READY" => return ws,
            _ => {}
        }
    }
}
