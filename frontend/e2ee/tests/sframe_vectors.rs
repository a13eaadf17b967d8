//! RFC 9605's published SFrame vector for the cipher suite calls use
//! (AES_128_GCM_SHA256_128, its appendix C), through the `sframe` crate as
//! `e2ee::CallCrypto` calls it: the key derived from the base key and key
//! id, the frame's header, ciphertext and tag, with the metadata that
//! stays in the clear authenticated. Natively and, from scripts/test, in
//! headless Chromium, where the browser's build of it runs.

use sframe::CipherSuite;
use sframe::frame::{EncryptedFrameView, MediaFrameView, MonotonicCounter};
use sframe::key::{DecryptionKey, EncryptionKey};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

const KID: u64 = 0x123;
const CTR: u64 = 0x4567;
const BASE_KEY: &str = "000102030405060708090a0b0c0d0e0f";
const METADATA: &str = "4945544620534672616d65205747";
const PLAINTEXT: &str = "64726166742d696574662d736672616d652d656e63";
const CIPHERTEXT: &str =
    "9901234567b7412c2513a1b66dbb48841bbaf17f598751176ad847681a69c6d0b091c07018ce4adb34eb";

#[wasm_bindgen_test(unsupported = test)]
fn a_frame_encrypts_to_the_published_ciphertext() {
    let key = EncryptionKey::derive_from(CipherSuite::AesGcm128Sha256, KID, unhex(BASE_KEY)).unwrap();
    let mut counter = MonotonicCounter::with_start_value(CTR, u64::MAX);
    let (plain, metadata) = (unhex(PLAINTEXT), unhex(METADATA));
    let frame = MediaFrameView::try_with_meta_data(&mut counter, &plain, &metadata).unwrap();
    let sealed = frame.encrypt(&key).unwrap();
    assert_eq!(sealed.sframe_cipher_text(), unhex(CIPHERTEXT));
    assert_eq!(sealed.as_ref(), [metadata, unhex(CIPHERTEXT)].concat(), "the metadata first, in the clear");
}

#[wasm_bindgen_test(unsupported = test)]
fn the_published_ciphertext_decrypts_and_its_metadata_is_authenticated() {
    let key = DecryptionKey::derive_from(CipherSuite::AesGcm128Sha256, KID, unhex(BASE_KEY)).unwrap();
    let (sealed, metadata) = (unhex(CIPHERTEXT), unhex(METADATA));
    let frame = EncryptedFrameView::try_with_meta_data(&sealed, &metadata).unwrap();
    assert_eq!(frame.header().key_id(), KID);
    assert_eq!(frame.header().counter(), CTR);
    assert_eq!(frame.decrypt(&key).unwrap().payload(), unhex(PLAINTEXT));
    let mut changed = metadata.clone();
    changed[0] ^= 1;
    let frame = EncryptedFrameView::try_with_meta_data(&sealed, &changed).unwrap();
    assert!(frame.decrypt(&key).is_err(), "changed metadata does not authenticate");
}
