//! Reading the records the AFL names, and the data offline authentication needs from them
//! (shared by the contact and contactless kernels).

use alloc::vec::Vec;

use pos_hal::tlv::find;
use pos_hal::{Apdu, CardChannel, StatusWord};

use crate::capk::CapkSet;
use crate::error::EmvError;
use crate::io::exchange;
use crate::oda::{self, CardKeys, OdaFailure, PublicKey};
use crate::store::TagStore;

/// The most records an AFL may name: no payment card has more, and a card must not keep
/// the terminal reading.
const MAX_RECORDS: usize = 64;

/// Reads every record the AFL (94) names into `store`; returns the static data to be
/// authenticated, or `None` when a signed record is not valid static data (ODA then fails).
pub fn read<C: CardChannel + ?Sized>(
    card: &mut C,
    store: &mut TagStore,
) -> Result<Option<Vec<u8>>, EmvError> {
    let afl = store
        .get(0x94)
        .ok_or(EmvError::Missing { tag: 0x94 })?
        .to_vec();
    if afl.is_empty() || afl.len() % 4 != 0 {
        return Err(EmvError::BadAfl);
    }
    let mut static_data = Some(Vec::new());
    let mut count = 0;
    for entry in afl.chunks_exact(4) {
        let (sfi, first, last, oda) = (entry[0] >> 3, entry[1], entry[2], entry[3]);
        if entry[0] & 0x07 != 0
            || !(1..=30).contains(&sfi)
            || first == 0
            || last < first
            || oda > last - first + 1
        {
            return Err(EmvError::BadAfl);
        }
        count += usize::from(last - first) + 1;
        if count > MAX_RECORDS {
            return Err(EmvError::BadAfl);
        }
        for record in first..=last {
            let r = exchange(
                card,
                &Apdu::new(0x00, 0xB2, record, (sfi << 3) | 0x04).with_le(256),
            )?;
            if r.sw != StatusWord::OK {
                return Err(EmvError::Refused {
                    command: "READ RECORD",
                    sw: r.sw,
                });
            }
            let template = find(&r.data, 0x70)?;
            let is_70 = r.data.first() == Some(&0x70) && template.is_some();
            if sfi <= 10 && !is_70 {
                return Err(EmvError::Missing { tag: 0x70 });
            }
            if record - first < oda {
                match (&mut static_data, template) {
                    (Some(data), Some(t)) if sfi <= 10 => data.extend_from_slice(t.value),
                    (Some(data), _) if sfi > 10 && is_70 => data.extend_from_slice(&r.data),
                    _ => static_data = None,
                }
            }
            if is_70 {
                store.absorb(&r.data, true)?;
            }
        }
    }
    // 9F4A may only name the AIP (Book 3 §10.3).
    if let (Some(data), Some(list)) = (&mut static_data, store.get(0x9F4A)) {
        if list == [0x82] {
            data.extend_from_slice(store.get(0x82).unwrap_or(&[]));
        } else {
            static_data = None;
        }
    }
    Ok(static_data)
}

/// The certificate data objects of the card, and today.
pub fn card_keys(store: &TagStore) -> CardKeys<'_> {
    CardKeys {
        issuer_cert: store.get(0x90),
        issuer_remainder: store.get(0x92),
        issuer_exponent: store.get(0x9F32),
        icc_cert: store.get(0x9F46),
        icc_remainder: store.get(0x9F48),
        icc_exponent: store.get(0x9F47),
        pan: store.get(0x5A).unwrap_or(&[]),
        today: match store.get(0x9A) {
            Some([a, b, c]) => [*a, *b, *c],
            _ => [0, 0, 0],
        },
    }
}

/// The issuer public key, by the card's RID (from 9F06) and CA index (8F).
pub fn issuer_key(store: &TagStore, capks: &CapkSet) -> Result<PublicKey, OdaFailure> {
    let index = match store.get(0x8F) {
        Some([i]) => *i,
        _ => return Err(OdaFailure::Missing(0x8F)),
    };
    let rid = store.get(0x9F06).and_then(|a| a.get(..5)).unwrap_or(&[]);
    let capk = capks.find(rid, index).ok_or(OdaFailure::UnknownCapk)?;
    let (key, serial) = oda::issuer_key_and_serial(capk, &card_keys(store))?;
    if capks.is_revoked(rid, index, serial) {
        return Err(OdaFailure::Revoked);
    }
    Ok(key)
}
