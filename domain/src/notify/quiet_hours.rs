//! Quiet hours: a daily window in the person's own time zone, on chosen days
//! of the week, during which routine deliveries wait.
//!
//! A window belongs to the day it starts on: 22:00–07:00 on Friday runs into
//! Saturday morning. A window that ends before it starts runs past midnight;
//! equal start and end mean the whole day. Local times are turned into
//! instants with the time zone's rules on that date, so a window keeps its
//! wall-clock hours across daylight-saving changes; a time that does not
//! exist (skipped by a spring-forward) moves forward by the gap (02:30
//! becomes 03:30), and a time that happens twice (fall-back) means the first
//! of the two, as RFC 5545 and JavaScript's Temporal do.

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;

/// One person's quiet hours.
#[derive(Debug, Clone)]
pub struct QuietHours {
    tz: TimeZone,
    /// Minutes after local midnight.
    start: u16,
    end: u16,
    /// Bit 0 is Monday … bit 6 Sunday.
    days: u8,
}

/// Why quiet hours could not be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuietHoursError {
    #[error("“{0}” is not a time zone; use a name like Europe/Berlin or America/New_York.")]
    TimeZone(String),
    #[error("A time is between 00:00 and 23:59.")]
    Time,
}

impl QuietHours {
    pub fn new(time_zone: &str, start: u16, end: u16, days: u8) -> Result<Self, QuietHoursError> {
        let tz = TimeZone::get(time_zone).map_err(|_| QuietHoursError::TimeZone(time_zone.to_string()))?;
        if start >= 24 * 60 || end >= 24 * 60 {
            return Err(QuietHoursError::Time);
        }
        Ok(QuietHours { tz, start, end, days: days & 0x7f })
    }

    /// The instant a window that started on `day` begins and ends.
    fn window(&self, day: Date) -> Option<(Timestamp, Timestamp)> {
        let weekday = day.weekday().to_monday_zero_offset();
        if self.days & (1 << weekday) == 0 {
            return None;
        }
        let at = |date: Date, minutes: u16| {
            let time = Time::new((minutes / 60) as i8, (minutes % 60) as i8, 0, 0).ok()?;
            self.tz.to_zoned(date.to_datetime(time)).ok().map(|z| z.timestamp())
        };
        let end_day = if self.end > self.start { day } else { day.tomorrow().ok()? };
        Some((at(day, self.start)?, at(end_day, self.end)?))
    }

    /// When the quiet window holding `at` ends, or `None` if `at` is not quiet.
    pub fn ends_after(&self, at: Timestamp) -> Option<Timestamp> {
        let today = at.to_zoned(self.tz.clone()).date();
        let yesterday = today.yesterday().ok()?;
        [yesterday, today]
            .into_iter()
            .filter_map(|d| self.window(d))
            .filter(|(start, end)| *start <= at && at < *end)
            .map(|(_, end)| end)
            .max()
    }

    /// The first instant at or after `at` that is not quiet (windows that
    /// meet are crossed; a week of quiet days ends after a week).
    pub fn next_allowed(&self, at: Timestamp) -> Timestamp {
        let mut t = at;
        for _ in 0..8 {
            match self.ends_after(t) {
                Some(end) => t = end,
                None => break,
            }
        }
        t
    }

    /// [`Self::next_allowed`] in milliseconds since the epoch.
    pub fn next_allowed_ms(&self, at_ms: i64) -> i64 {
        match Timestamp::from_millisecond(at_ms) {
            Ok(t) => self.next_allowed(t).as_millisecond(),
            Err(_) => at_ms,
        }
    }
}

/// Whether `name` is a time zone this server knows.
pub fn is_time_zone(name: &str) -> bool {
    TimeZone::get(name).is_ok()
}

/// The names of every time zone known (the IANA database bundled in).
pub fn time_zone_names() -> Vec<String> {
    jiff::tz::db().available().map(|name| name.as_str().to_string()).collect()
}

/// `HH:MM` as minutes after midnight.
pub fn parse_hhmm(s: &str) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60 && s.trim().len() == 5).then_some(h * 60 + m)
}

