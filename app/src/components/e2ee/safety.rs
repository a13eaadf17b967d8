//! The safety number of the reader and the other person of a direct
//! conversation: its digits, the reader's code to be scanned, and a
//! scanner for the other's code (the camera's frames read as QR codes).
//! Part of what `parts::mount` loads on demand.

use super::{Keys, KeysStatus};
use crate::e2ee::client::{Done, Op, run};
use crate::e2ee::qr::{self, Scan};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// The safety number of the reader and `name`, to compare with them (in
/// person or on a call): equal numbers mean nobody stands between them.
/// Worked out when opened.
pub(super) fn safety_number(keys: Keys, other_id: String, name: String) -> impl IntoView {
    let number: RwSignal<Option<Result<String, String>>> = RwSignal::new(None);
    let opened = RwSignal::new(false);
    let started = StoredValue::new(false);
    let other = other_id.parse::<i64>().ok();
    // Once opened and the keys are ready (they may not be yet, just after the page loads).
    Effect::new(move || {
        if !opened.get() || !keys.status.with(KeysStatus::can_read) || started.get_value() {
            return;
        }
        let Some(other) = other else { return };
        started.set_value(true);
        leptos::task::spawn_local(async move {
            let shown = match run(Op::SafetyNumber { me: keys.me, other }).await {
                Ok(Done::SafetyNumber(digits)) => Ok(digits),
                Ok(_) => Err("No safety number came back.".to_string()),
                Err(p) => Err(p.explain()),
            };
            let _ = number.try_set(Some(shown));
        });
    });
    let on_toggle = move |_| opened.set(true);
    let summary = format!("Verify {name}'s keys");
    let intro = format!(
        "Compare this number with {name}'s, in person or on a call, or scan each other's code. If they \
         are the same, your messages reach {name} and nobody else; if {name}'s keys change, the number does too."
    );
    let shown = move || match number.get() {
        None => view! { <p class="muted">"Working out the number in this browser…"</p> }.into_any(),
        Some(Ok(digits)) => {
            let code = qr::svg(&qr::payload(keys.me, &digits));
            let scan = other.map(|other| scanner(keys.me, other, name.clone(), digits.clone()));
            view! {
                <output class="safety-digits" aria-label="Safety number">{digits}</output>
                <figure class="safety-code">
                    <div class="qr" role="img" aria-label=format!("Your safety code, for {name} to scan") inner_html=code></div>
                    <figcaption>{format!("{name} can scan this code with Parley instead of reading the digits.")}</figcaption>
                </figure>
                {scan}
            }
            .into_any()
        }
        Some(Err(why)) => view! { <p class="field-error" role="alert">{why}</p> }.into_any(),
    };
    view! {
        <details class="safety-number" on:toggle=on_toggle>
            <summary>{summary}</summary>
            <p>{intro}</p>
            {shown}
        </details>
    }
}

/// The camera while it looks for a code; dropping it stops both.
struct Camera {
    stream: web_sys::MediaStream,
    timer: Option<IntervalHandle>,
}

impl Drop for Camera {
    fn drop(&mut self) {
        if let Some(timer) = self.timer.take() {
            timer.clear();
        }
        for track in self.stream.get_tracks().iter() {
            track.unchecked_into::<web_sys::MediaStreamTrack>().stop();
        }
    }
}

