//! When a delivery goes and what it is gathered with.
//!
//! Routine email waits for a digest window (default 15 minutes) so that
//! what arrives meanwhile goes as one email; pushes gather per chat channel
//! (one push says "3 new in #general", and its `Topic` lets the push service
//! replace an undelivered one); SMS gathers per person. Anything routine
//! that falls in quiet hours waits for them to end, and gathers there too.
//! High and urgent notifications go alone and at once, through quiet hours
//! when the person allows it.

use super::quiet_hours::QuietHours;
use super::{DeliveryChannel, default_on, is_urgent, switch_kind};
use crate::model::Notification;
use std::collections::HashMap;

/// A person's delivery settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub time_zone: String,
    pub quiet_enabled: bool,
    /// Minutes after local midnight.
    pub quiet_start: u16,
    pub quiet_end: u16,
    /// Bit 0 is Monday … bit 6 Sunday.
    pub quiet_days: u8,
    pub urgent_breaks_through: bool,
    /// E.164, or empty.
    pub phone: String,
    /// Notifications paused (`/dnd`) until then (ms): routine deliveries
    /// wait for it as they wait for quiet hours.
    pub dnd_until: Option<i64>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            time_zone: "UTC".into(),
            quiet_enabled: false,
            quiet_start: 22 * 60,
            quiet_end: 7 * 60,
            quiet_days: 0x7f,
            urgent_breaks_through: true,
            phone: String::new(),
            dnd_until: None,
        }
    }
}

impl Settings {
    /// The quiet hours in force, if any.
    pub fn quiet_hours(&self) -> Option<QuietHours> {
        if !self.quiet_enabled || self.quiet_days == 0 {
            return None;
        }
        QuietHours::new(&self.time_zone, self.quiet_start, self.quiet_end, self.quiet_days).ok()
    }
}

/// A person's settings and their type × channel switches.
#[derive(Debug, Clone, Default)]
pub struct Preferences {
    pub settings: Settings,
    /// Only the switches that differ from [`default_on`].
    pub switches: HashMap<(String, DeliveryChannel), bool>,
}

impl Preferences {
    /// Whether notifications of `kind` go to `channel`.
    pub fn wants(&self, kind: &str, channel: DeliveryChannel) -> bool {
        let kind = switch_kind(kind);
        self.switches.get(&(kind.to_string(), channel)).copied().unwrap_or_else(|| default_on(kind, channel))
    }
}

/// When a delivery is due and the group it joins while it waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub due_at: i64,
    pub group_key: String,
}

/// The first time at or after `t` when a person with `settings` (whose
/// quiet hours are `quiet`) takes routine deliveries: after `/dnd`'s pause
/// and outside quiet hours.
pub fn held_until(settings: &Settings, quiet: Option<&QuietHours>, t: i64) -> i64 {
    let t = settings.dnd_until.map_or(t, |until| t.max(until));
    quiet.map_or(t, |q| q.next_allowed_ms(t))
}

