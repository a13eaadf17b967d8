//! The media of calls in encrypted conversations, encrypted in the browser
//! with SFrame under keys from the conversation's group
//! (`e2ee::CallCrypto`). Two sides:
//!
//! - the page's ([`MediaEncryption`], driven by `crate::call`): starts the
//!   call worker (`public/call-worker.js`), gives it this device's keys of
//!   the conversation at each of its epochs, and puts the worker's
//!   `RTCRtpScriptTransform`s on every sender and receiver of the call's
//!   connection;
//! - the worker's ([`serve`], exported to `call-worker.js` by the
//!   frontend crate): encrypts every frame a sender hands it and decrypts
//!   every frame a receiver does, and counts them for the page.
//!
//! Both are reached only from `#[lazy]` functions, so the release build
//! keeps SFrame out of the WebAssembly every page loads.
//!
//! Invariant: in an encrypted call no frame leaves this browser
//! unencrypted: every sender has its transform before it is given a
//! track, and a frame the worker has no key for is dropped, never passed on.

use super::client::{Done, Op, Problem, run};
use crate::components::call::FrameCounts;
use e2ee::{CallCrypto, CallKeys, Media};
use futures::channel::oneshot;
use js_sys::{Reflect, Uint8Array};
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    DedicatedWorkerGlobalScope, MessageEvent, ReadableStream, ReadableStreamDefaultReader, RtcPeerConnection,
    RtcRtpTransceiver, Worker, WorkerOptions, WorkerType, WritableStream,
};

/// Where the call worker's script is served.
const WORKER_SCRIPT: &str = "/call-worker.js";

/// How long after taking a new epoch's keys this device starts sending
/// with them: the others take them in that time (they apply the same
/// commit), so its frames never need keys they do not have yet.
const SWITCH_AFTER_MS: i32 = 1_000;

/// How often the worker tells the page its counts.
const COUNTS_EVERY_MS: i32 = 500;

/// What the page tells the call worker (JSON).
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
enum ToWorker {
    /// This device's keys of the conversation at an epoch.
    Keys { keys: CallKeys },
}

/// What the call worker tells the page (JSON).
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
enum FromWorker {
    /// It is listening: its transforms may be made.
    Ready,
    /// It could not start.
    Failed { reason: String },
    /// The frames it encrypted and decrypted so far.
    Counts { counts: FrameCounts },
}

/// Whether this browser can encrypt a call's media.
fn supported() -> bool {
    Reflect::has(&js_sys::global(), &JsValue::from_str("RTCRtpScriptTransform")).unwrap_or(false)
}

/// The keys this device takes part in `conversation`'s calls with now,
/// or what to do to have them.
pub async fn call_keys(me: i64, conversation: i64) -> Result<CallKeys, String> {
    match run(Op::CallKeys { me, conversation }).await {
        Ok(Done::CallKeys(keys)) => Ok(keys),
        Ok(other) => Err(Problem::Failed(format!("the keys answered {other:?}")).explain()),
        Err(problem) => Err(problem.explain()),
    }
}

/// A call's media encryption, on the page: the worker, and the epoch of
/// the keys it was last given.
pub struct MediaEncryption {
    worker: Worker,
    me: i64,
    conversation: i64,
    epoch: Cell<u64>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(JsValue)>,
}

