//! The contact transaction (EMV Book 3 §10): final selection, GET PROCESSING OPTIONS, READ
//! RECORD, offline data authentication, processing restrictions, cardholder verification,
//! terminal risk management, terminal action analysis, GENERATE AC, issuer authentication,
//! issuer scripts and completion.
//!
//! The kernel is host-mediated: each method does the card I/O of one step and returns what
//! the caller must do next (ask for a PIN, go online), so a flow engine can put screens and
//! the host between the steps.

use alloc::string::String;
use alloc::vec::Vec;

use pos_hal::tlv::{TlvIter, find, push};
use pos_hal::{Apdu, CardChannel, OfflinePinData, Pan, PinDigits, StatusWord};
use sha1::{Digest, Sha1};

use crate::capk::CapkSet;
use crate::config::{AidConfig, TerminalConfig};
use crate::dates;
use crate::dol;
use crate::error::EmvError;
use crate::io::exchange;
use crate::oda::{self, CardKeys, OdaFailure, PublicKey};
use crate::select::Candidate;
use crate::store::TagStore;
use crate::tvr::{Tsi, Tvr, TvrBit, bit};

/// What the transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransactionData {
    /// Amount, authorised, in cents.
    pub amount: u64,
    /// Amount, other (cashback), in cents.
    pub other_amount: u64,
    /// Transaction type (9C): `00` purchase, `31` balance inquiry, `20` refund.
    pub kind: u8,
    /// Local date `YYMMDD` as BCD.
    pub date: [u8; 3],
    /// Local time `HHMMSS` as BCD.
    pub time: [u8; 3],
    /// Four unpredictable bytes (the caller's random source: the kernel is no_std).
    pub unpredictable: [u8; 4],
    /// Transaction sequence counter (9F41).
    pub sequence: u32,
    /// The merchant forces the transaction online.
    pub force_online: bool,
    /// PBOC electronic cash (电子现金) was chosen: the terminal tells the card (9F7A = 01 in
    /// the PDOL data) and, when the card's EC balance covers the amount within the
    /// terminal's EC limit (9F7B), the transaction is meant to be approved offline: no floor
    /// limit or random selection sends it online, and online PIN — impossible offline — is
    /// not a cardholder verification method.
    pub electronic_cash: bool,
}

/// Offline data authentication method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OdaMethod {
    /// None was possible.
    None,
    /// Static data authentication.
    Sda,
    /// Dynamic data authentication.
    Dda,
    /// Combined DDA / application cryptogram generation.
    Cda,
}

/// How ODA went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OdaResult {
    /// Not performed (no common method, or CDA not reached yet).
    NotPerformed,
    /// Passed.
    Passed,
    /// Failed, and why.
    Failed(OdaFailure),
}

/// What cardholder verification needs from the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CvmStep {
    /// Ask for a PIN for the host (its block goes in field 52), then call
    /// [`Contact::online_pin_entered`].
    OnlinePin,
    /// Ask for a PIN the card checks, then call [`Contact::verify_offline_pin`].
    OfflinePin {
        /// Tries left on the card, when it said.
        tries_left: Option<u8>,
    },
    /// Verification is over; the CVM results are in 9F34.
    Done,
}

/// What a PIN pad needs for the pending offline PIN ([`Contact::prepare_offline_pin`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfflinePinPrep {
    /// The plaintext format 2 block (CVM 01/03).
    Plaintext,
    /// Enciphered for the card (CVM 04/05) under this key and challenge.
    Enciphered(PinEncipherment),
    /// An enciphered PIN cannot be done (no usable key, no challenge): the method failed;
    /// this is the next step.
    Unavailable(CvmStep),
}

/// The card's PIN key and fresh challenge for one enciphered PIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinEncipherment {
    key: PublicKey,
    challenge: [u8; 8],
}

impl PinEncipherment {
    /// As the PIN pad port takes it.
    pub fn card_key(&self) -> pos_hal::CardPinKey<'_> {
        pos_hal::CardPinKey {
            modulus: &self.key.modulus,
            exponent: &self.key.exponent,
            challenge: self.challenge,
        }
    }
}

/// The card's cryptogram type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cryptogram {
    /// Declined.
    Aac,
    /// Approved offline.
    Tc,
    /// Go online.
    Arqc,
}

impl Cryptogram {
    fn p1(self) -> u8 {
        match self {
            Cryptogram::Aac => 0x00,
            Cryptogram::Tc => 0x40,
            Cryptogram::Arqc => 0x80,
        }
    }

    fn from_cid(cid: u8) -> Option<Self> {
        match cid & 0xC0 {
            0x00 => Some(Cryptogram::Aac),
            0x40 => Some(Cryptogram::Tc),
            0x80 => Some(Cryptogram::Arqc),
            _ => None,
        }
    }

    /// `AAC`, `TC` or `ARQC`.
    pub fn name(self) -> &'static str {
        match self {
            Cryptogram::Aac => "AAC",
            Cryptogram::Tc => "TC",
            Cryptogram::Arqc => "ARQC",
        }
    }

    fn rank(self) -> u8 {
        match self {
            Cryptogram::Aac => 0,
            Cryptogram::Tc => 1,
            Cryptogram::Arqc => 2,
        }
    }
}

/// What the host said, for completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostAnswer {
    /// The host answered.
    Answered {
        /// Authorisation response code (field 39, two ASCII characters).
        arc: [u8; 2],
        /// Issuer authentication data (91) from field 55, if any.
        issuer_authentication: Option<Vec<u8>>,
        /// Issuer script templates (71 and 72 elements) from field 55, as sent.
        scripts: Vec<u8>,
    },
    /// The host could not be reached (or answered nothing valid).
    Unreachable,
}

/// How the transaction ended on the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The card approved (TC).
    pub approved: bool,
    /// The host approved but the card declined: the acquirer must get a reversal (06).
    pub reverse: bool,
    /// The final cryptogram.
    pub cryptogram: Cryptogram,
    /// Issuer script results (DF31), one 5-byte entry per script, for the script advice.
    pub script_results: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Verification,
    FirstAc,
    Online,
    Done,
}

/// One contact EMV transaction on one selected application.
#[derive(Debug)]
pub struct Contact<'k> {
    terminal: &'k TerminalConfig,
    capks: &'k CapkSet,
    aid: &'k AidConfig,
    label: String,
    store: TagStore,
    tvr: Tvr,
    tsi: Tsi,
    oda_method: OdaMethod,
    oda: OdaResult,
    icc_key: Option<PublicKey>,
    static_data: Option<Vec<u8>>,
    pdol_data: Vec<u8>,
    cvm_rule: usize,
    cvm_pending: Option<[u8; 2]>,
    signature: bool,
    /// An electronic cash transaction the card's balance covers (decided at risk management).
    ec_offline: bool,
    stage: Stage,
    first: Option<Cryptogram>,
    last: Option<Cryptogram>,
}

