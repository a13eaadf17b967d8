//! Virus scanning of uploads by clamd (ClamAV's daemon), when the operator
//! names one: each file is streamed to it with `INSTREAM` before it is
//! accepted. An infected file is refused with the signature's name; a file
//! over clamd's `StreamMaxLength` is kept and marked "not scanned: too
//! large", never called clean; when clamd cannot be reached the operator
//! chooses whether uploads are refused or kept as "not scanned".

use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// How long one scan may take, connection included.
const SCAN_TIMEOUT: Duration = Duration::from_secs(60);
/// The size of the chunks a file is sent in.
const CHUNK: usize = 64 * 1024;

/// Where clamd listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanAddress {
    /// `host:port`.
    Tcp(String),
    /// A Unix socket's path.
    Unix(PathBuf),
}

impl ScanAddress {
    /// `tcp://host:port`, `host:port`, `unix:/path` or `/path`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Some(path) = s.strip_prefix("unix:") {
            return Ok(ScanAddress::Unix(PathBuf::from(path.trim_start_matches("//"))));
        }
        if s.starts_with('/') {
            return Ok(ScanAddress::Unix(PathBuf::from(s)));
        }
        let hostport = s.strip_prefix("tcp://").unwrap_or(s);
        match hostport.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
                Ok(ScanAddress::Tcp(hostport.to_string()))
            }
            _ => Err(format!(
                "“{s}” is not a clamd address: write host:port (e.g. 127.0.0.1:3310) or unix:/path"
            )),
        }
    }
}

/// What to do with an upload when clamd cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenUnreachable {
    /// Refuse it (the safe default).
    Refuse,
    /// Keep it, marked "not scanned".
    Accept,
}

/// What clamd said of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Clean,
    /// The name of the signature found.
    Infected(String),
    /// Larger than clamd takes (`StreamMaxLength`).
    TooLarge,
    /// No answer: why.
    Unreachable(String),
}

/// Sends files to clamd.
#[derive(Debug, Clone)]
pub struct Scanner {
    address: ScanAddress,
    pub when_unreachable: WhenUnreachable,
}

impl Scanner {
    pub fn new(address: ScanAddress, when_unreachable: WhenUnreachable) -> Self {
        Scanner { address, when_unreachable }
    }

    /// Where clamd is, for the log.
    pub fn describe(&self) -> String {
        match &self.address {
            ScanAddress::Tcp(a) => a.clone(),
            ScanAddress::Unix(p) => format!("unix:{}", p.display()),
        }
    }

    /// Scans the file at `path`.
    pub async fn scan(&self, path: &Path) -> Verdict {
        match tokio::time::timeout(SCAN_TIMEOUT, self.scan_now(path)).await {
            Ok(Ok(reply)) => parse_reply(&reply),
            Ok(Err(e)) => Verdict::Unreachable(format!("clamd at {}: {e}", self.describe())),
            Err(_) => Verdict::Unreachable(format!(
                "clamd at {} did not answer within {} s",
                self.describe(),
                SCAN_TIMEOUT.as_secs()
            )),
        }
    }

    async fn scan_now(&self, path: &Path) -> std::io::Result<String> {
        let file = tokio::fs::File::open(path).await?;
        match &self.address {
            ScanAddress::Tcp(a) => instream(tokio::net::TcpStream::connect(a).await?, file).await,
            #[cfg(unix)]
            ScanAddress::Unix(p) => instream(tokio::net::UnixStream::connect(p).await?, file).await,
            #[cfg(not(unix))]
            ScanAddress::Unix(_) => {
                Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "Unix sockets need a Unix system"))
            }
        }
    }
}

/// clamd's `INSTREAM`: the command, then the file in chunks each led by its
/// length (4 bytes, big-endian), then a chunk of length 0; the answer ends
/// with a NUL. clamd closes the stream early when the file is over its
/// limit: what it answered is read all the same.
async fn instream<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    mut file: tokio::fs::File,
) -> std::io::Result<String> {
    stream.write_all(b"zINSTREAM\0").await?;
    let mut buf = vec![0u8; CHUNK];
    let sent: std::io::Result<()> = async {
        loop {
            let n = file.read(&mut buf).await?;
            stream.write_all(&(n as u32).to_be_bytes()).await?;
            if n == 0 {
                return stream.flush().await;
            }
            stream.write_all(&buf[..n]).await?;
        }
    }
    .await;
    let mut reply = Vec::new();
    let read = stream.read_to_end(&mut reply).await;
    if reply.is_empty() {
        sent?;
        read?;
    }
    Ok(String::from_utf8_lossy(&reply).trim_end_matches(['\0', '\n']).to_string())
}

/// What clamd's answer means: `stream: OK`, `stream: <name> FOUND`,
/// `INSTREAM size limit exceeded. ERROR`, or another error.
pub fn parse_reply(reply: &str) -> Verdict {
    let reply = reply.trim_end_matches(['\0', '\n']).trim();
    if reply.contains("size limit exceeded") {
        return Verdict::TooLarge;
    }
    let body = reply.strip_prefix("stream:").map(str::trim).unwrap_or(reply);
    if body == "OK" {
        return Verdict::Clean;
    }
    if let Some(name) = body.strip_suffix("FOUND") {
        return Verdict::Infected(name.trim().to_string());
    }
    Verdict::Unreachable(format!("clamd answered “{reply}”"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamds_answers_are_read() {
        assert_eq!(parse_reply("stream: OK\0"), Verdict::Clean);
        assert_eq!(
            parse_reply("stream: Eicar-Test-Signature.UNOFFICIAL FOUND\0"),
            Verdict::Infected("Eicar-Test-Signature.UNOFFICIAL".into())
        );
        assert_eq!(parse_reply("INSTREAM size limit exceeded. ERROR\0"), Verdict::TooLarge);
        assert!(matches!(parse_reply("stream: Can't allocate memory ERROR"), Verdict::Unreachable(_)));
    }

    #[test]
    fn addresses_are_tcp_or_unix() {
        assert_eq!(ScanAddress::parse("127.0.0.1:3310"), Ok(ScanAddress::Tcp("127.0.0.1:3310".into())));
        assert_eq!(ScanAddress::parse("tcp://clamd:3310"), Ok(ScanAddress::Tcp("clamd:3310".into())));
        assert_eq!(
            ScanAddress::parse("unix:/run/clamav/clamd.ctl"),
            Ok(ScanAddress::Unix("/run/clamav/clamd.ctl".into()))
        );
        assert!(ScanAddress::parse("clamd").is_err());
    }
}
