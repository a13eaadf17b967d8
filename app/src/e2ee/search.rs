//! Search in encrypted conversations, on this device only, where the
//! person turned it on (per device: [`turn`]). Each encrypted message this
//! browser shows, sends or edits is kept as a search entry sealed with the
//! device's search key ([`e2ee::SearchKey`]), in IndexedDB beside what it
//! has read; [`find`] opens them and matches their words. Nothing of it
//! reaches the server: the search page asks the server for the rest.
//!
//! Turned on, search finds what this browser has read, sent or edited since
//! it kept its texts with what they are about ([`remember`], whether
//! search is on or not), and what it shows from then on. A message
//! deleted while its conversation is open here leaves the index at once;
//! one deleted while it is not (or that its person can no longer see)
//! leaves it when a search finds it: each message found is asked of the
//! server before it is shown.

use super::client::{Done, Problem};
use super::{Place, idb};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use e2ee::{SearchKey, Searchable};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::HashSet;
use web_sys::IdbDatabase;

/// A message as its page shows it: where, by whom and when.
#[derive(Debug, Clone)]
pub struct About {
    pub place: Place,
    pub author: String,
    pub at: i64,
}

/// The most results a search shows, newest first.
pub const MOST_FOUND: usize = 50;

/// What [`find`] found.
#[derive(Debug, Clone)]
pub struct Found {
    pub hits: Vec<Searchable>,
    /// How many messages of the workspace this device's index holds.
    pub searched: usize,
}

thread_local! {
    /// The (message, edit) pairs this tab has kept since it loaded: shown
    /// again, they are not sealed and written again.
    static KEPT: RefCell<HashSet<(i64, Option<i64>)>> = RefCell::new(HashSet::new());
}

fn key_key(me: i64) -> String {
    format!("{me}:search-key")
}

fn entry_key(me: i64, message: i64) -> String {
    format!("{me}:search:{message}")
}

fn entries_of(me: i64) -> String {
    format!("{me}:search:")
}

/// What a message read, sent or edited here is about, kept beside its text
/// (which this browser keeps anyway) so that search turned on later can
/// index it: its place, author and time, and which version of it was read.
#[derive(Serialize, Deserialize)]
struct Remembered {
    conversation: i64,
    message: i64,
    edited_at: Option<i64>,
    workspace: String,
    label: String,
    author: String,
    at: i64,
}

fn remembered_key(me: i64, message: i64) -> String {
    format!("{me}:about:{message}")
}

fn remembered_of(me: i64) -> String {
    format!("{me}:about:")
}

/// Notes what `message` (as of its edit `edited_at`), whose text this
/// browser has just kept, is about.
pub async fn remember(
    db: &IdbDatabase,
    me: i64,
    conversation: i64,
    (message, edited_at): (i64, Option<i64>),
    about: &About,
) -> Result<(), Problem> {
    let noted = Remembered {
        conversation,
        message,
        edited_at,
        workspace: about.place.workspace.clone(),
        label: about.place.label.clone(),
        author: about.author.clone(),
        at: about.at,
    };
    let text = serde_json::to_string(&noted).map_err(|e| Problem::Failed(e.to_string()))?;
    idb::put(db, idb::READ, &remembered_key(me, message), &text).await.map_err(Problem::Failed)
}

/// Seals an entry for each message remembered here whose text is kept.
async fn index_remembered(db: &IdbDatabase, me: i64, key: &SearchKey) -> Result<(), Problem> {
    for text in idb::values_beginning(db, idb::READ, &remembered_of(me)).await.map_err(Problem::Failed)? {
        let Ok(noted) = serde_json::from_str::<Remembered>(&text) else { continue };
        let read = super::client::read_key(me, noted.message, noted.edited_at);
        let Some(text) = idb::get(db, idb::READ, &read).await.map_err(Problem::Failed)? else { continue };
        let entry = Searchable {
            message: noted.message,
            workspace: noted.workspace,
            conversation: noted.conversation,
            label: noted.label,
            author: noted.author,
            at: noted.at,
            text,
        };
        let sealed = B64.encode(key.seal(&entry)?);
        idb::put(db, idb::READ, &entry_key(me, noted.message), &sealed).await.map_err(Problem::Failed)?;
        KEPT.with(|k| k.borrow_mut().insert((noted.message, noted.edited_at)));
    }
    Ok(())
}

/// This device's search key, if search is on here.
async fn key(db: &IdbDatabase, me: i64) -> Result<Option<SearchKey>, Problem> {
    match idb::get(db, idb::READ, &key_key(me)).await.map_err(Problem::Failed)? {
        None => Ok(None),
        Some(text) => Ok(Some(SearchKey::parse(&text)?)),
    }
}

