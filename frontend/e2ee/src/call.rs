//! Calls in encrypted conversations: every encoded frame a browser sends
//! is encrypted with SFrame (RFC 9605) before it is packetised, and
//! decrypted by the other browsers after their jitter buffers, so the SFU
//! forwards media it cannot read.
//!
//! The keys come from the conversation's MLS group, as RFC 9605's section
//! 5.2 has it: at each epoch every device of the group exports the same
//! base key from it ([`Device::call_keys`]); each sender's key is derived
//! from that with a key id made of the sender's leaf index and the epoch's
//! low bits, so a receiver finds the key of any frame without trying any.
//! No key is sent anywhere: the group's commits, which the server already
//! orders, are the key exchange, and a device removed from the group gets
//! no key of the epochs after.

use crate::{Device, Error, Result, mls};
use openmls_traits::OpenMlsProvider as _;
use serde::{Deserialize, Serialize};
use sframe::CipherSuite;
use sframe::frame::{EncryptedFrameView, MediaFrameView, MonotonicCounter};
use sframe::header::KeyId;
use sframe::key::{DecryptionKey, EncryptionKey};
use sframe::mls::{MlsKeyId, MlsKeyIdBitRange};
use std::collections::HashMap;

/// AES-128-GCM with a 128-bit tag, keys expanded with HKDF-SHA-256: the
/// strength of the conversations' MLS cipher suite.
const SUITE: CipherSuite = CipherSuite::AesGcm128Sha256;

/// The MLS exporter's label for SFrame's base key (RFC 9605, 5.2).
const BASE_KEY_LABEL: &str = "SFrame 1.0 Base Key";

/// The key id's lowest bits carry the epoch's lowest (a frame names one of
/// 16 consecutive epochs), the bits above them the sender's leaf index.
const EPOCH_BITS: u8 = 4;
const INDEX_BITS: u8 = 16;

/// How many epochs' keys a device keeps: the newest, and the one before
/// it, for frames sent before the senders took up the newest.
const EPOCHS_KEPT: usize = 2;

/// What one device of a conversation takes part in its calls with at one
/// epoch. Exported from the group on the device, never sent to the server.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallKeys {
    pub epoch: u64,
    /// This device's leaf in the group.
    pub index: u32,
    base_key: Vec<u8>,
}

impl std::fmt::Debug for CallKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallKeys")
            .field("epoch", &self.epoch)
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

impl Device {
    /// The keys this device takes part in `conversation`'s calls with, at
    /// the group's current epoch.
    pub fn call_keys(&self, conversation: i64) -> Result<CallKeys> {
        let group = self.group(conversation)?;
        let base_key =
            group.export_secret(self.provider.crypto(), BASE_KEY_LABEL, b"", SUITE.key_len()).map_err(mls)?;
        Ok(CallKeys { epoch: group.epoch().as_u64(), index: group.own_leaf_index().u32(), base_key })
    }
}

/// What a frame carries, which decides what of it stays in the clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Media {
    /// Opus: all of it is encrypted.
    Audio,
    /// VP8: its payload header stays in the clear (authenticated with the
    /// rest), since browsers' packetisers read it: 10 bytes of a key frame
    /// (its kind and the picture's size), 3 of any other.
    Video,
}

impl Media {
    /// How many of `frame`'s first bytes stay in the clear.
    fn clear(self, frame: &[u8]) -> usize {
        let clear = match (self, frame.first()) {
            (Media::Audio, _) | (Media::Video, None) => 0,
            // The lowest bit of VP8's first byte is 0 on a key frame.
            (Media::Video, Some(first)) if first & 1 == 0 => 10,
            (Media::Video, Some(_)) => 3,
        };
        clear.min(frame.len())
    }
}

/// A device's SFrame keys in one call. It sends with its own key of one
/// epoch, and reads each frame with its sender's key of the frame's epoch,
/// of the newest two it has.
pub struct CallCrypto {
    bits: MlsKeyIdBitRange,
    /// The epochs this device has keys of, oldest first.
    epochs: Vec<CallKeys>,
    sending: Sending,
    /// The receiving keys derived so far, of the epochs kept.
    receiving: HashMap<KeyId, DecryptionKey>,
}

/// The key this device sends with, and the count of frames sent with it.
struct Sending {
    epoch: u64,
    key: EncryptionKey,
    counter: MonotonicCounter,
}

impl CallCrypto {
    /// Starts a call with the keys of the group's current epoch.
    pub fn new(keys: CallKeys) -> Result<CallCrypto> {
        let bits = MlsKeyIdBitRange::new(EPOCH_BITS, INDEX_BITS);
        let sending = Sending::of(&keys, bits)?;
        Ok(CallCrypto { bits, epochs: vec![keys], sending, receiving: HashMap::new() })
    }

