//! Every sensitive fixture, formatted every way the code formats things (`Debug`, `{:#?}`,
//! `Display` where there is one, error messages), must not show the clear PAN, track, PIN, PIN
//! block or key.

use pos_hal::{
    EncryptedPinBlock, InlineBytes, KeySlot, KeyStore, Pan, PinBlockFormat, PinDigits, Secret,
    Swipe, Track1, Track2, TrackRead, Tracks,
};
use pos_terminal::crypto::{
    SecretKey, SoftwareKeyStore, decrypt_pin_block, encrypt_pin_block, pin_block_iso0,
};
use pos_terminal::iso8583::{Frame, Message, Mti};

const PAN: &str = "6212345678901232";
const PAN_MIDDLE: &str = "34567890";
const TRACK2: &str = "6212345678901232=30122201234567890";
const TRACK1: &str = "B6212345678901232^ZHANG/SAN^3012201000000000";
const PIN: &str = "739164";
const KEY: [u8; 16] = [
    0xA5, 0x3C, 0x96, 0x0F, 0xE1, 0x7B, 0x2D, 0x48, 0xC3, 0x5A, 0x69, 0xF0, 0x1E, 0x87, 0xD2, 0xB4,
];

fn hex(bytes: &[u8]) -> (String, String) {
    let upper: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
    (upper.clone(), upper.to_lowercase())
}

/// The forms a leak could take in text.
fn forbidden(block: &[u8]) -> Vec<String> {
    let (key_upper, key_lower) = hex(&KEY);
    let (blk_upper, blk_lower) = hex(block);
    vec![
        PAN_MIDDLE.into(),
        TRACK2.into(),
        "ZHANG/SAN".into(),
        PIN.into(),
        key_upper[..12].into(),
        key_lower[..12].into(),
        format!("{}, {}, {}", KEY[0], KEY[1], KEY[2]),
        blk_upper[..8].into(),
        blk_lower[..8].into(),
        format!("{}, {}, {}", block[0], block[1], block[2]),
    ]
}

fn texts_of<T: std::fmt::Debug>(value: &T) -> Vec<String> {
    vec![format!("{value:?}"), format!("{value:#?}")]
}

#[test]
fn no_fixture_shows_a_secret_in_any_text() {
    let key = SecretKey::tdes(&KEY).expect("key");
    let block = encrypt_pin_block(&key, PIN.as_bytes(), PAN).expect("block");
    let clear_block = pin_block_iso0(PIN.as_bytes(), PAN).expect("clear block");
    let pin_back = decrypt_pin_block(&key, block.expose_secret(), PAN).expect("pin");
    let pan = Pan::parse(PAN).expect("pan");
    let t2 = Track2::parse(TRACK2).expect("t2");
    let t1 = Track1::parse(TRACK1).expect("t1");
    let tracks = Tracks::new(Some(t1.clone()), Some(t2.clone()), None);
    let swipe = Swipe::clear(TrackRead::Read(t1), TrackRead::Read(t2), TrackRead::Absent);
    let encrypted =
        EncryptedPinBlock::new(block.expose_secret(), PinBlockFormat::Iso0Tdes).expect("8 bytes");
    let digits: PinDigits = Secret::new(InlineBytes::new(PIN.as_bytes()).expect("fits"));
    let mut keys = SoftwareKeyStore::default();
    keys.install(KeySlot::Pin, key.clone()).expect("slot");
    let from_store = keys
        .encrypt_pin_block(KeySlot::Pin, &pan, &digits, PinBlockFormat::Iso0Tdes)
        .expect("store block");

    let mut msg = Message::new(Mti::parse("0200").expect("mti"));
    msg.set_text(2, PAN).expect("2");
    msg.set_text(35, TRACK2).expect("35");
    msg.set_bytes(52, block.expose_secret().to_vec())
        .expect("52");
    msg.set_bytes(62, KEY.to_vec()).expect("62");
    let frame = Frame::new([0x60, 0, 3, 0, 0], [0x60, 0x31, 0, 0x31, 0, 0]);
    let payload = frame.encode_payload(&msg).expect("packs");
    let (_, decoded) = Frame::decode_payload(&payload).expect("unpacks");

    let mut texts = Vec::new();
    texts.extend(texts_of(&key));
    texts.extend(texts_of(&block));
    texts.extend(texts_of(&clear_block));
    texts.extend(texts_of(&pin_back));
    texts.extend(texts_of(&pan));
    texts.push(pan.to_string());
    texts.extend(texts_of(&tracks));
    texts.extend(texts_of(&swipe));
    texts.extend(texts_of(&encrypted));
    texts.extend(texts_of(&digits));
    texts.extend(texts_of(&keys));
    texts.extend(texts_of(&from_store));
    texts.extend(texts_of(&msg));
    texts.extend(texts_of(&decoded));
    for n in [2, 35, 52, 62] {
        texts.extend(texts_of(&decoded.get(n)));
    }
    // Error paths that carry card data in their inputs.
    texts.push(format!(
        "{:?}",
        decrypt_pin_block(&key, block.expose_secret(), "4761739001010010")
    ));
    texts.push(format!("{:?}", Track2::parse("6212345678901232=30X")));

    let bad = forbidden(clear_block.expose_secret());
    let bad_encrypted = forbidden(block.expose_secret());
    for text in &texts {
        for needle in bad.iter().chain(&bad_encrypted) {
            assert!(
                !text.contains(needle.as_str()),
                "{needle:?} leaked in {text}"
            );
        }
    }
    assert!(
        texts.iter().any(|t| t.contains("621234******1232")),
        "masked PAN shown"
    );
}
