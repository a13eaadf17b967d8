//! Search in encrypted conversations, on the device that reads them: each
//! message the device shows is kept as a [`Searchable`] entry, sealed with
//! the device's [`SearchKey`] (made when search is turned on there, never
//! sent anywhere), and searched by its words in the browser. The server
//! cannot search these conversations; it holds only their ciphertext.

use crate::{Error, Result, b64, malformed, open_with_nonce, seal_with_nonce, unb64};
use serde::{Deserialize, Serialize};

/// What binds an entry's encryption to its use.
const SEARCH_AAD: &[u8] = b"parley-search-entry-v1";

/// A message as this device's search keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Searchable {
    pub message: i64,
    /// The workspace the conversation is in (its id, as the server gives it).
    pub workspace: String,
    pub conversation: i64,
    /// What the conversation is called where it was read (`#name`, or the
    /// other people's names).
    pub label: String,
    /// The author's name as shown.
    pub author: String,
    /// When it was sent (ms since the epoch).
    pub at: i64,
    /// What it says (Markdown), as last read here.
    pub text: String,
}

impl Searchable {
    /// Whether every word of `query` ([`words`]) begins a word of the text
    /// (so `rep` finds "report"); a query without words finds nothing.
    pub fn matches(&self, query: &[String]) -> bool {
        if query.is_empty() {
            return false;
        }
        let own = words(&self.text);
        query.iter().all(|q| own.iter().any(|w| w.starts_with(q.as_str())))
    }
}

/// The words of `text` as search compares them: runs of letters and
/// digits, in lower case.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// The key a device seals its search entries with (AES-256-GCM, a random
/// nonce for each entry): made on the device, kept in its storage only.
pub struct SearchKey([u8; 32]);

impl SearchKey {
    pub fn generate() -> Result<SearchKey> {
        crate::random_key().map(SearchKey)
    }

    /// As the device stores it (base64).
    pub fn to_text(&self) -> String {
        b64(&self.0)
    }

    pub fn parse(text: &str) -> Result<SearchKey> {
        let bytes = unb64(text)?;
        Ok(SearchKey(
            bytes.try_into().map_err(|_| Error::Malformed("a search key of the wrong length".into()))?,
        ))
    }

    pub fn seal(&self, entry: &Searchable) -> Result<Vec<u8>> {
        let plain = serde_json::to_vec(entry).map_err(malformed)?;
        seal_with_nonce(&self.0, SEARCH_AAD, &plain)
    }

    /// Opens what [`SearchKey::seal`] made; with another key, or changed, it does not open.
    pub fn open(&self, sealed: &[u8]) -> Result<Searchable> {
        let plain = open_with_nonce(&self.0, SEARCH_AAD, sealed)
            .ok_or_else(|| Error::Malformed("a search entry this key did not seal".into()))?;
        serde_json::from_slice(&plain).map_err(malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    wasm_bindgen_test_configure!(run_in_browser);

    fn entry(text: &str) -> Searchable {
        Searchable {
            message: 3,
            workspace: "1".into(),
            conversation: 7,
            label: "Bob".into(),
            author: "Ana".into(),
            at: 1_700_000_000_000,
            text: text.into(),
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn an_entry_opens_only_with_the_key_that_sealed_it() {
        let (key, other) = (SearchKey::generate().unwrap(), SearchKey::generate().unwrap());
        let sealed = key.seal(&entry("the quarterly figures")).unwrap();
        assert!(!String::from_utf8_lossy(&sealed).contains("quarterly"), "sealed, not plain");
        assert_eq!(key.open(&sealed).unwrap(), entry("the quarterly figures"));
        assert!(other.open(&sealed).is_err());
        let again = SearchKey::parse(&key.to_text()).unwrap();
        assert_eq!(again.open(&sealed).unwrap().text, "the quarterly figures");
        let mut changed = sealed.clone();
        *changed.last_mut().unwrap() ^= 1;
        assert!(key.open(&changed).is_err());
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn two_entries_sealed_with_one_key_differ() {
        let key = SearchKey::generate().unwrap();
        assert_ne!(
            key.seal(&entry("same")).unwrap(),
            key.seal(&entry("same")).unwrap(),
            "a nonce of its own each"
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_query_finds_messages_with_each_of_its_words_begun() {
        let e = entry("Did you see the **Report**? Ünïcode too.");
        assert!(e.matches(&words("report")));
        assert!(e.matches(&words("REP see")));
        assert!(e.matches(&words("ünï")));
        assert!(!e.matches(&words("report missing")), "every word must be there");
        assert!(!e.matches(&words("port")), "words are matched from their start");
        assert!(!e.matches(&words("  ?! ")), "a query without words finds nothing");
    }
}
