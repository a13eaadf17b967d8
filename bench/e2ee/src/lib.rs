//! End-to-end encryption's costs, measured by [`measure`] with whatever
//! clock it is given: `performance.now()` in headless Chromium
//! (`tests/in_browser.rs`, run by `wasm-bindgen-test-runner`), `Instant`
//! natively (`src/main.rs`). `scripts/bench` (`PARLEY_BENCH=e2ee`) runs both.

use e2ee::{
    CallCrypto, Claimed, Content, Device, DeviceKeys, DeviceRef, FileKey, Identity, Media, Received,
    SearchKey, Searchable, SharedHistory, SharedMessage,
};

/// One figure: what was measured, and its mean in milliseconds.
pub struct Figure {
    pub what: &'static str,
    pub ms: f64,
}

const CONVERSATION: i64 = 7;
/// Messages encrypted and decrypted for the per-message means.
const MESSAGES: usize = 200;
/// People in the conversation a member's device is added to.
const PEOPLE: i64 = 100;
/// Messages a browser keeps for search, each sealed on its own.
const KEPT_FOR_SEARCH: usize = 10_000;
/// Frames of a call encrypted and decrypted for the per-frame means, and
/// each one's size.
const FRAMES: usize = 2_000;
const FRAME_BYTES: usize = 1_200;
/// The largest shared history the server keeps (640 KiB).
const SHARED_HISTORY_BYTES: usize = 640 << 10;

/// A person's device, and what the server would hand out to add it.
struct Person {
    device: Device,
    identity: Identity,
}

impl Person {
    fn new(user: i64) -> Person {
        let me = DeviceRef { user, device: user * 10 };
        Person {
            device: Device::new(me, DeviceKeys::generate().unwrap()).unwrap(),
            identity: Identity::generate().unwrap(),
        }
    }

    fn claimed(&self) -> Claimed {
        let (me, key) = (self.device.me(), self.device.signature_key());
        Claimed {
            device: me,
            signature_key: key.clone(),
            key_package: self.device.key_packages(1).unwrap().remove(0),
            identity_key: self.identity.public(),
            identity_signature: self.identity.sign_device(me.user, &key).unwrap(),
        }
    }
}

/// Milliseconds `work` took, by `now`.
fn timed<T>(now: &dyn Fn() -> f64, work: impl FnOnce() -> T) -> (T, f64) {
    let start = now();
    let out = work();
    (out, now() - start)
}

