//! Devices in one conversation, with the server's part (handing out key
//! packages, accepting one commit per epoch, delivering) played in the test:
//! what each device can and cannot read. Run natively and in headless
//! Chromium, where the browser's build of the cryptography runs.

use e2ee::{
    Backup, CallCrypto, Claimed, Content, Device, DeviceKeys, DeviceRef, Error, FileKey, Identity, Media,
    PagePreview, Received, RecoveryKey, SharedHistory, SharedMessage, device_signed, safety_number,
};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

// Natively a plain test; in headless Chromium from scripts/test.
wasm_bindgen_test_configure!(run_in_browser);

fn device(user: i64, number: i64) -> Device {
    Device::new(DeviceRef { user, device: number }, DeviceKeys::generate().unwrap()).unwrap()
}

/// What the server would hand out for `device`: one of its key packages,
/// with the signature key it recorded, vouched for by its person's identity.
fn claim(device: &Device) -> Claimed {
    let identity = Identity::generate().unwrap();
    Claimed {
        device: device.me(),
        signature_key: device.signature_key(),
        key_package: device.key_packages(1).unwrap().remove(0),
        identity_key: identity.public(),
        identity_signature: identity.sign_device(device.me().user, &device.signature_key()).unwrap(),
    }
}

fn text(t: &str) -> Content {
    Content::of_text(t)
}

const DM: i64 = 42;
/// The largest shared history the server keeps (640 KiB).
const HISTORY_BYTES: usize = 640 << 10;

/// Alice starts the conversation and adds Bob's device; both at epoch 1.
fn alice_and_bob() -> (Device, Device) {
    let (mut alice, mut bob) = (device(1, 10), device(2, 20));
    alice.start(DM).unwrap();
    let commit = alice.change_members(DM, &[claim(&bob)], &[]).unwrap();
    assert_eq!(commit.epoch, 0);
    alice.commit_accepted(DM).unwrap();
    assert_eq!(bob.join(&commit.welcome.unwrap()).unwrap(), DM);
    (alice, bob)
}

#[wasm_bindgen_test(unsupported = test)]
fn an_added_device_reads_what_is_sent_after() {
    let (mut alice, mut bob) = alice_and_bob();
    assert_eq!(alice.members(DM).unwrap(), vec![alice.me(), bob.me()]);
    assert_eq!(bob.epoch(DM).unwrap(), 1);
    let sent = alice.encrypt(DM, &text("hello Bob")).unwrap();
    assert!(!sent.windows(9).any(|w| w == b"hello Bob"), "the text travels encrypted");
    assert_eq!(
        bob.receive(DM, &sent).unwrap(),
        Received::Message { from: alice.me(), content: text("hello Bob") }
    );
    let reply = bob.encrypt(DM, &text("hi Alice")).unwrap();
    assert_eq!(
        alice.receive(DM, &reply).unwrap(),
        Received::Message { from: bob.me(), content: text("hi Alice") }
    );
}

#[wasm_bindgen_test(unsupported = test)]
fn a_removed_device_cannot_read_what_follows() {
    let (mut alice, mut bob) = alice_and_bob();
    let carol = device(3, 30);
    let mut carol = carol;
    let commit = alice.change_members(DM, &[claim(&carol)], &[]).unwrap();
    alice.commit_accepted(DM).unwrap();
    bob.receive(DM, &commit.commit).unwrap();
    carol.join(&commit.welcome.unwrap()).unwrap();

    let removal = alice.change_members(DM, &[], &[carol.me()]).unwrap();
    alice.commit_accepted(DM).unwrap();
    assert_eq!(
        bob.receive(DM, &removal.commit).unwrap(),
        Received::Commit { epoch: 3, members: vec![alice.me(), bob.me()] }
    );
    assert!(matches!(carol.receive(DM, &removal.commit).unwrap(), Received::Commit { .. }));
    assert!(!carol.is_in(DM), "the removed device dropped its keys");

    let secret = alice.encrypt(DM, &text("after Carol left")).unwrap();
    assert!(matches!(carol.receive(DM, &secret), Err(Error::NotInConversation(DM))));
    assert!(matches!(bob.receive(DM, &secret).unwrap(), Received::Message { .. }));
}

