//! The release build's last steps for the app (see `build_site` in
//! `scripts/lib.sh`, which runs the tools in between):
//!
//! - `site-build split <app.wasm> <main.wasm> <pkg>`: splits the compiled
//!   app at its lazily loaded functions (`#[lazy]`, lazy routes) into the
//!   part every page needs (`main.wasm`, for wasm-bindgen) and the parts
//!   fetched when first used (`pkg/split_*.wasm` and `pkg/chunk_*.wasm`, code
//!   that several of them share), with their loader (`pkg/__wasm_split.js`)
//!   and the list of parts each lazy function needs
//!   (`pkg/__wasm_split_manifest.json`, from which the server tells the
//!   browser to fetch them early).
//! - `site-build name <site>`: names the app's files under `<site>/pkg`
//!   after their content, rewrites their references to each other to the new
//!   names, and lists the names in `<site>/hash.txt`, as Leptos reads it.

mod naming;
mod split;

use std::path::PathBuf;
use std::process::ExitCode;

/// What to do, parsed from the command line.
#[derive(Debug, PartialEq)]
enum Command {
    Split { app: PathBuf, main: PathBuf, pkg: PathBuf },
    Name { site: PathBuf },
}

const USAGE: &str =
    "usage: site-build split <app.wasm> <main.wasm> <pkg dir>\n       site-build name <site dir>";

impl Command {
    fn parse(args: &[String]) -> Option<Command> {
        match args {
            [cmd, app, main, pkg] if cmd == "split" => {
                Some(Command::Split { app: app.into(), main: main.into(), pkg: pkg.into() })
            }
            [cmd, site] if cmd == "name" => Some(Command::Name { site: site.into() }),
            _ => None,
        }
    }
}

/// What went wrong, and where.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("splitting {path} failed: {reason}")]
    Split { path: PathBuf, reason: String },
    #[error("{path}: expected one reference to {needle:?}, found {found}")]
    Reference { path: PathBuf, needle: String, found: usize },
    #[error("{path}: {reason}")]
    Manifest { path: PathBuf, reason: String },
}

impl Error {
    fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
        move |source| Error::Io { path: path.to_path_buf(), source }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = Command::parse(&args) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let done = match command {
        Command::Split { app, main, pkg } => split::split(&app, &main, &pkg).map(|parts| {
            println!("split the app into the part every page needs and {parts} loaded when used");
        }),
        Command::Name { site } => naming::name_site(&site).map(|names| {
            println!("named the app's files: {names}");
        }),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("site-build: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_two_commands_are_parsed_and_anything_else_is_refused() {
        assert_eq!(
            Command::parse(&args(&["split", "a.wasm", "m.wasm", "pkg"])),
            Some(Command::Split { app: "a.wasm".into(), main: "m.wasm".into(), pkg: "pkg".into() })
        );
        assert_eq!(Command::parse(&args(&["name", "site"])), Some(Command::Name { site: "site".into() }));
        assert_eq!(Command::parse(&args(&["name"])), None);
        assert_eq!(Command::parse(&args(&["split", "a.wasm"])), None);
        assert_eq!(Command::parse(&args(&[])), None);
    }
}
