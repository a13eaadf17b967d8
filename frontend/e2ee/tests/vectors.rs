//! Wycheproof's published test vectors for the primitives of the
//! ciphersuite (`e2ee::CIPHERSUITE`: X25519, AES-128-GCM, HKDF and HMAC with
//! SHA-256, Ed25519), run through the providers openmls itself calls:
//! `openmls_rust_crypto::RustCrypto` and, for HPKE's Diffie-Hellman,
//! `hpke_rs_rust_crypto::HpkeRustCrypto`. Natively and, from scripts/test,
//! in headless Chromium, where the browser's build of them runs.
//!
//! A vector marked "valid" must give its exact output, one marked "invalid"
//! must be refused, and one marked "acceptable" (allowed either way by the
//! vectors' authors) must be refused or give the exact output.

use hpke_rs_crypto::{HpkeCrypto, types::KemAlgorithm};
use hpke_rs_rust_crypto::HpkeRustCrypto;
use openmls_rust_crypto::RustCrypto;
use openmls_traits::crypto::OpenMlsCrypto;
use openmls_traits::types::{AeadType, HashType, SignatureScheme};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use wycheproof::TestResult;

wasm_bindgen_test_configure!(run_in_browser);

/// What one vector's outcome must be, given whether the primitive gave
/// `expected` (Some(true)), something else (Some(false)) or refused (None).
fn meets(result: &TestResult, outcome: Option<bool>) -> bool {
    matches!(
        (result, outcome),
        (TestResult::Valid, Some(true))
            | (TestResult::Invalid, None | Some(false))
            | (TestResult::Acceptable, None | Some(true))
    )
}

/// Each vector of `groups` beside its group (`tests` names a group's vectors).
fn each<'a, G, T: 'a>(
    groups: impl IntoIterator<Item = &'a G>,
    tests: fn(&'a G) -> &'a Vec<T>,
) -> impl Iterator<Item = (&'a G, &'a T)>
where
    G: 'a,
{
    groups.into_iter().flat_map(move |g| tests(g).iter().map(move |t| (g, t)))
}

/// Runs `check` over every vector (each with its group), and fails naming
/// each one it did not meet (and when none ran: a selection that matches
/// nothing fails too).
fn run_all<'a, G: 'a, T: 'a>(
    vectors: impl IntoIterator<Item = (&'a G, &'a T)>,
    check: impl Fn(&G, &T) -> Result<(), String>,
) {
    let mut ran = 0;
    let mut failed = Vec::new();
    for (group, test) in vectors {
        ran += 1;
        if let Err(why) = check(group, test) {
            failed.push(why);
        }
    }
    assert!(ran > 0, "no vector applies");
    assert!(failed.is_empty(), "{} of {ran} vectors not met:\n{}", failed.len(), failed.join("\n"));
}

#[wasm_bindgen_test(unsupported = test)]
fn aes_128_gcm_meets_its_published_vectors() {
    let set = wycheproof::aead::TestSet::load(wycheproof::aead::TestName::AesGcm).unwrap();
    let crypto = RustCrypto::default();
    // MLS uses a 128-bit key, a 96-bit nonce and a 128-bit tag.
    let groups =
        set.test_groups.iter().filter(|g| g.key_size == 128 && g.nonce_size == 96 && g.tag_size == 128);
    run_all(each(groups, |g| &g.tests), |_, t| {
        let sealed = [&t.ct[..], &t.tag[..]].concat();
        let opened = crypto.aead_decrypt(AeadType::Aes128Gcm, &t.key, &sealed, &t.nonce, &t.aad).ok();
        if !meets(&t.result, opened.map(|pt| pt == *t.pt)) {
            return Err(format!("#{} ({}): opening", t.tc_id, t.comment));
        }
        if t.result == TestResult::Valid {
            let made = crypto.aead_encrypt(AeadType::Aes128Gcm, &t.key, &t.pt, &t.nonce, &t.aad).ok();
            if made.as_deref() != Some(&sealed[..]) {
                return Err(format!("#{} ({}): sealing", t.tc_id, t.comment));
            }
        }
        Ok(())
    });
}

#[wasm_bindgen_test(unsupported = test)]
fn hkdf_sha256_meets_its_published_vectors() {
    let set = wycheproof::hkdf::TestSet::load(wycheproof::hkdf::TestName::HkdfSha256).unwrap();
    let crypto = RustCrypto::default();
    run_all(each(&set.test_groups, |g| &g.tests), |_, t| {
        let derived = crypto
            .hkdf_extract(HashType::Sha2_256, &t.salt, &t.ikm)
            .and_then(|prk| crypto.hkdf_expand(HashType::Sha2_256, prk.as_slice(), &t.info, t.size))
            .ok();
        let outcome = derived.map(|okm| okm.as_slice() == &t.okm[..]);
        meets(&t.result, outcome).then_some(()).ok_or_else(|| format!("#{} ({})", t.tc_id, t.comment))
    });
}

#[wasm_bindgen_test(unsupported = test)]
fn hmac_sha256_meets_its_published_vectors() {
    let set = wycheproof::mac::TestSet::load(wycheproof::mac::TestName::HmacSha256).unwrap();
    let crypto = RustCrypto::default();
    // Some vectors check a tag cut short: compare what the vector keeps.
    run_all(each(&set.test_groups, |g| &g.tests), |g, t| {
        let tag = crypto.hmac(HashType::Sha2_256, &t.key, &t.msg).ok();
        let kept = g.tag_size / 8;
        let outcome = tag.map(|tag| tag.as_slice().get(..kept) == Some(&t.tag[..]));
        meets(&t.result, outcome).then_some(()).ok_or_else(|| format!("#{} ({})", t.tc_id, t.comment))
    });
}

#[wasm_bindgen_test(unsupported = test)]
fn ed25519_verification_meets_its_published_vectors() {
    let set = wycheproof::eddsa::TestSet::load(wycheproof::eddsa::TestName::Ed25519).unwrap();
    let crypto = RustCrypto::default();
    run_all(each(&set.test_groups, |g| &g.tests), |g, t| {
        let verified = crypto.verify_signature(SignatureScheme::ED25519, &t.msg, &g.key.pk, &t.sig).is_ok();
        // A signature is either accepted (as the vector's own) or refused.
        meets(&t.result, verified.then_some(true))
            .then_some(())
            .ok_or_else(|| format!("#{} ({})", t.tc_id, t.comment))
    });
}

#[wasm_bindgen_test(unsupported = test)]
fn x25519_meets_its_published_vectors() {
    let set = wycheproof::xdh::TestSet::load(wycheproof::xdh::TestName::X25519).unwrap();
    run_all(each(&set.test_groups, |g| &g.tests), |_, t| {
        let shared = HpkeRustCrypto::dh(KemAlgorithm::DhKem25519, &t.public_key, &t.private_key).ok();
        let outcome = shared.map(|s| s == *t.shared_secret);
        meets(&t.result, outcome).then_some(()).ok_or_else(|| format!("#{} ({})", t.tc_id, t.comment))
    });
}
