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

fn poll(reader: &mut NfcReader, timeout_ms: u64) -> PollOutcome {
    reader
        .poll(
            TargetTypes::AB,
            Duration::from_millis(timeout_ms),
            &CancelToken::new(),
        )
        .expect("poll")
}

#[test]
fn a_type_b_card_is_activated_with_its_pupi_and_answers_apdus() {
    let (_e, mut reader) = setup(Some(Presented::iso_dep_b(
        debit(),
        [0xB1, 0xB2, 0xB3, 0xB4],
    )));
    let PollOutcome::Card(b) = poll(&mut reader, 2_000) else {
        panic!("no type B card");
    };
    assert_eq!(
        (b.rf, b.protocol, b.uid.as_bytes()),
        (
            RfType::B,
            CardProtocol::IsoDep,
            &[0xB1, 0xB2, 0xB3, 0xB4][..]
        )
    );
    let mut reference = debit();
    reference.reset();
    assert_eq!(
        select_ppse(&mut reader).expect("type B exchange"),
        reference.transmit(&ppse())
    );
}

#[test]
fn a_mifare_classic_card_is_found_as_mifare_and_an_apdu_to_it_is_an_error_not_an_abort() {
    let (_e, mut reader) = setup(Some(Presented::mifare_classic(debit(), [9, 9, 9, 9])));
    let PollOutcome::Card(m) = poll(&mut reader, 2_000) else {
        panic!("no MIFARE card");
    };
    assert_eq!((m.rf, m.protocol), (RfType::A, CardProtocol::Mifare));
    select_ppse(&mut reader).expect_err("MIFARE Classic speaks no APDU");
}

#[test]
fn a_256_byte_answer_comes_back_whole() {
    let (e, mut reader) = setup(Some(Presented::iso_dep_a(debit(), &[1, 2, 3, 4])));
    assert!(matches!(poll(&mut reader, 2_000), PollOutcome::Card(_)));
    let before = e.exchanges();
    // `80 EE 01 00 00` asks the card model for 256 bytes: with the SW, over one PN532 frame,
    // so the chip chains the answer (MI).
    let apdu = Apdu::new(0x80, 0xEE, 0x01, 0).with_le(256);
    let mut buf = [0u8; 400];
    let r = reader.transmit(&apdu, &mut buf).expect("long answer");
    let expected: Vec<u8> = (0..=255u8).collect();
    assert_eq!(r.data, &expected[..]);
    assert!(r.sw.is_success());
    assert!(e.exchanges() - before >= 2, "the answer was chained");
}

#[test]
fn a_corrupted_checksum_is_a_typed_error_and_the_reader_recovers() {
    let (e, mut reader) = setup(Some(Presented::iso_dep_a(debit(), &[1, 2, 3, 4])));
    assert!(matches!(poll(&mut reader, 2_000), PollOutcome::Card(_)));
    e.corrupt_checksums(1);
    let err = select_ppse(&mut reader).expect_err("bad checksum");
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Timeout | ErrorKind::Protocol | ErrorKind::Disconnected
        ),
        "{err}"
    );
    assert!(matches!(poll(&mut reader, 2_000), PollOutcome::Card(_)));
    let mut reference = debit();
    reference.reset();
    assert_eq!(
        select_ppse(&mut reader).expect("exchange after the bad frame"),
        reference.transmit(&ppse())
    );
}

#[test]
fn removal_wait_times_out_while_the_card_stays() {
    let (_e, mut reader) = setup(Some(Presented::iso_dep_a(debit(), &[1, 2, 3, 4])));
    assert!(matches!(poll(&mut reader, 2_000), PollOutcome::Card(_)));
    let err = reader
        .wait_for_removal(Duration::from_millis(200), &CancelToken::new())
        .expect_err("still there");
    assert_eq!(err.kind(), ErrorKind::Timeout);
}

#[test]
fn a_poll_is_cancelled_from_another_thread() {
    let (_e, mut reader) = setup(None);
    let cancel = std::sync::Arc::new(CancelToken::new());
    let c = std::sync::Arc::clone(&cancel);
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        c.cancel();
    });
    let err = reader
        .poll(TargetTypes::AB, Duration::from_secs(30), &cancel)
        .expect_err("cancelled");
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    canceller.join().expect("canceller");
}

#[test]
fn the_reader_moves_to_another_thread() {
    let (_e, mut reader) = setup(Some(Presented::iso_dep_a(debit(), &[1, 2, 3, 4])));
    let found = std::thread::spawn(move || poll(&mut reader, 2_000))
        .join()
        .expect("thread");
    assert!(matches!(found, PollOutcome::Card(_)));
}

#[test]
fn an_answer_libnfc_would_abort_on_is_an_error_and_the_process_lives_on() {
    let (e, mut reader) = setup(Some(Presented::iso_dep_a(debit(), &[1, 2, 3, 4])));
    assert!(matches!(poll(&mut reader, 2_000), PollOutcome::Card(_)));
    e.nad_status(1);
    let err = select_ppse(&mut reader).expect_err("a NAD status is not an answer");
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert!(matches!(err, pos_nfc::NfcError::BadAnswer), "{err}");
    // Still alive, and the reader works again after a new poll.
    assert!(matches!(poll(&mut reader, 2_000), PollOutcome::Card(_)));
    let mut reference = debit();
    reference.reset();
    assert_eq!(
        select_ppse(&mut reader).expect("exchange"),
        reference.transmit(&ppse())
    );
}