/// The figures, each a mean over what it names.
pub fn measure(now: &dyn Fn() -> f64) -> Vec<Figure> {
    let mut figures = Vec::new();
    // Two people: a message's encryption and decryption.
    let (mut ana, mut bob) = (Person::new(1), Person::new(2));
    ana.device.start(CONVERSATION).unwrap();
    let commit = ana.device.change_members(CONVERSATION, &[bob.claimed()], &[]).unwrap();
    ana.device.commit_accepted(CONVERSATION).unwrap();
    bob.device.join(&commit.welcome.unwrap()).unwrap();
    let text = Content::of_text(
        "Are we still on for the design review at three? I'll bring the mock-ups.".repeat(3),
    );
    let (sent, encrypting) = timed(now, || {
        (0..MESSAGES).map(|_| ana.device.encrypt(CONVERSATION, &text).unwrap()).collect::<Vec<_>>()
    });
    let (_, decrypting) = timed(now, || {
        for message in &sent {
            let read = bob.device.receive(CONVERSATION, message).unwrap();
            assert!(matches!(read, Received::Message { .. }));
        }
    });
    figures.push(Figure { what: "encrypt a message (216 characters)", ms: encrypting / MESSAGES as f64 });
    figures.push(Figure { what: "decrypt a message", ms: decrypting / MESSAGES as f64 });

    // A call: video frames encrypted by one browser, decrypted by another
    // (a frame of 1,200 bytes: a VP8 delta frame of a small camera picture).
    let (mut ana_call, mut bob_call) = (
        CallCrypto::new(ana.device.call_keys(CONVERSATION).unwrap()).unwrap(),
        CallCrypto::new(bob.device.call_keys(CONVERSATION).unwrap()).unwrap(),
    );
    let frame: Vec<u8> = std::iter::once(0x31).chain((1..FRAME_BYTES).map(|i| i as u8)).collect();
    let (sealed, sealing) = timed(now, || {
        (0..FRAMES).map(|_| ana_call.encrypt(Media::Video, &frame).unwrap()).collect::<Vec<_>>()
    });
    let (_, opening) = timed(now, || {
        for sealed in &sealed {
            assert_eq!(bob_call.decrypt(Media::Video, sealed).unwrap().len(), FRAME_BYTES);
        }
    });
    figures.push(Figure { what: "encrypt a call's video frame (1,200 bytes)", ms: sealing / FRAMES as f64 });
    figures.push(Figure { what: "decrypt a call's video frame", ms: opening / FRAMES as f64 });

    // A file sent with a message: sealed with its own key, opened by the reader.
    let photo = vec![7u8; 1024 * 1024];
    let ((key, sealed), sealing) = timed(now, || FileKey::seal("photo.jpg", "image/jpeg", &photo).unwrap());
    let (opened, opening) = timed(now, || key.open(&sealed).unwrap());
    assert_eq!(opened.len(), photo.len());
    figures.push(Figure { what: "encrypt a 1 MiB file", ms: sealing });
    figures.push(Figure { what: "decrypt a 1 MiB file", ms: opening });

    // A conversation of 100 people, one device each; then one more device.
    let mut people: Vec<Person> = (1..=PEOPLE).map(Person::new).collect();
    let claimed: Vec<Claimed> = people[1..].iter().map(Person::claimed).collect();
    people[0].device.start(CONVERSATION).unwrap();
    let commit = people[0].device.change_members(CONVERSATION, &claimed, &[]).unwrap();
    people[0].device.commit_accepted(CONVERSATION).unwrap();
    let welcome = commit.welcome.unwrap();
    let (_, joining) = timed(now, || people[1].device.join(&welcome).unwrap());
    let newcomer = Person::new(PEOPLE + 1);
    let offer = newcomer.claimed();
    let (commit, adding) =
        timed(now, || people[0].device.change_members(CONVERSATION, &[offer], &[]).unwrap());
    people[0].device.commit_accepted(CONVERSATION).unwrap();
    let (_, applying) = timed(now, || people[1].device.receive(CONVERSATION, &commit.commit).unwrap());
    let mut newcomer = newcomer;
    let (_, welcomed) = timed(now, || newcomer.device.join(&commit.welcome.unwrap()).unwrap());
    figures.push(Figure { what: "100 people: a member joins from the welcome", ms: joining });
    figures.push(Figure { what: "100 people: add a device (the commit and its welcome)", ms: adding });
    figures.push(Figure { what: "100 people: a member applies that commit", ms: applying });
    figures.push(Figure { what: "100 people: the added device joins", ms: welcomed });

    // The adding device shares the latest 100 messages with the added one.
    let history = SharedHistory {
        messages: (0..100).map(|id| SharedMessage { id, edited_at: None, content: text.clone() }).collect(),
    };
    let (shared, sharing) = timed(now, || {
        people[0].device.share_history(CONVERSATION, &history, SHARED_HISTORY_BYTES).unwrap().unwrap()
    });
    let ((_, read), reading) = timed(now, || newcomer.device.read_history(CONVERSATION, &shared).unwrap());
    assert_eq!(read.messages.len(), 100);
    figures.push(Figure { what: "share the latest 100 messages with an added device", ms: sharing });
    figures.push(Figure { what: "the added device reads those 100 messages", ms: reading });

    // Search in the browser: every entry kept is opened and matched (what
    // IndexedDB takes to hand them over is not counted).
    let key = SearchKey::generate().unwrap();
    let kept: Vec<Vec<u8>> = (0..KEPT_FOR_SEARCH as i64)
        .map(|n| {
            let entry = Searchable {
                message: n,
                workspace: "1".into(),
                conversation: CONVERSATION,
                label: "#design".into(),
                author: "Ana".into(),
                at: n,
                text: format!("Message {n}: are we still on for the design review at three?"),
            };
            key.seal(&entry).unwrap()
        })
        .collect();
    let query = e2ee::words("review 4242");
    let (found, searching) =
        timed(now, || kept.iter().filter(|sealed| key.open(sealed).unwrap().matches(&query)).count());
    assert_eq!(found, 1);
    figures
        .push(Figure { what: "search 10,000 messages kept for search (open and match each)", ms: searching });
    figures
}

/// The figures as lines: `<label>: <ms> ms`.
pub fn report(place: &str, figures: &[Figure]) -> String {
    figures.iter().map(|f| format!("{place}: {}: {:.3} ms\n", f.what, f.ms)).collect()
}
