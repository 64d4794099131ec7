//! The CUP ISO 8583 codec: golden vector, every message type round-trips, bad input is a typed
//! error, and property tests.

use pos_hal::Amount;
use pos_terminal::crypto::{SecretKey, cup_mac, verify_cup_mac};
use pos_terminal::iso8583::spec::Dialect;
use pos_terminal::iso8583::{CodecError, CodecErrorKind as K, Frame, Message, Mti};
use proptest::prelude::*;

const TPDU: [u8; 5] = [0x60, 0x00, 0x03, 0x00, 0x00];
const HEADER: [u8; 6] = [0x60, 0x31, 0x00, 0x31, 0x00, 0x00];

fn frame() -> Frame {
    Frame::new(TPDU, HEADER)
}

fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).expect("hex")
}

#[test]
fn sign_in_matches_the_golden_vector() {
    let mut m = Message::new(Mti::NETWORK_REQUEST);
    m.set_text(11, "000001").expect("11");
    m.set_text(41, "12345678").expect("41");
    m.set_text(42, "123456789012345").expect("42");
    m.set_text(60, "00000001003").expect("60");
    m.set_text(63, "01 ").expect("63");
    let bytes = frame().encode(&m).expect("encode");
    let golden = h(
        "003C 6000030000 603100310000 0800 0020000000C00012 000001 3132333435363738 \
                    313233343536373839303132333435 0011 000000010030 0003 303120",
    );
    assert_eq!(hex::encode_upper(&bytes), hex::encode_upper(&golden));
    let (f, back) = Frame::decode(&golden).expect("decode");
    assert_eq!(f, frame());
    assert_eq!(
        back.text(60).expect("60").as_deref(),
        Some(&b"00000001003"[..])
    );
    assert_eq!(back.batch_number().expect("batch"), Some(1));
    assert_eq!(back.network_code().expect("60.3").as_deref(), Some("003"));
    // Re-packing a received message gives the same bytes (packed fields are copied).
    assert_eq!(frame().encode(&back).expect("re-encode"), golden);
}

fn sale() -> Message<'static> {
    let mut m = Message::new(Mti::FINANCIAL_REQUEST);
    m.set_text(2, "6212345678901232").expect("2");
    m.set_text(3, "000000").expect("3");
    m.set_amount(Amount::from_minor(5000).expect("amount"))
        .expect("4");
    m.set_stan(123).expect("11");
    m.set_text(14, "3012").expect("14");
    m.set_text(22, "051").expect("22");
    m.set_text(23, "001").expect("23");
    m.set_text(25, "00").expect("25");
    m.set_text(26, "12").expect("26");
    m.set_text(35, "6212345678901232=30122200000000000")
        .expect("35");
    m.set_text(41, "12345678").expect("41");
    m.set_text(42, "123456789012345").expect("42");
    m.set_text(49, "156").expect("49");
    m.set_bytes(52, vec![0x11; 8]).expect("52");
    m.set_text(53, "2600000000000000").expect("53");
    m.set_bytes(
        55,
        h("9F2608AABBCCDDEEFF00119F2701809F360200019F1007070101"),
    )
    .expect("55");
    m.set_text(60, "22000001000501").expect("60");
    m.set_text(63, "01 ").expect("63");
    m
}

#[test]
fn field_encodings_follow_the_dialect() {
    let m = sale();
    let bytes = m.pack().expect("pack");
    let hexed = hex::encode_upper(&bytes);
    assert!(hexed.starts_with("0200"), "{hexed}");
    // 22 "051" left-aligned: 05 10; 23 "001" right-aligned: 00 01.
    assert!(hexed.contains("05100001"), "{hexed}");
    // 35: LL=34 digits, '=' as D.
    assert!(
        hexed.contains("346212345678901232D30122200000000000"),
        "{hexed}"
    );
    let back = Message::unpack(&bytes).expect("unpack");
    assert_eq!(
        back.amount().expect("4"),
        Some(Amount::from_minor(5000).expect("a"))
    );
    assert_eq!(back.stan().expect("11"), Some(123));
    assert_eq!(
        back.pan().expect("2").map(|p| p.to_string()),
        Some("621234******1232".into())
    );
    assert_eq!(back.text(22).expect("22").as_deref(), Some(&b"051"[..]));
    assert_eq!(back.text(23).expect("23").as_deref(), Some(&b"001"[..]));
    assert_eq!(
        back.transaction_type().expect("60.1").as_deref(),
        Some("22")
    );
    assert_eq!(
        format!("{back:?}"),
        "Message { mti: Mti(0200), fields: [2, 3, 4, 11, 14, 22, 23, 25, 26, 35, 41, 42, 49, 52, 53, 55, 60, 63] }"
    );
}

