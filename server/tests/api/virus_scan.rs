//! Uploads scanned by a real clamd (ClamAV's daemon, started here with a
//! signature database that knows only the EICAR test file, so it starts at
//! once): an infected file is refused with the signature's name and
//! audited; a clean one is marked so; one over the scanner's limit is kept
//! marked "not scanned: too large"; with clamd out of reach, uploads are
//! refused or kept as "not scanned", as configured.

use crate::helpers::{TestApp, User, assert_error, json_of, workspace};
use app::wire::{AuditEntryDto, MessageDto, MessagePageDto};
use domain::Backend;
use domain::testing::TempDir;
use domain::virus_scan::{ScanAddress, Scanner, WhenUnreachable};
use reqwest::StatusCode;
use server::config::Config;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// The EICAR anti-virus test file: harmless, and found by every scanner.
const EICAR: &[u8] = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/// A clamd of this test's own, on a free port, stopped when dropped.
struct Clamd {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl Clamd {
    /// Starts clamd with a 1 MiB stream limit and waits until it answers.
    async fn start() -> Clamd {
        let dir = TempDir::new("parley-clamd");
        let db = dir.0.join("db");
        std::fs::create_dir_all(&db).unwrap();
        // The EICAR file's MD5, its size, and a name.
        std::fs::write(db.join("eicar.hdb"), "44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature\n")
            .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let conf = dir.0.join("clamd.conf");
        std::fs::write(
            &conf,
            format!(
                "Foreground yes\nDatabaseDirectory {}\nTCPSocket {port}\nTCPAddr 127.0.0.1\n\
                 StreamMaxLength 1M\nTemporaryDirectory {}\n",
                db.display(),
                dir.0.display()
            ),
        )
        .unwrap();
        let child = Command::new("clamd")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("clamd (Debian's clamav-daemon, which scripts/test installs)");
        let clamd = Clamd { child, port, _dir: dir };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while !clamd.answers().await {
            assert!(tokio::time::Instant::now() < deadline, "clamd answers PING within 30 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        clamd
    }

    async fn answers(&self) -> bool {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await else { return false };
        let mut reply = Vec::new();
        s.write_all(b"zPING\0").await.is_ok()
            && s.read_to_end(&mut reply).await.is_ok()
            && reply.starts_with(b"PONG")
    }

    fn scanner(&self, when: WhenUnreachable) -> Scanner {
        Scanner::new(ScanAddress::Tcp(format!("127.0.0.1:{}", self.port)), when)
    }
}

impl Drop for Clamd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn app_scanning_with(backend: Backend, scanner: Scanner) -> TestApp {
    TestApp::spawn_with(backend, Arc::new(move |c: &mut Config| c.scanner = Some(scanner.clone()))).await
}

/// `who` posts `bytes` as `name` in `channel`.
async fn upload(app: &TestApp, who: &User, channel: &str, name: &str, bytes: &[u8]) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .text("channel_id", channel.to_string())
        .text("body", "see attached")
        .part("file", reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_string()));
    let req = who.client.post(app.url("/api/communication/messages/")).header("accept", "application/json");
    who.send(app, "POST", req.multipart(form)).await
}

async fn posted(res: reqwest::Response) -> MessageDto {
    serde_json::from_value(json_of(res, StatusCode::CREATED).await).unwrap()
}

async fn an_infected_upload_is_refused_with_the_signature_and_audited(backend: Backend) {
    let clamd = Clamd::start().await;
    let app = app_scanning_with(backend, clamd.scanner(WhenUnreachable::Refuse)).await;
    let ana = app.user("ana").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    let res = upload(&app, &ana, &general, "invoice.pdf", EICAR).await;
    let e = assert_error(res, StatusCode::BAD_REQUEST, "invalid", Some("file")).await;
    let message = e["message"].as_str().unwrap();
    assert!(message.contains("“invoice.pdf” was refused") && message.contains("Eicar-Test-Signature"), "{e}");

    let page = ana.get(&app, &format!("/api/communication/messages/?channel_id={general}")).await;
    let page: MessagePageDto = serde_json::from_value(json_of(page, StatusCode::OK).await).unwrap();
    assert!(page.messages.is_empty(), "nothing was posted");
    let audit = ana.get(&app, &format!("/api/communication/workspaces/{ws}/audit_log/")).await;
    let audit: Vec<AuditEntryDto> = serde_json::from_value(json_of(audit, StatusCode::OK).await).unwrap();
    let entry = audit.iter().find(|e| e.action == "upload.infected").expect("the refusal is audited");
    assert!(
        entry.summary.contains("invoice.pdf") && entry.summary.contains("Eicar-Test-Signature"),
        "{entry:?}"
    );
    app.finish().await;
}

async fn a_clean_upload_is_marked_clean(backend: Backend) {
    let clamd = Clamd::start().await;
    let app = app_scanning_with(backend, clamd.scanner(WhenUnreachable::Refuse)).await;
    let ana = app.user("ana").await;
    let (_, general) = workspace(&app, &ana, false).await;
    let m = posted(upload(&app, &ana, &general, "notes.txt", b"meeting notes").await).await;
    assert_eq!((m.attachments[0].file_name.as_str(), m.attachments[0].scan.as_str()), ("notes.txt", "clean"));
    app.finish().await;
}

/// clamd takes at most 1 MiB here: a 2 MiB file is kept, and says it was not scanned.
async fn a_file_over_the_scanners_limit_is_kept_marked_too_large(backend: Backend) {
    let clamd = Clamd::start().await;
    let app = app_scanning_with(backend, clamd.scanner(WhenUnreachable::Refuse)).await;
    let ana = app.user("ana").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    let big = vec![b'x'; 2 * 1024 * 1024];
    let m = posted(upload(&app, &ana, &general, "dump.txt", &big).await).await;
    assert_eq!(m.attachments[0].scan, "too_large");
    assert_eq!(m.attachments[0].size, big.len() as i64);
    // The channel's page says so beside the file.
    let page = ana.client.get(app.url(&format!("/w/{ws}/c/{general}"))).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains("Not scanned for viruses: too large for the scanner"), "the page says it");
    app.finish().await;
}

