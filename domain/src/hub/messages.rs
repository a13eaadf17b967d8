use super::Hub;
use crate::error::{Error, Result, Thing};
use crate::events::{Audience, EventKind, NewEvent};
use crate::files::{MAX_FILES_PER_MESSAGE, Upload};
use crate::id::Id;
use crate::input::{Emoji, Mentions, MessageBody, Nonce};
use crate::limits::Bucket;
use crate::model::{
    Attachment, Channel, Message, MessagePage, SYSTEM_USER, ScanStatus, SearchHit, SearchResults, UserSummary,
};
use crate::permissions;
use crate::permissions::ChannelFacts;
use crate::store::{Mentioned, NewMessage};
use crate::virus_scan::{Verdict, WhenUnreachable};

/// Largest page of history one request may ask for.
pub const MAX_PAGE: i64 = 100;

/// What someone posts: text, files, and the thread it answers.
#[derive(Debug, Default)]
pub struct Post<'a> {
    /// Markdown; may be empty when files are attached.
    pub body: &'a str,
    /// A client-chosen key: posting twice with the same one posts once.
    pub nonce: Option<&'a str>,
    /// Reply in the thread of this message.
    pub thread: Option<Id>,
    /// Received uploads (see [`crate::files`]); removed if the post fails.
    pub files: Vec<Upload>,
    /// In an end-to-end encrypted conversation: the ciphertext, from which
    /// device (`body` is then empty).
    pub encrypted: Option<Encrypted<'a>>,
}

/// A message encrypted by one of its author's devices (see [`super::e2ee`]).
#[derive(Debug, Clone, Copy)]
pub struct Encrypted<'a> {
    pub device: Id,
    /// The MLS message, base64.
    pub ciphertext: &'a str,
    /// Whom it mentions, as the device read its text (see [`Mentions`]).
    pub mentions: &'a [String],
    /// Its content sealed for its author alone, base64 (see
    /// [`Message::own_copy`]).
    pub own_copy: Option<&'a str>,
}

impl Encrypted<'_> {
    /// The own copy, checked as the ciphertext is.
    fn own_copy(&self) -> Result<Option<String>> {
        let parse = |c| crate::input::Blob::parse("own_copy", c, super::e2ee::CIPHERTEXT_BYTES);
        Ok(self.own_copy.map(parse).transpose()?.map(|b| b.into_inner()))
    }
}

impl Hub {
    /// Posts a text message (see [`Hub::post`]).
    pub async fn post_message(
        &self,
        actor: Id,
        channel: Id,
        body: &str,
        nonce: Option<&str>,
    ) -> Result<(Message, bool)> {
        self.post(actor, channel, Post { body, nonce, ..Default::default() }).await
    }

    /// Posts a message or a thread reply, with its files. It is returned
    /// only once committed; the same `nonce` from the same author returns
    /// the first message again, with `false`: nothing new was created or
    /// published. Uploads not kept are deleted whatever happens.
    pub async fn post(&self, actor: Id, channel: Id, post: Post<'_>) -> Result<(Message, bool)> {
        let tmp: Vec<_> = post.files.iter().map(|f| f.tmp.clone()).collect();
        let result = match self.limits.check(Bucket::Post, &format!("{actor}:{channel}")).await {
            Ok(()) => self.post_inner(actor, channel, post).await,
            Err(e) => Err(e),
        };
        self.files.remove(tmp).await;
        result
    }