    /// Takes the keys of a newer epoch (the group changed): frames sent
    /// with them decrypt from now on, and those of the epoch before still
    /// do; older ones are forgotten. This device goes on sending with the
    /// keys it had until [`CallCrypto::send_with_newest`], so that the
    /// others have the new keys before its frames need them. Keys of an
    /// epoch not newer than the newest are ignored.
    pub fn add_epoch(&mut self, keys: CallKeys) -> Result<()> {
        if self.epochs.last().is_some_and(|newest| keys.epoch <= newest.epoch) {
            return Ok(());
        }
        let low = low_bits(keys.epoch);
        self.epochs.push(keys);
        // An epoch whose key ids the new one's would be taken for goes too.
        while self.epochs.len() > EPOCHS_KEPT
            || self.epochs[..self.epochs.len() - 1].iter().any(|k| low_bits(k.epoch) == low)
        {
            let forgotten = self.epochs.remove(0).epoch;
            let bits = self.bits;
            self.receiving
                .retain(|kid, _| MlsKeyId::from_key_id(*kid, bits).epoch_lsb() != low_bits(forgotten));
            if self.sending.epoch == forgotten {
                self.send_with_newest()?;
            }
        }
        Ok(())
    }

    /// Sends with the newest epoch's keys from now on.
    pub fn send_with_newest(&mut self) -> Result<()> {
        let newest = self.epochs.last().expect("a call always has keys");
        if newest.epoch != self.sending.epoch {
            self.sending = Sending::of(newest, self.bits)?;
        }
        Ok(())
    }

    /// The epoch whose keys this device sends with.
    pub fn sending_epoch(&self) -> u64 {
        self.sending.epoch
    }

    /// Encrypts an encoded frame this device sends.
    pub fn encrypt(&mut self, media: Media, frame: &[u8]) -> Result<Vec<u8>> {
        let (clear, secret) = frame.split_at(media.clear(frame));
        let Sending { key, counter, .. } = &mut self.sending;
        let frame = MediaFrameView::try_with_meta_data(counter, secret, clear).map_err(mls)?;
        Ok(frame.encrypt(key).map_err(mls)?.as_ref().to_vec())
    }

    /// Decrypts an encoded frame another device sent.
    pub fn decrypt(&mut self, media: Media, frame: &[u8]) -> Result<Vec<u8>> {
        let (clear, sealed) = frame.split_at(media.clear(frame));
        let view = EncryptedFrameView::try_with_meta_data(sealed, clear)
            .map_err(|e| Error::Malformed(format!("not an encrypted frame: {e}")))?;
        let kid = view.header().key_id();
        let plain = match self.receiving.get(&kid) {
            Some(key) => view.decrypt(key),
            None => {
                let key = self.derive(kid)?;
                let plain = view.decrypt(&key);
                if plain.is_ok() {
                    // Kept once a frame authenticated with it: forged key
                    // ids add none.
                    self.receiving.insert(kid, key);
                }
                plain
            }
        }
        .map_err(|e| Error::Malformed(format!("a frame that does not authenticate: {e}")))?;
        let mut out = Vec::with_capacity(clear.len() + plain.payload().len());
        out.extend_from_slice(clear);
        out.extend_from_slice(plain.payload());
        Ok(out)
    }

    /// The receiving key of key id `kid`, from its epoch's base key.
    fn derive(&self, kid: KeyId) -> Result<DecryptionKey> {
        let id = MlsKeyId::from_key_id(kid, self.bits);
        // Parley's senders use no context: a key id with one is none of theirs.
        if id.context_id() != 0 {
            return Err(Error::NoCallKey);
        }
        let keys =
            self.epochs.iter().find(|k| low_bits(k.epoch) == id.epoch_lsb()).ok_or(Error::NoCallKey)?;
        DecryptionKey::derive_from(SUITE, id, &keys.base_key).map_err(mls)
    }
}

/// The bits of `epoch` a key id carries.
fn low_bits(epoch: u64) -> u64 {
    epoch & ((1 << EPOCH_BITS) - 1)
}

impl Sending {
    fn of(keys: &CallKeys, bits: MlsKeyIdBitRange) -> Result<Sending> {
        let id = MlsKeyId::try_new(0u64, keys.epoch, keys.index, bits).map_err(mls)?;
        let key = EncryptionKey::derive_from(SUITE, id, &keys.base_key).map_err(mls)?;
        Ok(Sending { epoch: keys.epoch, key, counter: MonotonicCounter::new(u64::MAX) })
    }
}
