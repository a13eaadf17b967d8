//! The installable app in the browser: registers the service worker
//! (`public/sw.js`: the app shell offline, pushes shown, a click opens the
//! channel), and turns web push on and off for this browser.

use crate::wire::{PushKeysDto, PushSubscriptionInput};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Registers the service worker; a browser without them just goes on.
pub fn register_service_worker() {
    let Some(window) = web_sys::window() else { return };
    let container = window.navigator().service_worker();
    // A module: it imports the app's JavaScript, to read encrypted pushes.
    let options = web_sys::RegistrationOptions::new();
    options.set_type("module");
    let promise = container.register_with_options("/sw.js", &options);
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(e) = JsFuture::from(promise).await {
            leptos::logging::warn!("the service worker did not register: {}", message(e));
        }
    });
}

/// Whether this browser can receive pushes.
pub fn push_supported() -> bool {
    let Some(window) = web_sys::window() else { return false };
    js_sys::Reflect::has(&window, &"PushManager".into()).unwrap_or(false)
        && js_sys::Reflect::has(&window.navigator(), &"serviceWorker".into()).unwrap_or(false)
}

fn message(e: wasm_bindgen::JsValue) -> String {
    js_sys::Reflect::get(&e, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "the browser refused".into())
}

async fn registration() -> Result<web_sys::ServiceWorkerRegistration, String> {
    let window = web_sys::window().ok_or("no window")?;
    let ready = window.navigator().service_worker().ready().map_err(message)?;
    Ok(JsFuture::from(ready).await.map_err(message)?.unchecked_into())
}

/// The base64url text as bytes.
fn decode_base64url(text: &str) -> Result<Vec<u8>, String> {
    let standard: String = text
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    let padded = format!("{standard}{}", "=".repeat((4 - standard.len() % 4) % 4));
    let window = web_sys::window().ok_or("no window")?;
    let binary = window.atob(&padded).map_err(|_| "the server's push key is not base64url".to_string())?;
    Ok(binary.chars().map(|c| c as u8).collect())
}

/// Asks permission, subscribes this browser with the server's key, and
/// returns the subscription for the server.
pub async fn enable_push(server_key: &str) -> Result<PushSubscriptionInput, String> {
    let permission = JsFuture::from(web_sys::Notification::request_permission().map_err(message)?)
        .await
        .map_err(message)?;
    if permission.as_string().as_deref() != Some("granted") {
        return Err(
            "Notifications are blocked for this site; allow them in the browser's site settings.".into()
        );
    }
    let reg = registration().await?;
    let manager = reg.push_manager().map_err(message)?;
    let key = js_sys::Uint8Array::from(decode_base64url(server_key)?.as_slice());
    let refused = |e| {
        format!(
            "This browser could not turn push on ({}). Check that notifications are allowed for this site, \
             or try another browser.",
            message(e)
        )
    };
    let options = web_sys::PushSubscriptionOptionsInit::new();
    options.set_user_visible_only(true);
    options.set_application_server_key(&key);
    let sub =
        JsFuture::from(manager.subscribe_with_options(&options).map_err(refused)?).await.map_err(refused)?;
    let json = js_sys::JSON::stringify(&sub).map_err(message)?.as_string().unwrap_or_default();
    #[derive(serde::Deserialize)]
    struct Raw {
        endpoint: String,
        keys: PushKeysDto,
    }
    let raw: Raw = crate::codec::from_json(&json).map_err(|e| format!("the browser's subscription: {e}"))?;
    Ok(PushSubscriptionInput { endpoint: raw.endpoint, keys: raw.keys })
}

/// This browser's push endpoint, if it has one.
pub async fn current_endpoint() -> Option<String> {
    let reg = registration().await.ok()?;
    let sub = JsFuture::from(reg.push_manager().ok()?.get_subscription().ok()?).await.ok()?;
    sub.dyn_into::<web_sys::PushSubscription>().ok().map(|s| s.endpoint())
}

/// Unsubscribes this browser; returns its endpoint.
pub async fn disable_push() -> Option<String> {
    let reg = registration().await.ok()?;
    let sub = JsFuture::from(reg.push_manager().ok()?.get_subscription().ok()?).await.ok()?;
    let sub = sub.dyn_into::<web_sys::PushSubscription>().ok()?;
    let endpoint = sub.endpoint();
    if let Ok(p) = sub.unsubscribe() {
        let _ = JsFuture::from(p).await;
    }
    Some(endpoint)
}

/// The user agent, to tell browsers apart in settings.
pub fn user_agent() -> String {
    web_sys::window().and_then(|w| w.navigator().user_agent().ok()).unwrap_or_default()
}