    async fn post_inner(&self, actor: Id, channel: Id, post: Post<'_>) -> Result<(Message, bool)> {
        let (body, nonce) = checked(&post)?;
        let (ch, facts, (author, colour), levels) = self.channel_standing_with(channel, actor, true).await?;
        let author = author.ok_or(Error::NotFound(Thing::User))?;
        let sent_from = match (ch.end_to_end, post.encrypted) {
            (false, None) => None,
            (true, Some(e)) => {
                permissions::view_channel(facts)?;
                self.require_archive_consent(actor, ch.workspace_id).await?;
                Some(self.own_device(actor, e.device).await?.id)
            }
            (true, None) => {
                permissions::view_channel(facts)?;
                return Err(Error::conflict(
                    "content",
                    "This conversation is end-to-end encrypted: send from a device that has its keys \
                     (the Parley app in a browser), not as plain text.",
                ));
            }
            (false, Some(_)) => {
                return Err(Error::conflict(
                    "ciphertext",
                    "This conversation is not end-to-end encrypted: send the text as content.",
                ));
            }
        };
        // A bot's posts show its emoji as their avatar (read only for bots).
        let icon = match author.is_bot {
            true => self.store.bot(author.id).await?.map(|b| b.emoji).unwrap_or_default(),
            false => String::new(),
        };
        let mut msg = match sent_from {
            None => Message::new(ch.id, author, body, None),
            // (Its text is for its readers' devices to render.)
            Some(_) => {
                let id = Id::new();
                let own_copy = post.encrypted.map(|e| e.own_copy()).transpose()?.flatten();
                Message {
                    sent_from,
                    own_copy,
                    ..Message::imported(id, ch.id, author, body, id.timestamp_ms())
                }
            }
        };
        msg.author_colour = colour;
        msg.nonce = nonce;
        msg.shown_icon = icon;
        self.publish(&ch, facts, msg, post, levels).await
    }

    /// Posts `msg` (its body, author and nonce set) in `ch` with `post`'s
    /// thread and files, on the authority of whoever `facts` describe (its
    /// author, or the person who made the webhook posting it): permissions,
    /// mentions, notifications, the event, storing, and a retry's answer.
    /// `levels`: the channel's notification levels, if already read.
    pub(super) async fn publish(
        &self,
        ch: &Channel,
        facts: ChannelFacts,
        mut msg: Message,
        post: Post<'_>,
        levels: Option<super::Levels>,
    ) -> Result<(Message, bool)> {
        if !post.files.is_empty() {
            permissions::attach_files(facts, post.thread.is_some())?;
        }
        let encrypted = msg.sent_from.is_some();
        msg.thread_id = match post.thread {
            None => {
                permissions::send_message(facts)?;
                None
            }
            Some(t) => {
                permissions::reply_in_thread(facts)?;
                let parent = self.store.message(t).await?.filter(|m| m.channel_id == ch.id);
                // A reply to a reply goes to the same thread.
                let parent = parent.ok_or(Error::NotFound(Thing::Message))?;
                Some(parent.thread_id.unwrap_or(parent.id))
            }
        };
        // An encrypted message's files are known by name and type only to
        // its readers: the server checks their size.
        for f in &post.files {
            let policy = self.files.policy();
            if !encrypted {
                policy.check_name(&f.file_name)?;
            }
            if f.size > policy.max_upload(encrypted) {
                return Err(policy.too_large(&f.file_name));
            }
        }
        attach(&mut msg, &post.files);
        self.scan_uploads(ch, &mut msg, &post.files).await?;
        // An encrypted message's mentions are declared by its sender's
        // device; its links are for its readers' devices.
        let names = match post.encrypted {
            None => crate::markdown::mentions(&msg.body),
            Some(e) => Mentions::parse(e.mentions)?.into_inner(),
        };
        let mentioned = self.mentioned_by(names, facts).await?;
        let (notifying, told) = self.message_notifying(ch, &msg, &mentioned, levels).await?;
        let mut events =
            vec![NewEvent::new(Audience::Channel(ch.id), EventKind::MessageCreated(msg.clone()))];
        events.extend(told);
        let delivers = notifying.delivers();
        let attachments: Vec<Id> = msg.attachments.iter().map(|a| a.id).collect();
        let links = match msg.sent_from {
            None => self.links_to_preview(ch.workspace_id, &msg.body).await?,
            Some(_) => Vec::new(),
        };
        let new = NewMessage { message: msg, mentioned, notifying, events, links };
        let (mut stored, created) = self.store_with_files(new, &post.files).await?;
        if created && delivers {
            self.deliveries.notify_one();
        } else if !created {
            self.paint(ch.workspace_id, vec![&mut stored]).await?;
            // A retry: the files of this attempt are not needed.
            self.files.remove_attachments(&attachments).await;
        }
        Ok((stored, created))
    }

