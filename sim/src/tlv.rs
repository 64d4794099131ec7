//! Building BER-TLV responses on the card side (parsing lives in `pos_hal::tlv`).

/// Appends one TLV element to `out` (the card's tags are all valid: nothing can fail).
pub fn push(out: &mut Vec<u8>, tag: u32, value: &[u8]) {
    let _ = pos_hal::tlv::push(out, tag, value);
}

/// One TLV element as a new vector.
pub fn tlv(tag: u32, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 4);
    push(&mut out, tag, value);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn builds_long_lengths() {
        let v = vec![0xAA; 300];
        let t = super::tlv(0x70, &v);
        assert_eq!(&t[..4], &[0x70, 0x82, 0x01, 0x2C]);
        assert_eq!(t.len(), 304);
    }
}
