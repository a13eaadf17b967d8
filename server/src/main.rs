//! `parley`: starts the server (`parley` or `parley serve`), or runs one
//! command (`parley create-default-templates`, `parley generate-key`, `parley rotate-key`).

#![recursion_limit = "512"]

use server::{config::Config, startup::Application, telemetry};

/// mimalloc rather than the system's allocator. With glibc's, a profile of
/// many people chatting spent an eighth of the server's time in malloc and
/// free (arenas shared by the runtime's and SQLite's threads, consolidating
/// freed chunks). The cost: mimalloc keeps more memory after password hashes
/// (19 MiB each, at most four at once): 130 MiB after 100 sign-ups, against
/// 54 MiB with glibc tuned to hand large blocks back (bench/HISTORY.md, abuse benchmark).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `purge_delay` option (its place in `mi_option_e`, the same in
/// mimalloc 2 and 3; a test below checks that it reads mimalloc 3's default).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Memory the allocator no longer uses goes back to the system after 10 s
/// rather than mimalloc's 1 s. With 1 s, serving pages one after another
/// kept handing whole 2 MiB pages back and faulting them in again, each
/// zeroed by the kernel: 6% of a channel page's CPU time, and a p99 three
/// times its p90. An idle server still gives back what a burst took.
fn tune_allocator() {
    // SAFETY: sets a plain integer option, which mimalloc reads atomically.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 10_000) };
}

/// Every panic is logged with where it happened (as well as answered 500
/// when it was a request's), whichever task it happened in.
fn log_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("a panic without a message");
        tracing::error!(%location, panic = message, "panicked");
        default(info);
    }));
}

fn main() -> std::process::ExitCode {
    tune_allocator();
    log_panics();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts")
        .block_on(serve())
}

async fn serve() -> std::process::ExitCode {
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("parley: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    telemetry::init(&config.log);
    match std::env::args().nth(1).as_deref() {
        None | Some("serve") => {}
        Some("create-default-templates") => return server::cli::create_default_templates(&config).await,
        Some("generate-key") => return server::cli::generate_key(),
        Some("rotate-key") if std::env::args().nth(2).as_deref() == Some("--status") => {
            return server::cli::key_status(&config).await;
        }
        Some("rotate-key") => return server::cli::rotate_key(&config).await,
        Some(other) => {
            eprintln!(
                "parley: unknown command `{other}`. Run `parley` (or `parley serve`) to start the server, \
                 `parley create-default-templates` to store the built-in notification templates in \
                 every workspace for editing, `parley generate-key` to print a new encryption key, or \
                 `parley rotate-key [--status]` to encrypt with a new key from now on (or see how far \
                 re-encrypting has come)."
            );
            return std::process::ExitCode::from(2);
        }
    }
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!("could not start: {e}");
            eprintln!("parley: could not start: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match app.run_until_stopped(server::startup::shutdown_signal()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("parley: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::MI_OPTION_PURGE_DELAY;

    #[test]
    fn the_purge_delay_option_is_mimallocs() {
        // mimalloc 3's default purge delay is 1,000 ms; no other option
        // near it defaults to that.
        assert_eq!(unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) }, 1000);
    }
}
