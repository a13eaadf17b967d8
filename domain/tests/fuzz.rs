//! Property tests ("fuzzing") of everything that reads untrusted text:
//! Markdown rendering, search queries, the `input` types, calendar times and
//! ids. Each target runs on every file of its corpus under
//! `tests/corpus/<target>/` (inputs worth keeping: tricky cases and past
//! failures), then on `PARLEY_FUZZ_CASES` generated inputs (default 1000),
//! built from the pieces attackers use. A failing input proptest finds is
//! saved in `fuzz.proptest-regressions` and replayed first on every run:
//! commit it, or copy it into the corpus.

use domain::calendar;
use domain::input::{
    CategoryName, ChannelName, Colour, Description, DisplayName, Email, Emoji, Icon, InviteTerms,
    MessageBody, Nonce, Password, Reason, RoleName, Username, WorkspaceName,
};
use domain::search::{SearchQuery, highlight};
use proptest::prelude::*;
use std::path::PathBuf;

fn cases() -> u32 {
    std::env::var("PARLEY_FUZZ_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(1000)
}

/// The inputs kept for `target`, as text.
fn corpus(target: &str) -> Vec<(PathBuf, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the corpus {} is readable: {e}", dir.display()))
        .map(|f| f.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "the corpus {} has inputs", dir.display());
    files
        .into_iter()
        .map(|p| (p.clone(), String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned()))
        .collect()
}

/// Text made of Markdown syntax, HTML, mentions, emoji codes, links,
/// Unicode oddities and arbitrary characters, in any order.
fn hostile_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("**".to_string()),
        Just("_".to_string()),
        Just("`".to_string()),
        Just("```".to_string()),
        Just("~~".to_string()),
        Just("> ".to_string()),
        Just("- ".to_string()),
        Just("\n".to_string()),
        Just("<script>alert(1)</script>".to_string()),
        Just("<img src=x onerror=alert(1)>".to_string()),
        Just("[x](javascript:alert(1))".to_string()),
        Just("[x](https://example.com/\"onmouseover=\"x)".to_string()),
        Just("<https://example.com>".to_string()),
        Just("https://example.com/a_b*c".to_string()),
        Just("@ana".to_string()),
        Just("@channel".to_string()),
        Just(":rocket:".to_string()),
        Just(":".to_string()),
        Just("&lt;&amp;#x3c;".to_string()),
        Just("\u{202e}".to_string()),
        Just("\u{0}".to_string()),
        Just("é".to_string()),
        Just("👍🏽".to_string()),
        "[ -~]{0,8}",
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|parts| parts.concat())
}

fn check_markdown(input: &str) {
    domain::testing::assert_rendered_inert(input);
}

/// Every parser of an `input` type: never panics, and what it accepts it
/// accepts again unchanged.
fn check_inputs(input: &str) {
    macro_rules! stable {
        ($($t:ty),*) => {$(
            if let Ok(v) = <$t>::parse(input) {
                let again = <$t>::parse(v.as_str()).unwrap_or_else(|e| panic!("{input:?} parsed, then not: {e}"));
                assert_eq!(again.as_str(), v.as_str(), "{} is not stable for {input:?}", stringify!($t));
            }
        )*};
    }
    stable!(
        Username,
        DisplayName,
        Email,
        WorkspaceName,
        Description,
        Icon,
        ChannelName,
        MessageBody,
        Emoji,
        RoleName,
        Colour,
        CategoryName,
        Reason
    );
    let _ = Password::parse(input);
    let _ = Nonce::parse(input);
    let _ = input.parse::<domain::Id>();
}

fn check_search(input: &str) {
    if let Ok(q) = SearchQuery::parse(input) {
        let _ = highlight(input, &q.terms);
        assert!(q.terms.iter().all(|t| *t == t.to_lowercase()), "terms are lower-cased: {q:?}");
    }
}

fn check_calendar(input: &str, number: i64) {
    if let Some(ms) = calendar::parse_rfc3339(input) {
        assert_eq!(calendar::parse_rfc3339(&calendar::rfc3339(ms)), Some(ms / 1000 * 1000), "{input:?}");
    }
    let _ = calendar::parse_local(input, number);
    let _ = calendar::rfc3339(number);
    let _ = calendar::local_time(number, input);
}

#[test]
fn markdown_corpus() {
    for (path, text) in corpus("markdown") {
        println!("{}", path.display());
        check_markdown(&text);
    }
}

#[test]
fn inputs_corpus() {
    for (_, text) in corpus("inputs") {
        check_inputs(&text);
        for line in text.lines() {
            check_inputs(line);
        }
    }
}

#[test]
fn search_corpus() {
    for (_, text) in corpus("search") {
        for line in text.lines() {
            check_search(line);
        }
    }
}

#[test]
fn calendar_corpus() {
    for (_, text) in corpus("calendar") {
        for line in text.lines() {
            for number in [0, -1, i64::MIN, i64::MAX, 1_700_000_000_000, -62_135_596_800_001] {
                check_calendar(line, number);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn markdown_never_renders_active_content(input in hostile_text()) {
        check_markdown(&input);
    }

    #[test]
    fn input_types_never_panic_and_are_stable(input in hostile_text()) {
        check_inputs(&input);
    }

    #[test]
    fn search_queries_never_panic(input in prop_oneof![
        hostile_text(),
        prop::collection::vec(prop_oneof![
            Just("in:".to_string()), Just("from:@".to_string()), Just("has:".to_string()),
            Just("before:".to_string()), Just("after:".to_string()), Just("\"".to_string()),
            Just(" ".to_string()), Just("2026-13-45".to_string()), "[0-9-]{1,12}", any::<String>(),
        ], 0..12).prop_map(|p| p.concat()),
    ]) {
        check_search(&input);
    }

    #[test]
    fn calendar_times_never_panic(
        input in prop_oneof![hostile_text(), "[0-9]{1,5}-[0-9]{1,2}-[0-9]{1,2}T[0-9]{1,2}:[0-9]{1,2}(:[0-9]{2})?(Z|[+-][0-9]{2}:[0-9]{2})?"],
        number in any::<i64>(),
    ) {
        check_calendar(&input, number);
    }

    #[test]
    fn invite_terms_never_panic(hours in any::<Option<i64>>(), uses in any::<Option<i64>>()) {
        if let Ok(terms) = InviteTerms::parse(hours, uses) {
            prop_assert!(terms.lifetime_ms.is_none_or(|ms| ms > 0));
            prop_assert!(terms.max_uses.is_none_or(|m| m > 0));
        }
    }
}