    /// Scans each of `files` (uploads for `msg`'s attachments, in order)
    /// with the virus scanner, when one is configured: an infected file
    /// refuses the post (and is audited); one too large for the scanner, or
    /// (if the operator keeps uploads then) sent while it is out of reach,
    /// is marked not scanned.
    /// An encrypted message's files are not scanned: the server holds only
    /// their ciphertext.
    async fn scan_uploads(&self, ch: &Channel, msg: &mut Message, files: &[Upload]) -> Result<()> {
        let Some(scanner) = self.files.scanner().filter(|_| msg.sent_from.is_none()) else { return Ok(()) };
        for (f, a) in files.iter().zip(msg.attachments.iter_mut()) {
            a.scan = match scanner.scan(&f.tmp).await {
                Verdict::Clean => ScanStatus::Clean,
                Verdict::TooLarge => ScanStatus::TooLarge,
                Verdict::Infected(signature) => {
                    let summary = format!(
                        "Refused “{}” from @{} in {}: the virus scanner found {signature}",
                        f.file_name,
                        msg.author.username,
                        super::notifications::place(ch)
                    );
                    self.audit_in(ch, msg.author.id, "upload.infected", Some(msg.author.id), None, summary)
                        .await?;
                    return Err(Error::invalid(
                        "file",
                        format!("“{}” was refused: the virus scanner found {signature} in it.", f.file_name),
                    ));
                }
                Verdict::Unreachable(why) => match scanner.when_unreachable {
                    WhenUnreachable::Refuse => return Err(Error::ScannerUnavailable(why)),
                    WhenUnreachable::Accept => {
                        tracing::warn!(file = %f.file_name, %why, "kept an upload the virus scanner could not look at");
                        ScanStatus::Unavailable
                    }
                },
            };
        }
        Ok(())
    }

    /// Seals a message's files into place as its attachments and stores it,
    /// then removes them from where they were received; if storing fails,
    /// they stay there (an upload is then deleted by [`Hub::post`]; a
    /// recording's files stay for the next start to post).
    async fn store_with_files(&self, new: NewMessage, files: &[Upload]) -> Result<(Message, bool)> {
        let attachments = new.message.attachments.clone();
        let keys = self.store.keys();
        for (f, a) in files.iter().zip(&attachments) {
            if let Err(e) = self.files.keep(&f.tmp, a.id, keys.clone()).await {
                self.files.remove_attachments(&attachments.iter().map(|a| a.id).collect::<Vec<_>>()).await;
                return Err(e);
            }
        }
        match self.store.insert_message(new).await {
            Ok(r) => {
                self.files.remove(files.iter().map(|f| f.tmp.clone()).collect()).await;
                Ok(r)
            }
            Err(e) => {
                for a in &attachments {
                    self.files.unkeep(a.id).await;
                }
                Err(e)
            }
        }
    }

    /// Posts a notice from Parley itself in `ch` (a call's recording): no
    /// person's permission is needed, and archived channels take it too, so
    /// what Parley made is never lost because of who started it or what
    /// became of the channel. It notifies no one.
    pub async fn post_notice(&self, ch: &Channel, body: &str, files: Vec<Upload>) -> Result<Message> {
        let parley = self.store.user(SYSTEM_USER).await?.ok_or(Error::NotFound(Thing::User))?;
        let mut msg =
            Message::new(ch.id, UserSummary::from(&parley), MessageBody::parse(body)?.into_inner(), None);
        attach(&mut msg, &files);
        self.scan_uploads(ch, &mut msg, &files).await?;
        let created = NewEvent::new(Audience::Channel(ch.id), EventKind::MessageCreated(msg.clone()));
        let new = NewMessage {
            message: msg,
            mentioned: Mentioned::default(),
            notifying: Default::default(),
            events: vec![created],
            links: Vec::new(),
        };
        let (stored, _) = self.store_with_files(new, &files).await?;
        Ok(stored)
    }

    /// What a message mentioning `names` (as `markdown::mentions` reads
    /// them) mentions when written by someone standing as `facts` in its
    /// channel: `@channel` and `@here` count only if they may use them.
    pub(super) async fn mentioned_by(&self, names: Vec<String>, facts: ChannelFacts) -> Result<Mentioned> {
        let mut mentioned = self.mentioned(names).await?;
        mentioned.all &= permissions::mention_everyone(facts);
        mentioned.here &= mentioned.all;
        Ok(mentioned)
    }

