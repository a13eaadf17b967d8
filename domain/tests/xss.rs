//! Known XSS vectors (OWASP's filter-evasion cheat sheet and friends) typed
//! into a message render inert: every tag in the output is an allowed tag
//! with allowed attributes, and every link is http, https, mailto or relative.

use domain::markdown::render;
use domain::testing::XSS_VECTORS as VECTORS;
use domain::testing::assert_rendered_inert as assert_inert;

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
