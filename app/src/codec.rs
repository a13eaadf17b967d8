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
