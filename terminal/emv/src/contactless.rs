//! The qPBOC (闪付) contactless kernel: PPSE, GPO with the terminal transaction qualifiers,
//! READ RECORD, fDDA for offline approvals, the reader limits, CVM from the card transaction
//! qualifiers and the four lights. There is no GENERATE AC: the GPO answer carries the
//! cryptogram (notes/payments-cup-emv.md §3.2).

use alloc::string::String;
use alloc::vec::Vec;

use pos_hal::indicators::{BeepKind, ContactlessLeds};
use pos_hal::tlv::{TlvIter, find, push};
use pos_hal::{Apdu, CardChannel, Indicators, Pan, StatusWord};

use crate::capk::CapkSet;
use crate::config::TerminalConfig;
use crate::contact::{Cryptogram, TransactionData};
use crate::dates;
use crate::dol;
use crate::error::EmvError;
use crate::io::exchange;
use crate::oda::{self, OdaFailure};
use crate::records;
use crate::store::TagStore;
use crate::tvr::{Tsi, Tvr, bit};

const PPSE: &[u8] = b"2PAY.SYS.DDF01";

/// The reader's contactless parameters (CUP: 9F66, DF00–DF02).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContactlessLimits {
    /// Terminal transaction qualifiers (9F66) before the per-transaction bits.
    pub ttq: [u8; 4],
    /// Above this amount (cents) the card must be inserted instead (DF00).
    pub transaction_limit: u64,
    /// Above this amount a cardholder verification is required (DF01).
    pub cvm_limit: u64,
    /// Above this amount the card must go online (DF02).
    pub floor_limit: u64,
}

impl Default for ContactlessLimits {
    /// qPBOC with online PIN and signature, contact chip also supported; ¥10,000 per tap,
    /// no PIN up to ¥1,000, always online.
    fn default() -> Self {
        Self {
            ttq: [0x36, 0x00, 0x00, 0x80],
            transaction_limit: 1_000_000,
            cvm_limit: 100_000,
            floor_limit: 0,
        }
    }
}

/// What the cardholder must do for an online tap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactlessCvm {
    /// Nothing (under the CVM limit, or the phone verified the cardholder).
    None,
    /// Online PIN.
    OnlinePin,
    /// Signature on the merchant copy.
    Signature,
}

/// How a tap ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TapOutcome {
    /// Go online with this field 55; the card may already be removed.
    Online {
        /// The cardholder verification the reader decided.
        cvm: ContactlessCvm,
        /// Field 55.
        icc_data: Vec<u8>,
    },
    /// Approved offline (TC with a valid fDDA signature).
    ApprovedOffline {
        /// Field 55 for the batch upload.
        icc_data: Vec<u8>,
    },
    /// The card declined (AAC), or its offline approval did not authenticate.
    Declined,
    /// The amount or the card wants another interface: insert the card.
    UseContact,
}

/// One tap, after the card has left the field or at least been read.
#[derive(Debug)]
pub struct Tap {
    store: TagStore,
    tvr: Tvr,
    tsi: Tsi,
    label: String,
    outcome: TapOutcome,
    fdda: Option<Result<(), OdaFailure>>,
}

impl Tap {
    /// How it ended.
    pub fn outcome(&self) -> &TapOutcome {
        &self.outcome
    }

    /// The card number, from 5A or track 2 equivalent data.
    pub fn pan(&self) -> Option<Pan> {
        if let Some(p) = self.store.get(0x5A) {
            return Pan::from_bcd(p).ok();
        }
        let t2 = self.store.get(0x57)?;
        let n = t2
            .iter()
            .flat_map(|b| [b >> 4, b & 0x0F])
            .take_while(|d| *d != 0x0D)
            .count();
        let digits: Vec<u8> = t2.iter().flat_map(|b| [b >> 4, b & 0x0F]).take(n).collect();
        let mut bcd = Vec::with_capacity(n.div_ceil(2));
        for pair in digits.chunks(2) {
            bcd.push((pair[0] << 4) | pair.get(1).copied().unwrap_or(0x0F));
        }
        Pan::from_bcd(&bcd).ok()
    }

    /// PAN sequence number (5F34), as BCD.
    pub fn pan_sequence(&self) -> Option<u8> {
        self.store.get(0x5F34).and_then(|v| v.first().copied())
    }