fn bcd_u32(value: u32, out: &mut [u8]) {
    let mut v = value;
    for b in out.iter_mut().rev() {
        *b = ((((v / 10) % 10) as u8) << 4) | ((v % 10) as u8);
        v /= 100;
    }
}

fn refused(command: &'static str, sw: StatusWord) -> EmvError {
    EmvError::Refused { command, sw }
}

impl<'k> Contact<'k> {
    /// Final selection, GPO, records, ODA (SDA/DDA now; CDA at GENERATE AC), processing
    /// restrictions and terminal risk management. An application the card blocks or that
    /// refuses GPO (`6985`) gives [`EmvError::Refused`]: the caller drops that candidate
    /// and selects the next.
    pub fn start<C: CardChannel + ?Sized>(
        card: &mut C,
        terminal: &'k TerminalConfig,
        capks: &'k CapkSet,
        candidate: &Candidate,
        txn: &TransactionData,
    ) -> Result<Self, EmvError> {
        let aid = terminal
            .aids
            .get(candidate.config)
            .ok_or(EmvError::InvalidInput(
                "candidate from another configuration",
            ))?;
        if txn.amount >= 1_000_000_000_000 || txn.other_amount >= 1_000_000_000_000 {
            return Err(EmvError::InvalidInput("amount over 12 digits"));
        }
        if !dates::is_bcd(&txn.date) || !dates::is_bcd(&txn.time) {
            return Err(EmvError::InvalidInput("date or time is not BCD"));
        }
        let mut k = Contact {
            terminal,
            capks,
            aid,
            label: candidate.label.clone(),
            store: TagStore::new(),
            tvr: Tvr::default(),
            tsi: Tsi::default(),
            oda_method: OdaMethod::None,
            oda: OdaResult::NotPerformed,
            icc_key: None,
            static_data: None,
            pdol_data: Vec::new(),
            cvm_rule: 0,
            cvm_pending: None,
            signature: false,
            ec_offline: false,
            stage: Stage::Verification,
            first: None,
            last: None,
        };
        k.terminal_data(txn);
        k.final_select(card, &candidate.aid)?;
        k.get_processing_options(card)?;
        k.read_records(card)?;
        for tag in [0x5F24, 0x5A, 0x8C, 0x8D] {
            if !k.store.has(tag) {
                return Err(EmvError::Missing { tag });
            }
        }
        k.offline_data_authentication(card)?;
        k.processing_restrictions();
        k.terminal_risk_management(card, txn)?;
        k.store.set(0x9F34, &[0x3F, 0x00, 0x00]);
        Ok(k)
    }

    fn terminal_data(&mut self, txn: &TransactionData) {
        let t = self.terminal;
        let s = &mut self.store;
        s.set(0x9F02, &dol::n12(txn.amount));
        s.set(0x9F03, &dol::n12(txn.other_amount));
        s.set(0x9C, &[txn.kind]);
        s.set(0x9A, &txn.date);
        s.set(0x9F21, &txn.time);
        s.set(0x9F37, &txn.unpredictable);
        let mut seq = [0u8; 4];
        bcd_u32(txn.sequence % 100_000_000, &mut seq);
        s.set(0x9F41, &seq);
        s.set(0x5F2A, &t.currency);
        s.set(0x5F36, &[t.currency_exponent]);
        s.set(0x9F1A, &t.country);
        s.set(0x9F33, &t.capabilities);
        s.set(0x9F40, &t.additional_capabilities);
        s.set(0x9F35, &[t.terminal_type]);
        s.set(0x9F1E, &t.ifd_serial);
        s.set(0x9F15, &t.merchant_category);
        s.set(0x9F09, &self.aid.version);
        let floor = u32::try_from(self.aid.floor_limit).unwrap_or(u32::MAX);
        s.set(0x9F1B, &floor.to_be_bytes());
        if txn.force_online {
            self.tvr.set(bit::MERCHANT_FORCED_ONLINE);
        }
        s.set(0x9F7A, &[u8::from(txn.electronic_cash)]);
        s.set(0x9F7B, &dol::n12(t.ec_terminal_limit));
    }

    fn final_select<C: CardChannel + ?Sized>(
        &mut self,
        card: &mut C,
        aid: &[u8],
    ) -> Result<(), EmvError> {
        let apdu = Apdu::new(0x00, 0xA4, 0x04, 0x00)
            .with_data(aid)
            .with_le(256);
        let r = exchange(card, &apdu)?;
        if r.sw != StatusWord::OK {
            return Err(refused("SELECT", r.sw));
        }
        let fci = find(&r.data, 0x6F)?.ok_or(EmvError::Missing { tag: 0x6F })?;
        let name = find(fci.value, 0x84)?.ok_or(EmvError::Missing { tag: 0x84 })?;
        if name.value != aid {
            return Err(EmvError::CardOutOfOrder("FCI names another application"));
        }
        self.store.absorb(&r.data, false)?;
        self.store.set(0x9F06, aid);
        Ok(())
    }

    fn get_processing_options<C: CardChannel + ?Sized>(
        &mut self,
        card: &mut C,
    ) -> Result<(), EmvError> {
        let pdol = match self.store.get(0x9F38) {
            Some(p) => dol::parse(p)?,
            None => Vec::new(),
        };
        let store = &self.store;
        self.pdol_data = dol::build(&pdol, |tag| store.get(tag));
        let mut body = Vec::new();
        push(&mut body, 0x83, &self.pdol_data)?;
        let r = exchange(
            card,
            &Apdu::new(0x80, 0xA8, 0x00, 0x00)
                .with_data(&body)
                .with_le(256),
        )?;
        if r.sw != StatusWord::OK {
            return Err(refused("GET PROCESSING OPTIONS", r.sw));
        }
        match r.data.first() {
            Some(0x80) => {
                let t = find(&r.data, 0x80)?.ok_or(EmvError::Missing { tag: 0x80 })?;
                if t.value.len() < 2 || (t.value.len() - 2) % 4 != 0 {
                    return Err(EmvError::Missing { tag: 0x82 });
                }
                self.store.set(0x82, &t.value[..2]);
                self.store.set(0x94, &t.value[2..]);
            }
            Some(0x77) => self.store.absorb(&r.data, true)?,
            _ => return Err(EmvError::Missing { tag: 0x77 }),
        }
        if self.store.get(0x82).map(<[u8]>::len) != Some(2) {
            return Err(EmvError::Missing { tag: 0x82 });
        }
        Ok(())
    }