    /// The people `names` mention (those with accounts; the first
    /// [`Mentions::MAX`] names), and whether they mention everyone.
    async fn mentioned(&self, names: Vec<String>) -> Result<Mentioned> {
        let mut out = Mentioned::default();
        let mut everyone = false;
        for name in names.into_iter().take(Mentions::MAX) {
            match name.as_str() {
                "channel" | "everyone" => everyone = true,
                "here" => out.here = true,
                _ => {
                    if let Some(u) = self.store.user_by_username(&name).await? {
                        out.users.push(u.id);
                    }
                }
            }
        }
        out.all = everyone || out.here;
        // `@channel` beside `@here` tells everyone.
        out.here &= !everyone;
        Ok(out)
    }

    /// A page of history, newest first; `limit` is clamped to 1..=100.
    pub async fn messages(
        &self,
        actor: Id,
        channel: Id,
        before: Option<Id>,
        limit: i64,
    ) -> Result<MessagePage> {
        let (ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::view_channel(facts)?;
        let mut page = self.store.messages(ch.id, before, limit.clamp(1, MAX_PAGE)).await?;
        self.paint(ch.workspace_id, page.messages.iter_mut().collect()).await?;
        Ok(page)
    }

    /// A live message and what `actor` is to its channel. A message in a
    /// channel they cannot see is "not found", like one that does not exist.
    pub(super) async fn message_facts(&self, actor: Id, message: Id) -> Result<(Message, ChannelFacts)> {
        let msg = self.store.message(message).await?.ok_or(Error::NotFound(Thing::Message))?;
        let (_, facts) = self.channel_facts(msg.channel_id, actor).await?;
        permissions::view_channel(facts).map_err(|_| Error::NotFound(Thing::Message))?;
        Ok((msg, facts))
    }

    /// One message, for someone who may see its channel (not found for
    /// anyone else).
    pub async fn message(&self, actor: Id, message: Id) -> Result<Message> {
        let (mut msg, facts) = self.message_facts(actor, message).await?;
        self.paint(facts.workspace_id, vec![&mut msg]).await?;
        Ok(msg)
    }

    /// Replaces the body of `actor`'s own message.
    pub async fn edit_message(&self, actor: Id, message: Id, body: &str) -> Result<Message> {
        let body = MessageBody::parse(body)?;
        let (msg, facts) = self.message_facts(actor, message).await?;
        permissions::edit_message(facts, msg.author.id == actor)?;
        if msg.sent_from.is_some() {
            return Err(Error::conflict(
                "content",
                "This message is end-to-end encrypted: edit it from a device that has the conversation's keys.",
            ));
        }
        let mentioned = self.mentioned(crate::markdown::mentions(body.as_str())).await?;
        let html = crate::markdown::render(body.as_str());
        let now = crate::now_ms();
        let links = self.links_to_preview(facts.workspace_id, body.as_str()).await?;
        let mut edited = Message { body: body.as_str().to_string(), html, edited_at: Some(now), ..msg };
        // Previews of links still there stay; new links wait for theirs.
        edited.link_previews.retain(|p| links.contains(&p.url));
        self.store_edit(actor, facts.workspace_id, edited, &mentioned, &links).await
    }

    /// Stores `edited` (its new body and HTML, edited now) with what it
    /// mentions and links to, keeping the version before when the message
    /// is held or archived, and announces it.
    async fn store_edit(
        &self,
        actor: Id,
        workspace: Id,
        mut edited: Message,
        mentioned: &Mentioned,
        links: &[String],
    ) -> Result<Message> {
        self.paint(workspace, vec![&mut edited]).await?;
        let updated =
            NewEvent::new(Audience::Channel(edited.channel_id), EventKind::MessageUpdated(edited.clone()));
        let keep = self.keeps_versions(edited.id).await?.then_some(actor);
        let now = edited.edited_at.unwrap_or_else(crate::now_ms);
        let stored = self.store.edit_message(&edited, mentioned, links, now, keep, &[updated]).await?;
        if !stored {
            return Err(Error::NotFound(Thing::Message));
        }
        Ok(edited)
    }

    /// Replaces `actor`'s own encrypted message with new ciphertext from
    /// one of their devices.
    pub async fn edit_encrypted(&self, actor: Id, message: Id, edit: Encrypted<'_>) -> Result<Message> {
        let ciphertext =
            crate::input::Blob::parse("ciphertext", edit.ciphertext, super::e2ee::CIPHERTEXT_BYTES)?
                .into_inner();
        let (msg, facts) = self.message_facts(actor, message).await?;
        permissions::edit_message(facts, msg.author.id == actor)?;
        if msg.sent_from.is_none() {
            return Err(Error::conflict(
                "ciphertext",
                "This message is not encrypted: send the new text as content.",
            ));
        }
        self.own_device(actor, edit.device).await?;
        self.require_archive_consent(actor, facts.workspace_id).await?;
        let mentioned = self.mentioned(Mentions::parse(edit.mentions)?.into_inner()).await?;
        let now = crate::now_ms();
        let edited = Message { body: ciphertext, own_copy: edit.own_copy()?, edited_at: Some(now), ..msg };
        self.store_edit(actor, facts.workspace_id, edited, &mentioned, &[]).await
    }

    pub async fn delete_message(&self, actor: Id, message: Id) -> Result<()> {
        let (msg, facts) = self.message_facts(actor, message).await?;
        permissions::delete_message(facts, msg.author.id == actor)?;
        let deleted_event = NewEvent::new(
            Audience::Channel(msg.channel_id),
            EventKind::MessageDeleted {
                channel_id: msg.channel_id,
                message_id: msg.id,
                thread_id: msg.thread_id,
            },
        );
        let keep = self.keeps_versions(msg.id).await?.then_some(actor);
        let (deleted, files) =
            self.store.delete_message(msg.id, crate::now_ms(), keep, &[deleted_event]).await?;
        self.files.remove_attachments(&files).await;
        if deleted && msg.author.id != actor {
            let excerpt: String = match msg.sent_from {
                Some(_) => "(end-to-end encrypted)".into(),
                None => msg.body.chars().take(80).collect(),
            };
            let summary = format!("Deleted a message by @{}: “{excerpt}”", msg.author.username);
            let ch = self.store.channel(msg.channel_id).await?.ok_or(Error::NotFound(Thing::Channel))?;
            self.audit_in(&ch, actor, "message.delete", Some(msg.author.id), Some(msg.id), summary).await?;
        }
        Ok(())
    }

    /// Adds `actor`'s reaction (adding it twice changes nothing).
    pub async fn add_reaction(&self, actor: Id, message: Id, emoji: &str) -> Result<()> {
        let emoji = Emoji::parse(emoji)?;
        self.limits.check(Bucket::Reaction, &actor.to_string()).await?;
        // Only what the check, the event and the notification need: the
        // message as stored, and where the actor stands with who they are.
        let msg = self.store.message_alone(message).await?.ok_or(Error::NotFound(Thing::Message))?;
        let (ch, facts, (user, _)) = self.channel_standing(msg.channel_id, actor).await?;
        permissions::view_channel(facts).map_err(|_| Error::NotFound(Thing::Message))?;
        permissions::react(facts)?;
        let user = user.ok_or(Error::NotFound(Thing::User))?;
        let added = NewEvent::new(
            Audience::Channel(msg.channel_id),
            EventKind::ReactionAdded {
                channel_id: msg.channel_id,
                message_id: msg.id,
                emoji: emoji.as_str().to_string(),
                user: user.clone(),
            },
        );
        if self.store.add_reaction(msg.id, actor, emoji.as_str(), crate::now_ms(), &[added]).await?
            && let Err(e) = self.notify_reaction(&ch, &msg, &user, emoji.as_str()).await
        {
            tracing::error!(error = ?e, message = %msg.id, "could not notify about a reaction");
        }
        Ok(())
    }

    pub async fn remove_reaction(&self, actor: Id, message: Id, emoji: &str) -> Result<()> {
        let emoji = Emoji::parse(emoji)?;
        self.limits.check(Bucket::Reaction, &actor.to_string()).await?;
        let (msg, facts) = self.message_facts(actor, message).await?;
        permissions::unreact(facts)?;
        let removed = NewEvent::new(
            Audience::Channel(msg.channel_id),
            EventKind::ReactionRemoved {
                channel_id: msg.channel_id,
                message_id: msg.id,
                emoji: emoji.as_str().to_string(),
                user_id: actor,
            },
        );
        self.store.remove_reaction(msg.id, actor, emoji.as_str(), &[removed]).await?;
        Ok(())
    }

    /// Searches the messages `actor` may see, in one workspace or all of theirs.
    pub async fn search(&self, actor: Id, query: &str, workspace: Option<Id>) -> Result<Vec<SearchHit>> {
        Ok(self.search_results(actor, query, workspace).await?.hits)
    }

    /// [`Hub::search`], with the names of the sensitive channels it left
    /// out (so that finding nothing there can be explained).
    pub async fn search_results(
        &self,
        actor: Id,
        query: &str,
        workspace: Option<Id>,
    ) -> Result<SearchResults> {
        let q = crate::search::SearchQuery::parse(query)?;
        self.limits.check(Bucket::Search, &actor.to_string()).await?;
        let workspaces = match workspace {
            Some(ws) => {
                let (_, facts) = self.workspace_facts(ws, actor).await?;
                permissions::view_workspace(facts)?;
                vec![ws]
            }
            None => self.store.workspace_ids_of(actor).await?,
        };
        let (mut channels, mut unsearched) = (Vec::new(), Vec::new());
        for ws in workspaces {
            for (l, _) in self.visible_listings(ws, actor).await?.1 {
                match l.channel.sensitive {
                    true => unsearched.push(l.channel.name),
                    false => channels.push(l.channel.id),
                }
            }
        }
        unsearched.sort();
        let found = self.store.search_messages(&channels, workspace, &q, 50).await?;
        let hits = found
            .into_iter()
            .map(|(message, channel_name, workspace_id)| SearchHit {
                highlight: crate::search::highlight(&message.body, &q.terms),
                message,
                channel_name,
                workspace_id,
            })
            .collect();
        Ok(SearchResults { hits, unsearched })
    }

    /// Tells the channel that `actor` is typing; only those who may post
    /// there can. Nothing is stored but the event.
    pub async fn typing(&self, actor: Id, channel: Id) -> Result<()> {
        let (ch, facts, (user, _)) = self.channel_standing(channel, actor).await?;
        permissions::send_message(facts)?;
        let user = user.ok_or(Error::NotFound(Thing::User))?;
        let typing = EventKind::Typing { channel_id: ch.id, user };
        self.store.announce(&[NewEvent::new(Audience::Channel(ch.id), typing)]).await
    }
}

/// A post's body (Markdown; may be empty when files are attached) and
/// nonce, checked, and its number of files.
fn checked(post: &Post<'_>) -> Result<(String, Option<String>)> {
    let body = if let Some(e) = post.encrypted {
        crate::input::Blob::parse("ciphertext", e.ciphertext, super::e2ee::CIPHERTEXT_BYTES)?.into_inner()
    } else if post.files.is_empty() || !post.body.trim().is_empty() {
        MessageBody::parse(post.body)?.into_inner()
    } else {
        String::new()
    };
    if post.files.len() > MAX_FILES_PER_MESSAGE {
        return Err(Error::invalid("file", "Attach at most 10 files to one message."));
    }
    let nonce = Nonce::parse_optional(post.nonce)?.map(|n| n.into_inner());
    Ok((body, nonce))
}

/// Gives `msg` an attachment for each of `files` (their bytes are moved into
/// place when the message is stored). An encrypted message's are named
/// [`ENCRYPTED_FILE_NAME`](crate::files::ENCRYPTED_FILE_NAME), whatever the
/// upload said: their names are inside the message.
fn attach(msg: &mut Message, files: &[Upload]) {
    for f in files {
        let file_name = match msg.sent_from {
            None => f.file_name.clone(),
            Some(_) => crate::files::ENCRYPTED_FILE_NAME.to_string(),
        };
        msg.attachments.push(Attachment {
            id: Id::new(),
            message_id: msg.id,
            content_type: crate::files::content_type_for(&file_name).to_string(),
            file_name,
            size: f.size as i64,
            created_at: msg.created_at,
            scan: ScanStatus::Off,
        });
    }
}