/// Routes `n` to `channel` for a person with `settings`, at `now` (ms).
pub fn route(
    channel: DeliveryChannel,
    n: &Notification,
    settings: &Settings,
    now: i64,
    digest_window_ms: i64,
) -> Route {
    let quiet = settings.quiet_hours();
    let after_quiet = |t: i64| held_until(settings, quiet.as_ref(), t);
    if is_urgent(&n.priority) {
        let due_at = if settings.urgent_breaks_through { now } else { after_quiet(now) };
        return Route { due_at, group_key: format!("n:{}", n.id) };
    }
    match channel {
        DeliveryChannel::Email => {
            Route { due_at: after_quiet(now + digest_window_ms.max(0)), group_key: "digest".into() }
        }
        DeliveryChannel::Push => Route {
            due_at: after_quiet(now),
            group_key: match n.channel_id {
                Some(c) => format!("ch:{c}"),
                None => format!("n:{}", n.id),
            },
        },
        DeliveryChannel::Sms | DeliveryChannel::InApp => {
            Route { due_at: after_quiet(now), group_key: channel.as_str().into() }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::Id;

    const MIN: i64 = 60_000;

    fn ms(s: &str) -> i64 {
        s.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    fn note(priority: &str, channel: Option<i64>) -> Notification {
        let mut n = Notification::new(Id(1), Id(2), "mention", "t".into(), "c".into());
        n.priority = priority.into();
        n.channel_id = channel.map(Id);
        n
    }

    fn quiet(tz: &str, start: u16, end: u16) -> Settings {
        Settings {
            time_zone: tz.into(),
            quiet_enabled: true,
            quiet_start: start,
            quiet_end: end,
            ..Settings::default()
        }
    }

    #[test]
    fn routine_email_waits_for_the_digest_window() {
        let now = ms("2026-05-04T09:00:00Z");
        let r = route(DeliveryChannel::Email, &note("normal", Some(7)), &Settings::default(), now, 15 * MIN);
        assert_eq!(r, Route { due_at: now + 15 * MIN, group_key: "digest".into() });
    }

    #[test]
    fn a_digest_that_would_close_in_quiet_hours_waits_for_them_to_end() {
        // Paris, 22:00–07:00; 21:50 CEST (+2) is 19:50Z: the window would
        // close at 22:05, so the digest goes at 07:00 CEST = 05:00Z.
        let s = quiet("Europe/Paris", 22 * 60, 7 * 60);
        let r = route(DeliveryChannel::Email, &note("low", None), &s, ms("2026-05-04T19:50:00Z"), 15 * MIN);
        assert_eq!(r.due_at, ms("2026-05-05T05:00:00Z"));
        // Ten minutes earlier it closes before quiet hours begin.
        let r = route(DeliveryChannel::Email, &note("low", None), &s, ms("2026-05-04T19:40:00Z"), 15 * MIN);
        assert_eq!(r.due_at, ms("2026-05-04T19:55:00Z"));
    }

    #[test]
    fn deliveries_held_over_a_dst_night_go_at_the_local_morning() {
        // Paris changes from CET (+1) to CEST (+2) on 2026-03-29 at 02:00.
        // Quiet 23:00–07:00: a push at 01:00Z (02:00 would-be local, i.e.
        // 03:00 CEST) waits until 07:00 CEST = 05:00Z, not 06:00Z.
        let s = quiet("Europe/Paris", 23 * 60, 7 * 60);
        let r =
            route(DeliveryChannel::Push, &note("normal", Some(7)), &s, ms("2026-03-29T01:00:00Z"), 15 * MIN);
        assert_eq!(r, Route { due_at: ms("2026-03-29T05:00:00Z"), group_key: "ch:7".into() });
        // And in autumn (2026-10-25, back to CET): 07:00 CET = 06:00Z.
        let r = route(DeliveryChannel::Sms, &note("normal", None), &s, ms("2026-10-25T01:30:00Z"), 15 * MIN);
        assert_eq!(r, Route { due_at: ms("2026-10-25T06:00:00Z"), group_key: "sms".into() });
    }

    #[test]
    fn the_same_instant_is_quiet_in_one_zone_and_not_in_another() {
        let at = ms("2026-05-04T23:30:00Z");
        let tokyo = quiet("Asia/Tokyo", 22 * 60, 7 * 60); // 08:30 local: awake
        let la = quiet("America/Los_Angeles", 22 * 60, 7 * 60); // 16:30 local: awake
        let london = quiet("Europe/London", 22 * 60, 7 * 60); // 00:30 BST: quiet until 06:00Z
        let n = note("normal", Some(3));
        assert_eq!(route(DeliveryChannel::Push, &n, &tokyo, at, 0).due_at, at);
        assert_eq!(route(DeliveryChannel::Push, &n, &la, at, 0).due_at, at);
        assert_eq!(route(DeliveryChannel::Push, &n, &london, at, 0).due_at, ms("2026-05-05T06:00:00Z"));
    }

    #[test]
    fn urgent_goes_alone_and_breaks_through_only_when_allowed() {
        let at = ms("2026-05-04T23:30:00Z");
        let mut s = quiet("Europe/London", 22 * 60, 7 * 60);
        let n = note("urgent", Some(3));
        let r = route(DeliveryChannel::Email, &n, &s, at, 15 * MIN);
        assert_eq!(r, Route { due_at: at, group_key: format!("n:{}", n.id) });
        s.urgent_breaks_through = false;
        let r = route(DeliveryChannel::Email, &n, &s, at, 15 * MIN);
        assert_eq!(r.due_at, ms("2026-05-05T06:00:00Z"));
        assert_eq!(r.group_key, format!("n:{}", n.id), "still alone, not in the digest");
    }

    #[test]
    fn paused_notifications_wait_for_the_pause_to_end_unless_urgent() {
        let now = ms("2026-05-04T09:00:00Z");
        let s = Settings { dnd_until: Some(now + 60 * MIN), ..Settings::default() };
        assert_eq!(route(DeliveryChannel::Push, &note("normal", Some(7)), &s, now, 0).due_at, now + 60 * MIN);
        assert_eq!(route(DeliveryChannel::Push, &note("urgent", Some(7)), &s, now, 0).due_at, now);
        let ended = Settings { dnd_until: Some(now - MIN), ..Settings::default() };
        assert_eq!(route(DeliveryChannel::Push, &note("normal", Some(7)), &ended, now, 0).due_at, now);
    }

    #[test]
    fn pushes_gather_per_channel() {
        let now = ms("2026-05-04T09:00:00Z");
        let s = Settings::default();
        let a = route(DeliveryChannel::Push, &note("normal", Some(7)), &s, now, 0);
        let b = route(DeliveryChannel::Push, &note("normal", Some(7)), &s, now, 0);
        let c = route(DeliveryChannel::Push, &note("normal", Some(8)), &s, now, 0);
        assert_eq!(a.group_key, b.group_key);
        assert_ne!(a.group_key, c.group_key);
    }

    #[test]
    fn switches_override_the_defaults() {
        let mut p = Preferences::default();
        assert!(p.wants("mention", DeliveryChannel::Email));
        assert!(!p.wants("reaction", DeliveryChannel::Email));
        assert!(!p.wants("mention", DeliveryChannel::Sms));
        assert!(p.wants("task_assigned", DeliveryChannel::Email), "a custom type counts as custom");
        p.switches.insert(("mention".into(), DeliveryChannel::Email), false);
        p.switches.insert(("custom".into(), DeliveryChannel::Sms), true);
        assert!(!p.wants("mention", DeliveryChannel::Email));
        assert!(p.wants("task_assigned", DeliveryChannel::Sms));
    }
}
