//! The one guard for requests the server makes on someone's behalf (web
//! push, SMS, and every later outgoing HTTP call): they go to the public
//! internet only, unless the operator allows private targets (a service
//! inside their own network, or tests on loopback).
//!
//! An address is refused however it is written: the URL parser reads
//! decimal, hexadecimal and octal IPv4 (`2130706433`, `0x7f.1`) as the
//! address they mean, IPv6 forms that carry an IPv4 address (mapped,
//! compatible, NAT64, 6to4) are judged by that address, and names are
//! resolved to public addresses only ([`PublicOnly`]), so a name cannot
//! lead into the server's network either.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

/// Why an outgoing request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("“{0}” is not a URL.")]
    NotAUrl(String),
    #[error("Only http and https addresses can be called.")]
    Scheme,
    #[error("The address has no host.")]
    NoHost,
    #[error("{0} is not a public address: the server calls only the public internet.")]
    Private(String),
}

/// Whether outgoing requests may reach private addresses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Guard {
    allow_private: bool,
}

impl Guard {
    /// Public addresses only.
    pub fn public_only() -> Self {
        Guard { allow_private: false }
    }

    /// Private and loopback addresses too (the operator's choice).
    pub fn allowing_private() -> Self {
        Guard { allow_private: true }
    }

    pub fn allows_private(self) -> bool {
        self.allow_private
    }

    /// Parses `url` and checks its scheme and host.
    pub fn check(self, url: &str) -> Result<url::Url, Refused> {
        let parsed = url::Url::parse(url).map_err(|_| Refused::NotAUrl(url.chars().take(100).collect()))?;
        if !["http", "https"].contains(&parsed.scheme()) {
            return Err(Refused::Scheme);
        }
        let host = parsed.host().ok_or(Refused::NoHost)?;
        if self.allow_private {
            return Ok(parsed);
        }
        let private = match &host {
            url::Host::Ipv4(ip) => !is_public(IpAddr::V4(*ip)),
            url::Host::Ipv6(ip) => !is_public(IpAddr::V6(*ip)),
            url::Host::Domain(d) => {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                d == "localhost"
                    || d.ends_with(".localhost")
                    || d.ends_with(".local")
                    || d.ends_with(".internal")
            }
        };
        if private {
            return Err(Refused::Private(host.to_string()));
        }
        Ok(parsed)
    }

    /// An HTTP client for outgoing calls: no redirects (each hop would need
    /// the check again), a timeout, and, unless private targets are
    /// allowed, names resolved to public addresses only.
    pub fn client(self, timeout: Duration) -> reqwest::Client {
        let mut builder =
            reqwest::Client::builder().timeout(timeout).redirect(reqwest::redirect::Policy::none());
        if !self.allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        builder.build().expect("an HTTP client with default TLS")
    }
}

/// Whether an address is on the public internet: not this host, a private
/// or shared network (carrier-grade NAT), link-local, multicast, reserved,
/// documentation or unspecified space; IPv6 forms that embed an IPv4
/// address are judged by it.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(v4: Ipv4Addr) -> bool {
    let [a, b, c, _] = v4.octets();
    !(v4.is_private()
        || v4.is_loopback()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_documentation()
        || v4.is_multicast()
        || a == 0
        || a >= 240
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b)))
}

fn is_public_v6(v6: Ipv6Addr) -> bool {
    let s = v6.segments();
    !(v6.is_loopback()
        || v6.is_unspecified()
        || v6.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0])) // discard-only
}

/// The IPv4 address an IPv6 address carries: mapped (`::ffff:a.b.c.d`),
/// compatible (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) or 6to4 (`2002:AABB:CCDD::`).
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = v6.segments();
    let tail = || Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if s[..6] == [0, 0, 0, 0, 0, 0] && !(v6.is_loopback() || v6.is_unspecified()) {
        return Some(tail());
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return Some(tail());
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8));
    }
    None
}

