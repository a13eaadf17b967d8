// Parley's call worker: in a call of an end-to-end encrypted conversation,
// encrypts every encoded frame this browser sends and decrypts every frame
// it receives (SFrame, RFC 9605), through RTCRtpScriptTransform, so the
// server relays media it cannot read. The work is the app's WebAssembly
// (`serve_call_media`, which tells the page when it is ready); this only
// loads it.
//
// A module worker. The build names the app's files after their content and
// rewrites the two names below to match.

import init, { serve_call_media } from "/pkg/parley.js";

const WASM = "/pkg/parley.wasm";

try {
  await init({ module_or_path: WASM });
  await serve_call_media();
} catch (e) {
  self.postMessage(JSON.stringify({ type: "FAILED", reason: String(e) }));
}