#[wasm_bindgen_test(unsupported = test)]
fn a_device_keeps_nothing_of_what_was_sent_before_it_joined() {
    let (mut alice, mut bob) = alice_and_bob();
    let before = alice.encrypt(DM, &text("before Carol")).unwrap();
    bob.receive(DM, &before).unwrap();
    let mut carol = device(3, 30);
    let commit = alice.change_members(DM, &[claim(&carol)], &[]).unwrap();
    alice.commit_accepted(DM).unwrap();
    carol.join(&commit.welcome.unwrap()).unwrap();
    assert!(matches!(carol.receive(DM, &before), Err(Error::Mls(_) | Error::WrongEpoch { .. })));
}

/// Alice adds Carol's device to her conversation with Bob: the commit,
/// applied by Bob, and Carol joined.
fn carol_added_after(alice: &mut Device, bob: &mut Device) -> Device {
    let mut carol = device(3, 30);
    let commit = alice.change_members(DM, &[claim(&carol)], &[]).unwrap();
    alice.commit_accepted(DM).unwrap();
    bob.receive(DM, &commit.commit).unwrap();
    carol.join(&commit.welcome.unwrap()).unwrap();
    carol
}

fn history_of(said: &[(i64, &str)]) -> SharedHistory {
    SharedHistory {
        messages: said
            .iter()
            .map(|(id, t)| SharedMessage { id: *id, edited_at: None, content: text(t) })
            .collect(),
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn a_device_added_later_reads_the_history_shared_with_it() {
    let (mut alice, mut bob) = alice_and_bob();
    let before = alice.encrypt(DM, &text("before Carol")).unwrap();
    bob.receive(DM, &before).unwrap();
    let mut carol = carol_added_after(&mut alice, &mut bob);
    let history = history_of(&[(7, "before Carol"), (8, "and again")]);

    let shared = alice.share_history(DM, &history, HISTORY_BYTES).unwrap().unwrap();
    assert!(!shared.windows(12).any(|w| w == b"before Carol"), "the history travels encrypted");
    assert_eq!(carol.read_history(DM, &shared).unwrap(), (alice.me(), history));
    // Alice goes on in the same epoch, and Carol reads her as before.
    let after = alice.encrypt(DM, &text("welcome Carol")).unwrap();
    assert_eq!(
        carol.receive(DM, &after).unwrap(),
        Received::Message { from: alice.me(), content: text("welcome Carol") }
    );
}

#[wasm_bindgen_test(unsupported = test)]
fn a_shared_history_leaves_out_the_oldest_messages_that_do_not_fit() {
    let (mut alice, mut bob) = alice_and_bob();
    let mut carol = carol_added_after(&mut alice, &mut bob);
    let long = "é".repeat(4000); // 8,000 bytes of text each
    let said = SharedHistory {
        messages: (0..100).map(|id| SharedMessage { id, edited_at: None, content: text(&long) }).collect(),
    };
    const MOST: usize = 64 << 10;
    let shared = alice.share_history(DM, &said, MOST).unwrap().unwrap();
    assert!(shared.len() <= MOST, "{} bytes", shared.len());
    let read = carol.read_history(DM, &shared).unwrap().1;
    let ids: Vec<i64> = read.messages.iter().map(|m| m.id).collect();
    // Eight messages of 8,000 bytes fit in 64 KiB with the framing, a ninth does not.
    assert_eq!(ids, (92..100).collect::<Vec<_>>(), "the newest that fit, oldest first");
    assert_eq!(read.messages[0].content, text(&long));
}

#[wasm_bindgen_test(unsupported = test)]
fn a_shared_history_whose_latest_message_does_not_fit_is_not_shared() {
    let (mut alice, mut bob) = alice_and_bob();
    carol_added_after(&mut alice, &mut bob);
    let said = history_of(&[(7, &"x".repeat(2000))]);
    assert_eq!(alice.share_history(DM, &said, 2000).unwrap(), None);
}

#[wasm_bindgen_test(unsupported = test)]
fn a_shared_history_is_not_read_as_a_message_nor_a_message_as_a_history() {
    let (mut alice, mut bob) = alice_and_bob();
    let mut carol = carol_added_after(&mut alice, &mut bob);
    let shared = alice.share_history(DM, &history_of(&[(7, "said before")]), HISTORY_BYTES).unwrap().unwrap();
    assert!(matches!(carol.receive(DM, &shared), Err(Error::Malformed(_))));
    let message = alice.encrypt(DM, &text("a message")).unwrap();
    assert!(matches!(carol.read_history(DM, &message), Err(Error::Malformed(_))));
}

#[wasm_bindgen_test(unsupported = test)]
fn a_device_removed_before_a_history_was_shared_cannot_read_it() {
    let (mut alice, mut bob) = alice_and_bob();
    let mut carol = carol_added_after(&mut alice, &mut bob);
    let removal = alice.change_members(DM, &[], &[bob.me()]).unwrap();
    alice.commit_accepted(DM).unwrap();
    bob.receive(DM, &removal.commit).unwrap();
    carol.receive(DM, &removal.commit).unwrap();
    let shared = alice.share_history(DM, &history_of(&[(7, "not for Bob")]), HISTORY_BYTES).unwrap().unwrap();
    assert!(matches!(bob.read_history(DM, &shared), Err(Error::NotInConversation(DM))));
    assert_eq!(carol.read_history(DM, &shared).unwrap().1, history_of(&[(7, "not for Bob")]));
}

// Calls: SFrame keys from the group.

/// A frame of each kind, as a browser's encoder gives them: Opus, and a
/// VP8 key frame (the lowest bit of its first byte 0) and delta frame.
const AUDIO: &[u8] = b"an opus frame of the fake microphone's beep";
const KEY_FRAME: &[u8] = b"\x10\x02\x00\x9d\x01\x2a\x80\x02\xe0\x01 a VP8 key frame's picture";
const DELTA_FRAME: &[u8] = b"\x31\x02\x00 a VP8 delta frame's changes";

#[wasm_bindgen_test(unsupported = test)]
fn a_call_frame_one_member_sends_is_read_by_another() {
    let (alice, bob) = alice_and_bob();
    let (ak, bk) = (alice.call_keys(DM).unwrap(), bob.call_keys(DM).unwrap());
    assert_eq!((ak.epoch, bk.epoch), (1, 1));
    assert_ne!(ak.index, bk.index, "each sends with a key of its own");
    let (mut alice, mut bob) = (CallCrypto::new(ak).unwrap(), CallCrypto::new(bk).unwrap());
    let sent = alice.encrypt(Media::Audio, AUDIO).unwrap();
    assert!(!sent.windows(10).any(|w| AUDIO.windows(10).any(|a| a == w)), "no run of the frame in the clear");
    assert_eq!(bob.decrypt(Media::Audio, &sent).unwrap(), AUDIO);
    let reply = bob.encrypt(Media::Audio, AUDIO).unwrap();
    assert_ne!(reply, sent);
    assert_eq!(alice.decrypt(Media::Audio, &reply).unwrap(), AUDIO);
}

#[wasm_bindgen_test(unsupported = test)]
fn a_video_frame_keeps_its_vp8_header_in_the_clear_and_authenticated() {
    let (alice, bob) = alice_and_bob();
    let mut alice = CallCrypto::new(alice.call_keys(DM).unwrap()).unwrap();
    let mut bob = CallCrypto::new(bob.call_keys(DM).unwrap()).unwrap();
    for (frame, clear) in [(KEY_FRAME, 10), (DELTA_FRAME, 3)] {
        let sent = alice.encrypt(Media::Video, frame).unwrap();
        assert_eq!(sent[..clear], frame[..clear], "the payload header in the clear");
        assert!(!sent.windows(8).any(|w| w == b"a VP8 ke" || w == b"a VP8 de"), "the rest encrypted");
        assert_eq!(bob.decrypt(Media::Video, &sent).unwrap(), frame);
        let mut changed = sent.clone();
        changed[1] ^= 0x40;
        assert!(matches!(bob.decrypt(Media::Video, &changed), Err(Error::Malformed(_))));
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn garbage_is_not_read_as_a_call_frame() {
    let (_, bob) = alice_and_bob();
    let mut bob = CallCrypto::new(bob.call_keys(DM).unwrap()).unwrap();
    assert!(bob.decrypt(Media::Audio, AUDIO).is_err());
    assert!(bob.decrypt(Media::Audio, &[]).is_err());
}

#[wasm_bindgen_test(unsupported = test)]
fn frames_sent_before_a_change_of_keys_still_read_and_the_oldest_keys_go() {
    let (mut alice, mut bob) = alice_and_bob();
    let mut alice_call = CallCrypto::new(alice.call_keys(DM).unwrap()).unwrap();
    let mut bob_call = CallCrypto::new(bob.call_keys(DM).unwrap()).unwrap();
    let at_1 = alice_call.encrypt(Media::Audio, AUDIO).unwrap();
    let carol = carol_added_after(&mut alice, &mut bob);
    // Epoch 2: both take its keys, and Alice goes on sending with epoch 1's.
    alice_call.add_epoch(alice.call_keys(DM).unwrap()).unwrap();
    bob_call.add_epoch(bob.call_keys(DM).unwrap()).unwrap();
    assert_eq!(alice_call.sending_epoch(), 1);
    assert_eq!(
        bob_call.decrypt(Media::Audio, &alice_call.encrypt(Media::Audio, AUDIO).unwrap()).unwrap(),
        AUDIO
    );
    alice_call.send_with_newest().unwrap();
    assert_eq!(alice_call.sending_epoch(), 2);
    let at_2 = alice_call.encrypt(Media::Audio, AUDIO).unwrap();
    assert_eq!(bob_call.decrypt(Media::Audio, &at_2).unwrap(), AUDIO);
    let mut carol_call = CallCrypto::new(carol.call_keys(DM).unwrap()).unwrap();
    assert_eq!(
        carol_call.decrypt(Media::Audio, &at_2).unwrap(),
        AUDIO,
        "the added device hears what follows"
    );
    assert!(matches!(carol_call.decrypt(Media::Audio, &at_1), Err(Error::NoCallKey)), "but nothing before");
    // Epoch 3 (Carol removed): epoch 1's keys are forgotten.
    let removal = alice.change_members(DM, &[], &[carol.me()]).unwrap();
    alice.commit_accepted(DM).unwrap();
    bob.receive(DM, &removal.commit).unwrap();
    bob_call.add_epoch(bob.call_keys(DM).unwrap()).unwrap();
    assert!(matches!(bob_call.decrypt(Media::Audio, &at_1), Err(Error::NoCallKey)));
    assert_eq!(bob_call.decrypt(Media::Audio, &at_2).unwrap(), AUDIO);
}

#[wasm_bindgen_test(unsupported = test)]
fn a_device_removed_from_the_group_cannot_read_the_frames_sent_after() {
    let (mut alice, mut bob) = alice_and_bob();
    let mut carol = carol_added_after(&mut alice, &mut bob);
    let mut carol_call = CallCrypto::new(carol.call_keys(DM).unwrap()).unwrap();
    let removal = alice.change_members(DM, &[], &[carol.me()]).unwrap();
    alice.commit_accepted(DM).unwrap();
    carol.receive(DM, &removal.commit).unwrap();
    assert!(matches!(carol.call_keys(DM), Err(Error::NotInConversation(DM))), "no keys of the new epoch");
    let mut alice_call = CallCrypto::new(alice.call_keys(DM).unwrap()).unwrap();
    let after = alice_call.encrypt(Media::Audio, AUDIO).unwrap();
    assert!(matches!(carol_call.decrypt(Media::Audio, &after), Err(Error::NoCallKey)));
}

#[wasm_bindgen_test(unsupported = test)]
fn a_key_package_for_another_device_is_refused() {
    let mut alice = device(1, 10);
    alice.start(DM).unwrap();
    let (bob, mallory) = (device(2, 20), device(9, 90));
    // The server says "this is Bob's device" but hands out Mallory's package.
    let forged = Claimed { key_package: claim(&mallory).key_package, ..claim(&bob) };
    assert!(
        matches!(alice.change_members(DM, &[forged], &[]), Err(Error::ForeignKeyPackage(d)) if d == bob.me())
    );
    // Or Bob's package with a signature key that is not the one recorded.
    let swapped = Claimed { signature_key: mallory.signature_key(), ..claim(&bob) };
    assert!(matches!(alice.change_members(DM, &[swapped], &[]), Err(Error::ForeignKeyPackage(_))));
}

#[wasm_bindgen_test(unsupported = test)]
fn of_two_devices_starting_a_conversation_the_refused_one_is_welcomed() {
    let (mut alice, mut bob) = (device(1, 10), device(2, 20));
    alice.start(DM).unwrap();
    bob.start(DM).unwrap();
    let from_alice = alice.change_members(DM, &[claim(&bob)], &[]).unwrap();
    let _from_bob = bob.change_members(DM, &[claim(&alice)], &[]).unwrap();
    // The server accepted Alice's commit for epoch 0 first.
    alice.commit_accepted(DM).unwrap();
    bob.commit_refused(DM).unwrap();
    assert!(!bob.is_in(DM));
    bob.join(&from_alice.welcome.unwrap()).unwrap();
    let sent = bob.encrypt(DM, &text("one conversation")).unwrap();
    assert!(matches!(alice.receive(DM, &sent).unwrap(), Received::Message { .. }));
}

#[wasm_bindgen_test(unsupported = test)]
fn a_message_from_a_later_epoch_is_reported_as_such() {
    let (mut alice, mut bob) = alice_and_bob();
    let carol = device(3, 30);
    alice.change_members(DM, &[claim(&carol)], &[]).unwrap();
    alice.commit_accepted(DM).unwrap();
    // Bob has not yet had the commit.
    let sent = alice.encrypt(DM, &text("epoch 2")).unwrap();
    assert!(matches!(bob.receive(DM, &sent), Err(Error::WrongEpoch { epoch: 2, at: 1 })));
}

#[wasm_bindgen_test(unsupported = test)]
fn a_saved_device_restored_reads_and_sends_as_before() {
    let (mut alice, bob) = alice_and_bob();
    let saved = bob.save().unwrap();
    drop(bob);
    let mut bob = Device::restore(&saved).unwrap();
    assert_eq!(bob.me(), DeviceRef { user: 2, device: 20 });
    assert_eq!(bob.epoch(DM).unwrap(), 1);
    let sent = alice.encrypt(DM, &text("after the restart")).unwrap();
    assert_eq!(
        bob.receive(DM, &sent).unwrap(),
        Received::Message { from: alice.me(), content: text("after the restart") }
    );
    let reply = bob.encrypt(DM, &text("still here")).unwrap();
    assert!(matches!(alice.receive(DM, &reply).unwrap(), Received::Message { .. }));
    // Its key packages still open welcomes made for it before it was saved.
    let mut carol = device(3, 30);
    let package = claim(&carol);
    let carol_saved = Device::restore(&carol.save().unwrap()).unwrap();
    let commit = alice.change_members(DM, &[package], &[]).unwrap();
    alice.commit_accepted(DM).unwrap();
    carol = carol_saved;
    assert_eq!(carol.join(&commit.welcome.unwrap()).unwrap(), DM);
}

#[wasm_bindgen_test(unsupported = test)]
fn a_saved_device_is_not_readable_as_anything_else() {
    assert!(matches!(Device::restore(b"{}"), Err(Error::Malformed(_))));
}

#[wasm_bindgen_test(unsupported = test)]
fn a_device_not_signed_by_its_persons_identity_is_refused() {
    let mut alice = device(1, 10);
    alice.start(DM).unwrap();
    let bob = device(2, 20);
    let mallory = Identity::generate().unwrap();
    // Signed by another identity than the one the server names for bob.
    let wrong =
        Claimed { identity_signature: mallory.sign_device(2, &bob.signature_key()).unwrap(), ..claim(&bob) };
    assert!(
        matches!(alice.change_members(DM, &[wrong], &[]), Err(Error::UnsignedDevice(d)) if d == bob.me())
    );
    // A signature for another person's device of the same key does not count either.
    let identity = Identity::generate().unwrap();
    let signature = identity.sign_device(3, &bob.signature_key()).unwrap();
    assert!(!device_signed(&identity.public(), 2, &bob.signature_key(), &signature));
    assert!(device_signed(&identity.public(), 3, &bob.signature_key(), &signature));
}

#[wasm_bindgen_test(unsupported = test)]
fn both_people_compute_the_same_safety_number_and_it_changes_with_a_key() {
    let (ana, bob) = (Identity::generate().unwrap(), Identity::generate().unwrap());
    let number = safety_number((1, &ana.public()), (2, &bob.public()));
    assert_eq!(number, safety_number((2, &bob.public()), (1, &ana.public())));
    assert_eq!(number.split(' ').count(), 12);
    assert!(number.split(' ').all(|g| g.len() == 5 && g.chars().all(|c| c.is_ascii_digit())));
    let new_bob = Identity::generate().unwrap();
    assert_ne!(number, safety_number((1, &ana.public()), (2, &new_bob.public())));
    let restored = Identity::restore(&ana.save().unwrap()).unwrap();
    assert_eq!(restored.public(), ana.public());
}

#[wasm_bindgen_test(unsupported = test)]
fn a_backup_opens_with_its_recovery_key_alone() {
    let (mut alice, bob) = alice_and_bob();
    let identity = Identity::generate().unwrap();
    let key = RecoveryKey::generate().unwrap();
    let backup = Backup { identity: identity.save().unwrap(), device: Some(bob.save().unwrap()) };
    let sealed = backup.seal(&key).unwrap();
    // The key as shown, typed back with other spacing and case.
    let shown = key.to_text();
    assert_eq!(shown.split(' ').count(), 13);
    let typed = RecoveryKey::parse(&shown.to_lowercase().replace(' ', "")).unwrap();
    let opened = Backup::open(&sealed, &typed).unwrap();
    assert_eq!(Identity::restore(&opened.identity).unwrap().public(), identity.public());
    let mut bob = Device::restore(&opened.device.unwrap()).unwrap();
    let sent = alice.encrypt(DM, &text("welcome back")).unwrap();
    assert!(matches!(bob.receive(DM, &sent).unwrap(), Received::Message { .. }));

    let other = RecoveryKey::generate().unwrap();
    assert!(matches!(Backup::open(&sealed, &other), Err(Error::WrongRecoveryKey)));
    assert!(matches!(RecoveryKey::parse("not a key"), Err(Error::WrongRecoveryKey)));
}

#[wasm_bindgen_test(unsupported = test)]
fn an_own_copy_opens_with_its_authors_recovery_key_for_its_conversation_only() {
    let key = RecoveryKey::generate().unwrap();
    let content = Content { previews: Vec::new(), ..text("what I said") };
    let sealed = content.seal_own(&key, DM).unwrap();
    assert!(!sealed.windows(11).any(|w| w == b"what I said"));
    // The key as typed back after every device was lost.
    let typed = RecoveryKey::parse(&key.to_text()).unwrap();
    assert_eq!(Content::open_own(&sealed, &typed, DM).unwrap(), content);
    assert_ne!(content.seal_own(&key, DM).unwrap(), sealed, "a new nonce each time");

    let reset = RecoveryKey::generate().unwrap();
    assert!(matches!(Content::open_own(&sealed, &reset, DM), Err(Error::OwnCopySealedElsewhere)));
    assert!(matches!(Content::open_own(&sealed, &key, DM + 1), Err(Error::OwnCopySealedElsewhere)));
    // Nor does a key backup pass for one: the two keys differ.
    let backup = Backup { identity: Identity::generate().unwrap().save().unwrap(), device: None };
    let sealed_backup = backup.seal(&key).unwrap();
    assert!(matches!(Content::open_own(&sealed_backup, &key, DM), Err(Error::OwnCopySealedElsewhere)));
}

#[wasm_bindgen_test(unsupported = test)]
fn a_file_sent_with_a_message_opens_with_the_key_the_message_carries() {
    let (mut alice, mut bob) = alice_and_bob();
    let report = b"quarterly figures: 42".repeat(100);
    let (key, uploaded) = FileKey::seal("report.txt", "text/plain", &report).unwrap();
    assert_eq!(uploaded.len() as u64, report.len() as u64 + e2ee::FILE_OVERHEAD);
    assert!(!uploaded.windows(10).any(|w| w == b"quarterly "), "the upload is encrypted");
    let sent = alice.encrypt(DM, &Content { files: vec![key], ..text("the report") }).unwrap();
    let Received::Message { content, .. } = bob.receive(DM, &sent).unwrap() else { panic!("a message") };
    let file = &content.files[0];
    assert_eq!((file.name.as_str(), file.mime.as_str(), file.size), ("report.txt", "text/plain", 2100));
    assert_eq!(file.open(&uploaded).unwrap(), report);
}

#[wasm_bindgen_test(unsupported = test)]
fn a_senders_link_previews_travel_inside_the_encryption() {
    let (mut alice, mut bob) = alice_and_bob();
    let preview = PagePreview {
        url: "https://tides.example/bay".into(),
        title: "Tide tables for the bay".into(),
        description: "High water at 06:12.".into(),
        site_name: "Harbour Office".into(),
    };
    let content = Content { previews: vec![preview], ..text("tides: https://tides.example/bay") };
    let sent = alice.encrypt(DM, &content).unwrap();
    assert!(!sent.windows(11).any(|w| w == b"Tide tables"), "the preview is encrypted");
    let Received::Message { content: read, .. } = bob.receive(DM, &sent).unwrap() else {
        panic!("a message")
    };
    assert_eq!(read, content);
}

#[wasm_bindgen_test(unsupported = test)]
fn a_file_does_not_open_with_another_files_key_nor_once_changed() {
    let (first, uploaded) = FileKey::seal("a.txt", "text/plain", b"first").unwrap();
    let (second, _) = FileKey::seal("a.txt", "text/plain", b"first").unwrap();
    assert!(matches!(second.open(&uploaded), Err(Error::Malformed(_))), "each file has its own key");
    let mut changed = uploaded.clone();
    changed[0] ^= 1;
    assert!(matches!(first.open(&changed), Err(Error::Malformed(_))));
    assert_eq!(first.open(&uploaded).unwrap(), b"first");
}

#[wasm_bindgen_test(unsupported = test)]
fn a_message_of_text_only_reads_as_before_files_were_sent() {
    let (mut alice, mut bob) = alice_and_bob();
    let sent = alice.encrypt(DM, &text("no files")).unwrap();
    let Received::Message { content, .. } = bob.receive(DM, &sent).unwrap() else { panic!("a message") };
    assert!(content.files.is_empty());
    let old: Content = serde_json::from_str(r#"{"text":"written before"}"#).unwrap();
    assert_eq!(old, text("written before"), "messages sent before files leave them out");
}
