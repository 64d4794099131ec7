//! An EMV / PBOC card built from a profile file.
//!
//! The card answers what a contact or contactless kernel sends: SELECT of the PSE
//! (`1PAY.SYS.DDF01`), the PPSE (`2PAY.SYS.DDF01`) and applications, READ RECORD, GET
//! PROCESSING OPTIONS, GET DATA, GENERATE AC, GET RESPONSE, and the PC/SC pseudo-APDU
//! `FF CA` (UID). Anything else gets the ISO status word a real card gives (`6D00`, `6E00`,
//! `6A82`, `6A83`, `6A86`, `6700`, `6985`), never silence.
//!
//! The card is cryptographically real: it derives its master key from the issuer master key
//! (EMV option A), computes ARQC/TC/AAC as the issuer expects them ([`pos_emv::issuer`]),
//! checks the ARPC in EXTERNAL AUTHENTICATE, and, when its profile names an ODA method, carries
//! certificates signed by the test CA in `sim/fixtures/emv-ca/` (made by `make-keys.sh`) and
//! signs INTERNAL AUTHENTICATE (DDA) and CDA answers with its ICC key. VERIFY checks a
//! plaintext offline PIN against a try counter.

use std::collections::BTreeMap;
use std::path::Path;

use pos_emv::oda::sign::{self, PrivateKey};
use pos_hal::{Apdu, StatusWord};
use serde::Deserialize;

use crate::card::Card;
use crate::tlv::{push, tlv};

/// Bytes written as hex in profile files (`"3B 80 80 01 01"` or `"3B80800101"`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HexBytes(pub Vec<u8>);

impl<'de> Deserialize<'de> for HexBytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        hex::decode(&compact)
            .map(HexBytes)
            .map_err(serde::de::Error::custom)
    }
}

/// One record of an application file.
#[derive(Debug, Clone, Deserialize)]
pub struct RecordProfile {
    /// Short file identifier (1..=30).
    pub sfi: u8,
    /// Record number (1..=255).
    pub record: u8,
    /// The record, usually a `70` template.
    pub data: HexBytes,
}

/// One payment application.
#[derive(Debug, Clone, Deserialize)]
pub struct AppProfile {
    /// Application identifier.
    pub aid: HexBytes,
    /// Application label (tag 50).
    pub label: String,
    /// Priority indicator (tag 87).
    #[serde(default = "one")]
    pub priority: u8,
    /// PDOL (tag 9F38) announced in the FCI.
    #[serde(default)]
    pub pdol: Option<HexBytes>,
    /// Language preference (tag 5F2D).
    #[serde(default)]
    pub language: Option<String>,
    /// Response to GET PROCESSING OPTIONS (a `77` or `80` template).
    pub gpo: HexBytes,
    /// Records by SFI and number.
    #[serde(default)]
    pub records: Vec<RecordProfile>,
    /// GET DATA answers by tag (hex tag → value).
    #[serde(default)]
    pub get_data: BTreeMap<String, HexBytes>,
    /// Issuer application data (tag 9F10) returned by GENERATE AC.
    #[serde(default)]
    pub iad: Option<HexBytes>,
    /// Offline data authentication the card is personalised for: `"sda"`, `"dda"` or
    /// `"cda"` (certificates from the test CA are added as record `cert_sfi`/`cert_record`,
    /// which the AFL must name).
    #[serde(default)]
    pub oda: Option<String>,
    /// SFI of the two generated certificate records.
    #[serde(default = "three")]
    pub cert_sfi: u8,
    /// Number of the first generated certificate record (the second follows it).
    #[serde(default = "one")]
    pub cert_record: u8,
    /// Break the signed static data after signing (an "SDA/DDA failed" card).
    #[serde(default)]
    pub corrupt_oda: bool,
    /// The offline PIN VERIFY accepts, if any.
    #[serde(default)]
    pub offline_pin: Option<String>,
    /// PIN try limit.
    #[serde(default = "three")]
    pub pin_tries: u8,
    /// PIN tries left when the card is made (the limit when absent); 0: the PIN is blocked
    /// until the issuer sends a PIN UNBLOCK script.
    #[serde(default)]
    pub pin_tries_left: Option<u8>,
    /// The application is blocked: SELECT answers `6283`, GPO `6985`.
    #[serde(default)]
    pub blocked: bool,
    /// Approve offline when the terminal asks for a TC in the first GENERATE AC (otherwise
    /// the card asks to go online).
    #[serde(default)]
    pub approve_offline: bool,
    /// Decline the second GENERATE AC even after the host approved.
    #[serde(default)]
    pub decline_after_online: bool,
    /// Card transaction qualifiers (9F6C) of a qPBOC answer; `8000` (online PIN when a CVM
    /// is required) when absent.
    #[serde(default)]
    pub ctq: Option<HexBytes>,
}

fn three() -> u8 {
    3
}

fn one() -> u8 {
    1
}

fn yes() -> bool {
    true
}

/// A card profile file (TOML).
#[derive(Debug, Clone, Deserialize)]
pub struct CardProfile {
    /// Human name.
    pub name: String,
    /// ATR.
    pub atr: HexBytes,
    /// Behave like a T=0 card: `61xx` for case 4 commands, `6Cxx` for a wrong Le.
    #[serde(default)]
    pub t0: bool,
    /// UID answered to `FF CA 00 00 00` (contactless readers).
    #[serde(default)]
    pub uid: Option<HexBytes>,
    /// Has the contact directory `1PAY.SYS.DDF01`.
    #[serde(default = "yes")]
    pub pse: bool,
    /// Has the contactless directory `2PAY.SYS.DDF01`.
    #[serde(default = "yes")]
    pub ppse: bool,
    /// Answers the proprietary `80 EE` command (for long-APDU tests): `80 EE 00 00` echoes its
    /// data; `80 EE 01 00 Le` answers Le bytes `00 01 02 …` (Le 0 or absent: 256 bytes), the
    /// longest short answer, whatever the command's length.
    #[serde(default)]
    pub echo: bool,
    /// Issuer master key for application cryptograms (16 bytes); the test key
    /// [`TEST_IMK`] when absent, which is also what host-sim verifies with.
    #[serde(default)]
    pub imk: Option<HexBytes>,
    /// Applications.
    pub applications: Vec<AppProfile>,
}

/// Why a profile could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// Could not read the file.
    #[error("cannot read card profile {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML or not a profile.
    #[error("invalid card profile {path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// Why.
        source: toml::de::Error,
    },
    /// Inconsistent content.
    #[error("invalid card profile {path}: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        reason: &'static str,
    },
}