/// Resolves names to their public addresses only.
pub struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 443)).await?.collect();
            let public: Vec<std::net::SocketAddr> = found.into_iter().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(format!("{host} has no public address").into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ways of writing an address the server must never call.
    const FORBIDDEN: &[&str] = &[
        "http://127.0.0.1/",
        "http://127.1/",
        "http://127.0.1/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0x7f.0x0.0x0.0x1/",
        "http://0177.0.0.1/",
        "http://017700000001/",
        "http://127.000.000.001/",
        "http://127.255.255.254/",
        "http://[::1]/",
        "http://[0:0:0:0:0:0:0:1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[0:0:0:0:0:ffff:127.0.0.1]/",
        "http://[::127.0.0.1]/",
        "http://[64:ff9b::7f00:1]/",
        "http://[2002:7f00:1::]/",
        "http://0.0.0.0/",
        "http://0/",
        "http://[::]/",
        "http://10.0.0.1/",
        "http://10.255.255.255/",
        "http://012.0.0.1/",
        "http://167772161/",
        "http://172.16.0.1/",
        "http://172.31.255.255/",
        "http://192.168.1.1/",
        "http://0xc0.0xa8.0x1.0x1/",
        "http://3232235777/",
        "http://[::ffff:192.168.1.1]/",
        "http://[2002:c0a8:101::]/",
        "http://169.254.169.254/",
        "http://0xa9fea9fe/",
        "http://2852039166/",
        "http://[::ffff:169.254.169.254]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[fe80::1]/",
        "http://[fe80::1%25eth0]/",
        "http://100.64.0.1/",
        "http://100.127.255.254/",
        "http://[fc00::1]/",
        "http://[fd12:3456:789a::1]/",
        "http://[fec0::1]/",
        "http://224.0.0.1/",
        "http://239.255.255.250/",
        "http://[ff02::1]/",
        "http://255.255.255.255/",
        "http://240.0.0.1/",
        "http://192.0.0.8/",
        "http://198.18.0.1/",
        "http://192.0.2.1/",
        "http://[2001:db8::1]/",
        "https://localhost/",
        "https://LOCALHOST./",
        "https://api.localhost/",
        "https://printer.local/",
        "https://metadata.google.internal/",
        "http://[::ffff:10.0.0.1]:8080/path",
        "https://user:pass@10.1.2.3/",
    ];

    #[test]
    fn every_written_form_of_a_private_address_is_refused() {
        let guard = Guard::public_only();
        let mut refused = 0;
        for url in FORBIDDEN {
            match guard.check(url) {
                Err(Refused::Private(_)) => refused += 1,
                // `[fe80::1%25eth0]` (a zone) is not even a valid URL host.
                Err(Refused::NotAUrl(_)) if url.contains('%') => refused += 1,
                other => panic!("{url} was not refused as private: {other:?}"),
            }
        }
        assert!(refused >= 40, "{refused} forms checked");
    }

    #[test]
    fn public_addresses_and_names_pass() {
        let guard = Guard::public_only();
        for url in [
            "https://fcm.googleapis.com/fcm/send/x",
            "https://api.twilio.com/2010-04-01",
            "https://8.8.8.8/",
            "https://[2001:4860:4860::8888]/",
            "https://1.1.1.1:8443/x",
            "https://100.128.0.1/",
            "https://172.32.0.1/",
            "https://[2002:808:808::]/",
        ] {
            assert!(guard.check(url).is_ok(), "{url}");
        }
    }

    #[test]
    fn only_http_is_called_and_the_operator_may_allow_private_targets() {
        let guard = Guard::public_only();
        for url in
            ["ftp://example.com/", "file:///etc/passwd", "gopher://example.com/", "javascript:alert(1)"]
        {
            assert!(matches!(guard.check(url), Err(Refused::Scheme)), "{url}");
        }
        assert!(matches!(guard.check("not a url"), Err(Refused::NotAUrl(_))));
        let allowing = Guard::allowing_private();
        assert!(allowing.check("http://127.0.0.1:9/x").is_ok());
        assert!(matches!(allowing.check("file:///etc/passwd"), Err(Refused::Scheme)));
    }

    #[tokio::test]
    async fn names_that_lead_into_this_network_are_not_resolved() {
        use reqwest::dns::Resolve;
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        let refused = PublicOnly.resolve(name).await.err().expect("localhost is refused");
        assert!(refused.to_string().contains("no public address"), "{refused}");
    }
}
