//! An EMV / PBOC card built from a profile file.
//!
//! The card answers what a contact or contactless kernel sends: SELECT of the PSE
//! (`1PAY.SYS.DDF01`), the PPSE (`2PAY.SYS.DDF01`) and applications, READ RECORD, GET
//! PROCESSING OPTIONS, GET DATA, GENERATE AC, GET RESPONSE, and the PC/SC pseudo-APDU
//! `FF CA` (UID). Anything else gets the ISO status word a real card gives (`6D00`, `6E00`,
//! `6A82`, `6A83`, `6A86`, `6700`, `6985`), never silence.
//!
//! GENERATE AC returns a *placeholder* cryptogram (a keyed checksum, not 3DES/SM4): the EMV
//! kernel issue replaces it with the real issuer keys.

use std::collections::BTreeMap;
use std::path::Path;

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
    /// Answers the proprietary `80 EE` ECHO command (for extended-length tests).
    #[serde(default)]
    pub echo: bool,
    /// Secret of the placeholder cryptogram.
    #[serde(default)]
    pub ac_key: Option<HexBytes>,
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
        if profile.ac_key.as_ref().is_some_and(|k| k.0.is_empty()) {
            return Err(invalid("ac_key must not be empty"));
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
        }
        Ok(profile)
    }

    /// The profiles shipped in `sim/profiles/`.
    pub fn builtin(name: &str) -> Option<Self> {
        let text = match name {
            "unionpay-debit" => include_str!("../profiles/unionpay-debit.toml"),
            "visa-credit" => include_str!("../profiles/visa-credit.toml"),
            _ => return None,
        };
        Self::from_toml(text).ok()
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

/// The simulated card.
#[derive(Debug, Clone)]
pub struct EmvCard {
    profile: CardProfile,
    selected: Option<Selected>,
    pending: Vec<u8>,
    atc: u16,
}

fn sw(word: StatusWord) -> Vec<u8> {
    vec![word.sw1(), word.sw2()]
}

fn ok(mut data: Vec<u8>) -> Vec<u8> {
    data.extend_from_slice(&[0x90, 0x00]);
    data
}

impl EmvCard {
    /// A card in its power-on state.
    pub fn new(profile: CardProfile) -> Self {
        Self {
            profile,
            selected: None,
            pending: Vec::new(),
            atc: 0,
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
                Ok(Self::fci_app(&self.profile.applications[i]))
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
            Some(Selected::App(i)) => self.profile.applications[i]
                .records
                .iter()
                .find(|r| r.sfi == sfi && r.record == apdu.p1)
                .map(|r| r.data.0.clone())
                .ok_or(StatusWord::RECORD_NOT_FOUND),
            _ => Err(StatusWord::CONDITIONS_NOT_SATISFIED),
        }
    }

    fn app(&self) -> Result<&AppProfile, StatusWord> {
        match self.selected {
            Some(Selected::App(i)) => Ok(&self.profile.applications[i]),
            _ => Err(StatusWord::CONDITIONS_NOT_SATISFIED),
        }
    }

    fn gpo(&mut self, apdu: &Apdu<'_>) -> Result<Vec<u8>, StatusWord> {
        if apdu.data.first() != Some(&0x83) {
            return Err(StatusWord::WRONG_LENGTH);
        }
        Ok(self.app()?.gpo.0.clone())
    }

    fn get_data(&self, apdu: &Apdu<'_>) -> Result<Vec<u8>, StatusWord> {
        let tag = u32::from(u16::from_be_bytes([apdu.p1, apdu.p2]));
        if tag == 0x9F36 {
            return Ok(tlv(tag, &self.atc.to_be_bytes()));
        }
        let key = format!("{tag:04X}");
        self.app()?
            .get_data
            .get(&key)
            .map(|v| tlv(tag, &v.0))
            .ok_or(StatusWord::from_bytes(0x6A, 0x88))
    }

    fn generate_ac(&mut self, apdu: &Apdu<'_>) -> Result<Vec<u8>, StatusWord> {
        let iad = self.app()?.iad.clone().unwrap_or_default().0;
        self.atc = self.atc.wrapping_add(1);
        // P1 bits 8-7: 00 AAC, 01 TC, 10 ARQC. The card answers with what it was asked for.
        let cid = apdu.p1 & 0xC0;
        // A profile built in code can carry an empty key: use the default, never index it.
        let key = self
            .profile
            .ac_key
            .as_ref()
            .map(|k| k.0.as_slice())
            .filter(|k| !k.is_empty())
            .unwrap_or(&[0x5A; 8]);
        let mut ac = [0u8; 8];
        for (i, b) in apdu
            .data
            .iter()
            .chain(self.atc.to_be_bytes().iter())
            .enumerate()
        {
            ac[i % 8] = ac[i % 8].rotate_left(3) ^ b ^ key[i % key.len()];
        }
        let mut body = tlv(0x9F27, &[cid]);
        push(&mut body, 0x9F36, &self.atc.to_be_bytes());
        push(&mut body, 0x9F26, &ac);
        if !iad.is_empty() {
            push(&mut body, 0x9F10, &iad);
        }
        Ok(tlv(0x77, &body))
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
    }

    fn transmit(&mut self, raw: &[u8]) -> Vec<u8> {
        let Ok(apdu) = Apdu::parse(raw) else {
            return sw(StatusWord::WRONG_LENGTH);
        };
        if apdu.cla == 0x00 && apdu.ins == 0xC0 {
            return self.get_response(&apdu);
        }
        self.pending.clear();
        let data = match self.dispatch(&apdu) {
            Ok(data) => data,
            Err(word) => return sw(word),
        };
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
    fn an_empty_cryptogram_key_is_refused_at_load_and_harmless_in_code() {
        let mut profile = CardProfile::builtin("unionpay-debit").expect("profile");
        profile.ac_key = Some(HexBytes(Vec::new()));
        let aid = profile.applications[0].aid.0.clone();
        let mut c = EmvCard::new(profile);
        c.reset();
        assert!(c.transmit(&select(&aid)).ends_with(&[0x90, 0x00]));
        let gen_ac = vec![0x80, 0xAE, 0x80, 0x00, 0x04, 0x01, 0x02, 0x03, 0x04, 0x00];
        let rsp = c.transmit(&gen_ac);
        assert!(rsp.ends_with(&[0x90, 0x00]), "{rsp:02X?}");
        let toml = "name = \"x\"\natr = \"3B00\"\nac_key = \"\"\napplications = []\n";
        assert!(matches!(
            CardProfile::from_toml(toml),
            Err(ProfileError::Invalid { .. })
        ));
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
    fn generate_ac_counts_atc() {
        let mut c = card("unionpay-debit");
        c.transmit(&select(&hex::decode("A000000333010101").expect("hex")));
        let r1 = c.transmit(&[0x80, 0xAE, 0x80, 0x00, 0x02, 0x01, 0x02, 0x00]);
        let r2 = c.transmit(&[0x80, 0xAE, 0x80, 0x00, 0x02, 0x01, 0x02, 0x00]);
        let atc = |r: &[u8]| {
            find(&r[..r.len() - 2], 0x9F36)
                .ok()
                .flatten()
                .map(|t| t.value.to_vec())
        };
        assert_eq!(atc(&r1), Some(vec![0, 1]));
        assert_eq!(atc(&r2), Some(vec![0, 2]));
        let cid = find(&r1[..r1.len() - 2], 0x9F27)
            .ok()
            .flatten()
            .map(|t| t.value.to_vec());
        assert_eq!(cid, Some(vec![0x80]));
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
        let bad_hex = "name='x'\natr='3G'\napplications=[]";
        assert!(matches!(
            CardProfile::from_toml(bad_hex),
            Err(ProfileError::Parse { .. })
        ));
    }

    proptest! {
        #[test]
        fn any_apdu_gets_a_status_word(bytes in proptest::collection::vec(any::<u8>(), 0..300), t0 in any::<bool>()) {
            let mut profile = CardProfile::builtin("unionpay-debit").expect("profile");
            profile.t0 = t0;
            let mut c = EmvCard::new(profile);
            let r = c.transmit(&bytes);
            prop_assert!(r.len() >= 2);
        }
    }
}
