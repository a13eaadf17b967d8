//! A person's notification settings (types × delivery channels, quiet
//! hours, phone, push subscriptions, channel levels) and a workspace's
//! notification templates.

use super::Hub;
use crate::error::{Error, Result, Thing};
use crate::id::Id;
use crate::model::Channel;
use crate::notify::quiet_hours::{self, QuietHours};
use crate::notify::routing::{Preferences, Settings};
use crate::notify::templates::{self, Template};
use crate::notify::{DeliveryChannel, KINDS, Level};
use crate::permissions;
use crate::store::{PushSubscriptionRow, StoredTemplate};
use base64::Engine;

/// What the settings page shows.
#[derive(Debug, Clone)]
pub struct NotificationSettings {
    pub preferences: Preferences,
    /// The VAPID public key when web push is on.
    pub push_key: Option<String>,
    pub sms_available: bool,
    pub push_subscriptions: Vec<PushSubscriptionRow>,
    /// Channels the person set a level for, with the level.
    pub channel_levels: Vec<(Channel, Level)>,
}

/// Settings as a form sends them.
#[derive(Debug, Clone, Default)]
pub struct SettingsInput {
    pub time_zone: String,
    pub quiet_enabled: bool,
    /// `HH:MM`.
    pub quiet_start: String,
    pub quiet_end: String,
    /// Bit 0 is Monday … bit 6 Sunday.
    pub quiet_days: u8,
    pub urgent_breaks_through: bool,
    pub phone: String,
    /// `kind:channel` for each switch that is on; the others are off.
    pub switches_on: Vec<String>,
}

/// A template as the templates page shows it: the stored one, or the
/// built-in one it falls back to.
#[derive(Debug, Clone)]
pub struct TemplateView {
    pub template: Template,
    pub stored: Option<StoredTemplate>,
}

impl Hub {
    pub async fn notification_settings(&self, actor: Id) -> Result<NotificationSettings> {
        let mut channel_levels = Vec::new();
        for (channel, level) in self.store.channel_levels_of(actor).await? {
            // Only channels they may still see (not a private one they left).
            if let Ok((ch, facts)) = self.channel_facts(channel, actor).await
                && permissions::view_channel(facts).is_ok()
            {
                channel_levels.push((ch, level));
            }
        }
        channel_levels.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        Ok(NotificationSettings {
            preferences: self.store.preferences(actor).await?,
            push_key: self.delivery.push_key.clone(),
            sms_available: self.delivery.sms_available,
            push_subscriptions: self.store.push_subscriptions_of(actor).await?,
            channel_levels,
        })
    }

