//! The MLS working group's published test vectors (the
//! `mlswg/mls-implementations` repository's `test-vectors/`), run through
//! openmls with the provider each Parley device uses (`OpenMlsRustCrypto`),
//! natively and, from scripts/test, in headless Chromium.
//!
//! `tests/mls/passive-client-welcome.json` keeps the first two vectors of
//! that file as of its commit 00689bce (ciphersuite 1, Parley's), as
//! published. In each, a device
//! holding only its key package's private keys joins a group another
//! implementation made, from that implementation's welcome, and must end in
//! the epoch the group's members are in: the same epoch authenticator. The
//! welcome's group secrets are opened with HPKE, the group info is verified
//! and decrypted, the tree it carries checked and the key schedule run, so
//! a difference in any of them shows. (The file's other vectors, and the
//! passive client's commit vectors, use other ciphersuites or add members
//! from key packages whose lifetimes have ended, which openmls refuses
//! outside its own tests; the working group's key-schedule file kept here
//! predates RFC 9420's exporter.)

use openmls::key_packages::KeyPackageBundle;
use openmls::prelude::*;
use openmls::schedule::PreSharedKeyId;
use openmls::treesync::test_utils::write_keys_from_key_store;
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::OpenMlsProvider;
use openmls_traits::crypto::OpenMlsCrypto;
use openmls_traits::storage::StorageProvider;
use openmls_traits::types::{HpkeKeyPair, HpkePrivateKey};
use serde::Deserialize;
use tls_codec::{Deserialize as _, Serialize as _, VLBytes};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// The bytes a vector writes as hex.
#[derive(Deserialize)]
#[serde(try_from = "String")]
struct Hex(Vec<u8>);

impl TryFrom<String> for Hex {
    type Error = String;

    fn try_from(hex: String) -> Result<Hex, String> {
        if !hex.len().is_multiple_of(2) {
            return Err(format!("odd length hex: {hex}"));
        }
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|e| format!("{e} in {hex}")))
            .collect::<Result<_, _>>()
            .map(Hex)
    }
}

/// Refuses a vector of a ciphersuite the provider lacks (the checkers would
/// pass over it silently, and a vector that checks nothing must not pass).
fn supported(provider: &OpenMlsRustCrypto, suite: u16) -> Ciphersuite {
    let suite = Ciphersuite::try_from(suite).expect("a ciphersuite MLS defines");
    assert!(provider.crypto().supports(suite).is_ok(), "the provider lacks {suite:?}: drop its vectors");
    suite
}

/// One of the passive client's welcome vectors (each has no later epochs).
#[derive(Deserialize)]
struct PassiveClientWelcome {
    cipher_suite: u16,
    external_psks: Vec<ExternalPsk>,
    key_package: Hex,
    encryption_priv: Hex,
    init_priv: Hex,
    welcome: Hex,
    ratchet_tree: Option<Hex>,
    initial_epoch_authenticator: Hex,
    epochs: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct ExternalPsk {
    psk_id: Hex,
    psk: Hex,
}

fn vectors() -> Vec<PassiveClientWelcome> {
    let vectors: Vec<PassiveClientWelcome> =
        serde_json::from_str(include_str!("mls/passive-client-welcome.json")).expect("the vectors parse");
    assert_eq!(vectors.len(), 2);
    vectors
}

/// Keeps what the vector's device kept when it published its key package
/// (the package, its init key and its leaf's encryption key, and the
/// group's external PSKs), then joins from the welcome: the epoch
/// authenticator of the joined epoch, or why the join failed.
fn join(vector: PassiveClientWelcome) -> Result<Vec<u8>, String> {
    let provider = OpenMlsRustCrypto::default();
    supported(&provider, vector.cipher_suite);
    assert!(vector.epochs.is_empty(), "a welcome vector has no later epochs");
    for psk in vector.external_psks {
        PreSharedKeyId::external(psk.psk_id.0, vec![]).store(&provider, &psk.psk.0).expect("the PSK is kept");
    }

    let MlsMessageBodyIn::KeyPackage(key_package) =
        MlsMessageIn::tls_deserialize_exact(vector.key_package.0).expect("a message").extract()
    else {
        panic!("the vector's key package is not one");
    };
    let key_package = KeyPackage::from(key_package);
    // The leaf's public key, as its wire form writes it (variable-length bytes).
    let encryption_key =
        key_package.leaf_node().encryption_key().tls_serialize_detached().expect("the key encodes");
    let encryption_key = VLBytes::tls_deserialize_exact(encryption_key).expect("variable-length bytes");
    let bundle = KeyPackageBundle::new(
        key_package.clone(),
        HpkePrivateKey::from(vector.init_priv.0),
        vector.encryption_priv.0.clone().into(),
    );
    let hash_ref = key_package.hash_ref(provider.crypto()).expect("the package hashes");
    provider.storage().write_key_package(&hash_ref, &bundle).expect("the package is kept");
    write_keys_from_key_store(
        &provider,
        HpkeKeyPair {
            private: HpkePrivateKey::from(vector.encryption_priv.0),
            public: encryption_key.as_slice().to_vec(),
        },
    );

    let MlsMessageBodyIn::Welcome(welcome) = MlsMessageIn::tls_deserialize_exact(vector.welcome.0)
        .map_err(|e| format!("not a message: {e}"))?
        .extract()
    else {
        return Err("not a welcome".into());
    };
    let config = MlsGroupJoinConfig::builder()
        .use_ratchet_tree_extension(true)
        .wire_format_policy(MIXED_PLAINTEXT_WIRE_FORMAT_POLICY)
        .number_of_resumption_psks(16)
        .build();
    let mut join = StagedWelcome::build_from_welcome(&provider, &config, welcome)
        .map_err(|e| format!("the welcome does not open: {e}"))?
        // The vectors' key packages expired in 2024; their dates are not
        // what they test.
        .skip_lifetime_validation();
    if let Some(tree) = vector.ratchet_tree {
        join = join.with_ratchet_tree(RatchetTreeIn::tls_deserialize_exact(tree.0).expect("a ratchet tree"));
    }
    let group = join
        .build()
        .map_err(|e| format!("the group is not joined: {e}"))?
        .into_group(&provider)
        .map_err(|e| format!("the group is not kept: {e}"))?;
    Ok(group.epoch_authenticator().as_slice().to_vec())
}

#[wasm_bindgen_test(unsupported = test)]
fn a_device_joins_another_implementations_group_from_its_welcome() {
    for vector in vectors() {
        let expected = vector.initial_epoch_authenticator.0.clone();
        let joined = join(vector).unwrap_or_else(|why| panic!("{why}"));
        assert_eq!(joined, expected, "the joined epoch differs from the one its members are in");
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn a_welcome_altered_in_transit_is_refused() {
    let mut vector = vectors().remove(0);
    // The last byte: the AEAD tag of the encrypted group info.
    *vector.welcome.0.last_mut().expect("a welcome has bytes") ^= 0x01;
    assert!(join(vector).is_err(), "an altered welcome was joined");
}
