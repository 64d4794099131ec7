//! pos-nfc through the system libnfc's `pn532_uart` driver against the PN532 emulator on a
//! pty: libnfc's real open sequence, selects, exchanges and presence checks.

use std::time::Duration;

use pos_hal::{
    Apdu, CancelToken, CardChannel, CardProtocol, Error as _, ErrorKind, PiccReader, PollOutcome,
    RfType, TargetTypes,
};
use pos_nfc::NfcReader;
use pos_sim::card::Card;
use pos_sim::emv::{CardProfile, EmvCard};
use pos_sim::pn532::{Pn532Emulator, Presented};

fn debit() -> EmvCard {
    EmvCard::new(CardProfile::builtin("unionpay-debit").expect("profile"))
}

fn setup(card: Option<Presented>) -> (Pn532Emulator, NfcReader) {
    let emulator = Pn532Emulator::start().expect("emulator");
    if let Some(c) = card {
        emulator.insert(c);
    }
    let reader = NfcReader::open(&format!("pn532_uart:{}", emulator.path()))
        .expect("libnfc opens the emulated PN532");
    (emulator, reader)
}

fn ppse() -> Vec<u8> {
    let mut a = vec![0x00, 0xA4, 0x04, 0x00, 0x0E];
    a.extend_from_slice(b"2PAY.SYS.DDF01");
    a.push(0x00);
    a
}

fn select_ppse(reader: &mut NfcReader) -> Result<Vec<u8>, pos_nfc::NfcError> {
    let raw = ppse();
    let apdu = Apdu::parse(&raw).expect("apdu");
    let mut buf = [0u8; 300];
    let r = reader.transmit(&apdu, &mut buf)?;
    let mut out = r.data.to_vec();
    out.extend_from_slice(&[r.sw.sw1(), r.sw.sw2()]);
    Ok(out)
}

#[test]
fn libnfc_activates_the_card_and_exchanges_apdus_as_the_card_model_answers() {
    let (_e, mut reader) = setup(Some(Presented::iso_dep_a(
        debit(),
        &[0x08, 0xA1, 0xB2, 0xC3],
    )));
    let found = reader
        .poll(TargetTypes::AB, Duration::from_secs(2), &CancelToken::new())
        .expect("poll");
    let PollOutcome::Card(target) = found else {
        panic!("{found:?}");
    };
    assert_eq!(
        (target.rf, target.protocol),
        (RfType::A, CardProtocol::IsoDep)
    );
    assert_eq!(target.uid.as_bytes(), &[0x08, 0xA1, 0xB2, 0xC3]);
    let mut reference = debit();
    reference.reset();
    assert_eq!(
        select_ppse(&mut reader).expect("exchange"),
        reference.transmit(&ppse())
    );
}

#[test]
fn an_empty_field_is_nothing_not_an_empty_card() {
    let (_e, mut reader) = setup(None);
    let found = reader
        .poll(
            TargetTypes::AB,
            Duration::from_millis(200),
            &CancelToken::new(),
        )
        .expect("poll");
    assert_eq!(found, PollOutcome::Nothing);
}

#[test]
fn two_cards_are_a_collision() {
    let (e, mut reader) = setup(Some(Presented::iso_dep_a(debit(), &[1, 2, 3, 4])));
    e.insert(Presented::iso_dep_a(debit(), &[5, 6, 7, 8]));
    let found = reader
        .poll(
            TargetTypes::AB,
            Duration::from_millis(500),
            &CancelToken::new(),
        )
        .expect("poll");
    assert_eq!(found, PollOutcome::Collision);
}

#[test]
fn an_apdu_libnfc_would_abort_on_is_refused_before_the_call() {
    let (e, mut reader) = setup(Some(Presented::iso_dep_a(debit(), &[1, 2, 3, 4])));
    reader
        .poll(TargetTypes::AB, Duration::from_secs(2), &CancelToken::new())
        .expect("poll");
    let data = [0u8; 300];
    let apdu = Apdu::new(0x80, 0xEE, 0, 0).with_data(&data);
    let mut buf = [0u8; 400];
    let err = reader.transmit(&apdu, &mut buf).expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(e.exchanges(), 0, "nothing reached libnfc");
}

#[test]
fn a_card_pulled_mid_exchange_is_card_removed_and_its_removal_is_seen() {
    let (e, mut reader) = setup(Some(Presented::iso_dep_a(debit(), &[1, 2, 3, 4])));
    reader
        .poll(TargetTypes::AB, Duration::from_secs(2), &CancelToken::new())
        .expect("poll");
    e.remove_after(1);
    select_ppse(&mut reader).expect("first exchange");
    let err = select_ppse(&mut reader).expect_err("gone");
    assert_eq!(err.kind(), ErrorKind::CardRemoved, "{err}");
    reader
        .wait_for_removal(Duration::from_millis(500), &CancelToken::new())
        .expect("removal");
}

#[test]
fn after_a_timeout_the_device_is_reopened_and_the_next_exchange_is_not_stale() {
    let (e, mut reader) = setup(Some(Presented::iso_dep_a(debit(), &[1, 2, 3, 4])));
    reader
        .poll(TargetTypes::AB, Duration::from_secs(2), &CancelToken::new())
        .expect("poll");
    e.delay(Duration::from_millis(3_000));
    let err = select_ppse(&mut reader).expect_err("too slow");
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    e.delay(Duration::ZERO);
    // The chip finishes the slow command; its late answer must not be read as the next one.
    std::thread::sleep(Duration::from_millis(1_700));
    reader
        .poll(TargetTypes::AB, Duration::from_secs(2), &CancelToken::new())
        .expect("poll after reopen");
    let mut reference = debit();
    reference.reset();
    assert_eq!(
        select_ppse(&mut reader).expect("exchange"),
        reference.transmit(&ppse())
    );
}