impl CardProfile {
    /// Reads a TOML profile.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ProfileError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Read {
            path: shown.clone(),
            source,
        })?;
        Self::from_toml(&text).map_err(|e| match e {
            ProfileError::Parse { source, .. } => ProfileError::Parse {
                path: shown,
                source,
            },
            ProfileError::Invalid { reason, .. } => ProfileError::Invalid {
                path: shown,
                reason,
            },
            other => other,
        })
    }

    /// Parses a TOML profile from text.
    pub fn from_toml(text: &str) -> Result<Self, ProfileError> {
        let profile: CardProfile = toml::from_str(text).map_err(|source| ProfileError::Parse {
            path: "<text>".into(),
            source,
        })?;
        let invalid = |reason| ProfileError::Invalid {
            path: "<text>".into(),
            reason,
        };
        if profile.atr.0.is_empty() || profile.atr.0.len() > 33 {
            return Err(invalid("ATR must have 1..=33 bytes"));
        }
        // A reader refuses an ATR whose structure or check byte (TCK) is wrong.
        if pos_hal::atr::Atr::parse(&profile.atr.0).is_err() {
            return Err(invalid(
                "the ATR is not a valid ISO 7816-3 ATR (structure or TCK)",
            ));
        }
        if profile.imk.as_ref().is_some_and(|k| k.0.len() != 16) {
            return Err(invalid("imk must have 16 bytes"));
        }
        for app in &profile.applications {
            if !(5..=16).contains(&app.aid.0.len()) {
                return Err(invalid("AID must have 5..=16 bytes"));
            }
            if app
                .records
                .iter()
                .any(|r| r.sfi == 0 || r.sfi > 30 || r.record == 0)
            {
                return Err(invalid("records need SFI 1..=30 and number 1..=255"));
            }
            if !matches!(app.oda.as_deref(), None | Some("sda" | "dda" | "cda")) {
                return Err(invalid("oda must be sda, dda or cda"));
            }
            if app.offline_pin.as_ref().is_some_and(|p| {
                !(4..=12).contains(&p.len()) || !p.bytes().all(|b| b.is_ascii_digit())
            }) {
                return Err(invalid("offline_pin must be 4 to 12 digits"));
            }
        }
        Ok(profile)
    }

    /// The profiles shipped in `sim/profiles/` and the variants of the UnionPay debit card
    /// the EMV scenarios need (see [`BUILTIN`]).
    pub fn builtin(name: &str) -> Option<Self> {
        let debit = || Self::from_toml(include_str!("../profiles/unionpay-debit.toml")).ok();
        let variant = |change: &dyn Fn(&mut CardProfile, &mut AppProfile)| {
            let mut p = debit()?;
            let mut app = p.applications.first()?.clone();
            change(&mut p, &mut app);
            p.applications[0] = app;
            Some(p)
        };
        match name {
            "unionpay-debit" => debit(),
            "visa-credit" => Self::from_toml(include_str!("../profiles/visa-credit.toml")).ok(),
            "unionpay-credit" => {
                Self::from_toml(include_str!("../profiles/unionpay-credit.toml")).ok()
            }
            "unionpay-dual" => {
                // One card, two accounts: the debit application first (priority 1), the
                // credit one second (priority 2); the PSE lists both.
                let mut p = debit()?;
                let credit =
                    Self::from_toml(include_str!("../profiles/unionpay-credit.toml")).ok()?;
                let mut app = credit.applications.first()?.clone();
                app.priority = 2;
                p.applications.push(app);
                p.name = "UnionPay debit + credit (two applications)".into();
                Some(p)
            }
            "unionpay-cda" => variant(&|p, a| {
                p.name = "UnionPay debit, CDA".into();
                a.oda = Some("cda".into());
                set_aip(a, 0x7D);
            }),
            "unionpay-sda-failure" => variant(&|p, a| {
                p.name = "UnionPay debit, SDA signature broken".into();
                a.oda = Some("sda".into());
                a.corrupt_oda = true;
                set_aip(a, 0x5C);
            }),
            "unionpay-expired" => variant(&|p, a| {
                p.name = "UnionPay debit, expired 2020-12".into();
                patch_records(a, &[0x5F, 0x24, 0x03, 0x30], &[0x5F, 0x24, 0x03, 0x20]);
            }),
            "unionpay-blocked" => variant(&|p, a| {
                p.name = "UnionPay debit, application blocked".into();
                a.blocked = true;
            }),
            "unionpay-offline-pin" => variant(&|p, a| {
                p.name = "UnionPay debit, offline plaintext PIN 1234".into();
                // CVM list: offline plaintext PIN (next on failure), signature, no CVM.
                patch_records(a, &[0x42, 0x03, 0x1E, 0x03], &[0x41, 0x03, 0x1E, 0x03]);
                a.offline_pin = Some("1234".into());
            }),
            "unionpay-enciphered-pin" => variant(&|p, a| {
                p.name = "UnionPay debit, offline enciphered PIN 1234 (DDA)".into();
                // CVM list: enciphered offline PIN (next on failure), signature, no CVM.
                patch_records(a, &[0x42, 0x03, 0x1E, 0x03], &[0x44, 0x03, 0x1E, 0x03]);
                a.offline_pin = Some("1234".into());
            }),
            "unionpay-pin-blocked" => {
                variant(&|p, a| {
                    p.name = "UnionPay debit, offline PIN blocked: needs the issuer's PIN UNBLOCK script".into();
                    // CVM list: offline plaintext PIN, then online PIN (next on failure).
                    patch_records(
                        a,
                        &[0x42, 0x03, 0x1E, 0x03, 0x1F, 0x00],
                        &[0x41, 0x03, 0x42, 0x03, 0x1E, 0x03],
                    );
                    a.offline_pin = Some("1234".into());
                    a.pin_tries_left = Some(0);
                })
            }
            "unionpay-qpboc-offline" => variant(&|p, a| {
                p.name = "UnionPay debit, qPBOC offline approval from electronic cash".into();
                a.approve_offline = true;
            }),
            "unionpay-ec" => variant(&|p, a| {
                p.name = "UnionPay debit with PBOC electronic cash (balance RMB 100.00)".into();
                // The PDOL asks whether the terminal chose electronic cash (9F7A).
                if let Some(pdol) = a.pdol.as_mut() {
                    pdol.0.extend_from_slice(&[0x9F, 0x7A, 0x01]);
                }
            }),
            "unionpay-card-declines" => variant(&|p, a| {
                p.name = "UnionPay debit, declines after host approval".into();
                a.decline_after_online = true;
            }),
            _ => None,
        }
    }
}

/// The names [`CardProfile::builtin`] knows.
pub const BUILTIN: &[&str] = &[
    "unionpay-debit",
    "unionpay-credit",
    "unionpay-dual",
    "unionpay-cda",
    "unionpay-sda-failure",
    "unionpay-expired",
    "unionpay-blocked",
    "unionpay-offline-pin",
    "unionpay-enciphered-pin",
    "unionpay-pin-blocked",
    "unionpay-card-declines",
    "unionpay-qpboc-offline",
    "unionpay-ec",
    "visa-credit",
];

fn set_aip(app: &mut AppProfile, first: u8) {
    let gpo = &mut app.gpo.0;
    if let Some(i) = gpo.windows(2).position(|w| w == [0x82, 0x02]) {
        gpo[i + 2] = first;
    }
}

