use super::notifications::Notifying;
use super::sealing::{body_place, html_place};
use super::{Backend, Store, Tx, placeholders, value_rows};
use crate::crypto::{KeyId, Keyring, Purpose};
use crate::error::Result;
use crate::events::NewEvent;
use crate::id::Id;
use crate::model::{Attachment, Message, MessagePage, Reaction, ScanStatus, ThreadSummary, UserSummary};
use crate::search::SearchQuery;
use sqlx::{FromRow, Row};
use std::collections::HashMap;

#[derive(FromRow)]
struct MessageRow {
    id: i64,
    channel_id: i64,
    author_id: i64,
    username: String,
    display_name: String,
    is_bot: i64,
    body: String,
    body_html: String,
    nonce: Option<String>,
    created_at: i64,
    edited_at: Option<i64>,
    thread_id: Option<i64>,
    deleted_at: Option<i64>,
    pinned_at: Option<i64>,
    shown_name: String,
    shown_icon: String,
    sealed_with: i64,
    sent_from: Option<i64>,
    own_copy: Option<String>,
}

impl MessageRow {
    /// The message, its text opened with `keys`.
    fn open(r: Self, keys: &Keyring) -> Result<Message> {
        let with = KeyId(r.sealed_with);
        let body = keys.open(Purpose::Text, &body_place(r.id), with, r.body)?;
        let html = keys.open(Purpose::Text, &html_place(r.id), with, r.body_html)?;
        Ok(Message {
            id: Id(r.id),
            channel_id: Id(r.channel_id),
            author: UserSummary {
                id: Id(r.author_id),
                username: r.username,
                display_name: r.display_name,
                is_bot: r.is_bot != 0,
            },
            author_colour: String::new(),
            // (An encrypted message has no HTML: only its readers can render it.)
            html: if html.is_empty() && r.sent_from.is_none() {
                crate::markdown::render(&body)
            } else {
                html
            },
            body,
            nonce: r.nonce,
            created_at: r.created_at,
            edited_at: r.edited_at,
            reactions: Vec::new(),
            thread_id: r.thread_id.map(Id),
            thread: None,
            deleted: r.deleted_at.is_some(),
            pinned: r.pinned_at.is_some(),
            attachments: Vec::new(),
            shown_name: r.shown_name,
            shown_icon: r.shown_icon,
            link_previews: Vec::new(),
            sent_from: r.sent_from.map(Id),
            own_copy: r.own_copy,
        })
    }
}

/// A message's body and HTML as stored: sealed with the current key (what
/// search reads is bound apart, through [`SEARCH_TEXT`]).
struct StoredText {
    body: String,
    html: String,
    with: KeyId,
}

impl StoredText {
    fn seal(keys: &Keyring, id: Id, body: &str, html: &str) -> Self {
        let (sealed_body, with) = keys.seal(Purpose::Text, &body_place(id.0), body);
        let (sealed_html, _) = keys.seal(Purpose::Text, &html_place(id.0), html);
        StoredText { body: sealed_body, html: sealed_html, with }
    }
}

/// What search reads of a message in the channel bound first, with its
/// body bound second: nothing in a sensitive channel, nor in an end-to-end
/// encrypted one (its bodies are ciphertext).
const SEARCH_TEXT: &str = "CASE WHEN EXISTS (SELECT 1 FROM channels sc WHERE sc.id = {ch} \
     AND (sc.sensitive = 1 OR sc.end_to_end = 1)) \
     THEN '' ELSE {body} END";

/// Messages written in a transaction: for each post, `false` when its
/// author's nonce was used already (nothing is written for it); and the
/// words of those written, as search reads them ([`SEARCH_TEXT`]), for
/// [`Store::learn_words`].
pub(super) struct Written {
    pub stored: Vec<bool>,
    pub words: String,
}

/// Adds one message's searchable text to `words` (one line each).
pub(super) fn add_words(words: &mut String, text: &str) {
    if !text.is_empty() {
        words.push_str(text);
        words.push('\n');
    }
}

/// PostgreSQL search reads the newest this many messages first, in id order.
const SEARCH_PROBE: i64 = 2_000;
/// Then it looks among the newest this many through the word index.
const SEARCH_WINDOW: i64 = 50_000;
/// How long the id below the newest `SEARCH_WINDOW` messages is reused.
const SEARCH_FLOOR_KEPT: std::time::Duration = std::time::Duration::from_secs(60);

/// Above this many vocabulary words holding a term, the term is too common a
/// fragment for the word index to help.
const MAX_SEARCH_WORDS: i64 = 500;

/// What the search vocabulary says of one term.
enum Holding {
    /// No word holds it: no message does.
    Nothing,
    /// A full-text query for the words that hold it.
    Words(String),
    /// No help: the term is not made of letters and digits alone (it may
    /// span words, as "release notes" or "o-b" do), or more than
    /// `MAX_SEARCH_WORDS` words hold it.
    Unfiltered,
}

