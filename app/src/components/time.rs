use crate::Hydrated;
use leptos::prelude::*;

/// A message time: `HH:MM` in UTC as rendered by the server, switched to
/// the reader's local time once the page is hydrated.
#[component]
pub fn Time(ms: i64) -> impl IntoView {
    let hydrated = use_context::<Hydrated>().map(|h| h.0);
    let iso = iso_utc(ms);
    let text = move || {
        if hydrated.is_some_and(|h| h.get()) {
            local_hm(ms).unwrap_or_else(|| utc_hm(ms))
        } else {
            utc_hm(ms)
        }
    };
    view! { <time datetime=iso.clone() title=iso>{text}</time> }
}

/// A date and time, `2026-11-23 09:30`: in UTC (marked so) as rendered by
/// the server, in the reader's local time once the page is hydrated.
#[component]
pub fn DateTime(ms: i64) -> impl IntoView {
    let hydrated = use_context::<Hydrated>().map(|h| h.0);
    let iso = iso_utc(ms);
    let text = move || {
        let utc = || {
            let (y, m, d, h, min) = civil(ms);
            format!("{y:04}-{m:02}-{d:02} {h:02}:{min:02} UTC")
        };
        if hydrated.is_some_and(|h| h.get()) { local_ymd_hm(ms).unwrap_or_else(utc) } else { utc() }
    };
    view! { <time datetime=iso.clone() title=iso>{text}</time> }
}

/// A [`DateTime`], or `none` for a time that has not come (a token that
/// never expires, a webhook never used).
#[component]
pub fn DateTimeOr(ms: Option<i64>, none: &'static str) -> impl IntoView {
    match ms {
        Some(ms) => view! { <DateTime ms /> }.into_any(),
        None => none.into_any(),
    }
}

/// Minutes east of UTC where the reader is (0 on the server).
pub fn utc_offset_minutes() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        -(js_sys::Date::new_0().get_timezone_offset() as i64)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0
    }
}

/// Today (UTC) as `YYYY-MM-DD`, as date inputs take it.
pub fn today() -> String {
    #[cfg(feature = "hydrate")]
    let now = js_sys::Date::now() as i64;
    #[cfg(all(feature = "ssr", not(feature = "hydrate")))]
    let now = domain::now_ms();
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    let now = 0;
    let (y, m, d, _, _) = civil(now);
    format!("{y:04}-{m:02}-{d:02}")
}

fn civil(ms: i64) -> (i64, u32, u32, i64, i64) {
    // Days since the epoch to a calendar date (Howard Hinnant's algorithm).
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, rem / 3600, (rem % 3600) / 60)
}

fn iso_utc(ms: i64) -> String {
    let (y, m, d, h, min) = civil(ms);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}Z")
}

fn utc_hm(ms: i64) -> String {
    let (_, _, _, h, m) = civil(ms);
    format!("{h:02}:{m:02}")
}

#[cfg(feature = "hydrate")]
fn local_hm(ms: i64) -> Option<String> {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    Some(format!("{:02}:{:02}", d.get_hours(), d.get_minutes()))
}

#[cfg(not(feature = "hydrate"))]
fn local_hm(_ms: i64) -> Option<String> {
    None
}

#[cfg(feature = "hydrate")]
fn local_ymd_hm(ms: i64) -> Option<String> {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    Some(format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes()
    ))
}

#[cfg(not(feature = "hydrate"))]
fn local_ymd_hm(_ms: i64) -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_utc() {
        assert_eq!(super::iso_utc(0), "1970-01-01T00:00Z");
        assert_eq!(super::iso_utc(1_709_210_096_000), "2024-02-29T12:34Z");
        assert_eq!(super::utc_hm(1_709_210_096_000), "12:34");
    }
}