/// Keeps `text` of `message` (as of its edit `edited_at`) for search, when
/// search is on here.
pub async fn keep(
    db: &IdbDatabase,
    me: i64,
    conversation: i64,
    (message, edited_at): (i64, Option<i64>),
    about: &About,
    text: &str,
) -> Result<(), Problem> {
    // Off here (the usual case): no look in IndexedDB for each message shown.
    if !super::search_on_here(me) || KEPT.with(|k| k.borrow().contains(&(message, edited_at))) {
        return Ok(());
    }
    let Some(key) = key(db, me).await? else { return Ok(()) };
    let entry = Searchable {
        message,
        workspace: about.place.workspace.clone(),
        conversation,
        label: about.place.label.clone(),
        author: about.author.clone(),
        at: about.at,
        text: text.to_string(),
    };
    let sealed = B64.encode(key.seal(&entry)?);
    idb::put(db, idb::READ, &entry_key(me, message), &sealed).await.map_err(Problem::Failed)?;
    KEPT.with(|k| k.borrow_mut().insert((message, edited_at)));
    Ok(())
}

/// Takes deleted messages out of the index.
pub async fn forget(db: &IdbDatabase, me: i64, messages: &[i64]) -> Result<Done, Problem> {
    for message in messages {
        idb::delete(db, idb::READ, &entry_key(me, *message)).await.map_err(Problem::Failed)?;
        idb::delete(db, idb::READ, &remembered_key(me, *message)).await.map_err(Problem::Failed)?;
        KEPT.with(|k| k.borrow_mut().retain(|(m, _)| m != message));
    }
    Ok(Done::Ready)
}

/// Turns search on here (a new key, and an entry for each message read
/// here before; the index fills as messages are shown), or off (the key
/// and the index are deleted).
pub async fn turn(db: &IdbDatabase, me: i64, on: bool) -> Result<Done, Problem> {
    KEPT.with(|k| k.borrow_mut().clear());
    idb::delete_beginning(db, idb::READ, &entries_of(me)).await.map_err(Problem::Failed)?;
    match on {
        true => {
            let key = SearchKey::generate()?;
            idb::put(db, idb::READ, &key_key(me), &key.to_text()).await.map_err(Problem::Failed)?;
            index_remembered(db, me, &key).await?;
        }
        false => idb::delete(db, idb::READ, &key_key(me)).await.map_err(Problem::Failed)?,
    }
    Ok(Done::Ready)
}

/// The messages of `workspace` in this device's index whose words begin
/// with each of `query`'s, newest first; [`Done::SearchOff`] when search
/// is not on here.
pub async fn find(db: &IdbDatabase, me: i64, workspace: &str, query: &str) -> Result<Done, Problem> {
    let Some(key) = key(db, me).await? else { return Ok(Done::SearchOff) };
    let words = e2ee::words(query);
    let mut found = Found { hits: Vec::new(), searched: 0 };
    for sealed in idb::values_beginning(db, idb::READ, &entries_of(me)).await.map_err(Problem::Failed)? {
        // An entry this key did not seal (left by a key turned off since) is passed over.
        let Some(entry) = B64.decode(&sealed).ok().and_then(|bytes| key.open(&bytes).ok()) else { continue };
        if entry.workspace != workspace {
            continue;
        }
        found.searched += 1;
        if entry.matches(&words) {
            found.hits.push(entry);
        }
    }
    found.hits.sort_by_key(|e| std::cmp::Reverse((e.at, e.message)));
    // The newest that are still there, asked of the server a page at a time.
    let mut candidates = std::mem::take(&mut found.hits).into_iter();
    while found.hits.len() < MOST_FOUND {
        let page: Vec<Searchable> = candidates.by_ref().take(MOST_FOUND - found.hits.len()).collect();
        if page.is_empty() {
            break;
        }
        let answers = futures::future::join_all(page.iter().map(|hit| still_there(hit.message))).await;
        let mut gone = Vec::new();
        for (hit, there) in page.into_iter().zip(answers) {
            match there {
                Some(false) => gone.push(hit.message),
                // Kept where the server could not be asked (offline).
                _ => found.hits.push(hit),
            }
        }
        found.searched -= gone.len();
        forget(db, me, &gone).await?;
    }
    Ok(Done::Found(found))
}

/// Whether `message` is still there for this person (not deleted, in a
/// conversation they still take part in); `None` when the server could not
/// be asked.
async fn still_there(message: i64) -> Option<bool> {
    let path = format!("/api/communication/messages/{message}/");
    let response =
        gloo_net::http::RequestBuilder::new(&path).method(gloo_net::http::Method::HEAD).send().await.ok()?;
    match response.status() {
        404 => Some(false),
        status => (200..300).contains(&status).then_some(true),
    }
}
