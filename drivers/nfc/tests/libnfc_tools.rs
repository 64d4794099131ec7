//! The PN532 emulator as libnfc itself sees it: Debian's `nfc-list` (libnfc-bin) finds the
//! emulated cards through `LIBNFC_DEVICE`, and libnfc's InAutoPoll path (`nfc_initiator_poll_target`,
//! which pos-nfc does not use) gets an answer the chip would give.

use std::process::Command;
use std::time::Duration;

use nfc1::target_info::TargetInfo;
use nfc1::{BaudRate, Modulation, ModulationType};
use pos_sim::emv::{CardProfile, EmvCard};
use pos_sim::pn532::{Pn532Emulator, Presented};
use pos_sim::require;

fn debit() -> EmvCard {
    EmvCard::new(CardProfile::builtin("unionpay-debit").expect("profile"))
}

fn nfc_list(emulator: &Pn532Emulator) -> String {
    let found = Command::new("nfc-list").arg("-h").output().is_ok();
    require(
        found,
        "nfc-list (Debian libnfc-bin)",
        "run `cargo xtask setup`",
    );
    let out = Command::new("nfc-list")
        .env("LIBNFC_DEVICE", format!("pn532_uart:{}", emulator.path()))
        .output()
        .expect("nfc-list runs");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
#[ignore = "needs nfc-list from Debian's libnfc-bin (cargo xtask setup; cargo xtask test runs it)"]
fn nfc_list_finds_a_type_a_card_with_its_uid_and_ats() {
    let e = Pn532Emulator::start().expect("emulator");
    e.insert(Presented::iso_dep_a(debit(), &[0x08, 0xA1, 0xB2, 0xC3]));
    let out = nfc_list(&e);
    assert!(out.contains("1 ISO14443A passive target(s) found"), "{out}");
    // A UID starting with 08 is a random one: libnfc labels it NFCID3.
    assert!(out.contains("UID (NFCID3): 08  a1  b2  c3"), "{out}");
    assert!(out.contains("ATS: "), "{out}");
}

#[test]
#[ignore = "needs nfc-list from Debian's libnfc-bin (cargo xtask setup; cargo xtask test runs it)"]
fn nfc_list_finds_a_type_b_card_with_its_pupi() {
    let e = Pn532Emulator::start().expect("emulator");
    e.insert(Presented::iso_dep_b(debit(), [0xB1, 0xB2, 0xB3, 0xB4]));
    let out = nfc_list(&e);
    assert!(out.contains("1 ISO14443B passive target(s) found"), "{out}");
    assert!(out.contains("PUPI: b1  b2  b3  b4"), "{out}");
}

#[test]
#[ignore = "needs nfc-list from Debian's libnfc-bin (cargo xtask setup; cargo xtask test runs it)"]
fn nfc_list_sees_an_empty_field_as_no_target() {
    let e = Pn532Emulator::start().expect("emulator");
    let out = nfc_list(&e);
    assert!(out.contains("NFC device: "), "{out}");
    assert!(!out.contains("passive target(s) found"), "{out}");
}

#[test]
fn libnfc_autopoll_finds_the_card_through_in_auto_poll() {
    let e = Pn532Emulator::start().expect("emulator");
    e.insert(Presented::iso_dep_a(debit(), &[0x08, 0xA1, 0xB2, 0xC3]));
    let mut context = nfc1::Context::new().expect("libnfc");
    let mut device = context
        .open_with_connstring(&format!("pn532_uart:{}", e.path()))
        .expect("open");
    device.initiator_init().expect("init");
    let modulations = [
        Modulation {
            modulation_type: ModulationType::Iso14443a,
            baud_rate: BaudRate::Baud106,
        },
        Modulation {
            modulation_type: ModulationType::Iso14443b,
            baud_rate: BaudRate::Baud106,
        },
    ];
    let target = device
        .initiator_poll_target(&modulations, 2, Duration::from_millis(150))
        .expect("InAutoPoll answer");
    let TargetInfo::Iso14443a(a) = target.target_info else {
        panic!("not a type A target");
    };
    assert_eq!(&a.uid[..a.uid_len], &[0x08, 0xA1, 0xB2, 0xC3]);
    assert_eq!(a.sak & 0x20, 0x20, "ISO-DEP");
}
