//! Meetings as iCalendar (RFC 5545): one `.ics` file per meeting, and a
//! person's feed of all their meetings that calendar apps subscribe to.

use crate::model::Meeting;
use std::fmt::Write;

/// A calendar of `meetings`; `join_url` gives each one's page.
pub fn calendar(name: &str, meetings: &[Meeting], join_url: impl Fn(&Meeting) -> String) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//Parley//Meetings//EN");
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(&mut out, &format!("X-WR-CALNAME:{}", escape(name)));
    for m in meetings {
        let url = join_url(m);
        line(&mut out, "BEGIN:VEVENT");
        line(&mut out, &format!("UID:meeting-{}@parley", m.id));
        line(&mut out, &format!("DTSTAMP:{}", utc(m.created_at)));
        line(&mut out, &format!("DTSTART:{}", utc(m.starts_at)));
        line(&mut out, &format!("DTEND:{}", utc(m.ends_at)));
        line(&mut out, &format!("SUMMARY:{}", escape(&m.title)));
        let mut description = m.description.clone();
        if !description.is_empty() {
            description.push_str("\n\n");
        }
        let _ = write!(description, "Join: {url}");
        line(&mut out, &format!("DESCRIPTION:{}", escape(&description)));
        line(&mut out, &format!("URL:{url}"));
        line(&mut out, &format!("ORGANIZER;CN={}:{url}", param(&m.organizer.display_name)));
        for p in &m.participants {
            line(&mut out, &format!("ATTENDEE;CN={};ROLE=REQ-PARTICIPANT:{url}", param(&p.display_name)));
        }
        if m.ended_at.is_some_and(|at| at < m.starts_at) {
            line(&mut out, "STATUS:CANCELLED");
        } else {
            line(&mut out, "STATUS:CONFIRMED");
        }
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

/// A time as RFC 3339 (`2026-11-23T09:30:00Z`), from milliseconds since the epoch.
pub fn rfc3339(ms: i64) -> String {
    at(ms).format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// A time as a person reads it in `time_zone` (“Mon 4 May 2026, 09:30
/// CEST”); UTC when the zone is unknown.
pub fn local_time(ms: i64, time_zone: &str) -> String {
    let tz = jiff::tz::TimeZone::get(time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => t.to_zoned(tz).strftime("%a %-d %b %Y, %H:%M %Z").to_string(),
        Err(_) => rfc3339(ms),
    }
}

/// A time in milliseconds since the epoch, to the second, in UTC.
fn at(ms: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// Milliseconds since the epoch of an RFC 3339 time (`2026-11-23T09:30:00+01:00`).
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Milliseconds since the epoch of a form's local time (`2026-11-23T09:30`,
/// as `<input type="datetime-local">` sends it), `offset_minutes` east of UTC.
pub fn parse_local(text: &str, offset_minutes: i64) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let t = time::PrimitiveDateTime::parse(text.trim().get(..16)?, &format).ok()?;
    // No place is more than a day from UTC; anything else is not an offset.
    if !(-24 * 60..=24 * 60).contains(&offset_minutes) {
        return None;
    }
    Some(t.assume_utc().unix_timestamp() * 1000 - offset_minutes * 60_000)
}

/// `20261122T071500Z` for a time in milliseconds since the epoch.
fn utc(ms: i64) -> String {
    let t = at(ms);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Text values: backslash, semicolon, comma and newlines escaped (3.3.11).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A parameter value (CN=…): quoted, without the characters it cannot hold.
fn param(text: &str) -> String {
    let clean: String = text.chars().filter(|c| *c != '"' && !c.is_control()).collect();
    format!("\"{clean}\"")
}

/// Appends a content line folded at 75 octets (3.1), ended by CRLF.
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::Id;
    use crate::model::UserSummary;

    fn person(id: i64, name: &str) -> UserSummary {
        UserSummary::person(Id(id), name.to_lowercase(), name.into())
    }

    fn meeting() -> Meeting {
        Meeting {
            id: Id(42),
            workspace_id: Id(1),
            channel_id: Id(2),
            organizer: person(3, "Ana"),
            title: "Sprint planning; Q4, \"big\" one".into(),
            description: "Bring notes\nand \\ coffee".into(),
            // 2026-11-23 09:30:00 UTC and an hour later.
            starts_at: 1_795_426_200_000,
            ends_at: 1_795_429_800_000,
            enable_recording: true,
            instant: false,
            ended_at: None,
            created_at: 1_795_340_000_000,
            participants: vec![person(4, "Bob")],
        }
    }

    /// Content lines unfolded (3.1: a CRLF followed by one space joins).
    fn unfold(ics: &str) -> Vec<String> {
        ics.replace("\r\n ", "").split("\r\n").filter(|l| !l.is_empty()).map(String::from).collect()
    }

    #[test]
    fn a_meeting_is_an_event_with_utc_times_and_escaped_text() {
        let ics = calendar("Parley", &[meeting()], |m| format!("https://chat.example/m/{}", m.id));
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        assert!(!ics.replace("\r\n", "").contains('\n'), "every line ends with CRLF");
        let lines = unfold(&ics);
        for want in [
            "BEGIN:VEVENT",
            "UID:meeting-42@parley",
            "DTSTART:20261123T093000Z",
            "DTEND:20261123T103000Z",
            "SUMMARY:Sprint planning\\; Q4\\, \"big\" one",
            "DESCRIPTION:Bring notes\\nand \\\\ coffee\\n\\nJoin: https://chat.example/m/42",
            "URL:https://chat.example/m/42",
            "ORGANIZER;CN=\"Ana\":https://chat.example/m/42",
            "ATTENDEE;CN=\"Bob\";ROLE=REQ-PARTICIPANT:https://chat.example/m/42",
            "END:VEVENT",
        ] {
            assert!(lines.iter().any(|l| l == want), "missing {want:?} in {lines:#?}");
        }
    }

    #[test]
    fn times_read_and_written() {
        assert_eq!(rfc3339(1_795_426_200_000), "2026-11-23T09:30:00Z");
        assert_eq!(parse_rfc3339("2026-11-23T10:30:00+01:00"), Some(1_795_426_200_000));
        assert_eq!(parse_rfc3339("tomorrow"), None);
        // 10:30 in a zone one hour east of UTC is 09:30 UTC.
        assert_eq!(parse_local("2026-11-23T10:30", 60), Some(1_795_426_200_000));
        assert_eq!(parse_local("2026-11-23", 0), None);
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let mut m = meeting();
        m.title = "Répétition générale — ".repeat(10);
        let ics = calendar("Parley", &[m.clone()], |_| "https://x".into());
        for raw in ics.split("\r\n") {
            assert!(raw.len() <= 75, "{} octets: {raw:?}", raw.len());
        }
        let summary = unfold(&ics).into_iter().find(|l| l.starts_with("SUMMARY:")).unwrap();
        assert_eq!(summary, format!("SUMMARY:{}", m.title));
    }
}
