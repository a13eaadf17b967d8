//! This browser's keys and what it has read, in IndexedDB (database
//! `parley-e2ee`): strings by key, in two stores.
//!
//! - [`KEYS`]: a person's identity and device, by user id (JSON).
//! - [`READ`]: the text of each encrypted message this browser decrypted or
//!   sent, by `<user id>:<message id>` (a device decrypts a message once,
//!   and never its own); its files' keys; and, where search is turned on
//!   here, the search key and each message's sealed search entry
//!   (`super::search`).
//!
//! A write resolves when its transaction has committed, not before.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbOpenDbRequest, IdbRequest, IdbTransaction, IdbTransactionMode};

const DATABASE: &str = "parley-e2ee";
pub const KEYS: &str = "keys";
pub const READ: &str = "read";

/// What went wrong with the browser's storage.
pub fn js(e: JsValue) -> String {
    let text = e.as_string().or_else(|| {
        e.dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .or_else(|| js_sys::Reflect::get(&e, &"message".into()).ok().and_then(|m| m.as_string()))
    });
    format!("the browser's storage: {}", text.unwrap_or_else(|| format!("{e:?}")))
}

/// A promise settled by `request`'s success (with its result) or error.
fn settled(request: &IdbRequest) -> JsFuture {
    let request = request.clone();
    let promise = js_sys::Promise::new(&mut |resolve: js_sys::Function, reject: js_sys::Function| {
        let (ok, failed) = (request.clone(), request.clone());
        let on_success = Closure::once_into_js(move || {
            let _ = resolve.call1(&JsValue::NULL, &ok.result().unwrap_or(JsValue::UNDEFINED));
        });
        let on_error = Closure::once_into_js(move || {
            let error = failed.error().ok().flatten().map(JsValue::from).unwrap_or(JsValue::NULL);
            let _ = reject.call1(&JsValue::NULL, &error);
        });
        request.set_onsuccess(Some(on_success.unchecked_ref()));
        request.set_onerror(Some(on_error.unchecked_ref()));
    });
    JsFuture::from(promise)
}

/// A promise settled when `tx` has committed, or failed.
fn committed(tx: &IdbTransaction) -> JsFuture {
    let tx = tx.clone();
    let promise = js_sys::Promise::new(&mut |resolve: js_sys::Function, reject: js_sys::Function| {
        let failed = tx.clone();
        let on_complete = Closure::once_into_js(move || {
            let _ = resolve.call0(&JsValue::NULL);
        });
        let on_error = Closure::once_into_js(move || {
            let error = failed.error().map(JsValue::from).unwrap_or(JsValue::NULL);
            let _ = reject.call1(&JsValue::NULL, &error);
        });
        tx.set_oncomplete(Some(on_complete.unchecked_ref()));
        tx.set_onerror(Some(on_error.unchecked_ref()));
        tx.set_onabort(Some(on_error.unchecked_ref()));
    });
    JsFuture::from(promise)
}

/// Opens the database, making its stores the first time.
pub async fn open() -> Result<IdbDatabase, String> {
    // The global scope: a page's window, or the service worker's.
    let factory: web_sys::IdbFactory = js_sys::Reflect::get(&js_sys::global(), &"indexedDB".into())
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or("this browser offers no IndexedDB")?;
    let request: IdbOpenDbRequest = factory.open_with_u32(DATABASE, 1).map_err(js)?;
    let upgrade = Closure::once_into_js(move |event: web_sys::IdbVersionChangeEvent| {
        let Some(target) = event.target() else { return };
        let Ok(db) = target.unchecked_into::<IdbOpenDbRequest>().result() else { return };
        let db: IdbDatabase = db.unchecked_into();
        for store in [KEYS, READ] {
            let _ = db.create_object_store(store);
        }
    });
    request.set_onupgradeneeded(Some(upgrade.unchecked_ref()));
    let db = settled(&request).await.map_err(js)?;
    Ok(db.unchecked_into())
}

pub async fn get(db: &IdbDatabase, store: &str, key: &str) -> Result<Option<String>, String> {
    let tx = db.transaction_with_str(store).map_err(js)?;
    let request = tx.object_store(store).map_err(js)?.get(&JsValue::from_str(key)).map_err(js)?;
    Ok(settled(&request).await.map_err(js)?.as_string())
}

pub async fn put(db: &IdbDatabase, store: &str, key: &str, value: &str) -> Result<(), String> {
    let tx = db.transaction_with_str_and_mode(store, IdbTransactionMode::Readwrite).map_err(js)?;
    let done = committed(&tx);
    tx.object_store(store)
        .map_err(js)?
        .put_with_key(&JsValue::from_str(value), &JsValue::from_str(key))
        .map_err(js)?;
    done.await.map_err(js)?;
    Ok(())
}

/// Asks the browser to keep this site's storage under pressure (it may
/// say no; keys lost to eviction come back from the key backup).
pub async fn ask_persistent() -> bool {
    let Some(window) = web_sys::window() else { return false };
    let Ok(promise) = window.navigator().storage().persist() else { return false };
    JsFuture::from(promise).await.ok().and_then(|v| v.as_bool()).unwrap_or(false)
}

pub async fn delete(db: &IdbDatabase, store: &str, key: &str) -> Result<(), String> {
    let tx = db.transaction_with_str_and_mode(store, IdbTransactionMode::Readwrite).map_err(js)?;
    let done = committed(&tx);
    tx.object_store(store).map_err(js)?.delete(&JsValue::from_str(key)).map_err(js)?;
    done.await.map_err(js)?;
    Ok(())
}

/// The keys from `prefix` up to the last key that begins with it.
fn keys_beginning(prefix: &str) -> Result<web_sys::IdbKeyRange, String> {
    let last = format!("{prefix}\u{ffff}");
    web_sys::IdbKeyRange::bound(&JsValue::from_str(prefix), &JsValue::from_str(&last)).map_err(js)
}

/// Every value whose key begins with `prefix`, in the order of their keys.
pub async fn values_beginning(db: &IdbDatabase, store: &str, prefix: &str) -> Result<Vec<String>, String> {
    let tx = db.transaction_with_str(store).map_err(js)?;
    let request =
        tx.object_store(store).map_err(js)?.get_all_with_key(&keys_beginning(prefix)?.into()).map_err(js)?;
    let all: js_sys::Array = settled(&request).await.map_err(js)?.unchecked_into();
    Ok(all.iter().filter_map(|v| v.as_string()).collect())
}

/// Deletes every value whose key begins with `prefix`.
pub async fn delete_beginning(db: &IdbDatabase, store: &str, prefix: &str) -> Result<(), String> {
    let tx = db.transaction_with_str_and_mode(store, IdbTransactionMode::Readwrite).map_err(js)?;
    let done = committed(&tx);
    tx.object_store(store).map_err(js)?.delete(&keys_beginning(prefix)?.into()).map_err(js)?;
    done.await.map_err(js)?;
    Ok(())
}
