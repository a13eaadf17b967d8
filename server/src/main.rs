//! `parley`: starts the server (`parley` or `parley serve`), or runs one
//! command (`parley create-default-templates`).

#![recursion_limit = "512"]

use server::{config::Config, startup::Application, telemetry};

/// Large allocations (a password hash takes 19 MiB) go straight to the
/// operating system and back when freed. glibc's default raises that
/// threshold after the first such free, so later hashes came from per-thread
/// arenas that never gave the memory back: 100 sign-ups left the server at
/// 600 MiB. Fewer arenas also keep less memory spread across threads.
fn return_large_allocations() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator settings; called before any
    // other thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 4);
    }
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
    return_large_allocations();
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
        Some(other) => {
            eprintln!(
                "parley: unknown command `{other}`. Run `parley` (or `parley serve`) to start the server, \
                 or `parley create-default-templates` to store the built-in notification templates in \
                 every workspace for editing."
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
