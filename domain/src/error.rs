//! The one error type of the domain. Each variant says what went wrong in
//! words a person can act on; [`ErrorKind`] lets the HTTP layers pick a status.

use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A field of the request is malformed; `message` says how to fix it.
    #[error("{message}")]
    Invalid { field: &'static str, message: String },
    /// The request needs a signed-in user.
    #[error("You are not signed in. Sign in and try again.")]
    Unauthenticated,
    /// A call that must be signed (an incoming webhook's) was not, or not
    /// with the right secret, or too long ago; the message says which.
    #[error("{0}")]
    BadSignature(&'static str),
    /// Username or password did not match.
    #[error("That username and password do not match. Check them and try again.")]
    BadCredentials,
    /// Signed in, but not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    /// The thing does not exist, or the user may not know that it does.
    #[error("{0} not found. It may have been deleted, or you may not have access to it.")]
    NotFound(Thing),
    /// The request clashes with existing state (a taken name, ...).
    #[error("{message}")]
    Conflict { field: &'static str, message: String },
    /// An upload is bigger than allowed; the message says the limit.
    #[error("{0}")]
    TooLarge(String),
    /// An upload's file type is not allowed; the message lists what is.
    #[error("{0}")]
    UnsupportedType(String),
    /// Too many of the same thing in a short time; says when to try again.
    #[error("{0}")]
    RateLimited(crate::limits::Refusal),
    /// A person has the most uploads in flight they may have.
    #[error("You have {0} uploads in progress. Wait for one to finish, then try again.")]
    TooManyUploads(usize),
    /// The database cannot be reached now (restarting, or the network to
    /// it down); nothing was changed, and the same request can be repeated.
    #[error("The server cannot reach its database right now. Nothing was saved; try again in a moment.")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The virus scanner cannot be reached and the server refuses uploads
    /// it cannot scan (why, for the log).
    #[error(
        "Files cannot be scanned for viruses right now, so they are not accepted. Try again in a moment; if it goes on, tell an admin."
    )]
    ScannerUnavailable(String),
    /// Something failed that the user cannot fix; logged with context.
    #[error("Something went wrong on the server. Please try again.")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// What a [`Error::NotFound`] was looking for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Thing {
    User,
    Workspace,
    Channel,
    Message,
    Invite,
    File,
    Role,
    Category,
    Meeting,
    Notification,
    Template,
    PushSubscription,
    Token,
    Webhook,
    Bot,
    Command,
    ResponseUrl,
    LinkPreview,
    Hold,
    Export,
    Device,
    Welcome,
    SharedHistory,
    IdentityKey,
    KeyBackup,
}

impl fmt::Display for Thing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Thing::User => "User",
            Thing::Workspace => "Workspace",
            Thing::Channel => "Channel",
            Thing::Message => "Message",
            Thing::Invite => "Invite",
            Thing::Role => "Role",
            Thing::Category => "Category",
            Thing::File => "File",
            Thing::Meeting => "Meeting",
            Thing::Notification => "Notification",
            Thing::Template => "Template",
            Thing::PushSubscription => "Push subscription",
            Thing::Token => "API token",
            Thing::Webhook => "Webhook",
            Thing::Bot => "Bot",
            Thing::Command => "Slash command",
            Thing::ResponseUrl => "Response URL",
            Thing::LinkPreview => "Link preview",
            Thing::Hold => "Legal hold",
            Thing::Export => "Compliance export",
            Thing::Device => "Device",
            Thing::Welcome => "Welcome",
            Thing::SharedHistory => "Shared history",
            Thing::IdentityKey => "Identity key",
            Thing::KeyBackup => "Key backup",
        })
    }
}

/// The class of an [`Error`], for mapping to HTTP status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Invalid,
    Unauthenticated,
    Forbidden,
    NotFound,
    Conflict,
    TooLarge,
    UnsupportedType,
    RateLimited,
    Unavailable,
    Internal,
}

impl Error {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Error::Invalid { field, message: message.into() }
    }

    pub fn conflict(field: &'static str, message: impl Into<String>) -> Self {
        Error::Conflict { field, message: message.into() }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Error::Forbidden(message.into())
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Invalid { .. } => ErrorKind::Invalid,
            Error::Unauthenticated | Error::BadCredentials | Error::BadSignature(_) => {
                ErrorKind::Unauthenticated
            }
            Error::Forbidden(_) => ErrorKind::Forbidden,
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::Conflict { .. } => ErrorKind::Conflict,
            Error::TooLarge(_) => ErrorKind::TooLarge,
            Error::UnsupportedType(_) => ErrorKind::UnsupportedType,
            Error::RateLimited(_) | Error::TooManyUploads(_) => ErrorKind::RateLimited,
            Error::Unavailable(_) | Error::ScannerUnavailable(_) => ErrorKind::Unavailable,
            Error::Internal(_) => ErrorKind::Internal,
        }
    }

    /// An internal error that says what failed, and where: the file and
    /// line of the code that raised it.
    #[track_caller]
    pub fn internal(what: impl Into<String>) -> Self {
        Error::Internal(Box::new(Failure::here(what.into())))
    }

    /// This error again, for another of those waiting on one shared
    /// operation (a commit of several posts): the same kind, its words,
    /// and where it was handed on.
    #[track_caller]
    pub fn shared(&self) -> Self {
        let again = Box::new(Failure::here(match self {
            Error::Unavailable(e) | Error::Internal(e) => e.to_string(),
            other => other.to_string(),
        }));
        match self {
            Error::Unavailable(_) => Error::Unavailable(again),
            _ => Error::Internal(again),
        }
    }

    /// The input field the error is about, when there is one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Error::Invalid { field, .. } | Error::Conflict { field, .. } => Some(field),
            Error::TooLarge(_) | Error::UnsupportedType(_) => Some("file"),
            _ => None,
        }
    }
}

/// An internal failure told in words, with the place in the code that saw it.
#[derive(Debug)]
pub struct Failure {
    what: String,
    at: &'static std::panic::Location<'static>,
}

impl Failure {
    #[track_caller]
    fn here(what: String) -> Self {
        Failure { what, at: std::panic::Location::caller() }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at {}:{})", self.what, self.at.file(), self.at.line())
    }
}

impl std::error::Error for Failure {}

impl From<sqlx::Error> for Error {
    /// The database being out of reach is [`Error::Unavailable`]; anything
    /// else it says is [`Error::Internal`].
    fn from(e: sqlx::Error) -> Self {
        if database_unreachable(&e) { Error::Unavailable(Box::new(e)) } else { Error::Internal(Box::new(e)) }
    }
}

/// Whether `e` says the database cannot be reached now: no connection
/// could be had, one broke, or the server is shutting down or starting up
/// (PostgreSQL's classes 08, connection exception, and 57P, operator
/// intervention).
fn database_unreachable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
            true
        }
        sqlx::Error::Database(db) => {
            db.code().is_some_and(|code| code.starts_with("08") || code.starts_with("57P"))
        }
        _ => false,
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Internal(Box::new(e))
    }
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Error::Internal(Box::new(e))
    }
}
