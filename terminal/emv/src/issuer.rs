//! The issuer's side of the card cryptograms (EMV Book 2 Annex A1): card master keys from
//! the issuer master key (option A), common session keys, the application cryptogram as an
//! ISO 9797-1 algorithm 3 MAC, and ARPC method 1. The simulated cards compute their ARQC,
//! TC and AAC with it and the host simulator verifies them and answers with an ARPC; a
//! terminal never holds these keys.

use alloc::vec::Vec;

use des::cipher::generic_array::GenericArray;
use des::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use des::{Des, TdesEde2};
use zeroize::Zeroizing;

/// A double-length DES key (zeroized on drop).
pub type Key16 = Zeroizing<[u8; 16]>;

fn tdes(key: &[u8; 16], block: [u8; 8]) -> [u8; 8] {
    let cipher = TdesEde2::new(GenericArray::from_slice(key));
    let mut b = GenericArray::clone_from_slice(&block);
    cipher.encrypt_block(&mut b);
    b.into()
}

/// Card master key from the issuer master key, PAN digits and PAN sequence number
/// (option A: the rightmost 16 digits of PAN ‖ PSN).
pub fn card_master_key(imk: &[u8; 16], pan_digits: &[u8], psn: u8) -> Key16 {
    let mut digits: Vec<u8> = pan_digits.iter().map(|d| d & 0x0F).collect();
    digits.push(psn / 10 % 10);
    digits.push(psn % 10);
    while digits.len() < 16 {
        digits.insert(0, 0);
    }
    let tail = &digits[digits.len() - 16..];
    let mut y = [0u8; 8];
    for (i, b) in y.iter_mut().enumerate() {
        *b = (tail[2 * i] << 4) | tail[2 * i + 1];
    }
    let left = tdes(imk, y);
    let right = tdes(imk, y.map(|b| !b));
    let mut key = Zeroizing::new([0u8; 16]);
    key[..8].copy_from_slice(&left);
    key[8..].copy_from_slice(&right);
    key
}

/// Common session key (Book 2 A1.3) for diversification value `r` (for ACs: ATC ‖ 00…).
pub fn session_key(mk: &[u8; 16], r: [u8; 8]) -> Key16 {
    let mut l = r;
    l[2] = 0xF0;
    let mut rr = r;
    rr[2] = 0x0F;
    let mut key = Zeroizing::new([0u8; 16]);
    key[..8].copy_from_slice(&tdes(mk, l));
    key[8..].copy_from_slice(&tdes(mk, rr));
    key
}

/// The AC session key for `atc`.
pub fn ac_session_key(mk: &[u8; 16], atc: [u8; 2]) -> Key16 {
    session_key(mk, [atc[0], atc[1], 0, 0, 0, 0, 0, 0])
}

/// ISO/IEC 9797-1 MAC algorithm 3 with padding method 2, 8 bytes.
pub fn retail_mac(key: &[u8; 16], data: &[u8]) -> [u8; 8] {
    let left = Des::new(GenericArray::from_slice(&key[..8]));
    let right = Des::new(GenericArray::from_slice(&key[8..]));
    let mut padded = data.to_vec();
    padded.push(0x80);
    while !padded.len().is_multiple_of(8) {
        padded.push(0);
    }
    let mut state = GenericArray::clone_from_slice(&[0u8; 8]);
    for block in padded.chunks_exact(8) {
        for (s, b) in state.iter_mut().zip(block) {
            *s ^= b;
        }
        left.encrypt_block(&mut state);
    }
    right.decrypt_block(&mut state);
    left.encrypt_block(&mut state);
    state.into()
}

/// The session key of issuer script secure messaging (Book 2 §9.2 and A1.3): the common
/// session key of the card's MAC master key (MK-SMI) with the application cryptogram the
/// script answers as diversification value.
pub fn script_session_key(mk_smi: &[u8; 16], arqc: [u8; 8]) -> Key16 {
    session_key(mk_smi, arqc)
}

/// The MAC of an issuer script command (secure messaging format 1, Book 2 §9.2.1): over
/// `CLA INS P1 P2 Lc ‖ ATC ‖ ARQC ‖ data`, `Lc` counting the 8 MAC bytes that follow the data.
pub fn script_mac(
    mk_smi: &[u8; 16],
    atc: [u8; 2],
    arqc: [u8; 8],
    header: [u8; 4],
    data: &[u8],
) -> [u8; 8] {
    let mut input = Vec::with_capacity(15 + data.len());
    input.extend_from_slice(&header);
    input.push(u8::try_from(data.len() + 8).unwrap_or(u8::MAX));
    input.extend_from_slice(&atc);
    input.extend_from_slice(&arqc);
    input.extend_from_slice(data);
    retail_mac(&script_session_key(mk_smi, arqc), &input)
}

/// An issuer script command as the card receives it (tag 86's value): the header, `Lc`, the
/// data and its MAC ([`script_mac`]). `None` when the data does not fit one short command.
pub fn script_command(
    mk_smi: &[u8; 16],
    atc: [u8; 2],
    arqc: [u8; 8],
    header: [u8; 4],
    data: &[u8],
) -> Option<Vec<u8>> {
    let lc = u8::try_from(data.len() + 8).ok()?;
    let mut out = header.to_vec();
    out.push(lc);
    out.extend_from_slice(data);
    out.extend_from_slice(&script_mac(mk_smi, atc, arqc, header, data));
    Some(out)
}