fn patch_records(app: &mut AppProfile, from: &[u8], to: &[u8]) {
    for r in &mut app.records {
        if let Some(i) = r.data.0.windows(from.len()).position(|w| w == from) {
            r.data.0[i..i + to.len()].copy_from_slice(to);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Selected {
    Pse,
    Ppse,
    App(usize),
}

const PSE: &[u8] = b"1PAY.SYS.DDF01";
const PPSE: &[u8] = b"2PAY.SYS.DDF01";
const PSE_SFI: u8 = 1;

/// The issuer master key of the test cards (AC keys), shared by host-sim. Test data only.
pub const TEST_IMK: [u8; 16] = [
    0x0A, 0x1B, 0x2C, 0x3D, 0x4E, 0x5F, 0x60, 0x71, 0x82, 0x93, 0xA4, 0xB5, 0xC6, 0xD7, 0xE8, 0xF9,
];

/// A purchase of `amount` cents on 2026-12-01 10:20:30 with a fixed unpredictable number:
/// the transaction the kernel scenarios run the simulated cards with. Test data only.
pub fn test_purchase(amount: u64) -> pos_emv::TransactionData {
    pos_emv::TransactionData {
        amount,
        other_amount: 0,
        kind: 0x00,
        date: [0x26, 0x12, 0x01],
        time: [0x10, 0x20, 0x30],
        unpredictable: [0x11, 0x22, 0x33, 0x44],
        sequence: 1,
        force_online: false,
        electronic_cash: false,
    }
}

/// The issuer master key for secure messaging integrity (IMK-SMI) of the test cards: their
/// issuer script commands must carry a MAC under a key derived from it. Shared by host-sim.
/// Test data only.
pub const TEST_IMK_SMI: [u8; 16] = [
    0x5C, 0x21, 0x9E, 0x47, 0x03, 0xB8, 0x6D, 0xF2, 0x14, 0x8A, 0xC9, 0x30, 0x7B, 0xE5, 0x56, 0x0F,
];

/// The test CA, issuer and ICC keys (private halves), from `sim/fixtures/emv-ca/keys.toml`.
#[derive(Debug, Deserialize)]
struct TestKeys {
    ca: KeyHex,
    issuer: KeyHex,
    icc: KeyHex,
}

#[derive(Debug, Deserialize)]
struct KeyHex {
    modulus: HexBytes,
    exponent: HexBytes,
    private_exponent: HexBytes,
}

impl KeyHex {
    fn key(&self) -> PrivateKey {
        PrivateKey {
            modulus: self.modulus.0.clone(),
            exponent: self.exponent.0.clone(),
            private_exponent: self.private_exponent.0.clone(),
        }
    }
}

/// The test CA's public key file, as a terminal loads it (`[[capk]]`).
pub const TEST_CAPK_TOML: &str = include_str!("../fixtures/emv-ca/capk.toml");
/// The RID and index of the test CA key.
pub const TEST_CAPK_INDEX: u8 = 0xF1;

fn test_keys() -> Option<TestKeys> {
    toml::from_str(include_str!("../fixtures/emv-ca/keys.toml")).ok()
}

/// What personalisation gave one application: its keys and the generated records.
#[derive(Debug, Clone)]
struct Personalised {
    /// Card master key for ACs.
    mk: [u8; 16],
    /// Card master key for script MACs (MK-SMI).
    mk_smi: [u8; 16],
    /// The ICC private key, when the card does DDA/CDA.
    icc: Option<std::sync::Arc<PrivateKey>>,
    /// The two records with the certificates (a record holds at most 254 bytes).
    cert_records: Option<[Vec<u8>; 2]>,
    /// Every primitive the records and GPO answer hold, by tag.
    tags: BTreeMap<u32, Vec<u8>>,
    /// Whether the card signs GENERATE AC (CDA).
    cda: bool,
}

fn flatten(bytes: &[u8], into: &mut BTreeMap<u32, Vec<u8>>) {
    for element in pos_hal::tlv::TlvIter::new(bytes).flatten() {
        if element.is_constructed() {
            flatten(element.value, into);
        } else {
            into.entry(element.tag)
                .or_insert_with(|| element.value.to_vec());
        }
    }
}

fn gpo_parts(gpo: &[u8]) -> (Vec<u8>, Vec<u8>) {
    if let Ok(Some(t)) = pos_hal::tlv::find(gpo, 0x80)
        && t.value.len() >= 2
    {
        return (t.value[..2].to_vec(), t.value[2..].to_vec());
    }
    let get = |tag| {
        pos_hal::tlv::find(gpo, tag)
            .ok()
            .flatten()
            .map(|t| t.value.to_vec())
            .unwrap_or_default()
    };
    (get(0x82), get(0x94))
}

/// The static data the AFL marks for ODA, as the terminal will rebuild it.
fn static_data(app: &AppProfile, afl: &[u8], aip: &[u8], tags: &BTreeMap<u32, Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in afl.chunks_exact(4) {
        let (sfi, first, oda) = (entry[0] >> 3, entry[1], entry[3]);
        for record in first..first.saturating_add(oda) {
            if let Some(r) = app
                .records
                .iter()
                .find(|r| r.sfi == sfi && r.record == record)
            {
                match pos_hal::tlv::find(&r.data.0, 0x70) {
                    Ok(Some(t)) if sfi <= 10 => out.extend_from_slice(t.value),
                    _ => out.extend_from_slice(&r.data.0),
                }
            }
        }
    }
    if tags.get(&0x9F4A).is_some_and(|l| l == &[0x82]) {
        out.extend_from_slice(aip);
    }
    out
}

fn personalise(imk: &[u8; 16], app: &AppProfile) -> Personalised {
    let mut tags = BTreeMap::new();
    for r in &app.records {
        flatten(&r.data.0, &mut tags);
    }
    let (aip, afl) = gpo_parts(&app.gpo.0);
    let pan = tags.get(&0x5A).cloned().unwrap_or_default();
    let digits: Vec<u8> = pan
        .iter()
        .flat_map(|b| [b >> 4, b & 0x0F])
        .take_while(|d| *d <= 9)
        .collect();
    let psn = tags
        .get(&0x5F34)
        .and_then(|v| v.first().copied())
        .map_or(0, |b| (b >> 4) * 10 + (b & 0x0F));
    let mk = *pos_emv::issuer::card_master_key(imk, &digits, psn);
    let mk_smi = *pos_emv::issuer::card_master_key(&TEST_IMK_SMI, &digits, psn);
    let mut out = Personalised {
        mk,
        mk_smi,
        icc: None,
        cert_records: None,
        tags,
        cda: app.oda.as_deref() == Some("cda"),
    };
    let Some(method) = app.oda.as_deref() else {
        return out;
    };
    match certificates(app, method, &pan, &aip, &afl, &out.tags) {
        Ok((records, icc)) => {
            for r in &records {
                flatten(r, &mut out.tags);
            }
            out.cert_records = Some(records);
            out.icc = icc.map(std::sync::Arc::new);
        }
        Err(e) => tracing::warn!("card {}: cannot build its certificates: {e:?}", app.label),
    }
    out
}

type Certificates = ([Vec<u8>; 2], Option<PrivateKey>);

fn certificates(
    app: &AppProfile,
    method: &str,
    pan: &[u8],
    aip: &[u8],
    afl: &[u8],
    tags: &BTreeMap<u32, Vec<u8>>,
) -> Result<Certificates, pos_emv::rsa::RsaError> {
    use pos_emv::rsa::RsaError;
    let keys = test_keys().ok_or(RsaError::Length)?;
    let (ca, issuer) = (keys.ca.key(), keys.issuer.key());
    let mut signed = static_data(app, afl, aip, tags);
    if app.corrupt_oda {
        // Sign other data than the records hold: the terminal's hash will not match.
        signed.push(0x00);
    }
    let issuer_id = [
        pan.first().copied().unwrap_or(0xFF),
        pan.get(1).copied().unwrap_or(0xFF),
        pan.get(2).copied().unwrap_or(0xFF),
        0xFF,
    ];
    let expiry = [0x12, 0x49];
    let (cert, remainder) =
        sign::issuer_certificate(&ca, &issuer.modulus, &issuer.exponent, issuer_id, expiry)?;
    let mut record = tlv(0x8F, &[TEST_CAPK_INDEX]);
    push(&mut record, 0x90, &cert);
    if !remainder.is_empty() {
        push(&mut record, 0x92, &remainder);
    }
    push(&mut record, 0x9F32, &issuer.exponent);
    let mut second = Vec::new();
    let mut icc_key = None;
    if method == "sda" {
        push(
            &mut second,
            0x93,
            &sign::ssad(&issuer, [0xDA, 0xC1], &signed)?,
        );
    } else {
        let icc = keys.icc.key();
        let mut pan10 = [0xFF; 10];
        for (d, s) in pan10.iter_mut().zip(pan) {
            *d = *s;
        }
        let (cert, remainder) =
            sign::icc_certificate(&issuer, &icc.modulus, &icc.exponent, pan10, expiry, &signed)?;
        push(&mut second, 0x9F46, &cert);
        push(&mut second, 0x9F47, &icc.exponent);
        if !remainder.is_empty() {
            push(&mut second, 0x9F48, &remainder);
        }
        push(&mut second, 0x9F49, &[0x9F, 0x37, 0x04]);
        icc_key = Some(icc);
    }
    Ok(([tlv(0x70, &record), tlv(0x70, &second)], icc_key))
}

/// The simulated card.
#[derive(Debug, Clone)]
pub struct EmvCard {
    profile: CardProfile,
    apps: Vec<Personalised>,
    selected: Option<Selected>,
    pending: Vec<u8>,
    atc: u16,
    /// PIN tries left per application.
    pin_tries: Vec<u8>,
    /// Data of the last GPO (CDA hashes it).
    pdol_data: Vec<u8>,
    /// The last cryptogram asked for and given in this session: (ARQC, ATC).
    arqc: Option<([u8; 8], [u8; 2])>,
    /// How many GENERATE ACs this session has seen.
    generate_acs: u8,
    /// EXTERNAL AUTHENTICATE outcome in this session.
    issuer_authenticated: Option<bool>,
    /// Applications blocked (by profile or by an issuer script).
    blocked: Vec<bool>,
    /// The status word of the current answer when it is a warning rather than 9000.
    warning: Option<StatusWord>,
    /// The amount of an electronic cash transaction the last GPO announced (9F7A = 01) and
    /// the balance covers: a TC asked for in the first GENERATE AC is given, and paid from
    /// the EC balance (9F79).
    ec_amount: Option<u64>,
    /// The last GET CHALLENGE's answer: an enciphered PIN must carry it, once.
    challenge: Option<[u8; 8]>,
}

fn sw(word: StatusWord) -> Vec<u8> {
    vec![word.sw1(), word.sw2()]
}

fn ok(mut data: Vec<u8>) -> Vec<u8> {
    data.extend_from_slice(&[0x90, 0x00]);
    data
}

impl EmvCard {
    /// A card in its power-on state, personalised from its profile (keys, certificates).
    pub fn new(profile: CardProfile) -> Self {
        let imk: [u8; 16] = profile
            .imk
            .as_ref()
            .and_then(|k| k.0.as_slice().try_into().ok())
            .unwrap_or(TEST_IMK);
        let apps = profile
            .applications
            .iter()
            .map(|app| personalise(&imk, app))
            .collect();
        let pin_tries = profile
            .applications
            .iter()
            .map(|a| a.pin_tries_left.unwrap_or(a.pin_tries).min(a.pin_tries))
            .collect();
        let blocked = profile.applications.iter().map(|a| a.blocked).collect();
        Self {
            profile,
            apps,
            selected: None,
            pending: Vec::new(),
            atc: 0,
            pin_tries,
            pdol_data: Vec::new(),
            arqc: None,
            generate_acs: 0,
            issuer_authenticated: None,
            blocked,
            warning: None,
            ec_amount: None,
            challenge: None,
        }
    }

    /// The profile.
    pub fn profile(&self) -> &CardProfile {
        &self.profile
    }

    fn directory_entry(app: &AppProfile) -> Vec<u8> {
        let mut entry = tlv(0x4F, &app.aid.0);
        push(&mut entry, 0x50, app.label.as_bytes());
        push(&mut entry, 0x87, &[app.priority]);
        tlv(0x61, &entry)
    }

    /// Template 61 of every application: the PSE record and the PPSE FCI list the same.
    fn directory_entries(&self) -> Vec<u8> {
        self.profile
            .applications
            .iter()
            .flat_map(Self::directory_entry)
            .collect()
    }

    fn fci_pse(&self) -> Vec<u8> {
        let mut prop = tlv(0x88, &[PSE_SFI]);
        push(&mut prop, 0x5F2D, b"zhen");
        let mut fci = tlv(0x84, PSE);
        push(&mut fci, 0xA5, &prop);
        tlv(0x6F, &fci)
    }

    fn fci_ppse(&self) -> Vec<u8> {
        let mut fci = tlv(0x84, PPSE);
        push(&mut fci, 0xA5, &tlv(0xBF0C, &self.directory_entries()));
        tlv(0x6F, &fci)
    }

    fn fci_app(app: &AppProfile) -> Vec<u8> {
        let mut prop = tlv(0x50, app.label.as_bytes());
        push(&mut prop, 0x87, &[app.priority]);
        if let Some(pdol) = &app.pdol {
            push(&mut prop, 0x9F38, &pdol.0);
        }
        if let Some(lang) = &app.language {
            push(&mut prop, 0x5F2D, lang.as_bytes());
        }
        let mut fci = tlv(0x84, &app.aid.0);
        push(&mut fci, 0xA5, &prop);
        tlv(0x6F, &fci)
    }

    fn select(&mut self, apdu: &Apdu<'_>) -> Result<Vec<u8>, StatusWord> {
        if apdu.p1 != 0x04 {
            return Err(StatusWord::WRONG_P1P2);
        }
        let name = apdu.data;
        self.selected = None;
        if name == PSE && self.profile.pse {
            self.selected = Some(Selected::Pse);
            return Ok(self.fci_pse());
        }
        if name == PPSE && self.profile.ppse {
            self.selected = Some(Selected::Ppse);
            return Ok(self.fci_ppse());
        }
        // Partial selection: the terminal may send a shorter AID (EMV Book 1 §12.3.1).
        let found = self
            .profile
            .applications
            .iter()
            .position(|a| !name.is_empty() && a.aid.0.starts_with(name));
        match found {
            Some(i) => {
                self.selected = Some(Selected::App(i));
                self.generate_acs = 0;
                self.arqc = None;
                self.ec_amount = None;
                self.issuer_authenticated = None;
                let fci = Self::fci_app(&self.profile.applications[i]);
                if self.blocked[i] {
                    // Selected, but the application is blocked: the FCI comes with 62 83.
                    self.warning = Some(StatusWord::from_bytes(0x62, 0x83));
                }
                Ok(fci)
            }
            None => Err(StatusWord::FILE_NOT_FOUND),
        }
    }

    fn read_record(&self, apdu: &Apdu<'_>) -> Result<Vec<u8>, StatusWord> {
        if apdu.p2 & 0x07 != 0x04 || apdu.p1 == 0 {
            return Err(StatusWord::WRONG_P1P2);
        }
        let sfi = apdu.p2 >> 3;
        match self.selected {
            Some(Selected::Pse) if sfi == PSE_SFI && apdu.p1 == 1 => {
                Ok(tlv(0x70, &self.directory_entries()))
            }
            Some(Selected::Pse) => Err(StatusWord::RECORD_NOT_FOUND),
            Some(Selected::App(i)) => {
                let app = &self.profile.applications[i];
                if let Some(certs) = &self.apps[i].cert_records
                    && sfi == app.cert_sfi
                    && let Some(n) = apdu.p1.checked_sub(app.cert_record)
                    && let Some(cert) = certs.get(usize::from(n))
                {
                    return Ok(cert.clone());
                }
                app.records
                    .iter()
                    .find(|r| r.sfi == sfi && r.record == apdu.p1)
                    .map(|r| r.data.0.clone())
                    .ok_or(StatusWord::RECORD_NOT_FOUND)
            }
            _ => Err(StatusWord::CONDITIONS_NOT_SATISFIED),
        }
    }

    fn app(&self) -> Result<&AppProfile, StatusWord> {
        match self.selected {
            Some(Selected::App(i)) => Ok(&self.profile.applications[i]),
            _ => Err(StatusWord::CONDITIONS_NOT_SATISFIED),
        }
    }

    fn index(&self) -> Result<usize, StatusWord> {
        match self.selected {
            Some(Selected::App(i)) => Ok(i),
            _ => Err(StatusWord::CONDITIONS_NOT_SATISFIED),
        }
    }

    fn gpo(&mut self, apdu: &Apdu<'_>) -> Result<Vec<u8>, StatusWord> {
        let i = self.index()?;
        let data = match pos_hal::tlv::find(apdu.data, 0x83) {
            Ok(Some(t)) if apdu.data.first() == Some(&0x83) => t.value.to_vec(),
            _ => return Err(StatusWord::WRONG_LENGTH),
        };
        if self.blocked[i] {
            return Err(StatusWord::CONDITIONS_NOT_SATISFIED);
        }
        self.pdol_data = data;
        self.atc = self.atc.wrapping_add(1);
        let pdol = self.apps[i]
            .tags
            .get(&0x9F38)
            .or(self.profile.applications[i].pdol.as_ref().map(|p| &p.0))
            .and_then(|d| pos_emv::dol::parse(d).ok())
            .unwrap_or_default();
        let values: Vec<(u32, Vec<u8>)> = pos_emv::dol::split(&pdol, &self.pdol_data)
            .map(|v| v.into_iter().map(|(t, v)| (t, v.to_vec())).collect())
            .unwrap_or_default();
        let ttq = values
            .iter()
            .find(|(t, _)| *t == 0x9F66)
            .map(|(_, v)| v.clone());
        if let Some(ttq) = ttq.filter(|t| t.first().is_some_and(|b| b & 0x20 != 0)) {
            return self.qpboc(i, &ttq, &values);
        }
        // Contact electronic cash: the terminal chose it and the balance covers the amount.
        let get = |tag: u32| values.iter().find(|(t, _)| *t == tag).map(|(_, v)| v);
        let amount = get(0x9F02).map(|a| pos_emv::dol::bcd_value(a));
        self.ec_amount = match (get(0x9F7A).map(|v| v.as_slice()), amount) {
            (Some([0x01]), Some(amount)) if amount <= self.ec_balance(i) => Some(amount),
            _ => None,
        };
        Ok(self.app()?.gpo.0.clone())
    }

    /// qPBOC: the GPO answer carries the cryptogram (ARQC when the reader wants online or the
    /// card will not approve offline; TC with an fDDA signature when it approves from its
    /// electronic cash balance).
    fn qpboc(
        &mut self,
        i: usize,
        ttq: &[u8],
        values: &[(u32, Vec<u8>)],
    ) -> Result<Vec<u8>, StatusWord> {
        let app = &self.profile.applications[i];
        let card = &self.apps[i];
        let get = |tag: u32| {
            values
                .iter()
                .find(|(t, _)| *t == tag)
                .map(|(_, v)| v.clone())
        };
        let amount = get(0x9F02).unwrap_or_default();
        let balance = app
            .get_data
            .get("9F79")
            .map(|b| b.0.clone())
            .unwrap_or_default();
        let within_balance = amount.len() == balance.len() && amount <= balance;
        let online_required = ttq.get(1).is_some_and(|b| b & 0x80 != 0);
        let cid = if app.approve_offline && !online_required && within_balance {
            0x40
        } else {
            0x80
        };
        let iad = app.iad.clone().unwrap_or_default().0;
        let atc = self.atc.to_be_bytes();
        let (aip, afl) = gpo_parts(&app.gpo.0);
        let input = pos_emv::issuer::ac_input(|tag| match tag {
            0x82 => Some(aip.clone()),
            0x9F36 => Some(atc.to_vec()),
            0x9F10 => Some(iad.clone()),
            // The reader's PDOL may leave out TVR: a tap has none yet.
            0x95 => Some(get(0x95).unwrap_or_else(|| vec![0; 5])),
            _ => get(tag),
        })
        .ok_or(StatusWord::WRONG_LENGTH)?;
        let ac = pos_emv::issuer::cryptogram(&card.mk, atc, &input);
        if cid == 0x80 {
            self.arqc = Some((ac, atc));
        }
        let ctq = app.ctq.as_ref().map_or(vec![0x80, 0x00], |c| c.0.clone());
        let mut card_auth = vec![0x01];
        card_auth.extend_from_slice(&self.dynamic_number()[..4]);
        card_auth.extend_from_slice(&ctq);
        let mut body = tlv(0x82, &aip);
        if !afl.is_empty() {
            push(&mut body, 0x94, &afl);
        }
        push(&mut body, 0x9F36, &atc);
        push(&mut body, 0x9F26, &ac);
        push(&mut body, 0x9F27, &[cid]);
        if !iad.is_empty() {
            push(&mut body, 0x9F10, &iad);
        }
        push(&mut body, 0x9F6C, &ctq);
        push(&mut body, 0x9F69, &card_auth);
        if !balance.is_empty() {
            push(&mut body, 0x9F5D, &balance);
        }
        if cid == 0x40
            && let Some(key) = card.icc.clone()
        {
            let number = self.dynamic_number();
            let mut dynamic = vec![number.len() as u8];
            dynamic.extend_from_slice(&number);
            let covered = [
                get(0x9F37).unwrap_or_default(),
                amount.clone(),
                get(0x5F2A).unwrap_or_default(),
                card_auth.clone(),
            ];
            let parts: Vec<&[u8]> = covered.iter().map(Vec::as_slice).collect();
            let sdad =
                sign::sdad(&key, 0x05, &dynamic, &parts).map_err(|_| StatusWord::WRONG_LENGTH)?;
            push(&mut body, 0x9F4B, &sdad);
        }
        Ok(tlv(0x77, &body))
    }

    /// INTERNAL AUTHENTICATE (DDA): signs the terminal's DDOL data with the ICC key.
    fn internal_authenticate(&mut self, apdu: &Apdu<'_>) -> Result<Vec<u8>, StatusWord> {
        let i = self.index()?;
        let key = self.apps[i]
            .icc
            .clone()
            .ok_or(StatusWord::INS_NOT_SUPPORTED)?;
        let number = self.dynamic_number();
        let mut dynamic = vec![number.len() as u8];
        dynamic.extend_from_slice(&number);
        let sdad =
            sign::sdad(&key, 0x05, &dynamic, &[apdu.data]).map_err(|_| StatusWord::WRONG_LENGTH)?;
        Ok(tlv(0x80, &sdad))
    }

    fn dynamic_number(&self) -> [u8; 8] {
        let mut n = [0u8; 8];
        n[..2].copy_from_slice(&self.atc.to_be_bytes());
        n[2..].copy_from_slice(&[0xD7, 0x11, 0xC0, 0xDE, 0x5E, 0x55]);
        n
    }

    /// EXTERNAL AUTHENTICATE: checks ARPC ‖ ARC against the last ARQC.
    fn external_authenticate(&mut self, apdu: &Apdu<'_>) -> Result<Vec<u8>, StatusWord> {
        let i = self.index()?;
        let (arqc, atc) = self.arqc.ok_or(StatusWord::CONDITIONS_NOT_SATISFIED)?;
        if self.issuer_authenticated.is_some() {
            return Err(StatusWord::CONDITIONS_NOT_SATISFIED);
        }
        let ok = match apdu.data {
            [arpc @ .., a, b] if arpc.len() == 8 => {
                pos_emv::issuer::arpc(&self.apps[i].mk, atc, arqc, [*a, *b])[..] == *arpc
            }
            _ => return Err(StatusWord::WRONG_LENGTH),
        };
        self.issuer_authenticated = Some(ok);
        if ok {
            Ok(Vec::new())
        } else {
            Err(StatusWord::from_bytes(0x63, 0x00))
        }
    }

    /// GET CHALLENGE: eight fresh random bytes, kept for the next enciphered VERIFY.
    fn get_challenge(&mut self) -> Result<Vec<u8>, StatusWord> {
        let challenge: [u8; 8] =
            pos_platform::random().map_err(|_| StatusWord::CONDITIONS_NOT_SATISFIED)?;
        self.challenge = Some(challenge);
        Ok(challenge.to_vec())
    }

    /// VERIFY with a plaintext PIN block (P2 = 80, format 2) or an enciphered one (P2 = 88:
    /// `7F ‖ block ‖ challenge ‖ padding` under the ICC key, Book 2 §7.2).
    fn verify(&mut self, apdu: &Apdu<'_>) -> Result<Vec<u8>, StatusWord> {
        let i = self.index()?;
        let Some(expected) = self.profile.applications[i].offline_pin.clone() else {
            return Err(StatusWord::from_bytes(0x6A, 0x88));
        };
        let deciphered;
        let block = match apdu.p2 {
            0x80 => apdu.data,
            0x88 => {
                let key = self.apps[i]
                    .icc
                    .clone()
                    .ok_or(StatusWord::from_bytes(0x6A, 0x88))?;
                // Each challenge serves one VERIFY.
                let challenge = self
                    .challenge
                    .take()
                    .ok_or(StatusWord::CONDITIONS_NOT_SATISFIED)?;
                deciphered = zeroize::Zeroizing::new(
                    pos_emv::rsa::transform(&key.modulus, &key.private_exponent, apdu.data)
                        .map_err(|_| StatusWord::WRONG_LENGTH)?,
                );
                if deciphered.len() < 17 || deciphered[0] != 0x7F {
                    return Err(StatusWord::from_bytes(0x69, 0x85));
                }
                if deciphered[9..17] != challenge {
                    return Err(StatusWord::CONDITIONS_NOT_SATISFIED);
                }
                &deciphered[1..9]
            }
            _ => return Err(StatusWord::WRONG_P1P2),
        };
        if self.pin_tries[i] == 0 {
            return Err(StatusWord::from_bytes(0x69, 0x83));
        }
        if block.len() != 8 || block[0] >> 4 != 2 {
            return Err(StatusWord::WRONG_LENGTH);
        }
        let len = usize::from(block[0] & 0x0F);
        let digits: String = block[1..]
            .iter()
            .flat_map(|b| [b >> 4, b & 0x0F])
            .take(len)
            .map(|d| char::from(b'0' + d.min(9)))
            .collect();
        if digits == expected {
            self.pin_tries[i] = self.profile.applications[i].pin_tries;
            return Ok(Vec::new());
        }
        self.pin_tries[i] -= 1;
        Err(StatusWord::from_bytes(0x63, 0xC0 | self.pin_tries[i]))
    }

    /// Issuer script commands (secure messaging, CLA 84): application block/unblock, PIN
    /// unblock, PUT DATA — each only with a MAC under the card's MK-SMI over this
    /// transaction's ATC and ARQC (`6988` otherwise: nothing changes).
    fn script(&mut self, apdu: &Apdu<'_>) -> Result<Vec<u8>, StatusWord> {
        let i = self.index()?;
        let (arqc, atc) = self.arqc.ok_or(StatusWord::CONDITIONS_NOT_SATISFIED)?;
        let bad_mac = StatusWord::from_bytes(0x69, 0x88);
        let Some(split) = apdu.data.len().checked_sub(8) else {
            return Err(bad_mac);
        };
        let (data, mac) = apdu.data.split_at(split);
        let header = [apdu.cla, apdu.ins, apdu.p1, apdu.p2];
        if pos_emv::issuer::script_mac(&self.apps[i].mk_smi, atc, arqc, header, data)[..] != *mac {
            return Err(bad_mac);
        }
        match apdu.ins {
            0x1E => self.blocked[i] = true,
            0x18 => self.blocked[i] = false,
            0x24 => self.pin_tries[i] = self.profile.applications[i].pin_tries,
            0xDA => {}
            _ => return Err(StatusWord::INS_NOT_SUPPORTED),
        }
        Ok(Vec::new())
    }

    fn get_data(&self, apdu: &Apdu<'_>) -> Result<Vec<u8>, StatusWord> {
        let tag = u32::from(u16::from_be_bytes([apdu.p1, apdu.p2]));
        if tag == 0x9F36 {
            return Ok(tlv(tag, &self.atc.to_be_bytes()));
        }
        if tag == 0x9F17
            && let Ok(i) = self.index()
            && self.profile.applications[i].offline_pin.is_some()
        {
            return Ok(tlv(tag, &[self.pin_tries[i]]));
        }
        let key = format!("{tag:04X}");
        self.app()?
            .get_data
            .get(&key)
            .map(|v| tlv(tag, &v.0))
            .ok_or(StatusWord::from_bytes(0x6A, 0x88))
    }

    fn generate_ac(&mut self, apdu: &Apdu<'_>) -> Result<Vec<u8>, StatusWord> {
        let i = self.index()?;
        let app = &self.profile.applications[i];
        let card = &self.apps[i];
        self.generate_acs += 1;
        let second = self.generate_acs == 2;
        if self.generate_acs > 2 || (second && self.arqc.is_none()) {
            return Err(StatusWord::CONDITIONS_NOT_SATISFIED);
        }
        // P1 bits 8-7: 00 AAC, 01 TC, 10 ARQC; bit 5 asks for a CDA signature.
        let asked = apdu.p1 & 0xC0;
        let ec = self.ec_amount.filter(|_| !second && asked == 0x40);
        let cid = match (second, asked) {
            (_, 0x00) => 0x00,
            (false, 0x40) if app.approve_offline || ec.is_some() => 0x40,
            (false, _) => 0x80,
            (true, 0x40) if app.decline_after_online => 0x00,
            (true, 0x40) if self.issuer_authenticated == Some(false) => 0x00,
            (true, 0x40) => 0x40,
            (true, _) => return Err(StatusWord::WRONG_P1P2),
        };
        let dol_tag = if second { 0x8D } else { 0x8C };
        let dol = card
            .tags
            .get(&dol_tag)
            .and_then(|d| pos_emv::dol::parse(d).ok())
            .ok_or(StatusWord::CONDITIONS_NOT_SATISFIED)?;
        let values = pos_emv::dol::split(&dol, apdu.data).map_err(|_| StatusWord::WRONG_LENGTH)?;
        let iad = app.iad.clone().unwrap_or_default().0;
        let atc = self.atc.to_be_bytes();
        let (aip, _) = gpo_parts(&app.gpo.0);
        let input = pos_emv::issuer::ac_input(|tag| match tag {
            0x82 => Some(aip.clone()),
            0x9F36 => Some(atc.to_vec()),
            0x9F10 => Some(iad.clone()),
            // The first AC's terminal data stands when CDOL2 does not repeat it.
            _ => values
                .iter()
                .find(|(t, _)| *t == tag)
                .map(|(_, v)| v.to_vec()),
        })
        .ok_or(StatusWord::WRONG_LENGTH)?;
        let ac = pos_emv::issuer::cryptogram(&card.mk, atc, &input);
        if !second {
            self.arqc = (cid == 0x80).then_some((ac, atc));
        }
        let mut body = tlv(0x9F27, &[cid]);
        push(&mut body, 0x9F36, &atc);
        if let Some(amount) = ec {
            // Paid from the electronic cash balance; the issuer's EC authorisation code and
            // the new balance come with the TC.
            let left = self.ec_balance(i).saturating_sub(amount);
            self.profile.applications[i]
                .get_data
                .insert("9F79".into(), HexBytes(pos_emv::dol::n12(left).to_vec()));
            self.ec_amount = None;
            push(&mut body, 0x9F74, b"ECC001");
            push(&mut body, 0x9F79, &pos_emv::dol::n12(left));
        }
        let cda = apdu.p1 & 0x10 != 0 && card.cda && cid != 0x00;
        if !cda {
            push(&mut body, 0x9F26, &ac);
        }
        if !iad.is_empty() {
            push(&mut body, 0x9F10, &iad);
        }
        if cda {
            let key = card
                .icc
                .clone()
                .ok_or(StatusWord::CONDITIONS_NOT_SATISFIED)?;
            let mut h = <sha1::Sha1 as sha1::Digest>::new();
            sha1::Digest::update(&mut h, &self.pdol_data);
            sha1::Digest::update(&mut h, apdu.data);
            sha1::Digest::update(&mut h, &body);
            let hash: [u8; 20] = sha1::Digest::finalize(h).into();
            let number = self.dynamic_number();
            let mut dynamic = vec![number.len() as u8];
            dynamic.extend_from_slice(&number);
            dynamic.push(cid);
            dynamic.extend_from_slice(&ac);
            dynamic.extend_from_slice(&hash);
            let un = values
                .iter()
                .find(|(t, _)| *t == 0x9F37)
                .map(|(_, v)| v.to_vec())
                .unwrap_or_default();
            let sdad =
                sign::sdad(&key, 0x95, &dynamic, &[&un]).map_err(|_| StatusWord::WRONG_LENGTH)?;
            push(&mut body, 0x9F4B, &sdad);
        }
        Ok(tlv(0x77, &body))
    }

    /// The application's electronic cash balance (9F79), in cents.
    fn ec_balance(&self, i: usize) -> u64 {
        self.profile.applications[i]
            .get_data
            .get("9F79")
            .map_or(0, |b| pos_emv::dol::bcd_value(&b.0))
    }

    fn get_response(&mut self, apdu: &Apdu<'_>) -> Vec<u8> {
        if self.pending.is_empty() {
            return sw(StatusWord::CONDITIONS_NOT_SATISFIED);
        }
        let want = apdu.le.unwrap_or(256) as usize;
        let n = want.min(self.pending.len());
        let mut out: Vec<u8> = self.pending.drain(..n).collect();
        match self.pending.len() {
            0 => out.extend_from_slice(&[0x90, 0x00]),
            left => out.extend_from_slice(&[0x61, left.min(256) as u8]),
        }
        out
    }

    fn dispatch(&mut self, apdu: &Apdu<'_>) -> Result<Vec<u8>, StatusWord> {
        match (apdu.cla, apdu.ins) {
            (0x00, 0xA4) => self.select(apdu),
            (0x00, 0xB2) => self.read_record(apdu),
            (0x80, 0xA8) => self.gpo(apdu),
            (0x80, 0xCA) => self.get_data(apdu),
            (0x80, 0xAE) => self.generate_ac(apdu),
            (0x00, 0x88) => self.internal_authenticate(apdu),
            (0x00, 0x82) => self.external_authenticate(apdu),
            (0x00, 0x20) => self.verify(apdu),
            (0x00, 0x84) => self.get_challenge(),
            (0x84, 0x1E | 0x18 | 0x24 | 0xDA) => self.script(apdu),
            (0x80, 0xEE) if self.profile.echo && apdu.p1 == 0x01 => {
                let n = match apdu.le {
                    Some(0) | None => 256,
                    Some(n) => n.min(256) as usize,
                };
                Ok((0..n).map(|i| i as u8).collect())
            }
            (0x80, 0xEE) if self.profile.echo => Ok(apdu.data.to_vec()),
            (0xFF, 0xCA) if apdu.p1 == 0 => match &self.profile.uid {
                Some(uid) => Ok(uid.0.clone()),
                None => Err(StatusWord::from_bytes(0x6A, 0x81)),
            },
            (0x00 | 0x80 | 0x84, _) | (0xFF, 0xCA) => Err(StatusWord::INS_NOT_SUPPORTED),
            _ => Err(StatusWord::CLA_NOT_SUPPORTED),
        }
    }
}

impl Card for EmvCard {
    fn atr(&self) -> Vec<u8> {
        self.profile.atr.0.clone()
    }

    fn reset(&mut self) {
        self.selected = None;
        self.pending.clear();
        self.arqc = None;
        self.ec_amount = None;
        self.generate_acs = 0;
        self.issuer_authenticated = None;
        self.challenge = None;
    }

    fn transmit(&mut self, raw: &[u8]) -> Vec<u8> {
        let Ok(apdu) = Apdu::parse(raw) else {
            return sw(StatusWord::WRONG_LENGTH);
        };
        if apdu.cla == 0x00 && apdu.ins == 0xC0 {
            return self.get_response(&apdu);
        }
        self.pending.clear();
        self.warning = None;
        let data = match self.dispatch(&apdu) {
            Ok(data) => data,
            Err(word) => return sw(word),
        };
        if let Some(word) = self.warning.take() {
            let mut out = data;
            out.extend_from_slice(&[word.sw1(), word.sw2()]);
            return out;
        }
        if !self.profile.t0 {
            return ok(data);
        }
        // T=0: the data of a case 4 command waits for GET RESPONSE; a case 2 command with
        // the wrong Le is refused with the right one.
        let case4 = !apdu.data.is_empty();
        if data.is_empty() {
            return ok(data);
        }
        if case4 {
            let n = data.len();
            self.pending = data;
            return vec![0x61, n.min(256) as u8];
        }
        match apdu.le {
            Some(ne) if ne as usize == data.len() => ok(data),
            _ if data.len() > 256 => {
                let n = data.len();
                self.pending = data;
                vec![0x61, n.min(256) as u8]
            }
            _ => vec![0x6C, data.len() as u8],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pos_hal::tlv::find;
    use proptest::prelude::*;

    fn card(name: &str) -> EmvCard {
        EmvCard::new(CardProfile::builtin(name).expect("builtin profile"))
    }

    fn select(name: &[u8]) -> Vec<u8> {
        let mut a = vec![0x00, 0xA4, 0x04, 0x00, name.len() as u8];
        a.extend_from_slice(name);
        a.push(0x00);
        a
    }

    #[test]
    fn pse_lists_unionpay_and_records_hold_the_pan() {
        let mut c = card("unionpay-debit");
        let fci = c.transmit(&select(PSE));
        assert_eq!(&fci[fci.len() - 2..], &[0x90, 0x00]);
        let dir = c.transmit(&[0x00, 0xB2, 0x01, 0x0C, 0x00]);
        let aid = find(&dir[..dir.len() - 2], 0x4F).expect("tlv").expect("4F");
        assert_eq!(aid.value, hex::decode("A000000333010101").expect("hex"));
        let fci = c.transmit(&select(aid.value));
        assert_eq!(&fci[fci.len() - 2..], &[0x90, 0x00]);
        let rec = c.transmit(&[0x00, 0xB2, 0x01, 0x14, 0x00]);
        let pan = find(&rec[..rec.len() - 2], 0x5A).expect("tlv").expect("5A");
        let pan = pos_hal::Pan::from_bcd(pan.value).expect("valid PAN");
        assert_eq!(pan.to_string(), "621234******1232");
    }

    #[test]
    fn an_issuer_key_of_the_wrong_size_is_refused_at_load() {
        let toml = "name = \"x\"\natr = \"3B00\"\nimk = \"0102\"\napplications = []\n";
        assert!(matches!(
            CardProfile::from_toml(toml),
            Err(ProfileError::Invalid { .. })
        ));
    }

    #[test]
    fn every_builtin_profile_loads() {
        for name in BUILTIN {
            assert!(CardProfile::builtin(name).is_some(), "{name}");
        }
    }

    #[test]
    fn unknown_commands_get_iso_status_words() {
        let mut c = card("visa-credit");
        assert_eq!(c.transmit(&[0x00, 0x12, 0, 0]), [0x6D, 0x00]);
        assert_eq!(c.transmit(&[0x90, 0x12, 0, 0]), [0x6E, 0x00]);
        assert_eq!(c.transmit(&select(b"NOPE.NOPE")), [0x6A, 0x82]);
        assert_eq!(c.transmit(&[0x00, 0xB2, 0x01, 0x0C, 0x00]), [0x69, 0x85]);
        assert_eq!(c.transmit(&[0x00, 0xA4]), [0x67, 0x00]);
        assert_eq!(c.transmit(&[0x00, 0xC0, 0x00, 0x00, 0x10]), [0x69, 0x85]);
        c.transmit(&select(&hex::decode("A0000000031010").expect("hex")));
        assert_eq!(c.transmit(&[0x00, 0xB2, 0x09, 0x0C, 0x00]), [0x6A, 0x83]);
        assert_eq!(c.transmit(&[0x00, 0xB2, 0x01, 0x0B, 0x00]), [0x6A, 0x86]);
    }

    #[test]
    fn t0_mode_answers_61xx_and_6cxx() {
        let mut profile = CardProfile::builtin("unionpay-debit").expect("profile");
        profile.t0 = true;
        let mut c = EmvCard::new(profile);
        let r = c.transmit(&select(PSE));
        assert_eq!(r[0], 0x61);
        let n = r[1];
        let data = c.transmit(&[0x00, 0xC0, 0x00, 0x00, n]);
        assert_eq!(data.len(), usize::from(n) + 2);
        assert_eq!(&data[data.len() - 2..], &[0x90, 0x00]);
        let wrong = c.transmit(&[0x00, 0xB2, 0x01, 0x0C, 0x00]);
        assert_eq!(wrong[0], 0x6C);
        let right = c.transmit(&[0x00, 0xB2, 0x01, 0x0C, wrong[1]]);
        assert_eq!(right.len(), usize::from(wrong[1]) + 2);
    }

    #[test]
    fn gpo_counts_the_atc_and_generate_ac_checks_its_cdol_data() {
        let mut c = card("unionpay-debit");
        c.transmit(&select(&hex::decode("A000000333010101").expect("hex")));
        let gpo = [0x80, 0xA8, 0x00, 0x00, 0x02, 0x83, 0x00, 0x00];
        assert!(c.transmit(&gpo).ends_with(&[0x90, 0x00]));
        assert!(c.transmit(&gpo).ends_with(&[0x90, 0x00]));
        let atc = c.transmit(&[0x80, 0xCA, 0x9F, 0x36, 0x00]);
        assert_eq!(atc, [0x9F, 0x36, 0x02, 0x00, 0x02, 0x90, 0x00]);
        // CDOL1 asks for 66 bytes: anything shorter is the wrong length.
        let short = [0x80, 0xAE, 0x80, 0x00, 0x02, 0x01, 0x02, 0x00];
        assert_eq!(c.transmit(&short), [0x67, 0x00]);
    }

    #[test]
    fn profiles_reject_nonsense() {
        assert!(matches!(
            CardProfile::from_toml("name = 1"),
            Err(ProfileError::Parse { .. })
        ));
        let bad_atr = "name='x'\natr=''\napplications=[]";
        assert!(matches!(
            CardProfile::from_toml(bad_atr),
            Err(ProfileError::Invalid { .. })
        ));
        // The credit profile once shipped with a wrong check byte: pcscd refused the card.
        let bad_tck =
            "name='x'\natr='3B 8B 80 01 50 42 4F 43 20 43 52 45 44 49 54 2A'\napplications=[]";
        assert!(matches!(
            CardProfile::from_toml(bad_tck),
            Err(ProfileError::Invalid { .. })
        ));
        for name in BUILTIN {
            assert!(CardProfile::builtin(name).is_some(), "{name} loads");
        }
        let bad_hex = "name='x'\natr='3G'\napplications=[]";
        assert!(matches!(
            CardProfile::from_toml(bad_hex),
            Err(ProfileError::Parse { .. })
        ));
    }

    proptest! {
        #[test]
        fn any_apdu_gets_a_status_word(bytes in proptest::collection::vec(any::<u8>(), 0..300), t0 in any::<bool>()) {
            // Personalising signs certificates: do it once, clone per case.
            static CARDS: std::sync::OnceLock<[EmvCard; 2]> = std::sync::OnceLock::new();
            let cards = CARDS.get_or_init(|| {
                [false, true].map(|t0| {
                    let mut profile = CardProfile::builtin("unionpay-debit").expect("profile");
                    profile.t0 = t0;
                    EmvCard::new(profile)
                })
            });
            let mut c = cards[usize::from(t0)].clone();
            let r = c.transmit(&bytes);
            prop_assert!(r.len() >= 2);
        }
    }
}
