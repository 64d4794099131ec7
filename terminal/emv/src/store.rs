//! The data a transaction gathered, card and terminal, by tag.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;

use pos_hal::tlv::TlvIter;
use zeroize::Zeroize;

use crate::error::EmvError;
use crate::tags::shown;

/// Tags whose values are templates: their children are stored, not themselves.
const TEMPLATES: &[u32] = &[0x6F, 0x70, 0x77, 0xA5, 0xBF0C, 0x61];

/// Tag → value. Card data lands here from FCIs, GPO, records and GENERATE AC; terminal data
/// (amount, TVR, unpredictable number…) is set by the kernel. Values are wiped on drop: the
/// store holds the PAN and track equivalent data.
#[derive(Default, Clone)]
pub struct TagStore {
    values: BTreeMap<u32, Vec<u8>>,
}

impl TagStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of `tag`.
    pub fn get(&self, tag: u32) -> Option<&[u8]> {
        self.values.get(&tag).map(Vec::as_slice)
    }

    /// Whether `tag` is present.
    pub fn has(&self, tag: u32) -> bool {
        self.values.contains_key(&tag)
    }

    /// Sets `tag` (the terminal's own data).
    pub fn set(&mut self, tag: u32, value: &[u8]) {
        if let Some(mut old) = self.values.insert(tag, value.to_vec()) {
            old.zeroize();
        }
    }

    /// Removes `tag`.
    pub fn remove(&mut self, tag: u32) {
        if let Some(mut old) = self.values.remove(&tag) {
            old.zeroize();
        }
    }

    /// Stores every primitive element of `tlv`, descending into templates. A card that sends
    /// the same primitive twice in one answer breaks EMV's rule; with `reject_duplicates`
    /// (records) that is an error, so a later record cannot overwrite the signed PAN.
    pub fn absorb(&mut self, tlv: &[u8], reject_duplicates: bool) -> Result<(), EmvError> {
        for element in TlvIter::new(tlv) {
            let element = element?;
            if element.is_constructed() && TEMPLATES.contains(&element.tag) {
                self.absorb(element.value, reject_duplicates)?;
                continue;
            }
            if reject_duplicates && self.values.contains_key(&element.tag) {
                return Err(EmvError::CardOutOfOrder("a data object sent twice"));
            }
            self.set(element.tag, element.value);
        }
        Ok(())
    }

    /// The given tags that are present, as BER-TLV in the given order (field 55).
    pub fn icc_data(&self, tags: &[u32]) -> Vec<u8> {
        let mut out = Vec::new();
        for &tag in tags {
            if let Some(v) = self.get(tag) {
                // The dictionary's tags are all at most 4 bytes: nothing can fail.
                let _ = pos_hal::tlv::push(&mut out, tag, v);
            }
        }
        out
    }

    /// Every tag and value, in tag order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &[u8])> {
        self.values.iter().map(|(t, v)| (*t, v.as_slice()))
    }
}

impl Drop for TagStore {
    fn drop(&mut self) {
        for v in self.values.values_mut() {
            v.zeroize();
        }
    }
}

impl fmt::Debug for TagStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.values.iter().map(|(t, v)| shown(*t, v)))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn templates_are_flattened_and_debug_masks_the_pan() {
        let mut s = TagStore::new();
        let record = [
            0x70, 0x0D, 0x5A, 0x08, 0x62, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x32, 0x9F, 0x36,
            0x00,
        ];
        s.absorb(&record, true).expect("absorbs");
        assert_eq!(s.get(0x5A).map(<[u8]>::len), Some(8));
        assert!(s.has(0x9F36));
        let text = format!("{s:?}");
        assert!(
            text.contains("621234******1232") && !text.contains("62123456"),
            "{text}"
        );
    }

    #[test]
    fn a_record_cannot_overwrite_earlier_card_data() {
        let mut s = TagStore::new();
        s.absorb(&[0x70, 0x03, 0x5A, 0x01, 0x11], true)
            .expect("first");
        assert!(s.absorb(&[0x70, 0x03, 0x5A, 0x01, 0x22], true).is_err());
        assert_eq!(s.get(0x5A), Some(&[0x11][..]));
    }
}
