//! Tamper evidence: every entry a writer seals carries an HMAC-SHA256 over its writer
//! id, sequence number, the previous entry's MAC and its own JSON, so no one without
//! the key can alter, remove, insert or reorder entries without the chain breaking.
//! Checkpoints (the chain head, signed) go to a second place so that deleting the
//! newest entries shows too.
//!
//! Must never sign anything but the exact JSON stored: verification recomputes over the
//! stored bytes.

use super::entry::Entry;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::sync::Arc;

type HmacSha256 = Hmac<Sha256>;

/// Without a configured key the chain still shows accidental damage; it cannot stop
/// someone who recomputes it. Stated in docs/config.md.
const UNKEYED: &[u8] = b"sluice-journal-unkeyed";

/// An entry as written: its place in its writer's chain and the MAC that seals it.
///
/// The texts are shared (`Arc<str>`): the writer's id and a MAC each appear in two
/// places, and the SQLite sink binds a shared text as it is, where it copied a `String`
/// into a new `Arc` for each of them (two allocations per column and row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sealed {
    pub writer: Arc<str>,
    pub seq: u64,
    /// The entry's JSON, exactly as signed and stored.
    pub json: Arc<str>,
    pub prev_mac: Arc<str>,
    pub mac: Arc<str>,
    #[serde(skip)]
    pub entry: Option<Entry>,
}

/// One writer's chain.
pub struct Chain {
    key: Vec<u8>,
    signer: Signer,
    writer: Arc<str>,
    seq: u64,
    head: Arc<str>,
}

impl Chain {
    pub fn new(key: Option<&str>, writer: String) -> Self {
        let key = key_bytes(key);
        Self {
            signer: Signer::new(&key),
            key,
            writer: writer.into(),
            seq: 0,
            head: Arc::from(""),
        }
    }

    pub fn writer(&self) -> &str {
        &self.writer
    }

    /// The newest entry's sequence number and MAC.
    pub fn head(&self) -> (u64, &str) {
        (self.seq, &self.head)
    }

    /// A signed checkpoint of the current head.
    pub fn checkpoint(&self, at_ms: i64) -> Checkpoint {
        Checkpoint::sign(&self.key, &self.writer, self.seq, &self.head, at_ms)
    }

    pub fn seal(&mut self, entry: Entry) -> Sealed {
        // Room for a whole entry up front (`to_string` starts at 128 bytes and grew
        // twice per entry). Serializing plain data with string keys cannot fail.
        let bodies = entry.request_body.as_ref().map_or(0, String::len)
            + entry.response_body.as_ref().map_or(0, String::len);
        let mut text = Vec::with_capacity(ENTRY_TEXT + bodies + bodies / 8);
        let json: Arc<str> = match serde_json::to_writer(&mut text, &entry) {
            Ok(()) => String::from_utf8(text).unwrap_or_default().into(),
            Err(_) => Arc::from(""),
        };
        self.seq += 1;
        let mac: Arc<str> = self
            .signer
            .mac(&self.writer, self.seq, &self.head, &json)
            .into();
        let prev_mac = std::mem::replace(&mut self.head, Arc::clone(&mac));
        Sealed {
            writer: Arc::clone(&self.writer),
            seq: self.seq,
            json,
            prev_mac,
            mac,
            entry: Some(entry),
        }
    }
}

/// Bytes of an entry's JSON besides its bodies: about 500 with one attempt.
const ENTRY_TEXT: usize = 768;

/// Signs entries with one key: the HMAC keyed once and copied for each entry, where
/// keying it anew hashed the key's two pad blocks every time (two of the thirteen
/// SHA-256 blocks of a 500-byte entry).
#[derive(Clone)]
pub struct Signer(HmacSha256);

impl Signer {
    pub fn new(key: &[u8]) -> Self {
        Self(hmac(key))
    }

    /// The MAC of one entry.
    pub fn mac(&self, writer: &str, seq: u64, prev_mac: &str, json: &str) -> String {
        let mut m = self.0.clone();
        let mut seq_digits = itoa::Buffer::new();
        for part in [
            writer.as_bytes(),
            b"\n",
            seq_digits.format(seq).as_bytes(),
            b"\n",
            prev_mac.as_bytes(),
            b"\n",
            json.as_bytes(),
        ] {
            m.update(part);
        }
        to_hex(&m.finalize().into_bytes())
    }
}

/// A MAC as the 64 lowercase hex digits the journal stores.
fn to_hex(mac: &[u8]) -> String {
    let mut out = String::with_capacity(mac.len() * 2);
    crate::hex_digits::push(&mut out, mac);
    out
}

/// A signed statement of a writer's chain head at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub writer: String,
    pub seq: u64,
    pub mac: String,
    pub at_ms: i64,
    pub sig: String,
}

impl Checkpoint {
    pub fn sign(key: &[u8], writer: &str, seq: u64, head: &str, at_ms: i64) -> Self {
        Self {
            writer: writer.to_owned(),
            seq,
            mac: head.to_owned(),
            at_ms,
            sig: checkpoint_sig(key, writer, seq, head, at_ms),
        }
    }

    pub fn is_signed_by(&self, key: &[u8]) -> bool {
        checkpoint_sig(key, &self.writer, self.seq, &self.mac, self.at_ms) == self.sig
    }
}

fn checkpoint_sig(key: &[u8], writer: &str, seq: u64, head: &str, at_ms: i64) -> String {
    let mut m = hmac(key);
    m.update(format!("checkpoint\n{writer}\n{seq}\n{head}\n{at_ms}").as_bytes());
    to_hex(&m.finalize().into_bytes())
}

#[expect(clippy::expect_used, reason = "HMAC accepts keys of any length")]
fn hmac(key: &[u8]) -> HmacSha256 {
    <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length")
}

/// The key bytes a config's key (or its absence) stands for.
pub fn key_bytes(key: Option<&str>) -> Vec<u8> {
    key.map_or_else(|| UNKEYED.to_vec(), |k| k.as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_are_lowercase_hex_as_hex_writes_them() {
        let signer = Signer::new(b"k");
        let a = signer.mac("w", 7, "prev", "{}");
        // The keyed HMAC is copied, not used up: the same entry signs the same twice.
        assert_eq!(signer.mac("w", 7, "prev", "{}"), a);
        assert_eq!(a.len(), 64);
        let mut m = hmac(b"k");
        m.update(b"w\n7\nprev\n{}");
        assert_eq!(a, hex::encode(m.finalize().into_bytes()));
    }
}