    /// The application label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The selected AID.
    pub fn aid(&self) -> &[u8] {
        self.store.get(0x9F06).unwrap_or(&[])
    }

    /// TVR.
    pub fn tvr(&self) -> Tvr {
        self.tvr
    }

    /// TSI.
    pub fn tsi(&self) -> Tsi {
        self.tsi
    }

    /// fDDA: `None` when not performed (online taps), else how it went.
    pub fn fdda(&self) -> Option<Result<(), OdaFailure>> {
        self.fdda
    }

    /// The card's cryptogram.
    pub fn cryptogram(&self) -> Option<(Cryptogram, [u8; 8])> {
        let cid = *self.store.get(0x9F27)?.first()?;
        let kind = match cid & 0xC0 {
            0x00 => Cryptogram::Aac,
            0x40 => Cryptogram::Tc,
            0x80 => Cryptogram::Arqc,
            _ => return None,
        };
        Some((kind, self.store.get(0x9F26)?.try_into().ok()?))
    }

    /// The EC / offline balance the card reported (9F5D or 9F79), in cents.
    pub fn offline_balance(&self) -> Option<u64> {
        let v = self.store.get(0x9F5D).or(self.store.get(0x9F79))?;
        dates::is_bcd(v).then(|| {
            v.iter().fold(0u64, |a, b| {
                a * 100 + u64::from(b >> 4) * 10 + u64::from(b & 0x0F)
            })
        })
    }

    /// Every data element gathered (`Debug` masks cardholder data).
    pub fn data(&self) -> &TagStore {
        &self.store
    }
}

fn lights<I: Indicators + ?Sized>(indicators: &mut I, lit: u8) {
    // The lights are a courtesy: a broken LED must not fail a payment.
    let _ = indicators.set_contactless_leds(ContactlessLeds::lit(lit));
}

/// The tags of field 55 for a tap (CUP online list plus the qualifiers).
pub const TAP_TAGS: &[u32] = &[
    0x9F26, 0x9F27, 0x9F10, 0x9F37, 0x9F36, 0x95, 0x9A, 0x9C, 0x9F02, 0x5F2A, 0x82, 0x9F1A, 0x9F03,
    0x9F33, 0x9F34, 0x9F35, 0x9F1E, 0x84, 0x9F09, 0x9F41, 0x9F63, 0x9F66, 0x9F6C,
];

/// Runs one qPBOC tap on a card already in the field: the lights go 2 (reading) → 4 (read,
/// the card may leave) with a success beep, or back to 1 with an alert when the card could
/// not be read.
pub fn tap<C: CardChannel + ?Sized, I: Indicators + ?Sized>(
    card: &mut C,
    indicators: &mut I,
    terminal: &TerminalConfig,
    limits: &ContactlessLimits,
    capks: &CapkSet,
    txn: &TransactionData,
) -> Result<Tap, EmvError> {
    if txn.amount > limits.transaction_limit {
        return Ok(Tap {
            store: TagStore::new(),
            tvr: Tvr::default(),
            tsi: Tsi::default(),
            label: String::new(),
            outcome: TapOutcome::UseContact,
            fdda: None,
        });
    }
    lights(indicators, 2);
    let result = read_card(card, terminal, limits, capks, txn);
    match &result {
        Ok(_) => {
            lights(indicators, 4);
            let _ = indicators.beep(BeepKind::Success);
        }
        Err(_) => {
            lights(indicators, 1);
            let _ = indicators.beep(BeepKind::Alert);
        }
    }
    result
}