#[test]
fn every_message_type_round_trips() {
    let cases: Vec<(Mti, &[(u8, &str)])> = vec![
        (
            Mti::NETWORK_REQUEST,
            &[
                (11, "000002"),
                (41, "12345678"),
                (42, "123456789012345"),
                (60, "00000001003"),
                (63, "01 "),
            ],
        ),
        (
            Mti::NETWORK_REQUEST.response(),
            &[
                (11, "000002"),
                (12, "101010"),
                (13, "1123"),
                (37, "000000000001"),
                (39, "00"),
                (41, "12345678"),
                (42, "123456789012345"),
                (60, "00000002003"),
            ],
        ),
        (
            Mti::FINANCIAL_REQUEST,
            &[
                (2, "6212345678901232"),
                (3, "310000"),
                (11, "000003"),
                (22, "021"),
                (25, "00"),
                (41, "12345678"),
                (42, "123456789012345"),
                (49, "156"),
                (60, "01000002000"),
            ],
        ),
        (
            Mti::FINANCIAL_REQUEST.response(),
            &[
                (3, "310000"),
                (11, "000003"),
                (39, "00"),
                (41, "12345678"),
                (42, "123456789012345"),
                (54, "1002156C000000100000"),
            ],
        ),
        (
            Mti::FINANCIAL_REQUEST,
            &[
                (3, "200000"),
                (4, "000000005000"),
                (11, "000004"),
                (37, "000000000009"),
                (61, "000002000003"),
            ],
        ),
        (
            Mti::FINANCIAL_ADVICE,
            &[
                (3, "200000"),
                (4, "000000001000"),
                (11, "000005"),
                (37, "000000000009"),
                (61, "0000000000001123"),
                (63, "000"),
            ],
        ),
        (
            Mti::AUTH_REQUEST,
            &[
                (3, "030000"),
                (4, "000000010000"),
                (11, "000006"),
                (25, "06"),
                (60, "10000002000"),
            ],
        ),
        (
            Mti::REVERSAL,
            &[
                (3, "000000"),
                (4, "000000005000"),
                (11, "000003"),
                (39, "98"),
                (60, "22000002000"),
            ],
        ),
        (
            Mti::SETTLEMENT,
            &[
                (11, "000007"),
                (41, "12345678"),
                (42, "123456789012345"),
                (
                    48,
                    "00000000500000100000000000000000000000000000000000000000000000",
                ),
                (49, "156"),
                (60, "00000002201"),
                (63, "01 "),
            ],
        ),
        (
            Mti::BATCH_UPLOAD,
            &[(11, "000008"), (48, "0001"), (60, "00000002207")],
        ),
        (
            Mti::NETWORK_ADVICE,
            &[
                (11, "000009"),
                (41, "12345678"),
                (42, "123456789012345"),
                (60, "00000002002"),
            ],
        ),
    ];
    for (mti, fields) in cases {
        let mut m = Message::new(mti);
        for (n, v) in fields {
            m.set_text(*n, *v)
                .unwrap_or_else(|e| panic!("{mti} field {n}: {e}"));
        }
        let bytes = frame().encode(&m).expect("encode");
        let (_, back) = Frame::decode(&bytes).expect("decode");
        assert_eq!(back.mti(), mti);
        for (n, v) in fields {
            assert_eq!(
                back.string(*n).expect("field").as_deref(),
                Some(*v),
                "{mti} field {n}"
            );
        }
        assert_eq!(back.numbers().count(), fields.len());
    }
}

