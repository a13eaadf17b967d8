//! How a page's data travels inside the server-rendered page to the
//! browser that hydrates it.

use leptos::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// JSON, read from bytes the way server functions' answers are read, so
/// that the WebAssembly holds one deserialiser per type rather than one for
/// text and another for bytes (Leptos's default codec reads text).
pub struct Json;

impl<T: Serialize> codee::Encoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(value)
    }
}

impl<T: DeserializeOwned> codee::Decoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(encoded: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(encoded.as_bytes())
    }
}

/// A page's data: what `fetcher` answers for the value of `source`,
/// loaded again whenever that changes, carried in the page as [`Json`].
///
/// Invariant: a page's data is created in the page's own component, never
/// below a `Suspense` or `Transition` nor in a view's closure (`move || …`).
/// The server walks what a `Suspense` shows to find what it waits for, a
/// number of times that depends on when the data arrive, calling closures
/// and building what they show again each time; data created there exist
/// several times, each with the next serial number, and a copy fails when
/// its fetch starts after the walk that built it is gone. The browser
/// builds them once and reads the first copy's value: when that copy had
/// failed, hydration failed where the page showed it (an open thread did,
/// now and then).
#[track_caller]
pub fn page_data<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Resource<T, Json>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: PartialEq + Clone + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}

/// Reads a JSON text the way [`Json`] does (see there why).
pub fn from_json<T: DeserializeOwned>(text: &str) -> serde_json::Result<T> {
    serde_json::from_slice(text.as_bytes())
}
