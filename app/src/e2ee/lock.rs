//! One holder at a time of this browser's keys, across its tabs (and the
//! service worker): a device's state advances with every message it reads
//! or sends, so two holders working on copies of it would each undo the
//! other's step. The Web Locks API grants the lock; each holder reads the
//! state from IndexedDB after taking it, and writes it back before letting
//! go.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The lock's name, shared with the service worker.
const NAME: &str = "parley-e2ee";

/// Runs `work` while holding the lock. Where the browser has no Web Locks
/// (not a secure context), it runs at once: one tab is then all that is safe.
pub async fn exclusive<T: 'static>(work: impl Future<Output = T> + 'static) -> Result<T, String> {
    // The global scope's navigator: a page's, or the service worker's.
    let locks = js_sys::Reflect::get(&js_sys::global(), &"navigator".into())
        .and_then(|n| js_sys::Reflect::get(&n, &"locks".into()))
        .ok()
        .filter(|l| !l.is_undefined());
    let request = locks
        .as_ref()
        .and_then(|l| js_sys::Reflect::get(l, &"request".into()).ok())
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    let (Some(locks), Some(request)) = (locks, request) else {
        return Ok(work.await);
    };
    let result: Rc<RefCell<Option<T>>> = Rc::default();
    let slot = result.clone();
    let held = Closure::once_into_js(move |_lock: JsValue| -> js_sys::Promise {
        wasm_bindgen_futures::future_to_promise(async move {
            *slot.borrow_mut() = Some(work.await);
            Ok(JsValue::UNDEFINED)
        })
    });
    let taken = request.call2(&locks, &JsValue::from_str(NAME), &held).map_err(super::idb::js)?;
    JsFuture::from(js_sys::Promise::from(taken)).await.map_err(super::idb::js)?;
    result.borrow_mut().take().ok_or_else(|| "the keys' lock was let go before its work was done".to_string())
}
