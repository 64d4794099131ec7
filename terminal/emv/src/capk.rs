//! Certification authority public keys: by RID and index, with the check hash and expiry.

use alloc::vec::Vec;
use core::fmt;

use sha1::{Digest, Sha1};

/// One CA public key.
#[derive(Clone, PartialEq, Eq)]
pub struct Capk {
    /// Registered application provider identifier (first 5 bytes of the AID).
    pub rid: [u8; 5],
    /// Index (tag 8F on the card).
    pub index: u8,
    /// Modulus, big-endian.
    pub modulus: Vec<u8>,
    /// Public exponent (3 or 65537), big-endian.
    pub exponent: Vec<u8>,
    /// Last valid day, `YYMMDD` BCD, if the key has one.
    pub expiry: Option<[u8; 3]>,
}

impl Capk {
    /// The SHA-1 check hash of RID ‖ index ‖ modulus ‖ exponent (as scheme key tables
    /// publish it).
    pub fn hash(&self) -> [u8; 20] {
        let mut h = Sha1::new();
        h.update(self.rid);
        h.update([self.index]);
        h.update(&self.modulus);
        h.update(&self.exponent);
        h.finalize().into()
    }

    /// Whether the key is still valid on `today` (`YYMMDD` BCD).
    pub fn valid_on(&self, today: [u8; 3]) -> bool {
        self.expiry
            .is_none_or(|e| crate::dates::ymd(e) >= crate::dates::ymd(today))
    }
}

impl fmt::Debug for Capk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Capk {{ rid: {:02X?}, index: {:02X}, {} bits }}",
            self.rid,
            self.index,
            self.modulus.len() * 8
        )
    }
}

/// The CA keys a terminal trusts, and the issuer certificates the scheme revoked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CapkSet {
    keys: Vec<Capk>,
    /// Revoked issuer certificates: RID, CA key index, certificate serial number.
    revoked: Vec<([u8; 5], u8, [u8; 3])>,
}

impl CapkSet {
    /// Revokes the issuer certificate with this serial number signed by the CA key (`rid`,
    /// `index`): cards carrying it fail offline data authentication (Book 2 §5.3 step 10).
    pub fn revoke(&mut self, rid: [u8; 5], index: u8, serial: [u8; 3]) {
        if !self.is_revoked(&rid, index, serial) {
            self.revoked.push((rid, index, serial));
        }
    }

    /// Whether that issuer certificate is on the revocation list.
    ///
    /// ```
    /// let mut set = pos_emv::CapkSet::new();
    /// set.revoke([0xA0, 0, 0, 3, 0x33], 0xF1, [0, 0, 1]);
    /// assert!(set.is_revoked(&[0xA0, 0, 0, 3, 0x33], 0xF1, [0, 0, 1]));
    /// assert!(!set.is_revoked(&[0xA0, 0, 0, 3, 0x33], 0xF1, [0, 0, 2]));
    /// ```
    pub fn is_revoked(&self, rid: &[u8], index: u8, serial: [u8; 3]) -> bool {
        self.revoked
            .iter()
            .any(|(r, i, s)| r.as_slice() == rid && *i == index && *s == serial)
    }

    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key, replacing one with the same RID and index.
    pub fn insert(&mut self, key: Capk) {
        self.keys
            .retain(|k| (k.rid, k.index) != (key.rid, key.index));
        self.keys.push(key);
    }

    /// The key for `rid` and `index`.
    pub fn find(&self, rid: &[u8], index: u8) -> Option<&Capk> {
        self.keys
            .iter()
            .find(|k| k.rid[..] == *rid && k.index == index)
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(feature = "config")]
pub use file::CapkFileError;

#[cfg(feature = "config")]
mod file {
    extern crate std;
    use std::string::{String, ToString};
    use std::vec::Vec;

    use serde::Deserialize;

