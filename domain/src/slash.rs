//! Slash commands as typed in the message box: `/shrug`, `/remind me in 10
//! minutes to stretch`, `/deploy staging` (a workspace's own command).
//!
//! [`Command::parse`] turns the text into a command, or says it is a plain
//! message (no leading `/`, or `//` to post text that starts with a slash);
//! the hub runs it ([`crate::hub::Hub::run_command`]). What each built-in
//! does and how it is written is listed once, in [`BUILT_IN`], for `/help`
//! and for the composer's suggestions.

use crate::error::{Error, Result};

/// A built-in command as `/help` and the composer's suggestions show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandInfo {
    pub name: &'static str,
    /// What follows the name: "@person [#channel]"; empty for none.
    pub usage: &'static str,
    pub description: &'static str,
}

/// The built-in commands, in the order `/help` lists them.
pub const BUILT_IN: &[CommandInfo] = &[
    CommandInfo { name: "me", usage: "text", description: "Post an action: your name, then the text" },
    CommandInfo { name: "shrug", usage: "[text]", description: "Post the text with ¯\\_(ツ)_/¯" },
    CommandInfo { name: "msg", usage: "@person text", description: "Send someone a direct message" },
    CommandInfo { name: "topic", usage: "text", description: "Set this channel's topic" },
    CommandInfo { name: "invite", usage: "@person …", description: "Add people to this channel" },
    CommandInfo { name: "kick", usage: "@person", description: "Remove someone from this channel" },
    CommandInfo { name: "leave", usage: "", description: "Leave this channel" },
    CommandInfo { name: "mute", usage: "", description: "Mute this channel, or unmute it" },
    CommandInfo { name: "call", usage: "", description: "Start or join the call here" },
    CommandInfo { name: "remind", usage: "me in 10 minutes to …", description: "Get a notification later" },
    CommandInfo { name: "away", usage: "", description: "Show yourself as away, or as back" },
    CommandInfo {
        name: "dnd",
        usage: "1h | 30m | off",
        description: "Pause notifications for a while, or resume them",
    },
    CommandInfo { name: "search", usage: "words", description: "Search messages" },
    CommandInfo { name: "help", usage: "", description: "List the commands" },
];

/// The longest a duration may be (`/remind`, `/dnd`): a year.
const MAX_DURATION_MS: i64 = 366 * 24 * 3_600_000;

/// What was typed, as a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Me(String),
    Shrug(String),
    Msg {
        to: String,
        text: String,
    },
    Topic(String),
    Invite(Vec<String>),
    Kick(String),
    Leave,
    Mute,
    Call,
    Remind {
        after_ms: i64,
        what: String,
    },
    Away,
    /// Pause notifications for this long; `None`: resume them.
    Dnd(Option<i64>),
    Search(String),
    Help,
    /// A workspace's own command: its name (lower case) and what followed.
    Custom {
        name: String,
        text: String,
    },
}

impl Command {
    /// The command `input` is, `Ok(None)` when it is a message (it does not
    /// start with `/`, or starts with `//`), or an error saying how the
    /// command is written.
    pub fn parse(input: &str) -> Result<Option<Command>> {
        let Some(rest) = input.trim_start().strip_prefix('/') else { return Ok(None) };
        if rest.starts_with('/') {
            return Ok(None);
        }
        let (name, args) = match rest.find(char::is_whitespace) {
            Some(i) => (&rest[..i], rest[i..].trim()),
            None => (rest, ""),
        };
        let name = name.to_lowercase();
        if name.is_empty() {
            return Err(usage_error("Type a command's name after the slash, or /help to list them."));
        }
        let word = |what: &str| -> Result<String> {
            let w = args.split_whitespace().next().unwrap_or("").trim_start_matches('@');
            if w.is_empty() {
                return Err(usage_error(what));
            }
            Ok(w.to_string())
        };
        Ok(Some(match name.as_str() {
            "me" if args.is_empty() => return Err(usage_error("Write the action: /me waves.")),
            "me" => Command::Me(args.to_string()),
            "shrug" => Command::Shrug(args.to_string()),
            "msg" | "dm" => {
                let to = word("Name the person and the message: /msg @ana Lunch?")?;
                let text = args.split_once(char::is_whitespace).map_or("", |(_, t)| t.trim());
                if text.is_empty() {
                    return Err(usage_error("Write the message after the name: /msg @ana Lunch?"));
                }
                Command::Msg { to, text: text.to_string() }
            }
            "topic" => Command::Topic(args.to_string()),
            "invite" => {
                let people: Vec<String> =
                    args.split_whitespace().map(|w| w.trim_start_matches('@').to_string()).collect();
                if people.iter().all(String::is_empty) {
                    return Err(usage_error("Name who to add: /invite @ana @bo."));
                }
                Command::Invite(people.into_iter().filter(|p| !p.is_empty()).collect())
            }
            "kick" | "remove" => Command::Kick(word("Name who to remove: /kick @ana.")?),
            "leave" | "part" => Command::Leave,
            "mute" => Command::Mute,
            "call" => Command::Call,
            "remind" => remind(args)?,
            "away" => Command::Away,
            "dnd" => match args.to_lowercase().as_str() {
                "off" | "end" | "stop" => Command::Dnd(None),
                "" => Command::Dnd(Some(3_600_000)),
                given => Command::Dnd(Some(duration(given).ok_or_else(|| {
                    usage_error("Say for how long, such as /dnd 30m or /dnd 2 hours, or /dnd off.")
                })?)),
            },
            "search" if args.is_empty() => {
                return Err(usage_error("Say what to look for: /search release notes."));
            }
            "search" => Command::Search(args.to_string()),
            "help" => Command::Help,
            _ => {
                if name.chars().count() > 32 || !name.chars().all(|c| c.is_alphanumeric() || "_-".contains(c))
                {
                    return Err(usage_error(
                        "That is not a command. To post a message that starts with /, start it with //.",
                    ));
                }
                Command::Custom { name, text: args.to_string() }
            }
        }))
    }
}