impl MediaEncryption {
    /// Starts the call worker for `conversation` with this device's keys;
    /// `counts` is told how many frames went through it, as they do.
    /// Refused, with what to do, where the browser cannot encrypt media
    /// or this device has no keys of the conversation.
    pub async fn start(
        me: i64,
        conversation: i64,
        counts: impl Fn(FrameCounts) + 'static,
    ) -> Result<MediaEncryption, String> {
        if !supported() {
            return Err("This browser cannot encrypt a call's sound and pictures (it lacks \
                RTCRtpScriptTransform), and a call of an encrypted conversation is never joined \
                unencrypted: join it from a current Chrome, Edge, Firefox or Safari."
                .into());
        }
        let keys = call_keys(me, conversation).await?;
        let options = WorkerOptions::new();
        options.set_type(WorkerType::Module);
        let worker =
            Worker::new_with_options(WORKER_SCRIPT, &options).map_err(|e| crate::call::describe(&e))?;
        // Told once whether the worker started; what comes after is logged.
        let (ready, started) = oneshot::channel::<Result<(), String>>();
        let ready = Rc::new(RefCell::new(Some(ready)));
        let answer = move |result: Result<(), String>| match ready.borrow_mut().take() {
            Some(ready) => drop(ready.send(result)),
            None => {
                if let Err(why) = result {
                    leptos::logging::warn!("the call's encryption: {why}");
                }
            }
        };
        let answer_error = answer.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(text) = event.data().as_string() else { return };
            match serde_json::from_str::<FromWorker>(&text) {
                Ok(FromWorker::Ready) => answer(Ok(())),
                Ok(FromWorker::Failed { reason }) => answer(Err(reason)),
                Ok(FromWorker::Counts { counts: c }) => counts(c),
                Err(e) => leptos::logging::warn!("the call worker said something not understood: {e}"),
            }
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        // A script that does not load (or throws) says so here, not in a message.
        let on_error = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            let message = Reflect::get(&event, &"message".into()).ok().and_then(|m| m.as_string());
            answer_error(Err(format!(
                "its worker failed ({})",
                message.unwrap_or_else(|| "no reason given".into())
            )));
        });
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let refused = |why: String| {
            format!("The call's encryption could not start: {why}. Reload the page to try again.")
        };
        match started.await {
            Ok(Ok(())) => {}
            Ok(Err(why)) => {
                worker.terminate();
                return Err(refused(why));
            }
            Err(_) => return Err(refused("its worker stopped".into())),
        }
        let encryption = MediaEncryption {
            worker,
            me,
            conversation,
            epoch: Cell::new(keys.epoch),
            _on_message: on_message,
            _on_error: on_error,
        };
        encryption.give(keys)?;
        Ok(encryption)
    }

    fn give(&self, keys: CallKeys) -> Result<(), String> {
        self.epoch.set(keys.epoch);
        let message = serde_json::to_string(&ToWorker::Keys { keys }).map_err(|e| e.to_string())?;
        self.worker.post_message(&JsValue::from_str(&message)).map_err(|e| crate::call::describe(&e))
    }

    /// The conversation and person this encryption is for.
    pub fn of(&self) -> (i64, i64) {
        (self.me, self.conversation)
    }

    /// Gives the worker `keys` if they are of a newer epoch than it has
    /// (the conversation's group changed).
    pub fn take(&self, keys: CallKeys) -> Result<(), String> {
        match keys.epoch > self.epoch.get() {
            true => self.give(keys),
            false => Ok(()),
        }
    }

    /// Puts the worker's transforms on every sender and receiver of `pc`
    /// that has none yet: before a sender is given a track.
    pub fn protect(&self, pc: &RtcPeerConnection) -> Result<(), JsValue> {
        let make: js_sys::Function =
            Reflect::get(&js_sys::global(), &"RTCRtpScriptTransform".into())?.dyn_into()?;
        for transceiver in pc.get_transceivers().iter() {
            let transceiver: RtcRtpTransceiver = transceiver.unchecked_into();
            let media = match transceiver.receiver().track().kind().as_str() {
                "video" => "video",
                _ => "audio",
            };
            for (side, end) in [
                ("send", JsValue::from(transceiver.sender())),
                ("receive", JsValue::from(transceiver.receiver())),
            ] {
                let transform = Reflect::get(&end, &"transform".into())?;
                if !transform.is_null() && !transform.is_undefined() {
                    continue;
                }
                let options = js_sys::Object::new();
                Reflect::set(&options, &"side".into(), &side.into())?;
                Reflect::set(&options, &"media".into(), &media.into())?;
                let args = js_sys::Array::of2(&self.worker, &options);
                let transform = Reflect::construct(&make, &args)?;
                Reflect::set(&end, &"transform".into(), &transform)?;
            }
        }
        Ok(())
    }
}

impl Drop for MediaEncryption {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

// The worker's side.

/// Which way frames go through a transform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Send,
    Receive,
}

thread_local! {
    /// The keys of the call this worker serves, once the page gave them.
    static CRYPTO: RefCell<Option<CallCrypto>> = const { RefCell::new(None) };
    static COUNTS: Cell<FrameCounts> =
        const { Cell::new(FrameCounts { encrypted: 0, decrypted: 0, unreadable: 0, epoch: 0 }) };
}

/// Serves the call worker: takes the keys the page gives, encrypts and
/// decrypts the frames of each transform made on it, and tells the page
/// its counts. Then it tells the page it is ready.
#[leptos::lazy]
pub fn serve() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|event: MessageEvent| {
        let Some(text) = event.data().as_string() else { return };
        match serde_json::from_str::<ToWorker>(&text) {
            Ok(ToWorker::Keys { keys }) => take_keys(keys),
            Err(e) => leptos::logging::warn!("the call worker was told something not understood: {e}"),
        }
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    let on_transform = Closure::<dyn FnMut(JsValue)>::new(|event: JsValue| {
        if let Err(e) = start_transform(&event) {
            leptos::logging::warn!("a call transform could not start: {}", crate::call::describe(&e));
        }
    });
    let _ = Reflect::set(&scope, &"onrtctransform".into(), on_transform.as_ref());
    on_transform.forget();
    let tell = Closure::<dyn FnMut()>::new(|| {
        let epoch = CRYPTO.with(|c| c.borrow().as_ref().map_or(0, CallCrypto::sending_epoch));
        tell_page(&FromWorker::Counts { counts: FrameCounts { epoch, ..COUNTS.get() } })
    });
    let _ = scope.set_interval_with_callback_and_timeout_and_arguments_0(
        tell.as_ref().unchecked_ref(),
        COUNTS_EVERY_MS,
    );
    tell.forget();
    tell_page(&FromWorker::Ready);
}