/// `rows` rows of `params` parameters for a message insert whose seventh
/// column is `search_text`, bound as two parameters (the channel's id and
/// the body, for [`SEARCH_TEXT`]); every other column is one parameter.
fn message_rows(rows: usize, params: usize) -> String {
    (0..rows)
        .map(|r| {
            let p = |c: usize| format!("${}", r * params + c + 1);
            let cells: Vec<String> = (0..params - 1)
                .map(|c| match c {
                    6 => SEARCH_TEXT.replace("{ch}", &p(6)).replace("{body}", &p(7)),
                    c if c < 6 => p(c),
                    c => p(c + 1),
                })
                .collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `text` with LIKE's wildcards and escape character escaped (escape `\`).
fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// Messages with their authors and pins; callers add `WHERE ...`.
const MSG_FROM: &str = "SELECT m.id, m.channel_id, m.author_id, u.username, u.display_name, u.is_bot, m.body, \
     m.body_html, m.nonce, m.created_at, m.edited_at, m.thread_id, m.deleted_at, p.pinned_at, m.shown_name, \
     m.shown_icon, m.sealed_with, m.sent_from, m.own_copy \
     FROM messages m JOIN users u ON u.id = m.author_id LEFT JOIN pins p ON p.message_id = m.id";

/// Live (not deleted) messages with their authors.
fn live(condition: &str) -> String {
    format!("{MSG_FROM} WHERE m.deleted_at IS NULL AND {condition}")
}

/// A message to store ([`Store::insert_message`]), with what it causes.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub message: Message,
    pub mentioned: Mentioned,
    /// Who is told of it, stored in its transaction: once it is committed,
    /// a crash cannot keep them from hearing of it.
    pub notifying: Notifying,
    /// What announces it (and its notifications), logged only if it is stored.
    pub events: Vec<NewEvent>,
    /// The links to preview, each waiting for a worker to fetch it.
    pub links: Vec<String>,
}

/// Who a new or edited message mentions.
#[derive(Debug, Clone, Default)]
pub struct Mentioned {
    pub users: Vec<Id>,
    /// `@channel` or `@here`.
    pub all: bool,
    /// `@here` without `@channel`: only those online are told.
    pub here: bool,
}

/// A query with `ids` bound to its first parameters, in order.
pub(super) fn bind_ids<'q>(
    sql: &'q str,
    ids: &[i64],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let mut q = sqlx::query(sql);
    for id in ids {
        q = q.bind(*id);
    }
    q
}

impl Store {
    /// Up to `limit` attachments' ids after `after`, in order.
    pub async fn attachment_ids_after(&self, after: Id, limit: i64) -> Result<Vec<Id>> {
        let ids: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM attachments WHERE id > $1 ORDER BY id LIMIT $2")
                .bind(after.0)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
        Ok(ids.into_iter().map(Id).collect())
    }

    /// Which of `ids` are attachments of a stored message.
    pub async fn attachments_known(&self, ids: &[Id]) -> Result<Vec<Id>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("SELECT id FROM attachments WHERE id IN ({})", placeholders(ids.len()));
        let known: Vec<i64> =
            ids.iter().fold(sqlx::query_scalar(&sql), |q, id| q.bind(id.0)).fetch_all(&self.pool).await?;
        Ok(known.into_iter().map(Id).collect())
    }

    /// Stores a message with its mentions, attachments and notifications,
    /// unless its author already sent one with its nonce (then that one is
    /// returned, with `false`). It returns once committed; concurrent posts
    /// share one commit (see [`super::group_commit`]). A reply makes its
    /// author follow the thread (having read it up to their reply), and the
    /// thread's first author follow it too. Posting marks the channel read
    /// for the author.
    pub async fn insert_message(&self, new: NewMessage) -> Result<(Message, bool)> {
        let msg = new.message.clone();
        if self.write_grouped(super::group_commit::Write::Post(Box::new(new))).await? {
            return Ok((msg, true));
        }
        // The first message with this nonce (even if deleted since: a retry must not resurrect it).
        let sql = format!("{MSG_FROM} WHERE m.author_id = $1 AND m.nonce = $2");
        let first = sqlx::query_as::<_, MessageRow>(&sql)
            .bind(msg.author.id.0)
            .bind(&msg.nonce)
            .fetch_one(&self.pool)
            .await?;
        let mut found = self.hydrate(vec![first]).await?;
        Ok((found.remove(0), false))
    }

    /// Writes messages and what comes with them in `tx`, but for their words
    /// (added to the search vocabulary by the batch, from the returned
    /// [`Written::words`]): the messages in one statement for each fifty,
    /// then each one's own rows.
    pub(super) async fn write_messages(&self, tx: &mut Tx, posts: &[&NewMessage]) -> Result<Written> {
        let mut inserted = std::collections::HashSet::new();
        let mut words = String::new();
        let keys = self.keys();
        for chunk in posts.chunks(50) {
            let sql = format!(
                "INSERT INTO messages (id, channel_id, author_id, body, body_html, sealed_with, search_text, \
                 nonce, created_at, thread_id, mentions_all, shown_name, shown_icon, sent_from, own_copy) \
                 VALUES {} ON CONFLICT (author_id, nonce) DO NOTHING RETURNING id, search_text",
                message_rows(chunk.len(), 16)
            );
            let mut q = sqlx::query_as::<_, (i64, String)>(&sql);
            for NewMessage { message: msg, mentioned, .. } in chunk {
                let text = StoredText::seal(&keys, msg.id, &msg.body, &msg.html);
                q = q
                    .bind(msg.id.0)
                    .bind(msg.channel_id.0)
                    .bind(msg.author.id.0)
                    .bind(text.body)
                    .bind(text.html)
                    .bind(text.with.0)
                    .bind(msg.channel_id.0)
                    .bind(&msg.body)
                    .bind(&msg.nonce)
                    .bind(msg.created_at)
                    .bind(msg.thread_id.map(|t| t.0))
                    .bind(mentioned.all as i64)
                    .bind(&msg.shown_name)
                    .bind(&msg.shown_icon)
                    .bind(msg.sent_from.map(|d| d.0))
                    .bind(&msg.own_copy);
            }
            for (id, text) in q.fetch_all(&mut **tx).await? {
                inserted.insert(id);
                add_words(&mut words, &text);
            }
        }
        let mut stored = Vec::with_capacity(posts.len());
        // Posting marks the channel read for the author, up to their latest post.
        let mut read_up_to: std::collections::HashMap<(i64, i64), i64> = Default::default();
        for post in posts {
            let new = inserted.contains(&post.message.id.0);
            if new {
                Self::write_with_message(tx, post).await?;
                let msg = &post.message;
                if msg.thread_id.is_none() {
                    let mark = read_up_to.entry((msg.channel_id.0, msg.author.id.0)).or_default();
                    *mark = (*mark).max(msg.id.0);
                }
            }
            stored.push(new);
        }
        Self::mark_read_by_posting(tx, &read_up_to).await?;
        Ok(Written { stored, words })
    }

    /// Moves each `(channel, user)`'s read mark up to the message they
    /// posted, in one statement for each fifty.
    async fn mark_read_by_posting(
        tx: &mut Tx,
        marks: &std::collections::HashMap<(i64, i64), i64>,
    ) -> Result<()> {
        let marks: Vec<_> = marks.iter().collect();
        for chunk in marks.chunks(50) {
            let sql = format!(
                "UPDATE channel_reads SET last_read_id = v.column3 FROM (VALUES {}) AS v \
                 WHERE channel_reads.channel_id = v.column1 AND channel_reads.user_id = v.column2 \
                   AND channel_reads.last_read_id < v.column3",
                value_rows(chunk.len(), 3)
            );
            let q = chunk
                .iter()
                .fold(sqlx::query(&sql), |q, ((channel, user), id)| q.bind(*channel).bind(*user).bind(**id));
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// What comes with a message just inserted: its mentions, attachments,
    /// thread follows, and notifications.
    async fn write_with_message(tx: &mut Tx, new: &NewMessage) -> Result<()> {
        let NewMessage { message: msg, mentioned, notifying, events: _, links } = new;
        Self::insert_mentions(tx, msg.id, &mentioned.users).await?;
        Self::add_pending_previews(tx, msg.id, links, msg.created_at).await?;
        for a in &msg.attachments {
            sqlx::query(
                "INSERT INTO attachments (id, message_id, file_name, content_type, size, created_at, scan_status) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(a.id.0)
            .bind(msg.id.0)
            .bind(&a.file_name)
            .bind(&a.content_type)
            .bind(a.size)
            .bind(a.created_at)
            .bind(a.scan.as_str())
            .execute(&mut **tx)
            .await?;
        }
        // (A top-level post's read mark is moved by the batch: see `write_messages`.)
        if let Some(thread) = msg.thread_id {
            sqlx::query(
                "INSERT INTO thread_follows (thread_id, user_id, following, last_read_id) \
                 SELECT id, author_id, 1, 0 FROM messages WHERE id = $1 \
                 ON CONFLICT (thread_id, user_id) DO NOTHING",
            )
            .bind(thread.0)
            .execute(&mut **tx)
            .await?;
            sqlx::query(
                "INSERT INTO thread_follows (thread_id, user_id, following, last_read_id) VALUES ($1, $2, 1, $3) \
                 ON CONFLICT (thread_id, user_id) DO UPDATE SET following = 1, last_read_id = excluded.last_read_id",
            )
            .bind(thread.0)
            .bind(msg.author.id.0)
            .bind(msg.id.0)
            .execute(&mut **tx)
            .await?;
        }
        Self::write_notifications(tx, notifying).await?;
        Ok(())
    }

    async fn insert_mentions(tx: &mut Tx, message: Id, users: &[Id]) -> Result<()> {
        for u in users {
            sqlx::query("INSERT INTO mentions (message_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(message.0)
                .bind(u.0)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Inserts many messages in one transaction (imports, benchmarks).
    /// Nonces are not checked: these are not client posts.
    pub async fn import_messages(&self, messages: &[Message]) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let keys = self.keys();
        for chunk in messages.chunks(500) {
            // Imported messages have no nonce.
            let sql = format!(
                "INSERT INTO messages (id, channel_id, author_id, body, body_html, sealed_with, search_text, \
                 created_at) VALUES {} RETURNING search_text",
                message_rows(chunk.len(), 9)
            );
            let mut q = sqlx::query_scalar::<_, String>(&sql);
            for m in chunk {
                let text = StoredText::seal(&keys, m.id, &m.body, &m.html);
                q = q
                    .bind(m.id.0)
                    .bind(m.channel_id.0)
                    .bind(m.author.id.0)
                    .bind(text.body)
                    .bind(text.html)
                    .bind(text.with.0)
                    .bind(m.channel_id.0)
                    .bind(&m.body)
                    .bind(m.created_at);
            }
            let mut words = String::new();
            for text in q.fetch_all(&mut *tx).await? {
                add_words(&mut words, &text);
            }
            self.learn_words(&mut tx, &words).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// PostgreSQL: adds the words of `text` (what search reads of messages
    /// written in `tx`: see [`add_words`]) to the search vocabulary (see
    /// `search_messages`). One statement, in sorted order, so that two
    /// transactions adding the same new words wait for each other rather
    /// than deadlock.
    pub(super) async fn learn_words(&self, tx: &mut super::Tx, text: &str) -> Result<()> {
        if self.backend == Backend::Postgres && !text.is_empty() {
            sqlx::query(
                "INSERT INTO search_words (word) \
                 SELECT DISTINCT w FROM unnest(tsvector_to_array(to_tsvector('simple', $1))) AS w ORDER BY w \
                 ON CONFLICT DO NOTHING",
            )
            .bind(text)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    /// Puts the live messages of `channel` back in search (it is no longer
    /// sensitive), five hundred to a transaction; returns how many. Should
    /// the channel become sensitive again meanwhile, what is left stays out.
    pub async fn restore_search_text(&self, channel: Id) -> Result<u64> {
        let keys = self.keys();
        let (mut after, mut total) = (0i64, 0u64);
        loop {
            let rows: Vec<(i64, String, i64)> = sqlx::query_as(
                "SELECT id, body, sealed_with FROM messages \
                 WHERE channel_id = $1 AND id > $2 AND deleted_at IS NULL AND search_text = '' AND body <> '' \
                 ORDER BY id LIMIT 500",
            )
            .bind(channel.0)
            .bind(after)
            .fetch_all(&self.pool)
            .await?;
            let Some(last) = rows.last().map(|r| r.0) else { return Ok(total) };
            after = last;
            let mut tx = self.write_tx().await?;
            let sql = format!(
                "UPDATE messages SET search_text = {} WHERE id = $3 RETURNING search_text",
                SEARCH_TEXT.replace("{ch}", "$1").replace("{body}", "$2")
            );
            let mut words = String::new();
            for (id, body, with) in rows {
                let text = keys.open(Purpose::Text, &body_place(id), KeyId(with), body)?;
                let searched: Option<String> = sqlx::query_scalar(&sql)
                    .bind(channel.0)
                    .bind(text)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(searched) = searched {
                    total += 1;
                    add_words(&mut words, &searched);
                }
            }
            self.learn_words(&mut tx, &words).await?;
            tx.commit().await?;
        }
    }

    /// A message that has not been deleted.
    pub async fn message(&self, id: Id) -> Result<Option<Message>> {
        let row =
            sqlx::query_as::<_, MessageRow>(&live("m.id = $1")).bind(id.0).fetch_optional(&self.pool).await?;
        Ok(match row {
            Some(r) => self.hydrate(vec![r]).await?.pop(),
            None => None,
        })
    }

    /// A live message as stored, without what [`Self::message`] adds (its
    /// reactions, attachments and thread summary): enough to check who may
    /// touch it and to say whose it is.
    pub async fn message_alone(&self, id: Id) -> Result<Option<Message>> {
        let row =
            sqlx::query_as::<_, MessageRow>(&live("m.id = $1")).bind(id.0).fetch_optional(&self.pool).await?;
        row.map(|r| MessageRow::open(r, &self.keys())).transpose()
    }

    /// The first message of a thread: live, or deleted but still holding live replies.
    pub async fn thread_parent(&self, id: Id) -> Result<Option<Message>> {
        let sql = format!("{MSG_FROM} WHERE m.id = $1 AND m.thread_id IS NULL AND {SHOWN}");
        let row = sqlx::query_as::<_, MessageRow>(&sql).bind(id.0).fetch_optional(&self.pool).await?;
        Ok(match row {
            Some(r) => self.hydrate(vec![r]).await?.pop(),
            None => None,
        })
    }

    /// The live replies of a thread, oldest first (at most 1,000).
    pub async fn replies(&self, thread: Id) -> Result<Vec<Message>> {
        let sql = live("m.thread_id = $1 ORDER BY m.id LIMIT 1000");
        let rows = sqlx::query_as::<_, MessageRow>(&sql).bind(thread.0).fetch_all(&self.pool).await?;
        self.hydrate(rows).await
    }

    /// Up to `limit` top-level messages of a channel older than `before`,
    /// newest first. A deleted message stays (as a placeholder) while its thread has replies.
    pub async fn messages(&self, channel: Id, before: Option<Id>, limit: i64) -> Result<MessagePage> {
        let sql = format!(
            "{MSG_FROM} WHERE m.channel_id = $1 AND m.thread_id IS NULL AND m.id < $2 AND {SHOWN} \
             ORDER BY m.id DESC LIMIT $3"
        );
        let mut rows = sqlx::query_as::<_, MessageRow>(&sql)
            .bind(channel.0)
            .bind(before.map_or(i64::MAX, |b| b.0))
            .bind(limit + 1)
            .fetch_all(&self.pool)
            .await?;
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let messages = self.hydrate(rows).await?;
        let next_before = if more { messages.last().map(|m| m.id) } else { None };
        Ok(MessagePage { messages, next_before })
    }

    /// Replaces a live message's body (and HTML, and an encrypted one's own
    /// copy) with `edited`'s, and its mentions; returns whether it was live
    /// (only then are `events` logged).
    pub async fn edit_message(
        &self,
        edited: &Message,
        mentioned: &Mentioned,
        links: &[String],
        now: i64,
        keep: Option<Id>,
        events: &[NewEvent],
    ) -> Result<bool> {
        let (id, body) = (edited.id, edited.body.as_str());
        let mut tx = self.write_tx().await?;
        if let Some(by) = keep {
            Self::keep_version(&mut tx, id, "edited", by, now).await?;
        }
        let text = StoredText::seal(&self.keys(), id, body, &edited.html);
        let sql = format!(
            "UPDATE messages SET body = $1, body_html = $2, sealed_with = $3, search_text = {}, edited_at = $5, \
             mentions_all = $6, own_copy = $7 WHERE id = $8 AND deleted_at IS NULL RETURNING search_text",
            SEARCH_TEXT.replace("{ch}", "messages.channel_id").replace("{body}", "$4")
        );
        let searched: Option<String> = sqlx::query_scalar(&sql)
            .bind(text.body)
            .bind(text.html)
            .bind(text.with.0)
            .bind(body)
            .bind(now)
            .bind(mentioned.all as i64)
            .bind(&edited.own_copy)
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(searched) = searched else { return Ok(false) };
        sqlx::query("DELETE FROM mentions WHERE message_id = $1").bind(id.0).execute(&mut *tx).await?;
        Self::insert_mentions(&mut tx, id, &mentioned.users).await?;
        Self::edit_previews(&mut tx, id, links, now).await?;
        self.learn_words(&mut tx, &searched).await?;
        self.commit(tx, events).await?;
        Ok(true)
    }

    /// Deletes a message: its body, reactions, mentions, pin and attachments
    /// are erased and it leaves every listing (a thread's first message stays
    /// as a placeholder while it has replies). With `keep` (who deletes it,
    /// when it is held or archived), its body is kept as its last version
    /// and its attachments stay, shown to no one. Returns whether it was
    /// live, and the attachments whose files are to be removed; `events` are
    /// logged only if it was live.
    pub async fn delete_message(
        &self,
        id: Id,
        now: i64,
        keep: Option<Id>,
        events: &[NewEvent],
    ) -> Result<(bool, Vec<Id>)> {
        let mut tx = self.write_tx().await?;
        if let Some(by) = keep {
            Self::keep_version(&mut tx, id, "deleted", by, now).await?;
        }
        let done = sqlx::query(
            "UPDATE messages SET body = '', body_html = '', search_text = '', mentions_all = 0, own_copy = NULL, \
             deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL",
        )
        .bind(now)
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        let files: Vec<i64> = match keep {
            Some(_) => Vec::new(),
            None => {
                sqlx::query_scalar("SELECT id FROM attachments WHERE message_id = $1")
                    .bind(id.0)
                    .fetch_all(&mut *tx)
                    .await?
            }
        };
        let erased: &[&str] = match keep {
            Some(_) => &["reactions", "mentions", "pins", "link_previews"],
            None => &["reactions", "mentions", "pins", "attachments", "link_previews"],
        };
        for table in erased {
            sqlx::query(&format!("DELETE FROM {table} WHERE message_id = $1"))
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
        }
        let announced: &[NewEvent] = if done.rows_affected() == 1 { events } else { &[] };
        self.commit(tx, announced).await?;
        Ok((done.rows_affected() == 1, files.into_iter().map(Id).collect()))
    }

    /// Follows or unfollows a thread. Following anew starts with every reply read.
    pub async fn set_following(
        &self,
        thread: Id,
        user: Id,
        following: bool,
        events: &[NewEvent],
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO thread_follows (thread_id, user_id, following, last_read_id) \
             SELECT $1, $2, $3, COALESCE(MAX(id), 0) FROM messages WHERE thread_id = $4 \
             ON CONFLICT (thread_id, user_id) DO UPDATE SET following = excluded.following",
        )
        .bind(thread.0)
        .bind(user.0)
        .bind(following as i64)
        .bind(thread.0)
        .execute(&mut *tx)
        .await?;
        self.commit(tx, events).await
    }

    pub async fn is_following(&self, thread: Id, user: Id) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM thread_follows WHERE thread_id = $1 AND user_id = $2 AND following = 1",
        )
        .bind(thread.0)
        .bind(user.0)
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    /// The newest live reply of a thread, if any.
    pub async fn latest_reply_id(&self, thread: Id) -> Result<Option<Id>> {
        let id: Option<i64> =
            sqlx::query_scalar("SELECT MAX(id) FROM messages WHERE thread_id = $1 AND deleted_at IS NULL")
                .bind(thread.0)
                .fetch_one(&self.pool)
                .await?;
        Ok(id.map(Id))
    }

    /// Moves `user`'s read mark in a thread they follow forward to `reply`.
    pub async fn mark_thread_read(&self, thread: Id, user: Id, reply: Id) -> Result<()> {
        sqlx::query(
            "UPDATE thread_follows SET last_read_id = $1 WHERE thread_id = $2 AND user_id = $3 AND last_read_id < $4",
        )
        .bind(reply.0)
        .bind(thread.0)
        .bind(user.0)
        .bind(reply.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The threads of `ws` that `user` follows in channels they may see,
    /// most recently answered first, with the channel's name and how many
    /// replies by others they have not read.
    pub async fn followed_threads(
        &self,
        ws: Id,
        user: Id,
        limit: i64,
    ) -> Result<Vec<(Message, String, i64)>> {
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT tf.thread_id, c.name, \
               (SELECT COUNT(*) FROM messages r WHERE r.thread_id = tf.thread_id AND r.id > tf.last_read_id \
                  AND r.deleted_at IS NULL AND r.author_id <> $1) AS unread \
             FROM thread_follows tf JOIN messages p ON p.id = tf.thread_id JOIN channels c ON c.id = p.channel_id \
             WHERE tf.user_id = $2 AND tf.following = 1 AND c.workspace_id = $3 \
               AND (c.is_private = 0 OR EXISTS \
                 (SELECT 1 FROM channel_members cm WHERE cm.channel_id = c.id AND cm.user_id = $4)) \
               AND EXISTS (SELECT 1 FROM messages r WHERE r.thread_id = tf.thread_id AND r.deleted_at IS NULL) \
             ORDER BY (SELECT MAX(r.id) FROM messages r WHERE r.thread_id = tf.thread_id AND r.deleted_at IS NULL) DESC \
             LIMIT $5",
        )
        .bind(user.0)
        .bind(user.0)
        .bind(ws.0)
        .bind(user.0)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        // The first messages, all at once, then back in the order found.
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let sql = format!("{MSG_FROM} WHERE m.id IN ({}) AND {SHOWN}", placeholders(ids.len()));
        let found = sqlx::query_as::<_, MessageRow>(&sql);
        let found = ids.iter().fold(found, |q, id| q.bind(*id)).fetch_all(&self.pool).await?;
        let mut parents: HashMap<i64, Message> =
            self.hydrate(found).await?.into_iter().map(|m| (m.id.0, m)).collect();
        Ok(rows
            .into_iter()
            .filter_map(|(thread, channel_name, unread)| {
                parents.remove(&thread).map(|p| (p, channel_name, unread))
            })
            .collect())
    }

    /// Pins a live message; returns whether it was not pinned yet (only then
    /// are `events` logged).
    pub async fn pin(
        &self,
        message: Id,
        channel: Id,
        user: Id,
        now: i64,
        events: &[NewEvent],
    ) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "INSERT INTO pins (message_id, channel_id, pinned_by, pinned_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(message.0)
        .bind(channel.0)
        .bind(user.0)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        self.commit_if(tx, done.rows_affected() == 1, events).await
    }

    /// Unpins a message; returns whether it was pinned.
    /// Unpins a message; returns whether it was pinned (only then are
    /// `events` logged).
    pub async fn unpin(&self, message: Id, events: &[NewEvent]) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let done =
            sqlx::query("DELETE FROM pins WHERE message_id = $1").bind(message.0).execute(&mut *tx).await?;
        self.commit_if(tx, done.rows_affected() == 1, events).await
    }

    /// A channel's pinned messages, most recently pinned first.
    pub async fn pinned_messages(&self, channel: Id) -> Result<Vec<Message>> {
        let sql = live("p.channel_id = $1 ORDER BY p.pinned_at DESC, m.id DESC");
        let rows = sqlx::query_as::<_, MessageRow>(&sql).bind(channel.0).fetch_all(&self.pool).await?;
        self.hydrate(rows).await
    }

    /// An attachment of a live message, and that message's channel.
    pub async fn attachment(&self, id: Id) -> Result<Option<(Attachment, Id)>> {
        let sql = format!(
            "SELECT {ATTACHMENT_COLUMNS}, m.channel_id FROM attachments a JOIN messages m ON m.id = a.message_id \
             WHERE a.id = $1 AND m.deleted_at IS NULL"
        );
        let row = sqlx::query(&sql).bind(id.0).fetch_optional(&self.pool).await?;
        Ok(match row {
            Some(row) => Some((attachment_of(&row)?, Id(row.try_get(7)?))),
            None => None,
        })
    }

    /// Adds `user`'s reaction; returns whether it is new (only then are
    /// `events` logged).
    pub async fn add_reaction(
        &self,
        message: Id,
        user: Id,
        emoji: &str,
        now: i64,
        events: &[NewEvent],
    ) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "INSERT INTO reactions (message_id, user_id, emoji, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (message_id, user_id, emoji) DO NOTHING",
        )
        .bind(message.0)
        .bind(user.0)
        .bind(emoji)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        self.commit_if(tx, done.rows_affected() == 1, events).await
    }

    /// Removes `user`'s reaction; returns whether there was one (only then
    /// are `events` logged).
    pub async fn remove_reaction(
        &self,
        message: Id,
        user: Id,
        emoji: &str,
        events: &[NewEvent],
    ) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("DELETE FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3")
            .bind(message.0)
            .bind(user.0)
            .bind(emoji)
            .execute(&mut *tx)
            .await?;
        self.commit_if(tx, done.rows_affected() == 1, events).await
    }

    /// Messages matching `q` that `user` may see: in their workspaces (or
    /// just `workspace`), in public channels or private ones they belong
    /// to; newest first, with the channel's name and workspace.
    pub async fn search_messages(
        &self,
        channels: &[Id],
        workspace: Option<Id>,
        q: &SearchQuery,
        limit: i64,
    ) -> Result<Vec<(Message, String, Id)>> {
        if channels.is_empty() {
            return Ok(Vec::new());
        }
        // On PostgreSQL each term is first looked up in the search vocabulary
        // (see migration 0012): the words holding it become a full-text query
        // that the messages' word index answers with only messages holding
        // one of them. A term held by no word is found nowhere. Each term's
        // query is a condition of its own: the index intersects the terms'
        // messages, skipping in one term's list to the other's next message,
        // rather than testing every message of every word against one query
        // of all the words (twice as slow for two terms of a dozen words).
        let mut words = Vec::new();
        if self.backend == Backend::Postgres && !q.terms.is_empty() {
            for term in &q.terms {
                match self.words_holding(term).await? {
                    Holding::Nothing => return Ok(Vec::new()),
                    Holding::Words(query) => words.push(query),
                    Holding::Unfiltered => {}
                }
            }
            // Newest first. A common term fills its page from the last few
            // thousand messages, read in id order (quick), while collecting
            // all its messages would be slow; a rarer one is looked for among
            // the newest window's messages holding its words, then in the
            // whole history. Ids grow with time, so a full page from a window
            // is the full answer.
            for (window, filter) in [(SEARCH_PROBE, &[][..]), (SEARCH_WINDOW, &words[..])] {
                let Some(floor) = self.search_floor(window).await? else { break };
                let found = self.search_rows(channels, workspace, q, limit, Some(floor), filter).await?;
                if found.len() as i64 >= limit {
                    return Ok(found);
                }
            }
        }
        self.search_rows(channels, workspace, q, limit, None, &words).await
    }

    /// PostgreSQL: the id below the newest `window` messages (`None` when
    /// there are not that many). The large window's is kept for a minute:
    /// counting 50,000 index entries is slow, and a window somewhat larger
    /// than asked changes nothing found.
    async fn search_floor(&self, window: i64) -> Result<Option<i64>> {
        let kept = window == SEARCH_WINDOW;
        if kept
            && let Some((at, floor)) = *self.search_floor.lock().expect("search floor lock")
            && at.elapsed() < SEARCH_FLOOR_KEPT
        {
            return Ok(floor);
        }
        let floor: Option<i64> =
            sqlx::query_scalar("SELECT id FROM messages ORDER BY id DESC OFFSET $1 LIMIT 1")
                .bind(window)
                .fetch_optional(&self.pool)
                .await?;
        if kept {
            *self.search_floor.lock().expect("search floor lock") = Some((std::time::Instant::now(), floor));
        }
        Ok(floor)
    }

    /// PostgreSQL: the words of the search vocabulary that hold `term`
    /// (case-insensitively), as a full-text query matching any of them.
    /// Letters and digits are always part of a word of PostgreSQL's text
    /// parser, so a term made of them alone is found only in messages with
    /// one of those words.
    async fn words_holding(&self, term: &str) -> Result<Holding> {
        if !term.chars().all(char::is_alphanumeric) {
            return Ok(Holding::Unfiltered);
        }
        let words: Vec<String> =
            sqlx::query_scalar("SELECT word FROM search_words WHERE word ILIKE $1 ESCAPE '\\' LIMIT $2")
                .bind(format!("%{}%", escape_like(term)))
                .bind(MAX_SEARCH_WORDS + 1)
                .fetch_all(&self.pool)
                .await?;
        Ok(match words.len() as i64 {
            0 => Holding::Nothing,
            n if n > MAX_SEARCH_WORDS => Holding::Unfiltered,
            _ => {
                // tsquery's own quoting: a quoted lexeme, quotes doubled, backslashes escaped.
                let quoted: Vec<String> = words
                    .iter()
                    .map(|w| format!("'{}'", w.replace('\\', "\\\\").replace('\'', "''")))
                    .collect();
                Holding::Words(quoted.join(" | "))
            }
        })
    }

    /// One search query. With `above`, only messages newer than it; with
    /// `words` (PostgreSQL), only messages holding one word of each of those
    /// full-text queries, found through the word index. Without either,
    /// PostgreSQL answers from the trigram index; with either, that index is
    /// kept out (`body || ''` is not what it covers): reading the window in
    /// id order, or the word index's few messages, is what is fast.
    async fn search_rows(
        &self,
        channels: &[Id],
        workspace: Option<Id>,
        q: &SearchQuery,
        limit: i64,
        above: Option<i64>,
        words: &[String],
    ) -> Result<Vec<(Message, String, Id)>> {
        enum P {
            I(i64),
            S(String),
        }
        let mut params: Vec<P> = Vec::new();
        let mut arg = |p: P| {
            params.push(p);
            format!("${}", params.len())
        };
        let mut sql = format!(
            "SELECT m.id, m.channel_id, m.author_id, u.username, u.display_name, u.is_bot, m.body, m.body_html, \
             m.nonce, m.created_at, m.edited_at, m.thread_id, m.deleted_at, p.pinned_at, m.shown_name, m.shown_icon, \
             m.sealed_with, m.sent_from, m.own_copy, c.name AS channel_name, c.workspace_id \
             FROM messages m JOIN users u ON u.id = m.author_id LEFT JOIN pins p ON p.message_id = m.id \
             JOIN channels c ON c.id = m.channel_id WHERE m.deleted_at IS NULL AND m.channel_id IN ({})",
            channels.iter().map(|c| arg(P::I(c.0))).collect::<Vec<_>>().join(", ")
        );
        if let Some(ws) = workspace {
            sql += &format!(" AND c.workspace_id = {}", arg(P::I(ws.0)));
        }
        if let Some(name) = &q.in_channel {
            sql += &format!(" AND c.name = {}", arg(P::S(name.clone())));
        }
        if let Some(name) = &q.from_user {
            sql += &format!(" AND u.username = {}", arg(P::S(name.clone())));
        }
        if let Some(floor) = above {
            sql += &format!(" AND m.id > {}", arg(P::I(floor)));
        }
        for query in words {
            sql += &format!(
                " AND to_tsvector('simple', m.search_text) @@ {}::tsquery",
                arg(P::S(query.clone()))
            );
        }
        if q.has_file {
            sql += " AND EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = m.id)";
        }
        if let Some(t) = q.before {
            sql += &format!(" AND m.created_at < {}", arg(P::I(t)));
        }
        if let Some(t) = q.after {
            sql += &format!(" AND m.created_at >= {}", arg(P::I(t)));
        }
        for term in &q.terms {
            let pattern = format!("%{}%", escape_like(term));
            sql += &match self.backend {
                // The trigram index answers substrings of three characters or more.
                Backend::Sqlite if term.chars().count() >= 3 => format!(
                    " AND m.id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH {})",
                    arg(P::S(format!("\"{}\"", term.replace('"', "\"\""))))
                ),
                Backend::Sqlite => format!(" AND m.search_text LIKE {} ESCAPE '\\'", arg(P::S(pattern))),
                Backend::Postgres if above.is_some() || !words.is_empty() => {
                    format!(" AND (m.search_text || '') ILIKE {} ESCAPE '\\'", arg(P::S(pattern)))
                }
                Backend::Postgres => format!(" AND m.search_text ILIKE {} ESCAPE '\\'", arg(P::S(pattern))),
            };
        }
        sql += &format!(" ORDER BY m.id DESC LIMIT {}", arg(P::I(limit)));

        #[derive(FromRow)]
        struct Row {
            #[sqlx(flatten)]
            message: MessageRow,
            channel_name: String,
            workspace_id: i64,
        }
        // Unprepared on PostgreSQL, so it plans with this query's own words
        // and window (how common they are decides between the word index and
        // a scan in id order) rather than with a plan made for any.
        let mut query = sqlx::query_as::<_, Row>(&sql).persistent(self.backend == Backend::Sqlite);
        for p in params {
            query = match p {
                P::I(i) => query.bind(i),
                P::S(s) => query.bind(s),
            };
        }
        let rows = query.fetch_all(&self.pool).await?;
        let places: Vec<(String, Id)> =
            rows.iter().map(|r| (r.channel_name.clone(), Id(r.workspace_id))).collect();
        let messages = self.hydrate(rows.into_iter().map(|r| r.message).collect()).await?;
        Ok(messages.into_iter().zip(places).map(|(m, (name, ws))| (m, name, ws)).collect())
    }

    /// Turns rows into messages with their reactions, thread summaries,
    /// attachments and link previews (one query for each, whatever the
    /// number of rows).
    async fn hydrate(&self, rows: Vec<MessageRow>) -> Result<Vec<Message>> {
        let keys = self.keys();
        let mut messages: Vec<Message> =
            rows.into_iter().map(|r| MessageRow::open(r, &keys)).collect::<Result<_>>()?;
        if messages.is_empty() {
            return Ok(messages);
        }
        let ids = placeholders(messages.len());
        let id_list: Vec<i64> = messages.iter().map(|m| m.id.0).collect();

        let sql = format!(
            "SELECT r.message_id, r.emoji, u.id, u.username, u.display_name, u.is_bot FROM reactions r \
             JOIN users u ON u.id = r.user_id WHERE r.message_id IN ({ids}) ORDER BY r.created_at, u.id"
        );
        let mut reactions: HashMap<i64, Vec<Reaction>> = HashMap::new();
        for row in bind_ids(&sql, &id_list).fetch_all(&self.pool).await? {
            let list = reactions.entry(row.try_get(0)?).or_default();
            let emoji: String = row.try_get(1)?;
            let user = UserSummary {
                id: Id(row.try_get(2)?),
                username: row.try_get(3)?,
                display_name: row.try_get(4)?,
                is_bot: row.try_get::<i64, _>(5)? != 0,
            };
            match list.iter_mut().find(|r| r.emoji == emoji) {
                Some(r) => r.users.push(user),
                None => list.push(Reaction { emoji, users: vec![user] }),
            }
        }

        let sql = format!(
            "SELECT thread_id, COUNT(*), MAX(created_at) FROM messages \
             WHERE thread_id IN ({ids}) AND deleted_at IS NULL GROUP BY thread_id"
        );
        let mut threads: HashMap<i64, ThreadSummary> = HashMap::new();
        for row in bind_ids(&sql, &id_list).fetch_all(&self.pool).await? {
            threads.insert(
                row.try_get(0)?,
                ThreadSummary {
                    reply_count: row.try_get(1)?,
                    last_reply_at: row.try_get(2)?,
                    participants: Vec::new(),
                },
            );
        }
        if !threads.is_empty() {
            let sql = format!(
                "SELECT m.thread_id, u.id, u.username, u.display_name, u.is_bot, MIN(m.id) AS first \
                 FROM messages m JOIN users u ON u.id = m.author_id \
                 WHERE m.thread_id IN ({ids}) AND m.deleted_at IS NULL \
                 GROUP BY m.thread_id, u.id, u.username, u.display_name, u.is_bot ORDER BY first"
            );
            for row in bind_ids(&sql, &id_list).fetch_all(&self.pool).await? {
                if let Some(t) = threads.get_mut(&row.try_get::<i64, _>(0)?)
                    && t.participants.len() < 5
                {
                    t.participants.push(UserSummary {
                        id: Id(row.try_get(1)?),
                        username: row.try_get(2)?,
                        display_name: row.try_get(3)?,
                        is_bot: row.try_get::<i64, _>(4)? != 0,
                    });
                }
            }
        }

        let sql = format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM attachments a WHERE a.message_id IN ({ids}) ORDER BY a.id"
        );
        let mut files: HashMap<i64, Vec<Attachment>> = HashMap::new();
        for row in bind_ids(&sql, &id_list).fetch_all(&self.pool).await? {
            let a = attachment_of(&row)?;
            files.entry(a.message_id.0).or_default().push(a);
        }

        let mut previews = self.previews_of(&id_list).await?;
        for m in &mut messages {
            m.link_previews = previews.remove(&m.id.0).unwrap_or_default();
            m.reactions = reactions.remove(&m.id.0).unwrap_or_default();
            m.thread = threads.remove(&m.id.0);
            // A deleted message's files are kept only for a legal hold: not shown.
            let kept = files.remove(&m.id.0).unwrap_or_default();
            m.attachments = if m.deleted { Vec::new() } else { kept };
        }
        Ok(messages)
    }
}

/// A message shown in its channel: live, or deleted with live replies in its thread.
const SHOWN: &str = "(m.deleted_at IS NULL OR EXISTS \
     (SELECT 1 FROM messages r WHERE r.thread_id = m.id AND r.deleted_at IS NULL))";

/// An attachment's columns, as [`attachment_of`] reads them.
const ATTACHMENT_COLUMNS: &str =
    "a.id, a.message_id, a.file_name, a.content_type, a.size, a.created_at, a.scan_status";

/// The attachment in a row that starts with [`ATTACHMENT_COLUMNS`].
fn attachment_of(row: &sqlx::any::AnyRow) -> Result<Attachment> {
    Ok(Attachment {
        id: Id(row.try_get(0)?),
        message_id: Id(row.try_get(1)?),
        file_name: row.try_get(2)?,
        content_type: row.try_get(3)?,
        size: row.try_get(4)?,
        created_at: row.try_get(5)?,
        scan: ScanStatus::parse(row.try_get::<&str, _>(6)?),
    })
}
