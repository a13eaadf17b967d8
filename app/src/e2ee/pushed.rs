//! A push about a message of an encrypted conversation, read in the
//! service worker (`public/sw.js` loads the app's WebAssembly for it): the
//! push carries ids only, so the worker fetches the message's ciphertext,
//! decrypts it with this browser's keys (under the same lock as the tabs,
//! so a tab reading it at the same moment gets the same text).

use super::client::{self, Done, Op, Problem};
use crate::wire::{MessageDto, PushedMessageDto};

/// Decrypts the message `pushed` is about: what its notification says of
/// it (its first line). Loaded when first called, with the cryptography:
/// pages never call it, so the WebAssembly every page loads holds a stub.
#[leptos::lazy]
pub async fn read(pushed: PushedMessageDto) -> Result<String, String> {
    let number = |id: &str| id.parse::<i64>().map_err(|_| format!("{id:?} is not an id"));
    let (me, conversation) = (number(&pushed.user_id)?, number(&pushed.channel_id)?);
    let path = format!("/api/communication/messages/{}/", pushed.message_id);
    let response = gloo_net::http::Request::get(&path).send().await.map_err(|e| e.to_string())?;
    if !response.ok() {
        return Err(format!("the server answered {} for the message", response.status()));
    }
    let text = response.text().await.map_err(|e| e.to_string())?;
    // Read as pages read theirs: one deserialiser of messages in the WebAssembly.
    let message: MessageDto = crate::codec::from_json(&text).map_err(|e| e.to_string())?;
    let read = client::run(Op::Read {
        me,
        conversation,
        message: number(&message.id)?,
        edited_at: message.edited_at,
        ciphertext: super::Ciphertext::of(&message),
        about: None,
    })
    .await;
    let text = match read {
        Ok(Done::Text { text, .. }) => text,
        Ok(other) => return Err(format!("not a message's text: {other:?}")),
        Err(problem) => return Err(Problem::explain(&problem)),
    };
    Ok(markdown::excerpt(&text))
}