/// With clamd gone, the default refuses uploads (503, saying why); an
/// operator who chose `accept` gets them kept, marked not scanned.
async fn with_the_scanner_out_of_reach_uploads_are_refused_or_kept_as_configured(backend: Backend) {
    let gone = {
        let clamd = Clamd::start().await;
        clamd.port
    };
    let address = ScanAddress::Tcp(format!("127.0.0.1:{gone}"));
    let app = app_scanning_with(backend, Scanner::new(address.clone(), WhenUnreachable::Refuse)).await;
    let ana = app.user("ana").await;
    let (_, general) = workspace(&app, &ana, false).await;
    let e = assert_error(
        upload(&app, &ana, &general, "a.txt", b"a").await,
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        None,
    )
    .await;
    assert!(e["message"].as_str().unwrap().contains("cannot be scanned for viruses"), "{e}");
    app.finish().await;

    let app = app_scanning_with(backend, Scanner::new(address, WhenUnreachable::Accept)).await;
    let ana = app.user("ana").await;
    let (_, general) = workspace(&app, &ana, false).await;
    let m = posted(upload(&app, &ana, &general, "a.txt", b"a").await).await;
    assert_eq!(m.attachments[0].scan, "unavailable");
    app.finish().await;
}

crate::on_each_backend!(
    an_infected_upload_is_refused_with_the_signature_and_audited,
    a_clean_upload_is_marked_clean,
    a_file_over_the_scanners_limit_is_kept_marked_too_large,
    with_the_scanner_out_of_reach_uploads_are_refused_or_kept_as_configured,
);