/// Minutes after midnight as `HH:MM`.
pub fn hhmm(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WEEKDAYS: u8 = 0b001_1111;
    const EVERY_DAY: u8 = 0x7f;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn an_overnight_window_in_berlin() {
        // 22:00–07:00 every day, Berlin (UTC+1 in January).
        let q = QuietHours::new("Europe/Berlin", 22 * 60, 7 * 60, EVERY_DAY).unwrap();
        assert_eq!(q.ends_after(ts("2026-01-14T20:59:00Z")), None, "21:59 local is not quiet");
        assert_eq!(q.ends_after(ts("2026-01-14T21:00:00Z")), Some(ts("2026-01-15T06:00:00Z")));
        assert_eq!(q.ends_after(ts("2026-01-15T02:30:00Z")), Some(ts("2026-01-15T06:00:00Z")));
        assert_eq!(q.ends_after(ts("2026-01-15T06:00:00Z")), None, "07:00 local is over");
    }

    #[test]
    fn days_of_the_week_name_the_night_a_window_starts() {
        // Weekdays only, 22:00–07:00 New York: Friday night is quiet until
        // Saturday 07:00, Saturday night is not.
        let q = QuietHours::new("America/New_York", 22 * 60, 7 * 60, WEEKDAYS).unwrap();
        // Friday 2026-03-06 23:00 EST = 04:00Z Saturday.
        assert_eq!(q.ends_after(ts("2026-03-07T04:00:00Z")), Some(ts("2026-03-07T12:00:00Z")));
        // Saturday 23:00 EST.
        assert_eq!(q.ends_after(ts("2026-03-08T04:00:00Z")), None);
        // Monday 01:00 EDT would be Sunday night's window: not quiet either.
        assert_eq!(q.ends_after(ts("2026-03-09T05:00:00Z")), None);
    }

    #[test]
    fn a_window_across_the_spring_forward_keeps_its_local_end() {
        // New York moves from EST (−5) to EDT (−4) at 02:00 on 2026-03-08.
        // 22:00 Saturday EST is 03:00Z; 07:00 Sunday EDT is 11:00Z (not 12:00Z).
        let q = QuietHours::new("America/New_York", 22 * 60, 7 * 60, EVERY_DAY).unwrap();
        assert_eq!(q.ends_after(ts("2026-03-08T03:00:00Z")), Some(ts("2026-03-08T11:00:00Z")));
        assert_eq!(q.next_allowed(ts("2026-03-08T08:00:00Z")), ts("2026-03-08T11:00:00Z"));
        // The window is eight hours long that night, not nine.
        assert_eq!(q.ends_after(ts("2026-03-08T10:59:00Z")), Some(ts("2026-03-08T11:00:00Z")));
        assert_eq!(q.ends_after(ts("2026-03-08T11:00:00Z")), None);
    }

    #[test]
    fn a_window_across_the_fall_back_keeps_its_local_end() {
        // London moves from BST (+1) to GMT (0) at 02:00 on 2026-10-25.
        // 23:00 Saturday BST is 22:00Z; 07:00 Sunday GMT is 07:00Z.
        let q = QuietHours::new("Europe/London", 23 * 60, 7 * 60, EVERY_DAY).unwrap();
        assert_eq!(q.ends_after(ts("2026-10-24T22:00:00Z")), Some(ts("2026-10-25T07:00:00Z")));
        assert_eq!(q.ends_after(ts("2026-10-24T21:59:00Z")), None);
        assert_eq!(q.ends_after(ts("2026-10-25T06:59:00Z")), Some(ts("2026-10-25T07:00:00Z")));
    }

    #[test]
    fn a_local_time_skipped_by_the_clocks_moves_forward_by_the_gap() {
        // Ending at 02:30 on the night New York skips 02:00–03:00: the
        // window ends at 03:30 EDT = 07:30Z.
        let q = QuietHours::new("America/New_York", 23 * 60, 2 * 60 + 30, EVERY_DAY).unwrap();
        assert_eq!(q.ends_after(ts("2026-03-08T05:00:00Z")), Some(ts("2026-03-08T07:30:00Z")));
        assert_eq!(q.ends_after(ts("2026-03-08T07:30:00Z")), None);
    }

    #[test]
    fn a_local_time_that_happens_twice_means_the_first() {
        // Ending at 01:30 on the night New York repeats 01:00–02:00
        // (2026-11-01): the first 01:30 is EDT, 05:30Z.
        let q = QuietHours::new("America/New_York", 23 * 60, 90, EVERY_DAY).unwrap();
        assert_eq!(q.ends_after(ts("2026-11-01T04:00:00Z")), Some(ts("2026-11-01T05:30:00Z")));
        assert_eq!(q.ends_after(ts("2026-11-01T06:00:00Z")), None, "the second 01:30 is past it");
    }

    #[test]
    fn whole_days_chain_into_the_next_allowed_instant() {
        // Saturday and Sunday all day (start = end) in Tokyo (UTC+9, no DST).
        let weekend = 0b110_0000;
        let q = QuietHours::new("Asia/Tokyo", 0, 0, weekend).unwrap();
        // Saturday 2026-06-06 10:00 JST = 01:00Z: quiet until Monday 00:00 JST.
        assert_eq!(q.next_allowed(ts("2026-06-06T01:00:00Z")), ts("2026-06-07T15:00:00Z"));
        // Friday is free.
        assert_eq!(q.next_allowed(ts("2026-06-05T01:00:00Z")), ts("2026-06-05T01:00:00Z"));
    }

    #[test]
    fn a_daytime_window_and_the_southern_hemisphere() {
        // Sydney, 12:00–13:00 weekdays; AEDT (+11) in January.
        let q = QuietHours::new("Australia/Sydney", 12 * 60, 13 * 60, WEEKDAYS).unwrap();
        // Wednesday 2026-01-14 12:30 AEDT = 01:30Z.
        assert_eq!(q.ends_after(ts("2026-01-14T01:30:00Z")), Some(ts("2026-01-14T02:00:00Z")));
        // In July (AEST, +10) the same local hour is an hour later in UTC.
        assert_eq!(q.ends_after(ts("2026-07-15T02:30:00Z")), Some(ts("2026-07-15T03:00:00Z")));
        assert_eq!(q.ends_after(ts("2026-07-15T01:30:00Z")), None);
    }

    #[test]
    fn bad_input_says_what_to_use() {
        let e = QuietHours::new("Mars/Olympus", 0, 60, EVERY_DAY).unwrap_err();
        assert!(e.to_string().contains("Europe/Berlin"), "{e}");
        assert_eq!(QuietHours::new("UTC", 24 * 60, 0, 1).unwrap_err(), QuietHoursError::Time);
        assert_eq!(parse_hhmm("07:30"), Some(450));
        assert_eq!(parse_hhmm("24:00"), None);
        assert_eq!(parse_hhmm("7:30"), None);
        assert_eq!(hhmm(450), "07:30");
    }
}
