//! The WebAssembly entry point: hydrates the server-rendered page (see
//! `app::hydrate`).
#![recursion_limit = "512"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    app::hydrate();
}