#[test]
fn mac_is_computed_over_mti_to_field_63_and_verifies() {
    let mak = SecretKey::tdes(&h("C24A8FB57AA20123")).expect("mak");
    let mut m = sale();
    let payload = frame()
        .encode_payload_with_mac(&mut m, |mab| cup_mac(&mak, mab).expect("mac"))
        .expect("encode");
    let (mab, mac) = Frame::mac_parts(&payload).expect("parts");
    assert!(verify_cup_mac(&mak, mab, mac).expect("verify"));
    assert_eq!(mab[..2], [0x02, 0x00]);
    let (_, back) = Frame::decode_payload(&payload).expect("decode");
    assert!(back.has(64));
    // One flipped bit anywhere in MTI..63 breaks it.
    let mut tampered = payload.clone();
    tampered[20] ^= 0x01;
    let (mab, mac) = Frame::mac_parts(&tampered).expect("parts");
    assert!(!verify_cup_mac(&mak, mab, mac).expect("verify"));
}

#[test]
fn bad_input_gives_typed_errors_naming_field_and_offset() {
    let good = sale().pack().expect("pack");
    // Truncated anywhere: always an error, never a panic.
    for cut in 0..good.len() {
        let err = Message::unpack(&good[..cut]).expect_err("truncated");
        assert!(
            matches!(
                err.kind,
                K::Truncated { .. } | K::NotNumeric | K::TooLong { .. }
            ),
            "cut at {cut}: {err}"
        );
    }
    // Bitmap declares a field the dialect does not have (field 5).
    let mut undefined = good.clone();
    undefined[2] |= 0x08;
    let err = Message::unpack(&undefined).expect_err("field 5");
    assert_eq!((err.field, err.kind), (Some(5), K::UndefinedField));
    // Secondary bitmap bit.
    let mut secondary = good.clone();
    secondary[2] |= 0x80;
    assert_eq!(
        Message::unpack(&secondary).expect_err("bit 1").field,
        Some(1)
    );
    // Non-numeric BCD in field 3 (offset 10 + LL(1) + 8 bytes PAN = 19).
    let mut letters = good.clone();
    letters[19] = 0xAB;
    let err = Message::unpack(&letters).expect_err("BCD");
    assert_eq!(
        (err.field, err.offset, err.kind),
        (Some(3), 19, K::NotNumeric)
    );
    // LLVAR over the limit: PAN length 20 (max 19).
    let mut long = good.clone();
    long[10] = 0x20;
    let err = Message::unpack(&long).expect_err("LL");
    assert_eq!(
        (err.field, err.kind),
        (Some(2), K::TooLong { len: 20, max: 19 })
    );
    // Trailing garbage.
    let mut trailing = good.clone();
    trailing.push(0);
    assert!(matches!(
        Message::unpack(&trailing).expect_err("trailing").kind,
        K::TrailingBytes { count: 1 }
    ));
    // Frame length disagreeing with the bytes.
    let mut framed = frame().encode(&sale()).expect("encode");
    framed[1] ^= 1;
    assert!(matches!(
        Frame::decode(&framed).expect_err("len").kind,
        K::FrameLength { .. }
    ));
    // Building: wrong fixed length, non-digits, over the limit, undefined field.
    let mut m = Message::new(Mti::FINANCIAL_REQUEST);
    assert_eq!(
        m.set_text(3, "00000").expect_err("len").kind,
        K::WrongLength {
            len: 5,
            expected: 6
        }
    );
    assert_eq!(
        m.set_text(4, "00000000005x").expect_err("digits").kind,
        K::NotNumeric
    );
    assert_eq!(
        m.set_text(2, "12345678901234567890").expect_err("max").kind,
        K::TooLong { len: 20, max: 19 }
    );
    assert_eq!(
        m.set_text(5, "1").expect_err("undefined").kind,
        K::UndefinedField
    );
    assert!(Mti::parse("02x0").is_err());
    let err: CodecError = Message::unpack(&[0xFF; 12]).expect_err("mti");
    assert_eq!(err.kind, K::InvalidMti);
}

fn digits(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(0u8..10, 1..=max)
        .prop_map(|v| v.iter().map(|d| char::from(b'0' + d)).collect())
}

