//! Offline data authentication (EMV Book 2): recovering the issuer and ICC public keys from
//! their certificates, and checking the static (SDA) and dynamic (DDA, CDA, fDDA) signatures.
//! [`sign`] builds the same structures for a simulated card.

use alloc::vec::Vec;
use core::fmt;

use sha1::{Digest, Sha1};

use crate::capk::Capk;
use crate::dates;
use crate::rsa::transform;

/// A recovered RSA public key.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// Modulus, big-endian.
    pub modulus: Vec<u8>,
    /// Exponent, big-endian.
    pub exponent: Vec<u8>,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({} bits)", self.modulus.len() * 8)
    }
}

/// Why an ODA check failed: each maps to the method's "failed" TVR bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OdaFailure {
    /// The card lacks data the method needs (TVR byte 1 "ICC data missing" too).
    Missing(u32),
    /// No CA key with the card's RID and index.
    UnknownCapk,
    /// The CA key has expired.
    CapkExpired,
    /// A certificate or signature has the wrong length, header, trailer or format.
    Format(&'static str),
    /// A hash in a certificate or signature does not match.
    Hash(&'static str),
    /// A certificate has expired.
    Expired(&'static str),
    /// The issuer identifier or PAN in a certificate does not match the card's PAN.
    Identity(&'static str),
    /// A record the static data covers is not a `70` template in SFI 1–10 (Book 3 §10.3).
    StaticData,
    /// The issuer certificate is on the terminal's revocation list.
    Revoked,
}

impl fmt::Display for OdaFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OdaFailure::Missing(tag) => write!(f, "card lacks {tag:X}"),
            OdaFailure::UnknownCapk => f.write_str("no CA public key for the card's index"),
            OdaFailure::CapkExpired => f.write_str("CA public key expired"),
            OdaFailure::Format(what) => write!(f, "{what}: malformed"),
            OdaFailure::Hash(what) => write!(f, "{what}: hash mismatch"),
            OdaFailure::Expired(what) => write!(f, "{what}: expired"),
            OdaFailure::Identity(what) => write!(f, "{what}: does not match the PAN"),
            OdaFailure::StaticData => f.write_str("signed records are not valid static data"),
            OdaFailure::Revoked => f.write_str("issuer certificate revoked"),
        }
    }
}

const HEADER: u8 = 0x6A;
const TRAILER: u8 = 0xBC;
const SHA1: u8 = 0x01;
const RSA: u8 = 0x01;

/// Recovers `signed` with `key` and checks header, format and trailer; returns the whole
/// recovered block.
fn recover(
    key: &PublicKey,
    signed: &[u8],
    format: u8,
    what: &'static str,
) -> Result<Vec<u8>, OdaFailure> {
    let block =
        transform(&key.modulus, &key.exponent, signed).map_err(|_| OdaFailure::Format(what))?;
    let n = block.len();
    if n < 22 + 2 || block[0] != HEADER || block[1] != format || block[n - 1] != TRAILER {
        return Err(OdaFailure::Format(what));
    }
    Ok(block)
}

/// Checks the SHA-1 at `[n-21..n-1]` over `block[1..n-21] ‖ extra…`.
fn check_hash(block: &[u8], extra: &[&[u8]], what: &'static str) -> Result<(), OdaFailure> {
    let n = block.len();
    let mut h = Sha1::new();
    h.update(&block[1..n - 21]);
    for part in extra {
        h.update(part);
    }
    let digest: [u8; 20] = h.finalize().into();
    if digest[..] == block[n - 21..n - 1] {
        Ok(())
    } else {
        Err(OdaFailure::Hash(what))
    }
}

/// Digits of a compressed-numeric field (padded with `F`), as nibbles.
fn cn_digits(bytes: &[u8]) -> impl Iterator<Item = u8> + '_ {
    bytes
        .iter()
        .flat_map(|b| [b >> 4, b & 0x0F])
        .take_while(|d| *d != 0x0F)
}