/// The data an application cryptogram covers, in the order of this project's cards
/// (the EMV-recommended minimum set, Book 2 §8.1.1): amount, other amount, terminal country,
/// TVR, currency, date, type, unpredictable number, AIP, ATC and the card verification
/// results carried in the issuer application data (9F10 bytes 3..7).
pub fn ac_input(get: impl Fn(u32) -> Option<Vec<u8>>) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(48);
    for (tag, len) in [
        (0x9F02, 6),
        (0x9F03, 6),
        (0x9F1A, 2),
        (0x95, 5),
        (0x5F2A, 2),
        (0x9A, 3),
        (0x9C, 1),
        (0x9F37, 4),
        (0x82, 2),
        (0x9F36, 2),
    ] {
        let v = get(tag)?;
        if v.len() != len {
            return None;
        }
        out.extend_from_slice(&v);
    }
    let iad = get(0x9F10)?;
    out.extend_from_slice(iad.get(3..7)?);
    Some(out)
}

/// The application cryptogram under the AC session key.
pub fn cryptogram(mk: &[u8; 16], atc: [u8; 2], input: &[u8]) -> [u8; 8] {
    retail_mac(&ac_session_key(mk, atc), input)
}

/// ARPC method 1: 3DES(session key, ARQC ⊕ (ARC ‖ 00…)).
pub fn arpc(mk: &[u8; 16], atc: [u8; 2], arqc: [u8; 8], arc: [u8; 2]) -> [u8; 8] {
    let mut x = arqc;
    x[0] ^= arc[0];
    x[1] ^= arc[1];
    tdes(&ac_session_key(mk, atc), x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).expect("hex")
    }

    fn without_parity(k: &[u8]) -> Vec<u8> {
        k.iter().map(|b| b & 0xFE).collect()
    }

    #[test]
    fn master_key_matches_the_published_option_a_vector() {
        let imk: [u8; 16] = h("0123456789ABCDEFFEDCBA9876543210")
            .try_into()
            .expect("16");
        let pan: Vec<u8> = b"99012345678901234".iter().map(|d| d - b'0').collect();
        let mk = card_master_key(&imk, &pan, 0x45 % 0x10 + 40);
        // The reference adjusts DES parity; compare without the parity bits.
        assert_eq!(
            without_parity(&mk[..]),
            without_parity(&h("67F8292358083E5EA7AB7FDA58D53B6B"))
        );
    }

    #[test]
    fn session_key_matches_the_reference_up_to_parity() {
        let mk: [u8; 16] = h("67F8292358083E5EA7AB7FDA58D53B6B")
            .try_into()
            .expect("16");
        let r: [u8; 8] = h("1234567890123456").try_into().expect("8");
        let sk = session_key(&mk, r);
        assert_eq!(
            without_parity(&sk[..]),
            without_parity(&h("29B33180E567CE38EA4CBC9D753B0E61"))
        );
    }

    #[test]
    fn retail_mac_matches_iso9797_example() {
        // ISO/IEC 9797-1 Annex B, algorithm 3, padding 2 is not in the standard's examples;
        // check the structure instead: one block = E_L(D_R(E_L(x ⊕ 0))).
        let key: [u8; 16] = h("0123456789ABCDEFFEDCBA9876543210")
            .try_into()
            .expect("16");
        let left = Des::new(GenericArray::from_slice(&key[..8]));
        let right = Des::new(GenericArray::from_slice(&key[8..]));
        let mut b = GenericArray::clone_from_slice(&[1, 2, 3, 4, 5, 6, 7, 0x80]);
        left.encrypt_block(&mut b);
        right.decrypt_block(&mut b);
        left.encrypt_block(&mut b);
        assert_eq!(retail_mac(&key, &[1, 2, 3, 4, 5, 6, 7])[..], b[..]);
    }

    #[test]
    fn a_script_mac_binds_the_command_to_the_cryptogram_it_answers() {
        let mk = [0x11; 16];
        let (atc, arqc) = ([0x00, 0x2A], [1, 2, 3, 4, 5, 6, 7, 8]);
        let header = [0x84, 0x24, 0x00, 0x00];
        let command = script_command(&mk, atc, arqc, header, &[]).expect("fits");
        assert_eq!(command[..5], [0x84, 0x24, 0x00, 0x00, 0x08]);
        assert_eq!(command[5..], script_mac(&mk, atc, arqc, header, &[]));
        assert_ne!(
            script_mac(&mk, atc, [9; 8], header, &[]),
            script_mac(&mk, atc, arqc, header, &[]),
            "another transaction's cryptogram: another MAC"
        );
        assert_ne!(
            script_mac(&mk, atc, arqc, [0x84, 0x1E, 0x00, 0x00], &[]),
            script_mac(&mk, atc, arqc, header, &[]),
            "another command: another MAC"
        );
        assert!(script_command(&mk, atc, arqc, header, &[0; 250]).is_none());
    }

    #[test]
    fn arpc_changes_with_the_response_code() {
        let mk = [0x11u8; 16];
        let a = arpc(&mk, [0, 1], [9; 8], *b"00");
        let b = arpc(&mk, [0, 1], [9; 8], *b"05");
        assert_ne!(a, b);
    }
}