    fn read_records<C: CardChannel + ?Sized>(&mut self, card: &mut C) -> Result<(), EmvError> {
        self.static_data = crate::records::read(card, &mut self.store)?;
        Ok(())
    }

    fn aip(&self) -> [u8; 2] {
        match self.store.get(0x82) {
            Some([a, b]) => [*a, *b],
            _ => [0, 0],
        }
    }

    fn card_keys(&self) -> CardKeys<'_> {
        crate::records::card_keys(&self.store)
    }

    fn issuer_key(&self) -> Result<PublicKey, OdaFailure> {
        crate::records::issuer_key(&self.store, self.capks)
    }

    fn icc_public_key(&self) -> Result<PublicKey, OdaFailure> {
        let static_data = self.static_data.as_deref().ok_or(OdaFailure::StaticData)?;
        let issuer = self.issuer_key()?;
        oda::icc_key(&issuer, &self.card_keys(), static_data)
    }

    fn fail_oda(&mut self, failure: OdaFailure, bit: TvrBit) {
        if matches!(failure, OdaFailure::Missing(_)) {
            self.tvr.set(bit::ICC_DATA_MISSING);
        }
        self.tvr.set(bit);
        self.oda = OdaResult::Failed(failure);
    }

    fn offline_data_authentication<C: CardChannel + ?Sized>(
        &mut self,
        card: &mut C,
    ) -> Result<(), EmvError> {
        let aip = self.aip()[0];
        let caps = self.terminal.capabilities[2];
        self.oda_method = if aip & 0x01 != 0 && caps & 0x08 != 0 {
            OdaMethod::Cda
        } else if aip & 0x20 != 0 && caps & 0x40 != 0 {
            OdaMethod::Dda
        } else if aip & 0x40 != 0 && caps & 0x80 != 0 {
            OdaMethod::Sda
        } else {
            OdaMethod::None
        };
        match self.oda_method {
            OdaMethod::None => self.tvr.set(bit::ODA_NOT_PERFORMED),
            OdaMethod::Sda => {
                self.tvr.set(bit::SDA_SELECTED);
                self.tsi.set(Tsi::ODA);
                let result = self.issuer_key().and_then(|issuer| {
                    let ssad = self.store.get(0x93).ok_or(OdaFailure::Missing(0x93))?;
                    let data = self.static_data.as_deref().ok_or(OdaFailure::StaticData)?;
                    oda::verify_ssad(&issuer, ssad, data)
                });
                match result {
                    Ok(dac) => {
                        self.store.set(0x9F45, &dac);
                        self.oda = OdaResult::Passed;
                    }
                    Err(f) => self.fail_oda(f, bit::SDA_FAILED),
                }
            }
            OdaMethod::Dda => {
                self.tsi.set(Tsi::ODA);
                match self.icc_public_key() {
                    Ok(key) => match self.internal_authenticate(card, &key)? {
                        Ok(()) => {
                            self.icc_key = Some(key);
                            self.oda = OdaResult::Passed;
                        }
                        Err(f) => self.fail_oda(f, bit::DDA_FAILED),
                    },
                    Err(f) => self.fail_oda(f, bit::DDA_FAILED),
                }
            }
            OdaMethod::Cda => {
                // The keys are recovered now; the signature comes with GENERATE AC.
                match self.icc_public_key() {
                    Ok(key) => self.icc_key = Some(key),
                    Err(f) => {
                        self.tsi.set(Tsi::ODA);
                        self.fail_oda(f, bit::CDA_FAILED);
                    }
                }
            }
        }
        Ok(())
    }

    fn internal_authenticate<C: CardChannel + ?Sized>(
        &mut self,
        card: &mut C,
        key: &PublicKey,
    ) -> Result<Result<(), OdaFailure>, EmvError> {
        let ddol = match self.store.get(0x9F49) {
            Some(d) => dol::parse(d)?,
            None => dol::parse(&self.aid.default_ddol)?,
        };
        if !ddol.iter().any(|e| e.tag == 0x9F37) {
            return Ok(Err(OdaFailure::Missing(0x9F49)));
        }
        let store = &self.store;
        let data = dol::build(&ddol, |tag| store.get(tag));
        let r = exchange(
            card,
            &Apdu::new(0x00, 0x88, 0x00, 0x00)
                .with_data(&data)
                .with_le(256),
        )?;
        if r.sw != StatusWord::OK {
            return Ok(Err(OdaFailure::Format("INTERNAL AUTHENTICATE")));
        }
        let sdad = match r.data.first() {
            Some(0x80) => find(&r.data, 0x80)?.map(|t| t.value.to_vec()),
            Some(0x77) => find(&r.data, 0x9F4B)?.map(|t| t.value.to_vec()),
            _ => None,
        };
        let Some(sdad) = sdad else {
            return Ok(Err(OdaFailure::Missing(0x9F4B)));
        };
        Ok(
            oda::verify_sdad(key, &sdad, 0x05, &[&data]).and_then(|dynamic| {
                let len = usize::from(
                    *dynamic
                        .first()
                        .ok_or(OdaFailure::Format("ICC dynamic data"))?,
                );
                let number = dynamic
                    .get(1..1 + len)
                    .ok_or(OdaFailure::Format("ICC dynamic data"))?;
                self.store.set(0x9F4C, number);
                Ok(())
            }),
        )
    }

    fn processing_restrictions(&mut self) {
        if let (Some(card), Some(ours)) = (self.store.get(0x9F08), self.store.get(0x9F09))
            && card != ours
        {
            self.tvr.set(bit::VERSION_MISMATCH);
        }
        let today = self.card_keys().today;
        let date = |tag| match self.store.get(tag) {
            Some([a, b, c]) if dates::is_bcd(&[*a, *b, *c]) => Some(dates::ymd([*a, *b, *c])),
            _ => None,
        };
        match date(0x5F24) {
            Some(expiry) if expiry >= dates::ymd(today) => {}
            _ => self.tvr.set(bit::EXPIRED),
        }
        if date(0x5F25).is_some_and(|effective| effective > dates::ymd(today)) {
            self.tvr.set(bit::NOT_YET_EFFECTIVE);
        }
        // Application usage control: goods/services, domestic or international (Book 3 §10.4.2).
        if let Some(auc) = self.store.get(0x9F07)
            && auc.len() >= 2
        {
            let domestic = self.store.get(0x5F28) == Some(&self.terminal.country[..]);
            let goods = if domestic {
                auc[0] & 0x28
            } else {
                auc[0] & 0x14
            };
            let not_atm = auc[0] & 0x01 != 0;
            let kind = self
                .store
                .get(0x9C)
                .and_then(|k| k.first().copied())
                .unwrap_or(0);
            if !not_atm || (kind == 0x00 && goods == 0) {
                self.tvr.set(bit::SERVICE_NOT_ALLOWED);
            }
        }
    }

    fn get_data<C: CardChannel + ?Sized>(
        &mut self,
        card: &mut C,
        tag: u16,
    ) -> Result<Option<Vec<u8>>, EmvError> {
        let [p1, p2] = tag.to_be_bytes();
        let r = exchange(card, &Apdu::new(0x80, 0xCA, p1, p2).with_le(256))?;
        if r.sw != StatusWord::OK {
            return Ok(None);
        }
        Ok(find(&r.data, u32::from(tag))?.map(|t| t.value.to_vec()))
    }

    fn terminal_risk_management<C: CardChannel + ?Sized>(
        &mut self,
        card: &mut C,
        txn: &TransactionData,
    ) -> Result<(), EmvError> {
        self.tsi.set(Tsi::TERMINAL_RISK);
        let aid = self.aid;
        if txn.electronic_cash && txn.force_online {
            return Err(EmvError::InvalidInput(
                "electronic cash is offline: it cannot be forced online",
            ));
        }
        if txn.electronic_cash {
            // The card's EC balance (9F79), asked for now: the amount must fit it and the
            // terminal's EC limit, else the transaction goes online as usual.
            let balance = self
                .get_data(card, 0x9F79)?
                .map(|b| dol::bcd_value(&b))
                .unwrap_or(0);
            self.ec_offline =
                txn.amount <= balance && txn.amount <= self.terminal.ec_terminal_limit;
        }
        if self.ec_offline {
            // Offline by design: neither the floor limit nor random selection applies.
        } else if txn.amount >= aid.floor_limit {
            self.tvr.set(bit::FLOOR_LIMIT_EXCEEDED);
        } else if aid.random_target > 0 || aid.random_max_target > 0 {
            // Random selection (Book 3 §10.6.2) with the unpredictable number as the die.
            let roll = u32::from_be_bytes(txn.unpredictable) % 100;
            let target = if txn.amount < aid.random_threshold
                || aid.floor_limit <= aid.random_threshold
            {
                u64::from(aid.random_target)
            } else {
                let span = aid.floor_limit - aid.random_threshold;
                let over = txn.amount - aid.random_threshold;
                u64::from(aid.random_target)
                    + (u64::from(aid.random_max_target.saturating_sub(aid.random_target)) * over)
                        / span
            };
            if u64::from(roll) < target {
                self.tvr.set(bit::RANDOM_ONLINE);
            }
        }
        // Velocity checking: only when the card gives both limits.
        let limits = (
            self.store.get(0x9F14).map(<[u8]>::to_vec),
            self.store.get(0x9F23).map(<[u8]>::to_vec),
        );
        if let (Some(lower), Some(upper)) = limits {
            let atc = self.get_data(card, 0x9F36)?;
            let last_online = self.get_data(card, 0x9F13)?;
            match (atc.as_deref(), last_online.as_deref()) {
                (Some([a, b]), Some([c, d])) => {
                    let atc = u16::from_be_bytes([*a, *b]);
                    let last = u16::from_be_bytes([*c, *d]);
                    if last == 0 {
                        self.tvr.set(bit::NEW_CARD);
                    }
                    let since = atc.saturating_sub(last);
                    if lower.first().is_some_and(|l| since > u16::from(*l)) {
                        self.tvr.set(bit::LCOL_EXCEEDED);
                    }
                    if upper.first().is_some_and(|u| since > u16::from(*u)) {
                        self.tvr.set(bit::UCOL_EXCEEDED);
                    }
                }
                _ => {
                    self.tvr.set(bit::LCOL_EXCEEDED);
                    self.tvr.set(bit::UCOL_EXCEEDED);
                }
            }
        }
        Ok(())
    }

    // ---------------------------------------------------------------- cardholder verification

    fn cvm_list(&self) -> Option<(u32, u32, Vec<[u8; 2]>)> {
        let list = self.store.get(0x8E)?;
        if list.len() < 10 || list.len() % 2 != 0 {
            return None;
        }
        let x = u32::from_be_bytes([list[0], list[1], list[2], list[3]]);
        let y = u32::from_be_bytes([list[4], list[5], list[6], list[7]]);
        Some((
            x,
            y,
            list[8..].chunks_exact(2).map(|c| [c[0], c[1]]).collect(),
        ))
    }

    fn amount(&self) -> u64 {
        self.store.get(0x9F02).map_or(0, dol::bcd_value)
    }

    /// Whether the condition of a CV rule holds (Book 3 Annex C3); `None` when the
    /// condition code is not understood.
    fn condition_holds(&self, condition: u8, method: u8, x: u32, y: u32) -> Option<bool> {
        let kind = self
            .store
            .get(0x9C)
            .and_then(|k| k.first().copied())
            .unwrap_or(0);
        let same_currency = self.store.get(0x9F42) == self.store.get(0x5F2A);
        let amount = self.amount();
        Some(match condition {
            0x00 => true,
            0x01 => false, // unattended cash: an attended POS never is
            0x02 => kind != 0x01 && kind != 0x09 && kind != 0x17,
            0x03 => self.terminal.supports_cvm(method),
            0x04 => kind == 0x17,
            0x05 => kind == 0x09,
            0x06 => same_currency && amount < u64::from(x),
            0x07 => same_currency && amount > u64::from(x),
            0x08 => same_currency && amount < u64::from(y),
            0x09 => same_currency && amount > u64::from(y),
            _ => return None,
        })
    }

    /// The next cardholder verification step. Call until it says [`CvmStep::Done`], doing
    /// what each step asks in between.
    pub fn cardholder_verification<C: CardChannel + ?Sized>(
        &mut self,
        card: &mut C,
    ) -> Result<CvmStep, EmvError> {
        if self.stage != Stage::Verification {
            return Err(EmvError::Sequence(
                "cardholder verification after GENERATE AC",
            ));
        }
        if let Some(rule) = self.cvm_pending {
            return Ok(self.pending_step(rule, None));
        }
        if self.aip()[0] & 0x10 == 0 {
            return Ok(CvmStep::Done);
        }
        self.tsi.set(Tsi::CVM);
        let Some((x, y, rules)) = self.cvm_list() else {
            self.tvr.set(bit::ICC_DATA_MISSING);
            return Ok(CvmStep::Done);
        };
        while let Some(&[method, condition]) = rules.get(self.cvm_rule) {
            self.cvm_rule += 1;
            let next_on_failure = method & 0x40 != 0;
            match self.condition_holds(condition, method, x, y) {
                Some(true) => {}
                _ => continue,
            }
            let code = method & 0x3F;
            if self.ec_offline && code == 0x02 {
                // Electronic cash is approved offline: an online PIN cannot be checked.
                continue;
            }
            let recognised = matches!(code, 0x00..=0x05 | 0x1E | 0x1F);
            if !recognised {
                self.tvr.set(bit::UNRECOGNISED_CVM);
            } else if code == 0x00 {
                // "Fail CVM processing".
            } else if !self.terminal.supports_cvm(code) {
                if matches!(code, 0x01..=0x05) {
                    self.tvr.set(bit::PIN_PAD_MISSING);
                }
            } else {
                match code {
                    0x1F => return Ok(self.cvm_succeeded([method, condition], 0x02)),
                    0x1E => {
                        self.signature = true;
                        return Ok(self.cvm_succeeded([method, condition], 0x00));
                    }
                    0x02 => {
                        self.cvm_pending = Some([method, condition]);
                        return Ok(CvmStep::OnlinePin);
                    }
                    0x01 | 0x03 | 0x04 | 0x05 => {
                        let tries = self
                            .get_data(card, 0x9F17)?
                            .and_then(|t| t.first().copied());
                        if tries == Some(0) {
                            self.tvr.set(bit::PIN_TRY_LIMIT_EXCEEDED);
                        } else {
                            self.cvm_pending = Some([method, condition]);
                            return Ok(CvmStep::OfflinePin { tries_left: tries });
                        }
                    }
                    _ => {}
                }
            }
            self.store.set(0x9F34, &[method, condition, 0x01]);
            if !next_on_failure {
                break;
            }
        }
        self.tvr.set(bit::CVM_FAILED);
        if self.store.get(0x9F34) == Some(&[0x3F, 0x00, 0x00][..]) {
            self.store.set(0x9F34, &[0x3F, 0x00, 0x01]);
        }
        self.cvm_rule = usize::MAX;
        Ok(CvmStep::Done)
    }

    fn pending_step(&self, rule: [u8; 2], tries_left: Option<u8>) -> CvmStep {
        match rule[0] & 0x3F {
            0x02 => CvmStep::OnlinePin,
            _ => CvmStep::OfflinePin { tries_left },
        }
    }

    fn cvm_succeeded(&mut self, rule: [u8; 2], result: u8) -> CvmStep {
        self.store.set(0x9F34, &[rule[0], rule[1], result]);
        self.cvm_rule = usize::MAX;
        CvmStep::Done
    }

    fn cvm_failed<C: CardChannel + ?Sized>(
        &mut self,
        card: &mut C,
        rule: [u8; 2],
    ) -> Result<CvmStep, EmvError> {
        self.cvm_pending = None;
        self.store.set(0x9F34, &[rule[0], rule[1], 0x01]);
        if rule[0] & 0x40 != 0 {
            return self.cardholder_verification(card);
        }
        self.tvr.set(bit::CVM_FAILED);
        self.cvm_rule = usize::MAX;
        Ok(CvmStep::Done)
    }

    /// The answer to [`CvmStep::OnlinePin`]: `entered` is false when the cardholder
    /// bypassed the PIN or the PIN pad failed.
    pub fn online_pin_entered<C: CardChannel + ?Sized>(
        &mut self,
        card: &mut C,
        entered: bool,
    ) -> Result<CvmStep, EmvError> {
        let Some(rule) = self.cvm_pending.filter(|r| r[0] & 0x3F == 0x02) else {
            return Err(EmvError::Sequence("no online PIN was asked for"));
        };
        if entered {
            self.cvm_pending = None;
            self.tvr.set(bit::ONLINE_PIN_ENTERED);
            return Ok(self.cvm_succeeded(rule, 0x00));
        }
        self.tvr.set(bit::PIN_NOT_ENTERED);
        self.cvm_failed(card, rule)
    }

    /// The pending offline PIN rule, if any.
    fn offline_rule(&self) -> Result<[u8; 2], EmvError> {
        self.cvm_pending
            .filter(|r| matches!(r[0] & 0x3F, 0x01 | 0x03 | 0x04 | 0x05))
            .ok_or(EmvError::Sequence("no offline PIN was asked for"))
    }

    /// After [`CvmStep::OfflinePin`], what a PIN pad needs to make the VERIFY data
    /// ([`pos_hal::PinPad::get_offline_pin`]): nothing for a plaintext PIN; for an enciphered
    /// one the card's PIN key and a challenge (GET CHALLENGE is sent now). When an
    /// enciphered PIN cannot be done (no key, no challenge) the method has failed (Book 3
    /// §10.5.1) and the next step is returned.
    pub fn prepare_offline_pin<C: CardChannel + ?Sized>(
        &mut self,
        card: &mut C,
    ) -> Result<OfflinePinPrep, EmvError> {
        let rule = self.offline_rule()?;
        if !matches!(rule[0] & 0x3F, 0x04 | 0x05) {
            return Ok(OfflinePinPrep::Plaintext);
        }
        let key = match self.pin_key() {
            Ok(key) if crate::pin::usable_pin_key(&key.modulus) => key,
            _ => return self.cvm_failed(card, rule).map(OfflinePinPrep::Unavailable),
        };
        let r = exchange(card, &Apdu::new(0x00, 0x84, 0x00, 0x00).with_le(8))?;
        let Ok(challenge) = <[u8; 8]>::try_from(r.data.as_slice()) else {
            return self.cvm_failed(card, rule).map(OfflinePinPrep::Unavailable);
        };
        if r.sw != StatusWord::OK {
            return self.cvm_failed(card, rule).map(OfflinePinPrep::Unavailable);
        }
        Ok(OfflinePinPrep::Enciphered(PinEncipherment {
            key,
            challenge,
        }))
    }

    /// The answer to [`CvmStep::OfflinePin`] with the VERIFY data a PIN pad made (`None`
    /// when the cardholder bypassed the PIN): sent to the card, whose verdict moves the CVM
    /// on. A wrong PIN with tries left asks again (prepare again: a challenge serves once).
    pub fn verify_offline_pin_data<C: CardChannel + ?Sized>(
        &mut self,
        card: &mut C,
        data: Option<&OfflinePinData>,
    ) -> Result<CvmStep, EmvError> {
        let rule = self.offline_rule()?;
        let Some(data) = data else {
            self.tvr.set(bit::PIN_NOT_ENTERED);
            return self.cvm_failed(card, rule);
        };
        if data.enciphered != matches!(rule[0] & 0x3F, 0x04 | 0x05) {
            return Err(EmvError::InvalidInput(
                "the PIN data is not of the kind the card's CVM asks for",
            ));
        }
        let p2 = if data.enciphered { 0x88 } else { 0x80 };
        let r = exchange(
            card,
            &Apdu::new(0x00, 0x20, 0x00, p2).with_data(data.reveal()),
        )?;
        match (r.sw.sw1(), r.sw.sw2()) {
            (0x90, 0x00) => {
                self.cvm_pending = None;
                if matches!(rule[0] & 0x3F, 0x03 | 0x05) {
                    self.signature = true;
                    return Ok(self.cvm_succeeded(rule, 0x00));
                }
                Ok(self.cvm_succeeded(rule, 0x02))
            }
            (0x63, c) if c & 0xF0 == 0xC0 && c & 0x0F > 0 => {
                Ok(self.pending_step(rule, Some(c & 0x0F)))
            }
            (0x63, _) | (0x69, 0x83) | (0x69, 0x84) => {
                self.tvr.set(bit::PIN_TRY_LIMIT_EXCEEDED);
                self.cvm_failed(card, rule)
            }
            _ => Err(refused("VERIFY", r.sw)),
        }
    }

    /// [`CvmStep::OfflinePin`] with the PIN digits in hand (a software PIN pad): the kernel
    /// makes the VERIFY data itself ([`crate::pin::offline_pin_data`]: plaintext, or
    /// enciphered under the card's key, padded from `random`, the PIN pad's fresh random
    /// bytes) and sends it. `None`: the cardholder bypassed the PIN.
    pub fn verify_offline_pin<C: CardChannel + ?Sized>(
        &mut self,
        card: &mut C,
        pin: Option<&PinDigits>,
        random: &[u8; 32],
    ) -> Result<CvmStep, EmvError> {
        let Some(pin) = pin else {
            return self.verify_offline_pin_data(card, None);
        };
        // A malformed PIN is refused before anything goes to the card.
        crate::pin::format2_block(pin.expose_secret().as_bytes())?;
        let data = match self.prepare_offline_pin(card)? {
            OfflinePinPrep::Plaintext => {
                crate::pin::offline_pin_data(pin.expose_secret().as_bytes(), None, random)?
            }
            OfflinePinPrep::Enciphered(how) => crate::pin::offline_pin_data(
                pin.expose_secret().as_bytes(),
                Some(how.card_key()),
                random,
            )?,
            OfflinePinPrep::Unavailable(next) => return Ok(next),
        };
        self.verify_offline_pin_data(card, Some(&data))
    }

    /// The key an offline PIN is enciphered under (Book 2 §7.1): the ICC PIN encipherment
    /// key (9F2D, certified by the issuer like the ICC key, over no static data) when the
    /// card has one, else the ICC public key.
    fn pin_key(&self) -> Result<PublicKey, OdaFailure> {
        if let Some(cert) = self.store.get(0x9F2D) {
            let issuer = self.issuer_key()?;
            let mut keys = self.card_keys();
            keys.icc_cert = Some(cert);
            keys.icc_remainder = self.store.get(0x9F2F);
            keys.icc_exponent = self.store.get(0x9F2E);
            return oda::icc_key(&issuer, &keys, &[]);
        }
        match &self.icc_key {
            Some(key) => Ok(key.clone()),
            None => self.icc_public_key(),
        }
    }

    // ---------------------------------------------------------------- action analysis and AC

    fn action_code(&self, tag: u32, default: u8) -> [u8; 5] {
        match self.store.get(tag) {
            Some(v) if v.len() == 5 => [v[0], v[1], v[2], v[3], v[4]],
            _ => [default; 5],
        }
    }

    fn or(a: [u8; 5], b: [u8; 5]) -> [u8; 5] {
        core::array::from_fn(|i| a[i] | b[i])
    }

    /// Terminal action analysis (Book 3 §10.7): what to ask the card for.
    fn action_analysis(&self) -> Cryptogram {
        let denial = Self::or(self.aid.tac_denial, self.action_code(0x9F0E, 0x00));
        if self.tvr.matches(&denial) {
            return Cryptogram::Aac;
        }
        if self.terminal.online_capable {
            let online = Self::or(self.aid.tac_online, self.action_code(0x9F0F, 0xFF));
            if self.tvr.matches(&online) || self.tvr.has(bit::MERCHANT_FORCED_ONLINE) {
                return Cryptogram::Arqc;
            }
            return Cryptogram::Tc;
        }
        self.default_analysis()
    }

    fn default_analysis(&self) -> Cryptogram {
        let default = Self::or(self.aid.tac_default, self.action_code(0x9F0D, 0xFF));
        if self.tvr.matches(&default) {
            Cryptogram::Aac
        } else {
            Cryptogram::Tc
        }
    }

    fn generate_ac<C: CardChannel + ?Sized>(
        &mut self,
        card: &mut C,
        want: Cryptogram,
        dol_tag: u32,
    ) -> Result<Cryptogram, EmvError> {
        self.store.set(0x95, &self.tvr.0);
        self.store.set(0x9B, &self.tsi.0);
        let list = dol::parse(
            self.store
                .get(dol_tag)
                .ok_or(EmvError::Missing { tag: dol_tag })?,
        )?;
        if list.iter().any(|e| e.tag == 0x98) {
            self.tc_hash();
        }
        let store = &self.store;
        let data = dol::build(&list, |tag| store.get(tag));
        let cda = self.oda_method == OdaMethod::Cda
            && self.icc_key.is_some()
            && want != Cryptogram::Aac
            && !self.tvr.has(bit::CDA_FAILED);
        let p1 = want.p1() | if cda { 0x10 } else { 0 };
        let r = exchange(
            card,
            &Apdu::new(0x80, 0xAE, p1, 0x00)
                .with_data(&data)
                .with_le(256),
        )?;
        if r.sw != StatusWord::OK {
            return Err(refused("GENERATE AC", r.sw));
        }
        for tag in [0x9F27, 0x9F36, 0x9F26, 0x9F10, 0x9F4B] {
            self.store.remove(tag);
        }
        match r.data.first() {
            Some(0x80) => {
                let t = find(&r.data, 0x80)?.ok_or(EmvError::Missing { tag: 0x80 })?;
                if t.value.len() < 11 {
                    return Err(EmvError::Missing { tag: 0x9F26 });
                }
                self.store.set(0x9F27, &t.value[..1]);
                self.store.set(0x9F36, &t.value[1..3]);
                self.store.set(0x9F26, &t.value[3..11]);
                if t.value.len() > 11 {
                    self.store.set(0x9F10, &t.value[11..]);
                }
            }
            Some(0x77) => {
                for element in TlvIter::new(find(&r.data, 0x77)?.map_or(&[][..], |t| t.value)) {
                    let element = element?;
                    self.store.set(element.tag, element.value);
                }
            }
            _ => return Err(EmvError::Missing { tag: 0x77 }),
        }
        self.tsi.set(Tsi::CARD_RISK);
        let cid = match self.store.get(0x9F27) {
            Some([cid]) => *cid,
            _ => return Err(EmvError::Missing { tag: 0x9F27 }),
        };
        let got = Cryptogram::from_cid(cid)
            .ok_or(EmvError::CardOutOfOrder("a reserved cryptogram type"))?;
        if got.rank() > want.rank() {
            return Err(EmvError::CardOutOfOrder(
                "a cryptogram above the one asked for",
            ));
        }
        if cda && got != Cryptogram::Aac {
            self.tsi.set(Tsi::ODA);
            match self.verify_cda(&r.data, &data, cid) {
                Ok(()) => self.oda = OdaResult::Passed,
                Err(f) => {
                    self.fail_oda(f, bit::CDA_FAILED);
                    self.store.set(0x95, &self.tvr.0);
                    return Ok(Cryptogram::Aac);
                }
            }
        } else if !self.store.has(0x9F26) {
            return Err(EmvError::Missing { tag: 0x9F26 });
        }
        Ok(got)
    }

    /// CDA (Book 2 §6.6): the cryptogram travels inside the signature, which also covers the
    /// PDOL and CDOL data and the rest of the answer.
    fn verify_cda(&mut self, answer: &[u8], cdol_data: &[u8], cid: u8) -> Result<(), OdaFailure> {
        let key = self.icc_key.as_ref().ok_or(OdaFailure::Missing(0x9F46))?;
        let sdad = self.store.get(0x9F4B).ok_or(OdaFailure::Missing(0x9F4B))?;
        let un = self.store.get(0x9F37).unwrap_or(&[]);
        let dynamic = oda::verify_sdad(key, sdad, 0x95, &[un])?;
        let len = usize::from(
            *dynamic
                .first()
                .ok_or(OdaFailure::Format("ICC dynamic data"))?,
        );
        let rest = dynamic
            .get(1 + len..)
            .ok_or(OdaFailure::Format("ICC dynamic data"))?;
        if rest.len() < 29 || rest[0] != cid {
            return Err(OdaFailure::Format("ICC dynamic data"));
        }
        let (ac, hash) = (&rest[1..9], &rest[9..29]);
        let mut h = Sha1::new();
        h.update(&self.pdol_data);
        h.update(cdol_data);
        if let Ok(Some(body)) = find(answer, 0x77) {
            let mut raw = Vec::new();
            for element in TlvIter::new(body.value).flatten() {
                if element.tag != 0x9F4B {
                    raw.clear();
                    if push(&mut raw, element.tag, element.value).is_ok() {
                        h.update(&raw);
                    }
                }
            }
        }
        let digest: [u8; 20] = h.finalize().into();
        if digest[..] != *hash {
            return Err(OdaFailure::Hash("CDA transaction data"));
        }
        let number = dynamic[1..1 + len].to_vec();
        let ac = ac.to_vec();
        self.store.set(0x9F4C, &number);
        self.store.set(0x9F26, &ac);
        Ok(())
    }

    fn tc_hash(&mut self) {
        let tdol = match self.store.get(0x97) {
            Some(t) => dol::parse(t).unwrap_or_default(),
            None => {
                if !self.aid.default_tdol.is_empty() {
                    self.tvr.set(bit::DEFAULT_TDOL);
                }
                dol::parse(&self.aid.default_tdol).unwrap_or_default()
            }
        };
        let store = &self.store;
        let data = dol::build(&tdol, |tag| store.get(tag));
        let digest: [u8; 20] = Sha1::digest(&data).into();
        self.store.set(0x98, &digest);
    }

    /// Terminal action analysis and the first GENERATE AC. [`Cryptogram::Arqc`] means go
    /// online with [`Contact::icc_data`]; `Tc` approved offline; `Aac` declined.
    pub fn first_generate_ac<C: CardChannel + ?Sized>(
        &mut self,
        card: &mut C,
    ) -> Result<Cryptogram, EmvError> {
        if self.stage != Stage::Verification {
            return Err(EmvError::Sequence("first GENERATE AC twice"));
        }
        if self.cvm_pending.is_some() {
            return Err(EmvError::Sequence("a PIN step is unanswered"));
        }
        self.stage = Stage::FirstAc;
        let want = self.action_analysis();
        let got = self.generate_ac(card, want, 0x8C)?;
        self.first = Some(got);
        self.last = Some(got);
        self.stage = if got == Cryptogram::Arqc {
            Stage::Online
        } else {
            Stage::Done
        };
        Ok(got)
    }

    /// Completion after going online (or failing to): issuer authentication, scripts, the
    /// second GENERATE AC.
    pub fn complete<C: CardChannel + ?Sized>(
        &mut self,
        card: &mut C,
        host: &HostAnswer,
    ) -> Result<Completion, EmvError> {
        if self.stage != Stage::Online {
            return Err(EmvError::Sequence("completion without an ARQC"));
        }
        self.stage = Stage::Done;
        let mut script_results = Vec::new();
        let (want, host_approved) = match host {
            HostAnswer::Answered {
                arc,
                issuer_authentication,
                scripts,
            } => {
                self.store.set(0x8A, arc);
                if let Some(data) = issuer_authentication {
                    self.store.set(0x91, data);
                    if self.aip()[0] & 0x04 != 0 {
                        self.tsi.set(Tsi::ISSUER_AUTH);
                        let r = exchange(card, &Apdu::new(0x00, 0x82, 0x00, 0x00).with_data(data))?;
                        if r.sw != StatusWord::OK {
                            self.tvr.set(bit::ISSUER_AUTH_FAILED);
                        }
                    }
                }
                self.run_scripts(card, scripts, 0x71, &mut script_results)?;
                let approved = arc == b"00";
                (
                    if approved {
                        Cryptogram::Tc
                    } else {
                        Cryptogram::Aac
                    },
                    approved,
                )
            }
            HostAnswer::Unreachable => {
                self.store.set(0x8A, b"Z3");
                let want = self.default_analysis();
                if want == Cryptogram::Tc {
                    self.store.set(0x8A, b"Y3");
                }
                (want, false)
            }
        };
        let got = self.generate_ac(card, want, 0x8D)?;
        self.last = Some(got);
        if let HostAnswer::Answered { scripts, .. } = host {
            self.run_scripts(card, scripts, 0x72, &mut script_results)?;
        }
        if !script_results.is_empty() {
            self.store.set(0xDF31, &script_results);
        }
        self.store.set(0x95, &self.tvr.0);
        self.store.set(0x9B, &self.tsi.0);
        let approved = got == Cryptogram::Tc;
        Ok(Completion {
            approved,
            reverse: host_approved && !approved,
            cryptogram: got,
            script_results,
        })
    }

    fn run_scripts<C: CardChannel + ?Sized>(
        &mut self,
        card: &mut C,
        scripts: &[u8],
        template: u32,
        results: &mut Vec<u8>,
    ) -> Result<(), EmvError> {
        for element in TlvIter::new(scripts) {
            let Ok(element) = element else {
                break;
            };
            if element.tag != template {
                continue;
            }
            self.tsi.set(Tsi::SCRIPTS);
            let id = find(element.value, 0x9F18)
                .ok()
                .flatten()
                .map_or([0u8; 4], |t| {
                    let mut id = [0u8; 4];
                    let n = t.value.len().min(4);
                    id[..n].copy_from_slice(&t.value[..n]);
                    id
                });
            let mut result = 0x20u8; // "successful", sequence 0
            let mut seq = 0u8;
            for command in TlvIter::new(element.value) {
                let command = match command {
                    Ok(c) if c.tag == 0x86 => c,
                    Ok(_) => continue,
                    Err(_) => {
                        result = 0x10;
                        break;
                    }
                };
                seq = seq.saturating_add(1);
                let ok = match Apdu::parse(command.value) {
                    Ok(apdu) => {
                        let r = exchange(card, &apdu)?;
                        r.sw.is_success() || r.sw.is_warning()
                    }
                    Err(_) => false,
                };
                if !ok {
                    result = 0x10 | seq.min(0x0E);
                    break;
                }
            }
            if result & 0xF0 == 0x10 {
                self.tvr.set(if template == 0x71 {
                    bit::SCRIPT_FAILED_BEFORE
                } else {
                    bit::SCRIPT_FAILED_AFTER
                });
            }
            results.push(result);
            results.extend_from_slice(&id);
        }
        Ok(())
    }

    // ---------------------------------------------------------------- results

    /// Field 55: the given tags that are present, as BER-TLV, in the given order.
    pub fn icc_data(&self, tags: &[u32]) -> Vec<u8> {
        self.store.icc_data(tags)
    }

    /// The card number (5A).
    pub fn pan(&self) -> Option<Pan> {
        Pan::from_bcd(self.store.get(0x5A)?).ok()
    }

    /// PAN sequence number (5F34).
    pub fn pan_sequence(&self) -> Option<u8> {
        self.store.get(0x5F34).and_then(|v| v.first().copied())
    }

    /// Expiry `YYMM` as BCD.
    pub fn expiry(&self) -> Option<[u8; 2]> {
        match self.store.get(0x5F24) {
            Some([y, m, _]) => Some([*y, *m]),
            _ => None,
        }
    }

    /// The track 2 equivalent data (57), for field 35.
    pub fn track2(&self) -> Option<&[u8]> {
        self.store.get(0x57)
    }

    /// The selected AID.
    pub fn aid(&self) -> &[u8] {
        self.store.get(0x9F06).unwrap_or(&[])
    }

    /// The application label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Terminal verification results so far.
    pub fn tvr(&self) -> Tvr {
        self.tvr
    }

    /// Transaction status information so far.
    pub fn tsi(&self) -> Tsi {
        self.tsi
    }

    /// The ODA method chosen and how it went.
    pub fn oda(&self) -> (OdaMethod, OdaResult) {
        (self.oda_method, self.oda)
    }

    /// The transaction runs as offline electronic cash (the card's balance covers it).
    pub fn electronic_cash(&self) -> bool {
        self.ec_offline
    }

    /// The card's electronic cash balance after the transaction, in cents, when it reported
    /// one (9F79 from GET DATA, or in the GENERATE AC answer).
    pub fn ec_balance(&self) -> Option<u64> {
        self.store.get(0x9F79).map(dol::bcd_value)
    }

    /// CVM results (9F34).
    pub fn cvm_results(&self) -> [u8; 3] {
        match self.store.get(0x9F34) {
            Some([a, b, c]) => [*a, *b, *c],
            _ => [0x3F, 0, 0],
        }
    }

    /// The cardholder must sign the merchant copy.
    pub fn signature_required(&self) -> bool {
        self.signature
    }

    /// The last cryptogram and its value.
    pub fn cryptogram(&self) -> Option<(Cryptogram, [u8; 8])> {
        let kind = self.last?;
        let value: [u8; 8] = self.store.get(0x9F26)?.try_into().ok()?;
        Some((kind, value))
    }

    /// Every data element gathered (for diagnostics; its `Debug` masks cardholder data).
    pub fn data(&self) -> &TagStore {
        &self.store
    }
}

/// The tags of field 55 in an authorisation request (CUP order, LiaoYang
/// `stOnlineTxnTagList`); absent ones are left out.
pub const ONLINE_TAGS: &[u32] = &[
    0x9F26, 0x9F27, 0x9F10, 0x9F37, 0x9F36, 0x95, 0x9A, 0x9C, 0x9F02, 0x5F2A, 0x82, 0x9F1A, 0x9F03,
    0x9F33, 0x9F34, 0x9F35, 0x9F1E, 0x84, 0x9F09, 0x9F41, 0x9F63,
];

/// The tags of field 55 in a reversal.
pub const REVERSAL_TAGS: &[u32] = &[0x95, 0x9F1E, 0x9F10, 0x9F36, 0xDF31];

/// The tags of field 55 in a script result advice.
pub const SCRIPT_ADVICE_TAGS: &[u32] = &[
    0x9F33, 0x95, 0x9F37, 0x9F1E, 0x9F10, 0x9F26, 0x9F36, 0x82, 0xDF31, 0x9F1A, 0x9A,
];