    /// Saves `actor`'s settings; each field is checked and named when wrong.
    pub async fn save_notification_settings(&self, actor: Id, input: SettingsInput) -> Result<Preferences> {
        let time_zone = input.time_zone.trim().to_string();
        if !quiet_hours::is_time_zone(&time_zone) {
            return Err(Error::invalid(
                "time_zone",
                format!(
                    "“{time_zone}” is not a time zone; use a name like Europe/Berlin or America/New_York."
                ),
            ));
        }
        let time = |field: &'static str, s: &str| {
            quiet_hours::parse_hhmm(s)
                .ok_or_else(|| Error::invalid(field, "Give a time as HH:MM, 00:00 to 23:59."))
        };
        let (start, end) = (time("quiet_start", &input.quiet_start)?, time("quiet_end", &input.quiet_end)?);
        QuietHours::new(&time_zone, start, end, input.quiet_days)
            .map_err(|e| Error::invalid("quiet_start", e.to_string()))?;
        if input.quiet_enabled && input.quiet_days & 0x7f == 0 {
            return Err(Error::invalid("quiet_days", "Choose at least one day for quiet hours."));
        }
        let phone = if input.phone.trim().is_empty() {
            String::new()
        } else {
            crate::notify::sms::parse_phone(&input.phone).ok_or_else(|| {
                Error::invalid("phone", "Give the number with its country code, like +44 20 7946 0958.")
            })?
        };
        let known = |s: &String| {
            s.split_once(':').is_some_and(|(kind, channel)| crate::notify::is_switch(kind, channel))
        };
        if let Some(unknown) = input.switches_on.iter().find(|s| !known(s)) {
            return Err(Error::invalid(
                "switches",
                format!("“{unknown}” is not a notification type and delivery channel Parley knows."),
            ));
        }
        let mut switches = std::collections::HashMap::new();
        for (kind, _) in KINDS {
            for channel in DeliveryChannel::ALL {
                let on = input.switches_on.iter().any(|s| *s == format!("{kind}:{channel}"));
                switches.insert((kind.to_string(), channel), on);
            }
        }
        if !self.delivery.sms_available || phone.is_empty() {
            // Kept as they were: SMS cannot be switched without a way to send it.
            let old = self.store.preferences(actor).await?;
            for (kind, _) in KINDS {
                switches
                    .insert((kind.to_string(), DeliveryChannel::Sms), old.wants(kind, DeliveryChannel::Sms));
            }
        }
        let prefs = Preferences {
            settings: Settings {
                time_zone,
                quiet_enabled: input.quiet_enabled,
                quiet_start: start,
                quiet_end: end,
                quiet_days: input.quiet_days & 0x7f,
                urgent_breaks_through: input.urgent_breaks_through,
                phone,
                dnd_until: None,
            },
            switches,
        };
        self.store.save_preferences(actor, &prefs).await?;
        self.store.preferences(actor).await
    }

    /// Sets how much of a channel notifies `actor`.
    pub async fn set_channel_level(&self, actor: Id, channel: Id, level: &str) -> Result<Level> {
        let (ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::view_channel(facts)?;
        let level = Level::parse(level)
            .ok_or_else(|| Error::invalid("level", "A level is all, mentions, nothing or muted."))?;
        let stored = (level != super::default_level(ch.kind)).then_some(level);
        let changed = crate::events::NewEvent::new(
            crate::events::Audience::User(actor),
            crate::events::EventKind::WorkspaceUpdated { workspace_id: ch.workspace_id },
        );
        self.store.set_channel_level(actor, ch.id, stored, &[changed]).await?;
        Ok(level)
    }

    /// Turns web push on for one of `actor`'s browsers.
    pub async fn subscribe_push(
        &self,
        actor: Id,
        endpoint: &str,
        p256dh: &str,
        auth: &str,
        user_agent: &str,
        session: Option<&str>,
    ) -> Result<PushSubscriptionRow> {
        if self.delivery.push_key.is_none() {
            return Err(Error::invalid("endpoint", "Push notifications are not available on this server."));
        }
        crate::notify::push::check_endpoint(endpoint, self.delivery.outgoing.allows_private())
            .map_err(|e| Error::invalid("endpoint", e))?;
        let b64 =
            |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s.trim().trim_end_matches('='));
        match b64(p256dh) {
            Ok(k) if p256::PublicKey::from_sec1_bytes(&k).is_ok() => {}
            _ => {
                return Err(Error::invalid(
                    "p256dh",
                    "The subscription's p256dh key is not a P-256 public key.",
                ));
            }
        }
        if !b64(auth).is_ok_and(|a| a.len() == 16) {
            return Err(Error::invalid(
                "auth",
                "The subscription's auth secret is not 16 bytes of base64url.",
            ));
        }
        let saved = self
            .store
            .save_push_subscription(&PushSubscriptionRow {
                id: Id::new(),
                user_id: actor,
                endpoint: endpoint.to_string(),
                p256dh: p256dh.trim().to_string(),
                auth: auth.trim().to_string(),
                user_agent: user_agent.chars().take(200).collect(),
                created_at: crate::now_ms(),
            })
            .await?;
        // It ends with the browser session it was made in.
        self.store.tie_push_subscription(&saved.endpoint, session).await?;
        Ok(saved)
    }

    /// Turns web push off for one of `actor`'s browsers.
    pub async fn unsubscribe_push(&self, actor: Id, endpoint: &str) -> Result<()> {
        if self.store.delete_push_subscription(endpoint, Some(actor)).await? {
            Ok(())
        } else {
            Err(Error::NotFound(Thing::PushSubscription))
        }
    }

    /// The templates of `ws`: every built-in (stored or not) and every one
    /// the workspace added, for who manages the workspace.
    pub async fn notification_templates(&self, actor: Id, ws: Id) -> Result<Vec<TemplateView>> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::manage_templates(facts)?;
        let stored = self.store.templates(ws).await?;
        let mut out: Vec<TemplateView> = templates::builtins()
            .into_iter()
            .map(|t| {
                let s = stored.iter().find(|s| s.template.name == t.name && s.template.channel == t.channel);
                TemplateView { template: s.map_or(t, |s| s.template.clone()), stored: s.cloned() }
            })
            .collect();
        for s in stored {
            if !out
                .iter()
                .any(|v| v.template.name == s.template.name && v.template.channel == s.template.channel)
            {
                out.push(TemplateView { template: s.template.clone(), stored: Some(s) });
            }
        }
        Ok(out)
    }

    /// Saves a template of `ws` (a new name makes a new template id).
    pub async fn save_template(&self, actor: Id, ws: Id, t: Template) -> Result<StoredTemplate> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::manage_templates(facts)?;
        let name = t.name.trim();
        if name.is_empty() || name.len() > 50 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(Error::invalid("name", "A template name is up to 50 letters, digits and _."));
        }
        for (field, text, max) in
            [("subject", &t.subject, 200), ("body", &t.body, 5000), ("body_html", &t.body_html, 20000)]
        {
            if text.chars().count() > max {
                return Err(Error::invalid(field, format!("The {field} is at most {max} characters.")));
            }
            templates::variables(text).map_err(|e| Error::invalid(field, e.to_string()))?;
        }
        if t.body.trim().is_empty() {
            return Err(Error::invalid("body", "A template needs a body."));
        }
        // Admins write it, but it goes to everyone: it is sanitised like messages.
        let t = Template {
            name: name.to_string(),
            body_html: if t.body_html.trim().is_empty() {
                String::new()
            } else {
                ammonia::clean(&t.body_html)
            },
            ..t
        };
        self.store.save_template(ws, &t).await
    }

    /// Removes a stored template (a built-in one goes back to its default).
    pub async fn delete_template(&self, actor: Id, ws: Id, id: Id) -> Result<()> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::manage_templates(facts)?;
        if self.store.delete_template(ws, id).await? { Ok(()) } else { Err(Error::NotFound(Thing::Template)) }
    }

    /// Stores the built-in templates `ws` does not have yet, for editing;
    /// how many were added.
    pub async fn create_default_templates(&self, actor: Id, ws: Id) -> Result<u64> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::manage_templates(facts)?;
        self.store.add_missing_templates(ws, &templates::builtins()).await
    }

    /// [`Self::create_default_templates`] for every workspace (the server
    /// binary's `create-default-templates` command).
    pub async fn create_default_templates_everywhere(&self) -> Result<(usize, u64)> {
        let all = self.store.workspace_ids().await?;
        let mut added = 0;
        for ws in &all {
            added += self.store.add_missing_templates(*ws, &templates::builtins()).await?;
        }
        Ok((all.len(), added))
    }
}
