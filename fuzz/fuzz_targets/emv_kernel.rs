//! The contact kernel against a card whose answers are the fuzzer's bytes (split at `FE FE`):
//! malformed FCIs, records, certificates and cryptograms end in an error or a decline, never
//! a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pos_emv::{CapkSet, Contact, HostAnswer, TerminalConfig, TransactionData, candidates};
use pos_hal::{Apdu, CardChannel, ErrorType, Rapdu};

#[derive(Debug)]
struct Gone;
impl core::fmt::Display for Gone {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("gone")
    }
}
impl core::error::Error for Gone {}
impl pos_hal::Error for Gone {
    fn kind(&self) -> pos_hal::ErrorKind {
        pos_hal::ErrorKind::CardRemoved
    }
}

struct Scripted<'a> {
    answers: std::vec::IntoIter<&'a [u8]>,
}

impl ErrorType for Scripted<'_> {
    type Error = Gone;
}

impl CardChannel for Scripted<'_> {
    fn transmit<'r>(&mut self, _: &Apdu<'_>, out: &'r mut [u8]) -> Result<Rapdu<'r>, Gone> {
        let answer = self.answers.next().ok_or(Gone)?;
        let dst = out.get_mut(..answer.len()).ok_or(Gone)?;
        dst.copy_from_slice(answer);
        Rapdu::parse(dst).map_err(|_| Gone)
    }
}

static CAPKS: std::sync::OnceLock<CapkSet> = std::sync::OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let capks = CAPKS.get_or_init(|| {
        CapkSet::from_toml(pos_sim::emv::TEST_CAPK_TOML).unwrap_or_default()
    });
    let answers: Vec<&[u8]> = data.split(|b| *b == 0xFE).collect();
    let mut card = Scripted { answers: answers.into_iter() };
    let terminal = TerminalConfig::china_pos();
    let txn = TransactionData {
        amount: 100,
        other_amount: 0,
        kind: 0,
        date: [0x26, 0x12, 0x01],
        time: [0x12, 0, 0],
        unpredictable: [1, 2, 3, 4],
        sequence: 1,
        force_online: false,
        electronic_cash: false,
    };
    let Ok((list, _)) = candidates(&mut card, &terminal) else { return };
    let Ok(mut k) = Contact::start(&mut card, &terminal, capks, &list[0], &txn) else { return };
    let _ = k.cardholder_verification(&mut card);
    let _ = k.online_pin_entered(&mut card, true);
    if k.first_generate_ac(&mut card).is_ok() {
        let _ = k.complete(&mut card, &HostAnswer::Unreachable);
    }
});
