//! The WebAssembly entry points: hydrating the server-rendered page (see
//! `app::hydrate`), reading a push in the service worker, and serving the
//! call worker.
#![recursion_limit = "512"]

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    app::hydrate();
}

/// For the service worker (`public/sw.js`): decrypts the message a push
/// is about, given the push's `encrypted` part (JSON), and answers what
/// its notification says (the message's first line), or why it could not.
#[wasm_bindgen]
pub async fn read_pushed(encrypted: String) -> Result<String, String> {
    console_error_panic_hook::set_once();
    let pushed: app::wire::PushedMessageDto =
        app::codec::from_json(&encrypted).map_err(|e| format!("a push not understood ({e})"))?;
    app::e2ee::pushed::read(pushed).await
}

/// For the call worker (`public/call-worker.js`): encrypts and decrypts the
/// media of a call in an encrypted conversation (see `app::e2ee::media`).
#[wasm_bindgen]
pub async fn serve_call_media() {
    console_error_panic_hook::set_once();
    app::e2ee::media::serve().await;
}
