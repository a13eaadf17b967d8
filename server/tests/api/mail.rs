//! Email leaves through a real SMTP conversation with a server on loopback,
//! is retried when that server refuses, and lands in the outbox folder when
//! no SMTP server is configured.

use crate::helpers::{TestApp, User, json_of, workspace};
use domain::mail::{SmtpSettings, SmtpTls};
use reqwest::StatusCode;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// An email as an SMTP server received it.
pub struct Received {
    pub to: Vec<String>,
    pub data: String,
}

impl Received {
    /// The message with quoted-printable soft line breaks and `=3D` undone.
    pub fn text(&self) -> String {
        self.data.replace("=\r\n", "").replace("=3D", "=")
    }
}

/// A minimal SMTP server on loopback that answers the first `refusals`
/// MAIL commands with 451 (try again later) and accepts everything after.
pub struct SmtpSink {
    port: u16,
    pub received: mpsc::UnboundedReceiver<Received>,
}

impl SmtpSink {
    pub async fn start(refusals: usize) -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, received) = mpsc::unbounded_channel();
        let refusals = Arc::new(AtomicUsize::new(refusals));
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(session(socket, tx.clone(), refusals.clone()));
            }
        });
        SmtpSink { port, received }
    }

    pub fn settings(&self) -> SmtpSettings {
        SmtpSettings {
            host: "127.0.0.1".into(),
            port: self.port,
            tls: SmtpTls::None,
            username: None,
            password: None,
        }
    }

    /// The next email, waiting at most 10 s.
    pub async fn next(&mut self) -> Received {
        tokio::time::timeout(Duration::from_secs(10), self.received.recv())
            .await
            .expect("an email within 10 s")
            .expect("the sink runs")
    }
}

async fn session(
    socket: tokio::net::TcpStream,
    tx: mpsc::UnboundedSender<Received>,
    refusals: Arc<AtomicUsize>,
) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    let _ = write.write_all(b"220 sink ESMTP\r\n").await;
    let mut to = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            b"250-sink\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("MAIL FROM") {
            to.clear();
            let refuse =
                refusals.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
            if refuse { b"451 4.3.0 Try again later\r\n" } else { b"250 OK\r\n" }
        } else if upper.starts_with("RCPT TO") {
            to.push(line[8..].trim().trim_start_matches(':').trim().trim_matches(['<', '>']).to_string());
            b"250 OK\r\n"
        } else if upper == "DATA" {
            let _ = write.write_all(b"354 Go ahead\r\n").await;
            let mut data = String::new();
            while let Ok(Some(l)) = lines.next_line().await {
                if l == "." {
                    break;
                }
                data.push_str(l.strip_prefix('.').filter(|_| l.starts_with("..")).unwrap_or(&l));
                data.push_str("\r\n");
            }
            let _ = tx.send(Received { to: std::mem::take(&mut to), data });
            b"250 OK queued\r\n"
        } else if upper == "QUIT" {
            let _ = write.write_all(b"221 Bye\r\n").await;
            return;
        } else {
            b"250 OK\r\n"
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}

pub fn with_smtp(settings: SmtpSettings) -> crate::helpers::Configure {
    Arc::new(move |c: &mut server::config::Config| c.mail.smtp = Some(settings.clone()))
}

/// The owner makes an external channel and a guest invite for `email`; returns the invite's link.
async fn invite_guest(app: &TestApp, ana: &User, email: &str) -> String {
    let (ws, _) = workspace(app, ana, false).await;
    let channel = json_of(
        ana.post(
            app,
            "/api/communication/channels/",
            json!({"workspace_id": ws, "name": "client", "channel_type": "external"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let body = json!({"guest": true, "channel_ids": [channel["id"]], "email": email});
    let invite =
        json_of(ana.post(app, &format!("/api/workspaces/{ws}/invites"), body).await, StatusCode::CREATED)
            .await;
    invite["url"].as_str().unwrap().to_string()
}

/// Waits until the store says the delivery to `to` was sent; returns its attempts.
async fn sent_after(app: &TestApp, to: &str) -> i64 {
    let store = app.store().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let list = store.deliveries_to(to).await.unwrap();
        assert_eq!(list.len(), 1, "one delivery queued for {to}");
        if list[0].sent_at.is_some() {
            store.close().await;
            return list[0].attempts;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the delivery is marked sent within 10 s: {:?}",
            list[0]
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn a_guest_invite_is_emailed_with_both_parts(backend: domain::Backend) {
    let mut sink = SmtpSink::start(0).await;
    let app = TestApp::spawn_with(backend, with_smtp(sink.settings())).await;
    let ana = app.user("ana").await;
    let link = invite_guest(&app, &ana, "gus@example.org").await;

    let mail = sink.next().await;
    assert_eq!(mail.to, ["gus@example.org"]);
    let text = mail.text();
    assert!(text.contains("Subject: ana D invited you to Acme on Parley"), "{text}");
    assert!(
        text.contains("multipart/alternative") && text.contains("text/plain") && text.contains("text/html")
    );
    assert!(text.contains(&format!("Accept the invitation: {link}")), "the text part has the link: {text}");
    assert!(
        text.contains(&format!("<a href=\"{link}\">Accept the invitation</a>")),
        "the HTML part too: {text}"
    );
    assert!(text.contains("in #client"), "{text}");
    assert_eq!(sent_after(&app, "gus@example.org").await, 1);

    // The link opens the invitation.
    let res = reqwest::get(&link).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("Acme"));
    app.finish().await;
}

async fn a_refusing_server_gets_the_email_once_it_accepts(backend: domain::Backend) {
    let mut sink = SmtpSink::start(2).await;
    let app = TestApp::spawn_with(backend, with_smtp(sink.settings())).await;
    let ana = app.user("ana").await;
    invite_guest(&app, &ana, "gus@example.org").await;
    let mail = sink.next().await;
    assert_eq!(mail.to, ["gus@example.org"]);
    assert_eq!(sent_after(&app, "gus@example.org").await, 3, "refused twice, sent on the third attempt");
    assert!(sink.received.try_recv().is_err(), "sent once");
    app.finish().await;
}

async fn without_smtp_emails_land_in_the_outbox(backend: domain::Backend) {
    let app = TestApp::spawn(backend).await;
    let ana = app.user("ana").await;
    let link = invite_guest(&app, &ana, "gus@example.org").await;
    assert_eq!(sent_after(&app, "gus@example.org").await, 1);
    let outbox = app.data.0.join("outbox");
    let files: Vec<_> = std::fs::read_dir(&outbox).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].extension().is_some_and(|e| e == "eml"));
    let eml = Received { to: vec![], data: std::fs::read_to_string(&files[0]).unwrap() }.text();
    assert!(eml.contains("To: gus@example.org") && eml.contains(&link), "{eml}");
    app.finish().await;
}

crate::on_each_backend!(
    a_guest_invite_is_emailed_with_both_parts,
    a_refusing_server_gets_the_email_once_it_accepts,
    without_smtp_emails_land_in_the_outbox
);
