//! Email: what Parley sends and how it leaves. With SMTP configured, through
//! that server (STARTTLS, implicit TLS, or plain on a trusted network);
//! without it, each email is written as a `.eml` file to the outbox folder in
//! the data directory, so nothing is lost. Emails are queued as
//! [`crate::store::Delivery`] rows first and sent by the server's delivery worker, which
//! retries with backoff.

use crate::markdown::escape;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;

/// How to reach the SMTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain SMTP, upgraded with STARTTLS (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Implicit,
    /// No TLS: only for a relay on a trusted network (or loopback).
    None,
}

#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// Why an email could not be sent; the worker retries a [`MailError::Temporary`].
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the email is malformed: {0}")]
    Malformed(String),
    #[error("the mail server refused or could not be reached: {0}")]
    Temporary(String),
    #[error("the mail server rejected the email: {0}")]
    Permanent(String),
    #[error("the outbox could not be written: {0}")]
    Outbox(#[from] std::io::Error),
}

impl MailError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, MailError::Malformed(_) | MailError::Permanent(_))
    }
}

#[derive(Clone)]
pub enum Mailer {
    Smtp { transport: AsyncSmtpTransport<Tokio1Executor>, from: Mailbox },
    Outbox { dir: PathBuf, from: Mailbox },
}

impl Mailer {
    /// Sends through `smtp`, or writes to `outbox` when there is none.
    pub fn new(smtp: Option<&SmtpSettings>, from: &str, outbox: PathBuf) -> Result<Self, MailError> {
        let from: Mailbox =
            from.parse().map_err(|e| MailError::Malformed(format!("the sender address `{from}`: {e}")))?;
        let Some(s) = smtp else {
            return Ok(Mailer::Outbox { dir: outbox, from });
        };
        let builder = match s.tls {
            SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host),
            SmtpTls::Implicit => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host),
            SmtpTls::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host)),
        }
        .map_err(|e| MailError::Malformed(format!("the SMTP host `{}`: {e}", s.host)))?;
        let mut builder = builder.port(s.port).timeout(Some(std::time::Duration::from_secs(30)));
        if let (Some(user), Some(password)) = (&s.username, &s.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Mailer::Smtp { transport: builder.build(), from })
    }

    /// Where emails go, for the log at start-up.
    pub fn describe(&self) -> String {
        match self {
            Mailer::Smtp { .. } => "SMTP".into(),
            Mailer::Outbox { dir, .. } => format!("the outbox folder {}", dir.display()),
        }
    }

    /// Sends one queued email (delivery `id`). Its Message-ID comes from the
    /// delivery, so a resend after a crash is recognisable, and an outbox
    /// file is replaced, not doubled.
    pub async fn send(&self, id: i64, recipient: &str, mail: &EmailContent) -> Result<(), MailError> {
        let from = match self {
            Mailer::Smtp { from, .. } | Mailer::Outbox { from, .. } => from.clone(),
        };
        let to: Mailbox =
            recipient.parse().map_err(|e| MailError::Malformed(format!("the address `{recipient}`: {e}")))?;
        let domain = from.email.domain().to_string();
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(&mail.subject)
            .message_id(Some(format!("<{id}@{domain}>")))
            .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))
            .map_err(|e| MailError::Malformed(e.to_string()))?;
        match self {
            Mailer::Smtp { transport, .. } => match transport.send(message).await {
                Ok(_) => Ok(()),
                Err(e) if e.is_permanent() => Err(MailError::Permanent(e.to_string())),
                Err(e) => Err(MailError::Temporary(e.to_string())),
            },
            Mailer::Outbox { dir, .. } => {
                tokio::fs::create_dir_all(dir).await?;
                let tmp = dir.join(format!(".{id}.eml.tmp"));
                tokio::fs::write(&tmp, message.formatted()).await?;
                tokio::fs::rename(&tmp, dir.join(format!("{id}.eml"))).await?;
                Ok(())
            }
        }
    }
}

/// The text of an email, plain and HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailContent {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The email inviting a guest: who invites them, to which workspace and
/// channels, and the link that lets them in.
pub fn guest_invite(inviter: &str, workspace: &str, channels: &[String], link: &str) -> EmailContent {
    let list = channels.iter().map(|c| format!("#{c}")).collect::<Vec<_>>().join(", ");
    let subject = format!("{inviter} invited you to {workspace} on Parley");
    let text = format!(
        "{inviter} invited you to join {workspace} on Parley as a guest, in {list}.\n\n\
         Accept the invitation: {link}\n\n\
         As a guest you see only the channels you are invited to.\n"
    );
    let html = format!(
        "<p>{} invited you to join <strong>{}</strong> on Parley as a guest, in {}.</p>\
         <p><a href=\"{}\">Accept the invitation</a></p>\
         <p>As a guest you see only the channels you are invited to.</p>",
        escape(inviter),
        escape(workspace),
        escape(&list),
        escape(link),
    );
    EmailContent { subject, text, html }
}

/// A password reset link; it works once, within `minutes`.
pub fn password_reset(name: &str, link: &str, minutes: i64) -> EmailContent {
    let subject = "Reset your Parley password".to_string();
    let text = format!(
        "Hello {name},\n\nSomeone (we hope you) asked to reset your Parley password. \
         Choose a new one here (the link works once, within {minutes} minutes):\n\n{link}\n\n\
         If it was not you, ignore this email: your password stays as it is.\n"
    );
    let html = format!(
        "<p>Hello {},</p><p>Someone (we hope you) asked to reset your Parley password. \
         <a href=\"{}\">Choose a new one</a> (the link works once, within {minutes} minutes).</p>\
         <p>If it was not you, ignore this email: your password stays as it is.</p>",
        escape(name),
        escape(link),
    );
    EmailContent { subject, text, html }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_invites_escape_what_people_typed() {
        let mail =
            guest_invite("Ana <3", "Acme & Co", &["client".into(), "specs".into()], "http://x/invite/AB");
        assert_eq!(mail.subject, "Ana <3 invited you to Acme & Co on Parley");
        assert!(mail.text.contains("in #client, #specs") && mail.text.contains("http://x/invite/AB"));
        assert!(mail.html.contains("Ana &lt;3") && mail.html.contains("Acme &amp; Co"), "{}", mail.html);
        assert!(mail.html.contains("<a href=\"http://x/invite/AB\">"), "{}", mail.html);
    }
}