fn read_card<C: CardChannel + ?Sized>(
    card: &mut C,
    terminal: &TerminalConfig,
    limits: &ContactlessLimits,
    capks: &CapkSet,
    txn: &TransactionData,
) -> Result<Tap, EmvError> {
    let mut store = TagStore::new();
    let mut tvr = Tvr::default();
    let mut tsi = Tsi::default();
    // PPSE and the candidate with the best priority.
    let r = exchange(
        card,
        &Apdu::new(0x00, 0xA4, 0x04, 0x00)
            .with_data(PPSE)
            .with_le(256),
    )?;
    if r.sw != StatusWord::OK {
        return Err(EmvError::NoApplication);
    }
    let directory = find(&r.data, 0xBF0C)?.ok_or(EmvError::NoApplication)?;
    let mut best: Option<(u8, Vec<u8>, String, usize)> = None;
    for entry in TlvIter::new(directory.value) {
        let entry = entry?;
        if entry.tag != 0x61 {
            continue;
        }
        let Some(aid) = find(entry.value, 0x4F)? else {
            continue;
        };
        let Some(config) = terminal.aids.iter().position(|c| {
            c.aid.as_slice() == aid.value || (c.partial && aid.value.starts_with(&c.aid))
        }) else {
            continue;
        };
        let priority = match find(entry.value, 0x87)? {
            Some(p) if p.value.len() == 1 && p.value[0] & 0x0F != 0 => p.value[0] & 0x0F,
            _ => 16,
        };
        let label = find(entry.value, 0x50)?
            .map(|l| String::from_utf8_lossy(l.value).into_owned())
            .unwrap_or_default();
        if best.as_ref().is_none_or(|b| priority < b.0) {
            best = Some((priority, aid.value.to_vec(), label, config));
        }
    }
    let (_, aid, label, config) = best.ok_or(EmvError::NoApplication)?;
    let aid_config = &terminal.aids[config];
    let r = exchange(
        card,
        &Apdu::new(0x00, 0xA4, 0x04, 0x00)
            .with_data(&aid)
            .with_le(256),
    )?;
    if r.sw != StatusWord::OK {
        return Err(EmvError::Refused {
            command: "SELECT",
            sw: r.sw,
        });
    }
    store.absorb(&r.data, false)?;
    store.set(0x9F06, &aid);
    // Terminal data, with the per-transaction qualifier bits.
    let mut ttq = limits.ttq;
    if txn.amount > limits.floor_limit || txn.force_online || !terminal.online_capable {
        ttq[1] |= 0x80;
    }
    if txn.amount > limits.cvm_limit {
        ttq[1] |= 0x40;
    }
    store.set(0x9F66, &ttq);
    store.set(0x9F02, &dol::n12(txn.amount));
    store.set(0x9F03, &dol::n12(txn.other_amount));
    store.set(0x9C, &[txn.kind]);
    store.set(0x9A, &txn.date);
    store.set(0x9F21, &txn.time);
    store.set(0x9F37, &txn.unpredictable);
    store.set(0x5F2A, &terminal.currency);
    store.set(0x9F1A, &terminal.country);
    store.set(0x9F33, &terminal.capabilities);
    store.set(0x9F35, &[terminal.terminal_type]);
    store.set(0x9F1E, &terminal.ifd_serial);
    store.set(0x9F09, &aid_config.version);
    store.set(0x95, &[0; 5]);
    let pdol = match store.get(0x9F38) {
        Some(p) => dol::parse(p)?,
        None => Vec::new(),
    };
    if !pdol.iter().any(|e| e.tag == 0x9F66) {
        // Not a qPBOC application: the contact kernel handles it.
        return Ok(Tap {
            store,
            tvr,
            tsi,
            label,
            outcome: TapOutcome::UseContact,
            fdda: None,
        });
    }
    let pdol_data = dol::build(&pdol, |tag| store.get(tag));
    let mut body = Vec::new();
    push(&mut body, 0x83, &pdol_data)?;
    let r = exchange(
        card,
        &Apdu::new(0x80, 0xA8, 0x00, 0x00)
            .with_data(&body)
            .with_le(256),
    )?;
    if r.sw == StatusWord::from_bytes(0x69, 0x84) || r.sw == StatusWord::from_bytes(0x69, 0x86) {
        return Ok(Tap {
            store,
            tvr,
            tsi,
            label,
            outcome: TapOutcome::UseContact,
            fdda: None,
        });
    }
    if r.sw != StatusWord::OK {
        return Err(EmvError::Refused {
            command: "GET PROCESSING OPTIONS",
            sw: r.sw,
        });
    }
    if r.data.first() != Some(&0x77) {
        return Err(EmvError::Missing { tag: 0x77 });
    }
    store.absorb(&r.data, true)?;
    let static_data = if store.has(0x94) {
        records::read(card, &mut store)?
    } else {
        None
    };
    let cid = match store.get(0x9F27) {
        Some([cid]) => *cid,
        _ => return Err(EmvError::Missing { tag: 0x9F27 }),
    };
    if !store.has(0x9F26) || !store.has(0x9F36) {
        return Err(EmvError::Missing { tag: 0x9F26 });
    }
    let today = dates::ymd(txn.date);
    let expired = match store.get(0x5F24) {
        Some([a, b, c]) if dates::is_bcd(&[*a, *b, *c]) => dates::ymd([*a, *b, *c]) < today,
        _ => false,
    };
    if expired {
        tvr.set(bit::EXPIRED);
    }
    let ctq = store.get(0x9F6C).map_or([0u8; 2], |c| {
        [
            c.first().copied().unwrap_or(0),
            c.get(1).copied().unwrap_or(0),
        ]
    });
    let mut fdda = None;
    let outcome = match cid & 0xC0 {
        0x80 => {
            let cvm = if ttq[1] & 0x40 == 0 || ctq[1] & 0x80 != 0 {
                ContactlessCvm::None
            } else if ctq[0] & 0x80 != 0 && ttq[0] & 0x04 != 0 {
                ContactlessCvm::OnlinePin
            } else if ctq[0] & 0x40 != 0 && ttq[0] & 0x02 != 0 {
                ContactlessCvm::Signature
            } else {
                ContactlessCvm::OnlinePin
            };
            store.set(
                0x9F34,
                match cvm {
                    ContactlessCvm::OnlinePin => &[0x02, 0x00, 0x00],
                    ContactlessCvm::Signature => &[0x1E, 0x00, 0x00],
                    ContactlessCvm::None => &[0x1F, 0x00, 0x02],
                },
            );
            tvr.set(bit::ODA_NOT_PERFORMED);
            TapOutcome::Online {
                cvm,
                icc_data: Vec::new(),
            }
        }
        0x40 => {
            tsi.set(Tsi::ODA);
            let checked = fdda_check(&store, capks, static_data.as_deref());
            fdda = Some(checked);
            match checked {
                Ok(()) if !expired => TapOutcome::ApprovedOffline {
                    icc_data: Vec::new(),
                },
                Ok(()) if ctq[0] & 0x08 != 0 => TapOutcome::Online {
                    cvm: ContactlessCvm::None,
                    icc_data: Vec::new(),
                },
                Ok(()) => TapOutcome::Declined,
                Err(_) => {
                    tvr.set(bit::DDA_FAILED);
                    if ctq[0] & 0x20 != 0 && terminal.online_capable {
                        TapOutcome::Online {
                            cvm: ContactlessCvm::None,
                            icc_data: Vec::new(),
                        }
                    } else if ctq[0] & 0x10 != 0 {
                        TapOutcome::UseContact
                    } else {
                        TapOutcome::Declined
                    }
                }
            }
        }
        _ => TapOutcome::Declined,
    };
    // 95 stays what the PDOL sent: the card's cryptogram covers it, the issuer recomputes it.
    let data = store.icc_data(TAP_TAGS);
    let outcome = match outcome {
        TapOutcome::Online { cvm, .. } => TapOutcome::Online {
            cvm,
            icc_data: data,
        },
        TapOutcome::ApprovedOffline { .. } => TapOutcome::ApprovedOffline { icc_data: data },
        other => other,
    };
    Ok(Tap {
        store,
        tvr,
        tsi,
        label,
        outcome,
        fdda,
    })
}

/// fDDA: the card's signature over the reader's unpredictable number, amount, currency and
/// its own card authentication related data (9F69).
fn fdda_check(
    store: &TagStore,
    capks: &CapkSet,
    static_data: Option<&[u8]>,
) -> Result<(), OdaFailure> {
    let static_data = static_data.ok_or(OdaFailure::StaticData)?;
    let issuer = records::issuer_key(store, capks)?;
    let icc = oda::icc_key(&issuer, &records::card_keys(store), static_data)?;
    let sdad = store.get(0x9F4B).ok_or(OdaFailure::Missing(0x9F4B))?;
    let covered = fdda_covered(store);
    let parts: Vec<&[u8]> = covered.iter().map(Vec::as_slice).collect();
    oda::verify_sdad(&icc, sdad, 0x05, &parts).map(|_| ())
}

/// What an fDDA signature covers, in order: 9F37, 9F02, 5F2A, 9F69.
pub fn fdda_covered(store: &TagStore) -> Vec<Vec<u8>> {
    [0x9F37, 0x9F02, 0x5F2A, 0x9F69]
        .iter()
        .map(|t| store.get(*t).map(<[u8]>::to_vec).unwrap_or_default())
        .collect()
}
