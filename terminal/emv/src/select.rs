//! Application selection (EMV Book 1 §12): the PSE directory first, then the terminal's AID
//! list with partial selection; blocked applications are left out; candidates in priority
//! order.

use alloc::string::String;
use alloc::vec::Vec;

use pos_hal::tlv::{TlvIter, find};
use pos_hal::{Apdu, CardChannel, StatusWord};

use crate::config::TerminalConfig;
use crate::error::EmvError;
use crate::io::exchange;

const PSE: &[u8] = b"1PAY.SYS.DDF01";
/// The most records a PSE directory is read for.
const MAX_DIRECTORY_RECORDS: u8 = 16;
/// The most applications a partial AID may yield (SELECT next).
const MAX_PARTIAL: usize = 8;
/// `62 83`: selected file deactivated (a blocked application).
const BLOCKED: StatusWord = StatusWord::from_bytes(0x62, 0x83);

/// An application both card and terminal support.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The card's AID (DF name).
    pub aid: Vec<u8>,
    /// Application label (50), or the preferred name, or empty.
    pub label: String,
    /// Priority 1 (highest) ..= 15; 0 when the card gives none.
    pub priority: u8,
    /// The card wants the cardholder to confirm this application (87 bit 8).
    pub needs_confirmation: bool,
    /// Index of the matching entry in [`TerminalConfig::aids`].
    pub config: usize,
}

/// How the candidates were found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectionMethod {
    /// From the card's payment system environment directory.
    Pse,
    /// By trying each of the terminal's AIDs.
    AidList,
}

fn select(aid: &[u8], next: bool) -> Apdu<'_> {
    Apdu::new(0x00, 0xA4, 0x04, if next { 0x02 } else { 0x00 })
        .with_data(aid)
        .with_le(256)
}

fn matching(config: &TerminalConfig, aid: &[u8]) -> Option<usize> {
    config.aids.iter().position(|c| {
        c.aid.as_slice() == aid || (c.partial && aid.len() > c.aid.len() && aid.starts_with(&c.aid))
    })
}

fn label_of(entry: &[u8]) -> Result<String, EmvError> {
    let label = find(entry, 0x50)?.or(find(entry, 0x9F12)?);
    Ok(label
        .map(|l| String::from_utf8_lossy(l.value).into_owned())
        .unwrap_or_default())
}

fn priority_of(entry: &[u8]) -> Result<(u8, bool), EmvError> {
    Ok(match find(entry, 0x87)? {
        Some(p) if p.value.len() == 1 => (p.value[0] & 0x0F, p.value[0] & 0x80 != 0),
        _ => (0, false),
    })
}

fn from_pse<C: CardChannel + ?Sized>(
    card: &mut C,
    config: &TerminalConfig,
) -> Result<Option<Vec<Candidate>>, EmvError> {
    let fci = exchange(card, &select(PSE, false))?;
    if fci.sw != StatusWord::OK {
        // No PSE (6A82), PSE blocked (6A81, 6283): fall back to the AID list.
        return Ok(None);
    }
    let Some(sfi) = find(&fci.data, 0x88)?.and_then(|s| s.value.first().copied()) else {
        return Ok(None);
    };
    if !(1..=10).contains(&sfi) {
        return Ok(None);
    }
    let mut out = Vec::new();
    for record in 1..=MAX_DIRECTORY_RECORDS {
        let r = exchange(
            card,
            &Apdu::new(0x00, 0xB2, record, (sfi << 3) | 0x04).with_le(256),
        )?;
        if r.sw == StatusWord::RECORD_NOT_FOUND {
            break;
        }
        if r.sw != StatusWord::OK {
            return Ok(None);
        }
        let Some(body) = find(&r.data, 0x70)? else {
            return Ok(None);
        };
        for element in TlvIter::new(body.value) {
            let element = element?;
            if element.tag != 0x61 {
                continue;
            }
            let Some(aid) = find(element.value, 0x4F)? else {
                continue;
            };
            if let Some(config_index) = matching(config, aid.value) {
                let (priority, needs_confirmation) = priority_of(element.value)?;
                out.push(Candidate {
                    aid: aid.value.to_vec(),
                    label: label_of(element.value)?,
                    priority,
                    needs_confirmation,
                    config: config_index,
                });
            }
        }
    }
    Ok(Some(out))
}

fn from_aid_list<C: CardChannel + ?Sized>(
    card: &mut C,
    config: &TerminalConfig,
) -> Result<Vec<Candidate>, EmvError> {
    let mut out: Vec<Candidate> = Vec::new();
    for (index, aid) in config.aids.iter().enumerate() {
        let mut next = false;
        for _ in 0..MAX_PARTIAL {
            let r = exchange(card, &select(&aid.aid, next))?;
            next = true;
            if r.sw != StatusWord::OK && r.sw != BLOCKED {
                break;
            }
            let Some(fci) = find(&r.data, 0x6F)? else {
                break;
            };
            let Some(name) = find(fci.value, 0x84)? else {
                break;
            };
            let exact = name.value == aid.aid.as_slice();
            let partial = aid.partial && name.value.starts_with(&aid.aid);
            if r.sw == StatusWord::OK
                && (exact || partial)
                && !out.iter().any(|c| c.aid == name.value)
            {
                let (priority, needs_confirmation) = priority_of(fci.value)?;
                out.push(Candidate {
                    aid: name.value.to_vec(),
                    label: label_of(fci.value)?,
                    priority,
                    needs_confirmation,
                    config: index,
                });
            }
            if !aid.partial {
                break;
            }
        }
    }
    Ok(out)
}

/// Builds the candidate list, highest priority first (no priority last; ties keep the
/// card's order).
pub fn candidates<C: CardChannel + ?Sized>(
    card: &mut C,
    config: &TerminalConfig,
) -> Result<(Vec<Candidate>, SelectionMethod), EmvError> {
    let (mut list, method) = match from_pse(card, config)? {
        Some(list) if !list.is_empty() => (list, SelectionMethod::Pse),
        _ => (from_aid_list(card, config)?, SelectionMethod::AidList),
    };
    if list.is_empty() {
        return Err(EmvError::NoApplication);
    }
    list.sort_by_key(|c| if c.priority == 0 { 16 } else { c.priority });
    Ok((list, method))
}
