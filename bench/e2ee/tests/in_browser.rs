//! The figures in headless Chromium (see the library's notes): run by
//! `scripts/bench` through `wasm-bindgen-test-runner`, which prints what
//! the page logs.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn end_to_end_encryptions_costs_in_the_browser() {
    let performance = web_sys::window().and_then(|w| w.performance()).expect("a page's clock");
    let now = move || performance.now();
    console_log!("{}", bench_e2ee::report("browser", &bench_e2ee::measure(&now)));
}