fn tell_page(message: &FromWorker) {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    if let Ok(text) = serde_json::to_string(message) {
        let _ = scope.post_message(&JsValue::from_str(&text));
    }
}

/// Takes the keys of an epoch: the first start the call's encryption;
/// later ones are read with at once and sent with shortly after.
fn take_keys(keys: CallKeys) {
    let started = CRYPTO.with(|c| {
        let mut crypto = c.borrow_mut();
        match crypto.as_mut() {
            None => {
                *crypto = CallCrypto::new(keys).map_err(|e| tell_failed(&e)).ok();
                false
            }
            Some(crypto) => {
                if let Err(e) = crypto.add_epoch(keys) {
                    tell_failed(&e);
                }
                true
            }
        }
    });
    if started {
        let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
        let switch = Closure::once_into_js(|| {
            CRYPTO.with(|c| {
                if let Some(Err(e)) = c.borrow_mut().as_mut().map(CallCrypto::send_with_newest) {
                    tell_failed(&e);
                }
            })
        });
        let _ = scope
            .set_timeout_with_callback_and_timeout_and_arguments_0(switch.unchecked_ref(), SWITCH_AFTER_MS);
    }
}

fn tell_failed(e: &e2ee::Error) {
    tell_page(&FromWorker::Failed { reason: e.to_string() });
}

/// Starts passing the frames of the transform an `rtctransform` event
/// announces through the keys.
fn start_transform(event: &JsValue) -> Result<(), JsValue> {
    let transformer = Reflect::get(event, &"transformer".into())?;
    let options = Reflect::get(&transformer, &"options".into())?;
    let side = match Reflect::get(&options, &"side".into())?.as_string().as_deref() {
        Some("send") => Side::Send,
        _ => Side::Receive,
    };
    let media = match Reflect::get(&options, &"media".into())?.as_string().as_deref() {
        Some("video") => Media::Video,
        _ => Media::Audio,
    };
    let readable: ReadableStream = Reflect::get(&transformer, &"readable".into())?.unchecked_into();
    let writable: WritableStream = Reflect::get(&transformer, &"writable".into())?.unchecked_into();
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(e) = pass_frames(readable, writable, side, media).await {
            leptos::logging::warn!("a call transform stopped: {}", crate::call::describe(&e));
        }
    });
    Ok(())
}

/// Encrypts (sending) or decrypts (receiving) each frame of `readable`
/// into `writable`; a frame that cannot be is dropped.
async fn pass_frames(
    readable: ReadableStream,
    writable: WritableStream,
    side: Side,
    media: Media,
) -> Result<(), JsValue> {
    let reader: ReadableStreamDefaultReader = readable.get_reader().unchecked_into();
    let writer = writable.get_writer()?;
    let data = JsValue::from_str("data");
    loop {
        let step = JsFuture::from(reader.read()).await?;
        if Reflect::get(&step, &"done".into())?.as_bool().unwrap_or(true) {
            return Ok(());
        }
        let frame = Reflect::get(&step, &"value".into())?;
        let bytes = Uint8Array::new(&Reflect::get(&frame, &data)?).to_vec();
        // An empty frame has nothing to hide, nor to decrypt.
        if !bytes.is_empty() {
            let done = CRYPTO.with(|c| {
                c.borrow_mut().as_mut().map(|crypto| match side {
                    Side::Send => crypto.encrypt(media, &bytes),
                    Side::Receive => crypto.decrypt(media, &bytes),
                })
            });
            let mut counts = COUNTS.get();
            match (done, side) {
                (Some(Ok(out)), _) => {
                    Reflect::set(&frame, &data, &Uint8Array::from(out.as_slice()).buffer())?;
                    match side {
                        Side::Send => counts.encrypted += 1,
                        Side::Receive => counts.decrypted += 1,
                    }
                    COUNTS.set(counts);
                }
                (_, Side::Receive) => {
                    counts.unreadable += 1;
                    COUNTS.set(counts);
                    continue;
                }
                // No keys yet, or encryption failed: not sent at all.
                (_, Side::Send) => continue,
            }
        }
        JsFuture::from(writer.write_with_chunk(&frame)).await?;
    }
}