/// A command's name as a workspace's own command may have it: a word of
/// letters, digits, `_` and `-`, at most 32 characters, not a built-in's.
pub fn custom_name(given: &str) -> Result<String> {
    let name = given.trim().trim_start_matches('/').to_lowercase();
    if name.is_empty()
        || name.chars().count() > 32
        || !name.chars().all(|c| c.is_alphanumeric() || "_-".contains(c))
    {
        return Err(Error::invalid(
            "name",
            "A command's name is one word of letters, digits, _ and -, at most 32 characters.",
        ));
    }
    let taken = BUILT_IN.iter().any(|c| c.name == name) || ["dm", "remove", "part"].contains(&name.as_str());
    if taken {
        return Err(Error::invalid("name", format!("/{name} is a built-in command. Choose another name.")));
    }
    Ok(name)
}

/// How a command is written, as the error of the message box's text.
fn usage_error(how: &str) -> Error {
    Error::invalid("body", how.to_string())
}

/// `/remind me in 10 minutes to stretch`, or `/remind me to stretch in 10
/// minutes` ("to" may be left out in the first form).
fn remind(args: &str) -> Result<Command> {
    let how = || usage_error("Write it as /remind me in 10 minutes to stretch (minutes, hours or days).");
    let rest = args.strip_prefix("me ").ok_or_else(how)?.trim();
    let (after_ms, what) = if let Some(r) = rest.strip_prefix("in ") {
        // "in <n> <unit> [to] <what>": the duration is the first one or two words.
        let words: Vec<&str> = r.split_whitespace().collect();
        let (took, ms) = [2, 1]
            .into_iter()
            .filter(|n| words.len() > *n)
            .find_map(|n| duration(&words[..n].join(" ")).map(|ms| (n, ms)))
            .ok_or_else(how)?;
        let what = words[took..].join(" ");
        (ms, what.strip_prefix("to ").map(str::to_string).unwrap_or(what))
    } else if let Some(r) = rest.strip_prefix("to ") {
        let at = r.rfind(" in ").ok_or_else(how)?;
        (duration(&r[at + 4..]).ok_or_else(how)?, r[..at].to_string())
    } else {
        return Err(how());
    };
    if what.trim().is_empty() {
        return Err(how());
    }
    Ok(Command::Remind { after_ms, what: what.trim().to_string() })
}

/// A duration as people write it — `10m`, `10 min`, `2 hours`, `1d`, `an
/// hour` — in milliseconds: more than nothing, at most a year.
pub fn duration(given: &str) -> Option<i64> {
    let given = given.trim().to_lowercase();
    let split = given.find(|c: char| !c.is_ascii_digit()).unwrap_or(given.len());
    let (number, unit) = given.split_at(split);
    let (count, unit) = match number {
        "" => match unit.split_once(' ') {
            Some(("a" | "an" | "one", u)) => (1, u.trim()),
            _ => return None,
        },
        n => (n.parse::<i64>().ok()?, unit.trim()),
    };
    let unit_ms = match unit {
        "s" | "sec" | "secs" | "second" | "seconds" => 1_000,
        "m" | "min" | "mins" | "minute" | "minutes" => 60_000,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3_600_000,
        "d" | "day" | "days" => 86_400_000,
        "w" | "week" | "weeks" => 7 * 86_400_000,
        _ => return None,
    };
    let ms = count.checked_mul(unit_ms)?;
    (ms > 0 && ms <= MAX_DURATION_MS).then_some(ms)
}

