//! The PN532 emulator's side: any host byte stream, and any command body in a valid frame,
//! gets ACK/NACK/answer frames that decode, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pos_pn532::frame::{self, Frame};
use pos_sim::emv::{CardProfile, EmvCard};
use pos_sim::pn532::{Pn532Chip, Presented};

static CARD: std::sync::OnceLock<Option<EmvCard>> = std::sync::OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Some(card) = CARD.get_or_init(|| Some(EmvCard::new(CardProfile::builtin("unionpay-debit")?))) else {
        return;
    };
    let mut chip = Pn532Chip::new();
    chip.insert(Presented::iso_dep_a(card.clone(), &[1, 2, 3, 4]));
    // First byte: raw stream, or command bodies (split at 0xFF) each sent in a valid frame.
    let Some((&mode, rest)) = data.split_first() else { return };
    let mut out = Vec::new();
    if mode & 1 == 0 {
        out.extend(chip.feed(rest));
    } else {
        for body in rest.split(|&b| b == 0xFF).filter(|b| !b.is_empty()) {
            let mut buf = [0u8; frame::MAX_FRAME];
            if let Ok(n) = frame::encode(0xD4, body, &mut buf) {
                out.extend(chip.feed(&buf[..n]));
            }
        }
    }
    // Whatever the chip said is a sequence of well-formed frames.
    let mut at = 0;
    while at < out.len() {
        let (f, used) = frame::decode(&out[at..]).expect("the chip sends whole, valid frames");
        assert!(used > 0);
        if let Frame::Info { tfi, .. } = f {
            assert_eq!(tfi, frame::PN532_TO_HOST);
        }
        at += used;
    }
});