/// What the terminal gives to recover a certificate chain.
#[derive(Debug, Clone, Copy)]
pub struct CardKeys<'a> {
    /// Issuer public key certificate (90).
    pub issuer_cert: Option<&'a [u8]>,
    /// Issuer public key remainder (92).
    pub issuer_remainder: Option<&'a [u8]>,
    /// Issuer public key exponent (9F32).
    pub issuer_exponent: Option<&'a [u8]>,
    /// ICC public key certificate (9F46).
    pub icc_cert: Option<&'a [u8]>,
    /// ICC public key remainder (9F48).
    pub icc_remainder: Option<&'a [u8]>,
    /// ICC public key exponent (9F47).
    pub icc_exponent: Option<&'a [u8]>,
    /// Application PAN (5A).
    pub pan: &'a [u8],
    /// Today, `YYMMDD` (9A).
    pub today: [u8; 3],
}

/// Recovers the issuer public key from its certificate (Book 2 §5.3 / §6.3).
pub fn issuer_key(capk: &Capk, card: &CardKeys<'_>) -> Result<PublicKey, OdaFailure> {
    issuer_key_and_serial(capk, card).map(|(key, _)| key)
}

/// [`issuer_key`], with the certificate's serial number (for the revocation list).
pub fn issuer_key_and_serial(
    capk: &Capk,
    card: &CardKeys<'_>,
) -> Result<(PublicKey, [u8; 3]), OdaFailure> {
    const WHAT: &str = "issuer certificate";
    if !capk.valid_on(card.today) {
        return Err(OdaFailure::CapkExpired);
    }
    let cert = card.issuer_cert.ok_or(OdaFailure::Missing(0x90))?;
    let exponent = card.issuer_exponent.ok_or(OdaFailure::Missing(0x9F32))?;
    let ca = PublicKey {
        modulus: capk.modulus.clone(),
        exponent: capk.exponent.clone(),
    };
    let block = recover(&ca, cert, 0x02, WHAT)?;
    let n_ca = block.len();
    if n_ca < 36 + 1 {
        return Err(OdaFailure::Format(WHAT));
    }
    let remainder = card.issuer_remainder.unwrap_or(&[]);
    check_hash(&block, &[remainder, exponent], WHAT)?;
    let (issuer_id, expiry) = (&block[2..6], [block[6], block[7]]);
    let serial = [block[8], block[9], block[10]];
    if block[11] != SHA1 || block[12] != RSA {
        return Err(OdaFailure::Format(WHAT));
    }
    let n_i = usize::from(block[13]);
    if usize::from(block[14]) != exponent.len() {
        return Err(OdaFailure::Format(WHAT));
    }
    // Issuer identifier: 3..8 leftmost PAN digits, padded with F.
    let id: Vec<u8> = cn_digits(issuer_id).collect();
    let pan: Vec<u8> = cn_digits(card.pan).collect();
    if id.len() < 3 || !pan.starts_with(&id) {
        return Err(OdaFailure::Identity(WHAT));
    }
    if !dates::is_bcd(&expiry) || dates::mmyy(expiry) < dates::ym(card.today) {
        return Err(OdaFailure::Expired(WHAT));
    }
    let in_cert = n_ca - 36;
    let modulus = if n_i <= in_cert {
        block[15..15 + n_i].to_vec()
    } else {
        if remainder.len() != n_i - in_cert {
            return Err(OdaFailure::Missing(0x92));
        }
        [&block[15..15 + in_cert], remainder].concat()
    };
    Ok((
        PublicKey {
            modulus,
            exponent: exponent.to_vec(),
        },
        serial,
    ))
}

