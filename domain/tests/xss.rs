//! Known XSS vectors (OWASP's filter-evasion cheat sheet and friends) typed
//! into a message render inert: every tag in the output is an allowed tag
//! with allowed attributes, and every link is http, https, mailto or relative.

use domain::markdown::render;

use domain::testing::XSS_VECTORS as VECTORS;

const TAGS: &[&str] = &[
    "p",
    "br",
    "strong",
    "em",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "span",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
];

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

fn assert_inert(input: &str) {
    let html = render(input);
    for (name, attrs) in tags(&html) {
        assert!(TAGS.contains(&name.as_str()), "tag <{name}> from {input:?}: {html}");
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

#[test]
fn known_xss_vectors_render_inert() {
    assert!(VECTORS.len() >= 50, "the issue asks for at least 50 vectors");
    for v in VECTORS {
        assert_inert(v);
    }
}

#[test]
fn vectors_stay_visible_as_text() {
    // Sanitising must not eat what people typed: the script tag shows as text.
    assert!(render("<script>alert(1)</script>").contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}