/// How often a frame of the camera is looked at.
const LOOK_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// Reads `name`'s code from the camera and says whether it holds the
/// number `digits` this page worked out for `me` and `other`.
fn scanner(me: i64, other: i64, name: String, digits: String) -> impl IntoView {
    let verdict: RwSignal<Option<Result<Scan, String>>> = RwSignal::new(None);
    let scanning = RwSignal::new(false);
    let video = NodeRef::<leptos::html::Video>::new();
    let camera: StoredValue<Option<Camera>, LocalStorage> = StoredValue::new_local(None);
    // One frame at a time: the next is looked at once this one is read.
    let reading = StoredValue::new(false);
    let stop = move || {
        camera.try_update_value(Option::take);
        let _ = scanning.try_set(false);
    };
    let start = move |_| {
        verdict.set(None);
        scanning.set(true);
        let digits = digits.clone();
        leptos::task::spawn_local(async move {
            let stream = match crate::call::user_media(false, true).await {
                Ok(stream) => stream,
                Err(e) => {
                    let why = crate::call::describe(&e);
                    let _ = verdict.try_set(Some(Err(format!("Your camera is not available: {why}."))));
                    stop();
                    return;
                }
            };
            // Each frame is drawn on one canvas, to read its pixels.
            let Some(canvas) = document()
                .create_element("canvas")
                .ok()
                .and_then(|c| c.dyn_into::<web_sys::HtmlCanvasElement>().ok())
            else {
                drop(Camera { stream, timer: None });
                stop();
                return;
            };
            let Some(el) = video.get_untracked() else {
                drop(Camera { stream, timer: None });
                return;
            };
            el.set_src_object(Some(&stream));
            let _ = el.play();
            let look = move || {
                if reading.get_value() {
                    return;
                }
                let Some((width, height, luma)) = grab(&el, &canvas) else { return };
                reading.set_value(true);
                let digits = digits.clone();
                leptos::task::spawn_local(async move {
                    let found = qr::read(width, height, luma).await;
                    reading.try_set_value(false);
                    if let Some(scan) = judge_all(&found, me, other, &digits) {
                        let _ = verdict.try_set(Some(Ok(scan)));
                        stop();
                    }
                });
            };
            let timer = set_interval_with_handle(look, LOOK_EVERY).ok();
            // The page may have gone, or the scan been stopped, meanwhile.
            let watching = Camera { stream, timer };
            if scanning.try_get_untracked() == Some(true) {
                camera.try_set_value(Some(watching));
            }
        });
    };
    let said = move || {
        verdict.get().map(|v| {
            let (class, role, text) = match v {
                Ok(Scan::Matches) => (
                    "scan-verdict ok",
                    "status",
                    format!("✓ {name}'s code matches: your messages reach {name} and nobody else."),
                ),
                Ok(Scan::Differs) => (
                    "scan-verdict bad",
                    "alert",
                    format!(
                        "✗ {name}'s code shows another number: one of you has keys the other does not know. \
                         Ask {name} whether they reset their keys; until you know why, do not trust this \
                         conversation with secrets."
                    ),
                ),
                Ok(Scan::Own) => (
                    "scan-verdict",
                    "status",
                    format!("That is your own code: scan the one on {name}'s screen."),
                ),
                Ok(Scan::Foreign) => (
                    "scan-verdict",
                    "status",
                    format!(
                        "That is not {name}'s safety code: scan the one under \"Verify\" on {name}'s screen."
                    ),
                ),
                Err(why) => ("field-error", "alert", why),
            };
            view! { <p class=class role=role>{text}</p> }
        })
    };
    on_cleanup(stop);
    view! {
        <div class="safety-scan">
            <button type="button" on:click=start disabled=move || scanning.get()>"Scan their code"</button>
            <video node_ref=video class="scanner" autoplay=true playsinline=true prop:muted=true
                hidden=move || !scanning.get()></video>
            {move || scanning.get().then(|| view! {
                <button type="button" on:click=move |_| stop()>"Stop scanning"</button>
            })}
            {said}
        </div>
    }
}

/// The camera's current frame in greyscale (drawn on `canvas`): width,
/// height, a byte a pixel.
fn grab(
    video: &web_sys::HtmlVideoElement,
    canvas: &web_sys::HtmlCanvasElement,
) -> Option<(usize, usize, Vec<u8>)> {
    let (width, height) = (video.video_width(), video.video_height());
    if width == 0 || height == 0 {
        return None;
    }
    if (canvas.width(), canvas.height()) != (width, height) {
        canvas.set_width(width);
        canvas.set_height(height);
    }
    let context: web_sys::CanvasRenderingContext2d = canvas.get_context("2d").ok()??.dyn_into().ok()?;
    context.draw_image_with_html_video_element(video, 0.0, 0.0).ok()?;
    let rgba = context.get_image_data(0.0, 0.0, f64::from(width), f64::from(height)).ok()?.data();
    let luma: Vec<u8> = rgba
        .chunks_exact(4)
        .map(|p| ((u32::from(p[0]) * 77 + u32::from(p[1]) * 150 + u32::from(p[2]) * 29) >> 8) as u8)
        .collect();
    Some((width as usize, height as usize, luma))
}

/// What the codes found in a frame say: the first safety code of the two
/// people's, judged, or else that the code is another (nothing while there is none).
fn judge_all(found: &[String], me: i64, other: i64, digits: &str) -> Option<Scan> {
    let judged: Vec<Scan> = found.iter().map(|text| qr::judge(text, me, other, digits)).collect();
    judged.iter().copied().find(|s| *s != Scan::Foreign).or(judged.first().copied())
}