/// Recovers the ICC public key from its certificate, checking it covers `static_data`
/// (Book 2 §6.4).
pub fn icc_key(
    issuer: &PublicKey,
    card: &CardKeys<'_>,
    static_data: &[u8],
) -> Result<PublicKey, OdaFailure> {
    const WHAT: &str = "ICC certificate";
    let cert = card.icc_cert.ok_or(OdaFailure::Missing(0x9F46))?;
    let exponent = card.icc_exponent.ok_or(OdaFailure::Missing(0x9F47))?;
    let block = recover(issuer, cert, 0x04, WHAT)?;
    let n_i = block.len();
    if n_i < 42 + 1 {
        return Err(OdaFailure::Format(WHAT));
    }
    let remainder = card.icc_remainder.unwrap_or(&[]);
    check_hash(&block, &[remainder, exponent, static_data], WHAT)?;
    let cert_pan: Vec<u8> = cn_digits(&block[2..12]).collect();
    let pan: Vec<u8> = cn_digits(card.pan).collect();
    if cert_pan != pan {
        return Err(OdaFailure::Identity(WHAT));
    }
    let expiry = [block[12], block[13]];
    if !dates::is_bcd(&expiry) || dates::mmyy(expiry) < dates::ym(card.today) {
        return Err(OdaFailure::Expired(WHAT));
    }
    if block[17] != SHA1 || block[18] != RSA || usize::from(block[20]) != exponent.len() {
        return Err(OdaFailure::Format(WHAT));
    }
    let n_ic = usize::from(block[19]);
    let in_cert = n_i - 42;
    let modulus = if n_ic <= in_cert {
        block[21..21 + n_ic].to_vec()
    } else {
        if remainder.len() != n_ic - in_cert {
            return Err(OdaFailure::Missing(0x9F48));
        }
        [&block[21..21 + in_cert], remainder].concat()
    };
    Ok(PublicKey {
        modulus,
        exponent: exponent.to_vec(),
    })
}

/// Checks the signed static application data (93) and returns the data authentication
/// code (9F45) it carries (Book 2 §5.4).
pub fn verify_ssad(
    issuer: &PublicKey,
    ssad: &[u8],
    static_data: &[u8],
) -> Result<[u8; 2], OdaFailure> {
    const WHAT: &str = "signed static data";
    let block = recover(issuer, ssad, 0x03, WHAT)?;
    if block[2] != SHA1 {
        return Err(OdaFailure::Format(WHAT));
    }
    check_hash(&block, &[static_data], WHAT)?;
    Ok([block[3], block[4]])
}

/// Checks signed dynamic application data (9F4B) of format 05 (DDA, fDDA) or 95 (CDA)
/// over `covered` and returns the ICC dynamic data it carries (Book 2 §6.5).
pub fn verify_sdad(
    icc: &PublicKey,
    sdad: &[u8],
    format: u8,
    covered: &[&[u8]],
) -> Result<Vec<u8>, OdaFailure> {
    const WHAT: &str = "signed dynamic data";
    let block = recover(icc, sdad, format, WHAT)?;
    let n = block.len();
    let len = usize::from(block[3]);
    if block[2] != SHA1 || 4 + len > n - 21 {
        return Err(OdaFailure::Format(WHAT));
    }
    check_hash(&block, covered, WHAT)?;
    Ok(block[4..4 + len].to_vec())
}

/// The card side: building certificates and signatures with private keys (for simulated
/// cards and test fixtures; a terminal never signs).
pub mod sign {
    use alloc::vec::Vec;

    use sha1::{Digest, Sha1};

    use crate::rsa::{RsaError, transform};

    /// An RSA private key (modulus and private exponent).
    #[derive(Clone)]
    pub struct PrivateKey {
        /// Modulus.
        pub modulus: Vec<u8>,
        /// Public exponent.
        pub exponent: Vec<u8>,
        /// Private exponent.
        pub private_exponent: Vec<u8>,
    }