/// Text that starts with `//` is posted with one slash fewer.
pub fn as_message(input: &str) -> &str {
    let trimmed = input.trim_start();
    if trimmed.starts_with("//") { &trimmed[1..] } else { input }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(s: &str) -> Command {
        Command::parse(s).unwrap().unwrap()
    }

    #[test]
    fn text_without_a_leading_slash_is_a_message() {
        assert_eq!(Command::parse("hello /shrug").unwrap(), None);
        assert_eq!(Command::parse("//shrug is a command").unwrap(), None);
        assert_eq!(as_message("//shrug is a command"), "/shrug is a command");
        assert_eq!(as_message("plain"), "plain");
    }

    #[test]
    fn built_ins_take_their_arguments() {
        assert_eq!(parsed("/me waves"), Command::Me("waves".into()));
        assert_eq!(parsed("/SHRUG  ok then"), Command::Shrug("ok then".into()));
        assert_eq!(
            parsed("/msg @ana Lunch at 12?"),
            Command::Msg { to: "ana".into(), text: "Lunch at 12?".into() }
        );
        assert_eq!(parsed("/invite @ana bo"), Command::Invite(vec!["ana".into(), "bo".into()]));
        assert_eq!(parsed("/kick @bo"), Command::Kick("bo".into()));
        assert_eq!(parsed("/topic "), Command::Topic(String::new()));
        assert_eq!(parsed("/leave"), Command::Leave);
        assert_eq!(parsed("/dnd off"), Command::Dnd(None));
        assert_eq!(parsed("/dnd 30m"), Command::Dnd(Some(30 * 60_000)));
        assert_eq!(parsed("/dnd"), Command::Dnd(Some(3_600_000)));
    }

    #[test]
    fn a_command_missing_what_it_needs_says_how_it_is_written() {
        let e = Command::parse("/msg @ana").unwrap_err();
        assert!(e.to_string().contains("/msg @ana Lunch?"), "{e}");
        assert!(Command::parse("/me").is_err());
        assert!(Command::parse("/kick").is_err());
        assert!(Command::parse("/dnd forever").unwrap_err().to_string().contains("/dnd 30m"));
    }

    #[test]
    fn reminders_take_the_time_first_or_last() {
        let ten = 10 * 60_000;
        assert_eq!(
            parsed("/remind me in 10 minutes to stretch"),
            Command::Remind { after_ms: ten, what: "stretch".into() }
        );
        assert_eq!(
            parsed("/remind me in 2h call Bo"),
            Command::Remind { after_ms: 7_200_000, what: "call Bo".into() }
        );
        assert_eq!(
            parsed("/remind me to water the plants in 1 day"),
            Command::Remind { after_ms: 86_400_000, what: "water the plants".into() }
        );
        assert!(Command::parse("/remind me in ten minutes to stretch").is_err());
        assert!(Command::parse("/remind me in 10 minutes").is_err(), "nothing to be reminded of");
    }

    #[test]
    fn other_words_are_the_workspace_s_own_commands() {
        assert_eq!(
            parsed("/Deploy staging now"),
            Command::Custom { name: "deploy".into(), text: "staging now".into() }
        );
        assert!(Command::parse("/usr/bin/env is broken").is_err(), "a path is not a command name");
    }

    #[test]
    fn durations_are_read_as_people_write_them() {
        assert_eq!(duration("10m"), Some(600_000));
        assert_eq!(duration("2 hours"), Some(7_200_000));
        assert_eq!(duration("an hour"), Some(3_600_000));
        assert_eq!(duration("0m"), None);
        assert_eq!(duration("400 days"), None, "at most a year");
        assert_eq!(duration("soon"), None);
    }

    #[test]
    fn a_custom_command_cannot_take_a_built_in_s_name() {
        assert_eq!(custom_name("/Deploy").unwrap(), "deploy");
        assert!(custom_name("shrug").is_err());
        assert!(custom_name("two words").is_err());
    }
}
