//! Stable identifiers derived from content, so the same item gets the same id on every run.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Identifier of an item: the first 8 bytes of SHA-256 over its canonical URL.
///
/// Short enough to type (`infodemic show 3f2a…`), long enough that collisions stay
/// negligible for the millions of items one machine keeps.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemId(pub [u8; 8]);

/// In JSON (and other human-readable formats) the id is its 16 hex characters, as every
/// command prints it; binary formats keep the 8 bytes.
impl Serialize for ItemId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(&self.to_string())
        } else {
            self.0.serialize(serializer)
        }
    }
}

impl<'de> Deserialize<'de> for ItemId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            let text = String::deserialize(deserializer)?;
            text.parse().map_err(serde::de::Error::custom)
        } else {
            <[u8; 8]>::deserialize(deserializer).map(Self)
        }
    }
}

impl ItemId {
    /// Derives the id from a canonical URL.
    pub fn from_canonical_url(canonical_url: &str) -> Self {
        let digest = Sha256::digest(canonical_url.as_bytes());
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&digest[..8]);
        Self(bytes)
    }

    /// The raw big-endian bytes, as used in store keys.
    pub fn as_bytes(&self) -> &[u8; 8] {
        &self.0
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ItemId({self})")
    }
}

/// A string that is not a valid item id.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid item id `{0}`: expected 16 hexadecimal characters")]
pub struct IdParseError(pub String);

impl FromStr for ItemId {
    type Err = IdParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut bytes = [0u8; 8];
        hex::decode_to_slice(s.trim(), &mut bytes).map_err(|_| IdParseError(s.to_owned()))?;
        Ok(Self(bytes))
    }
}

/// Hash of an item's normalised title and text: finds the same story under another URL.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ContentHash(pub [u8; 16]);

impl ContentHash {
    /// Hashes title and body after [`crate::text::fingerprint_text`] normalisation, so
    /// whitespace, case and markup leftovers do not make two copies look different.
    pub fn of(title: &str, text: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(crate::text::fingerprint_text(title).as_bytes());
        hasher.update([0u8]);
        hasher.update(crate::text::fingerprint_text(text).as_bytes());
        let digest = hasher.finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        Self(bytes)
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContentHash({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_id_round_trips_through_hex() {
        let id = ItemId::from_canonical_url("https://example.org/a");
        let parsed: ItemId = id.to_string().parse().unwrap();
        assert_eq!(parsed, id);
        assert_eq!(id.to_string().len(), 16);
    }

    #[test]
    fn item_ids_are_hex_in_json_and_refused_when_malformed() {
        let id = ItemId([0xab; 8]);
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"abababababababab\"");
        assert_eq!(serde_json::from_str::<ItemId>("\"abababababababab\"").unwrap(), id);
        assert!(serde_json::from_str::<ItemId>("\"zz\"").is_err());
    }

    #[test]
    fn item_id_rejects_garbage() {
        assert!("xyz".parse::<ItemId>().is_err());
        assert!("00112233445566".parse::<ItemId>().is_err());
    }

    #[test]
    fn content_hash_ignores_case_and_whitespace() {
        let a = ContentHash::of("Vaccines  Work", "They\n do.");
        let b = ContentHash::of("vaccines work", "they do.");
        assert_eq!(a, b);
        assert_ne!(a, ContentHash::of("vaccines work", "they do not."));
    }

    #[test]
    fn content_hash_separates_title_from_text() {
        assert_ne!(ContentHash::of("ab", "c"), ContentHash::of("a", "bc"));
    }
}