    impl core::fmt::Debug for PrivateKey {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            write!(f, "PrivateKey({} bits, redacted)", self.modulus.len() * 8)
        }
    }

    impl Drop for PrivateKey {
        fn drop(&mut self) {
            zeroize::Zeroize::zeroize(&mut self.private_exponent);
        }
    }

    /// Finishes `6A ‖ body ‖ SHA-1(body ‖ extra) ‖ BC` to the key's length and signs it.
    fn seal(key: &PrivateKey, body: &[u8], extra: &[&[u8]]) -> Result<Vec<u8>, RsaError> {
        let mut h = Sha1::new();
        h.update(body);
        for part in extra {
            h.update(part);
        }
        let mut block = Vec::with_capacity(key.modulus.len());
        block.push(0x6A);
        block.extend_from_slice(body);
        block.extend_from_slice(&h.finalize());
        block.push(0xBC);
        if block.len() != key.modulus.len() {
            return Err(RsaError::Length);
        }
        transform(&key.modulus, &key.private_exponent, &block)
    }

    /// Splits a public modulus into the part a certificate of `room` bytes carries (padded
    /// with `BB`) and the remainder.
    fn split(modulus: &[u8], room: usize) -> (Vec<u8>, Vec<u8>) {
        if modulus.len() <= room {
            let mut part = modulus.to_vec();
            part.resize(room, 0xBB);
            (part, Vec::new())
        } else {
            (modulus[..room].to_vec(), modulus[room..].to_vec())
        }
    }

    /// An issuer public key certificate (90) and remainder (92) signed by the CA.
    /// `issuer_id` is 4 bytes (leftmost PAN digits padded with F), `expiry` MMYY.
    pub fn issuer_certificate(
        ca: &PrivateKey,
        issuer_modulus: &[u8],
        issuer_exponent: &[u8],
        issuer_id: [u8; 4],
        expiry: [u8; 2],
    ) -> Result<(Vec<u8>, Vec<u8>), RsaError> {
        let room = ca.modulus.len().checked_sub(36).ok_or(RsaError::Length)?;
        let (part, remainder) = split(issuer_modulus, room);
        let mut body = alloc::vec![0x02];
        body.extend_from_slice(&issuer_id);
        body.extend_from_slice(&expiry);
        body.extend_from_slice(&[0x00, 0x00, 0x01, 0x01, 0x01]);
        body.push(u8::try_from(issuer_modulus.len()).map_err(|_| RsaError::Length)?);
        body.push(issuer_exponent.len() as u8);
        body.extend_from_slice(&part);
        let cert = seal(ca, &body, &[&remainder, issuer_exponent])?;
        Ok((cert, remainder))
    }

    /// An ICC public key certificate (9F46) and remainder (9F48) signed by the issuer over
    /// `static_data`. `pan` is the PAN padded with F to 10 bytes.
    pub fn icc_certificate(
        issuer: &PrivateKey,
        icc_modulus: &[u8],
        icc_exponent: &[u8],
        pan: [u8; 10],
        expiry: [u8; 2],
        static_data: &[u8],
    ) -> Result<(Vec<u8>, Vec<u8>), RsaError> {
        let room = issuer
            .modulus
            .len()
            .checked_sub(42)
            .ok_or(RsaError::Length)?;
        let (part, remainder) = split(icc_modulus, room);
        let mut body = alloc::vec![0x04];
        body.extend_from_slice(&pan);
        body.extend_from_slice(&expiry);
        body.extend_from_slice(&[0x00, 0x00, 0x01, 0x01, 0x01]);
        body.push(u8::try_from(icc_modulus.len()).map_err(|_| RsaError::Length)?);
        body.push(icc_exponent.len() as u8);
        body.extend_from_slice(&part);
        let cert = seal(issuer, &body, &[&remainder, icc_exponent, static_data])?;
        Ok((cert, remainder))
    }

    /// Signed static application data (93) with data authentication code `dac`.
    pub fn ssad(
        issuer: &PrivateKey,
        dac: [u8; 2],
        static_data: &[u8],
    ) -> Result<Vec<u8>, RsaError> {
        let pad = issuer
            .modulus
            .len()
            .checked_sub(26)
            .ok_or(RsaError::Length)?;
        let mut body = alloc::vec![0x03, 0x01, dac[0], dac[1]];
        body.resize(4 + pad, 0xBB);
        seal(issuer, &body, &[static_data])
    }

    /// Signed dynamic application data (9F4B) of `format` (05 DDA/fDDA, 95 CDA) carrying
    /// `dynamic` (ICC dynamic data, length-prefixed inside) and covering `covered`.
    pub fn sdad(
        icc: &PrivateKey,
        format: u8,
        dynamic: &[u8],
        covered: &[&[u8]],
    ) -> Result<Vec<u8>, RsaError> {
        let room = icc.modulus.len().checked_sub(25).ok_or(RsaError::Length)?;
        if dynamic.len() > room {
            return Err(RsaError::Length);
        }
        let mut body = alloc::vec![format, 0x01, dynamic.len() as u8];
        body.extend_from_slice(dynamic);
        body.resize(3 + room, 0xBB);
        seal(icc, &body, covered)
    }
}