    use super::{Capk, CapkSet};

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Entry {
        rid: String,
        index: String,
        modulus: String,
        exponent: String,
        expiry: Option<String>,
        hash: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        #[serde(default)]
        capk: Vec<Entry>,
        #[serde(default)]
        revoked: Vec<RevokedEntry>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RevokedEntry {
        rid: String,
        index: String,
        serial: String,
    }

    /// Why a CAPK file was refused.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[non_exhaustive]
    pub enum CapkFileError {
        /// Not TOML of the expected shape.
        Syntax(String),
        /// A field is not hex of the right size.
        Field {
            /// Which key (0-based).
            key: usize,
            /// Which field.
            field: &'static str,
        },
        /// The given hash does not match the key: a typo in the modulus, or a wrong key.
        HashMismatch {
            /// Which key (0-based).
            key: usize,
        },
    }

    impl core::fmt::Display for CapkFileError {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            match self {
                CapkFileError::Syntax(e) => write!(f, "CAPK file: {e}"),
                CapkFileError::Field { key, field } => {
                    write!(
                        f,
                        "CAPK file: [[capk]] #{} has an invalid `{field}`",
                        key + 1
                    )
                }
                CapkFileError::HashMismatch { key } => write!(
                    f,
                    "CAPK file: [[capk]] #{} does not match its `hash` (SHA-1 of RID, index, modulus, exponent)",
                    key + 1
                ),
            }
        }
    }

    impl std::error::Error for CapkFileError {}

    fn hex_of(text: &str, key: usize, field: &'static str) -> Result<Vec<u8>, CapkFileError> {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        hex::decode(compact).map_err(|_| CapkFileError::Field { key, field })
    }

    fn sized<const N: usize>(
        text: &str,
        key: usize,
        field: &'static str,
    ) -> Result<[u8; N], CapkFileError> {
        hex_of(text, key, field)?
            .try_into()
            .map_err(|_| CapkFileError::Field { key, field })
    }

    impl CapkSet {
        /// Reads `[[capk]]` tables: `rid` (5 bytes hex), `index` (1 byte), `modulus`,
        /// `exponent`, optional `expiry` (`YYMMDD`) and optional `hash` (checked when given).
        ///
        /// ```
        /// let set = pos_emv::CapkSet::from_toml(r#"
        /// [[capk]]
        /// rid = "A000000333"
        /// index = "F1"
        /// modulus = "C3"
        /// exponent = "03"
        /// "#).unwrap();
        /// assert!(set.find(&[0xA0, 0, 0, 3, 0x33], 0xF1).is_some());
        /// ```
        pub fn from_toml(text: &str) -> Result<Self, CapkFileError> {
            let file: File =
                toml::from_str(text).map_err(|e| CapkFileError::Syntax(e.to_string()))?;
            let mut set = CapkSet::new();
            for (i, e) in file.capk.iter().enumerate() {
                let [index] = sized::<1>(&e.index, i, "index")?;
                let modulus = hex_of(&e.modulus, i, "modulus")?;
                let exponent = hex_of(&e.exponent, i, "exponent")?;
                if modulus.is_empty() || modulus.len() > 248 {
                    return Err(CapkFileError::Field {
                        key: i,
                        field: "modulus",
                    });
                }
                if !matches!(exponent.as_slice(), [3] | [1, 0, 1]) {
                    return Err(CapkFileError::Field {
                        key: i,
                        field: "exponent",
                    });
                }
                let key = Capk {
                    rid: sized::<5>(&e.rid, i, "rid")?,
                    index,
                    modulus,
                    exponent,
                    expiry: e
                        .expiry
                        .as_deref()
                        .map(|x| sized::<3>(x, i, "expiry"))
                        .transpose()?,
                };
                if let Some(hash) = &e.hash
                    && sized::<20>(hash, i, "hash")? != key.hash()
                {
                    return Err(CapkFileError::HashMismatch { key: i });
                }
                set.insert(key);
            }
            for (i, r) in file.revoked.iter().enumerate() {
                let [index] = sized::<1>(&r.index, i, "revoked index")?;
                set.revoke(
                    sized::<5>(&r.rid, i, "revoked rid")?,
                    index,
                    sized::<3>(&r.serial, i, "revoked serial")?,
                );
            }
            Ok(set)
        }
    }
}