proptest! {
    #[test]
    fn pack_unpack_round_trips(
        pan in digits(19),
        amount in 0u64..=999_999_999_999,
        stan in 0u32..1_000_000,
        f60 in digits(17),
        f48 in digits(322),
        f63 in "[ -~]{0,163}",
        icc in proptest::collection::vec(any::<u8>(), 0..255),
    ) {
        let mut m = Message::new(Mti::FINANCIAL_REQUEST);
        m.set_text(2, pan.clone()).expect("2");
        m.set_amount(Amount::from_minor(amount).expect("a")).expect("4");
        m.set_stan(stan).expect("11");
        m.set_text(48, f48.clone()).expect("48");
        m.set_bytes(55, icc.clone()).expect("55");
        m.set_text(60, f60.clone()).expect("60");
        m.set_text(63, f63.clone()).expect("63");
        let bytes = frame().encode(&m).expect("encode");
        let (_, back) = Frame::decode(&bytes).expect("decode");
        prop_assert_eq!(back.string(2).expect("2"), Some(pan));
        prop_assert_eq!(back.amount().expect("4"), Some(Amount::from_minor(amount).expect("a")));
        prop_assert_eq!(back.stan().expect("11"), Some(stan));
        prop_assert_eq!(back.string(48).expect("48"), Some(f48));
        prop_assert_eq!(back.text(55).expect("55").map(|c| c.into_owned()), Some(icc));
        prop_assert_eq!(back.string(60).expect("60"), Some(f60));
        prop_assert_eq!(back.string(63).expect("63"), Some(f63));
        prop_assert_eq!(frame().encode(&back.clone().into_owned()).expect("owned"), bytes.clone());
        prop_assert_eq!(frame().encode(&back).expect("again"), bytes);
    }

    #[test]
    fn unpack_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        for dialect in [Dialect::Cup, Dialect::CupSm4] {
            if let Ok(m) = Message::unpack_in(&bytes, dialect) {
                // Whatever unpacks packs back to the same bytes.
                prop_assert_eq!(m.pack().expect("repack"), bytes.clone());
            }
        }
        let _ = Frame::decode(&bytes);
    }

    /// The SM dialect carries a 16-byte PIN block in 52, the CUP one 8 bytes; each refuses
    /// the other's length, and a message reads back in its own dialect only.
    #[test]
    fn an_sm4_pin_block_round_trips_in_the_sm_dialect(block in proptest::array::uniform16(any::<u8>()), stan in 0u32..1_000_000) {
        let mut m = Message::new(Mti::FINANCIAL_REQUEST);
        m.set_stan(stan).expect("11");
        prop_assert!(m.set_bytes(52, block.to_vec()).is_err(), "16 bytes in the CUP dialect");
        m.set_dialect(Dialect::CupSm4);
        m.set_bytes(52, block.to_vec()).expect("52");
        prop_assert!(m.clone().set_bytes(52, block[..8].to_vec()).is_err());
        m.set_text(53, "2400000000000000").expect("53");
        let bytes = m.pack().expect("pack");
        let back = Message::unpack_in(&bytes, Dialect::CupSm4).expect("unpack");
        prop_assert_eq!(back.text(52).expect("52").map(|c| c.into_owned()), Some(block.to_vec()));
        prop_assert_eq!(back.stan().expect("11"), Some(stan));
        prop_assert!(Message::unpack(&bytes).is_err(), "not CUP");
    }
}

#[test]
fn text_fields_refuse_control_characters_both_ways() {
    let mut m = Message::new(Mti::parse("0800").expect("mti"));
    let err = match m.set_text(41, "1234\u{1b}678") {
        Err(e) => Some(e),
        Ok(_) => m.pack().err(),
    };
    assert_eq!(
        err.map(|e| (e.field, e.kind)),
        Some((Some(41), K::InvalidChar))
    );
    // On the wire: the golden sign-in with ESC in the middle of field 41.
    let mut m = Message::new(Mti::parse("0800").expect("mti"));
    m.set_text(11, "000001").expect("11");
    m.set_text(41, "12345678").expect("41");
    let mut bytes = frame().encode_payload(&m).expect("encodes");
    let at = bytes
        .windows(8)
        .position(|w| w == b"12345678")
        .expect("field 41 on the wire");
    bytes[at + 3] = 0x1B;
    let err = Frame::decode_payload(&bytes).err();
    assert_eq!(
        err.map(|e| (e.field, e.kind)),
        Some((Some(41), K::InvalidChar))
    );
}
