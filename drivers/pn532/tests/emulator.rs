//! pos-pn532 over a real pty against the PN532 emulator (pos-sim): the OS serial stack, the
//! HSU frames, polling, exchanges, removal and every fault the emulator can make.

use std::time::{Duration, Instant};

use pos_hal::{
    Apdu, CancelToken, CardChannel, CardProtocol, Error as _, ErrorKind, PiccReader, PollOutcome,
    RfType, TargetTypes,
};
use pos_pn532::{Pn532, PortError, StdTimer, TransportPort, open_serial};
use pos_sim::card::Card;
use pos_sim::emv::{CardProfile, EmvCard};
use pos_sim::pn532::{Pn532Emulator, Presented};

type Reader = Pn532<TransportPort<pos_io::serial::SerialTransport>, StdTimer>;

fn debit() -> EmvCard {
    EmvCard::new(CardProfile::builtin("unionpay-debit").expect("profile"))
}

fn setup(card: Option<Presented>) -> (Pn532Emulator, Reader) {
    let emulator = Pn532Emulator::start().expect("emulator");
    if let Some(c) = card {
        emulator.insert(c);
    }
    let reader = open_serial(emulator.path(), 115_200).expect("PN532 opens");
    (emulator, reader)
}

fn select_ppse(reader: &mut Reader) -> Result<Vec<u8>, pos_pn532::Error<PortError>> {
    let apdu = Apdu::new(0x00, 0xA4, 0x04, 0x00)
        .with_data(b"2PAY.SYS.DDF01")
        .with_le(256);
    let mut buf = [0u8; 300];
    let r = reader.transmit(&apdu, &mut buf)?;
    let mut out = r.data.to_vec();
    out.extend_from_slice(&[r.sw.sw1(), r.sw.sw2()]);
    Ok(out)
}

fn poll(reader: &mut Reader, timeout_ms: u64) -> PollOutcome {
    reader
        .poll(
            TargetTypes::AB,
            Duration::from_millis(timeout_ms),
            &CancelToken::new(),
        )
        .expect("poll")
}

#[test]
fn the_firmware_is_read_at_open() {
    let (_e, reader) = setup(None);
    assert_eq!(reader.firmware(), [0x32, 0x01, 0x06, 0x07]);
}

#[test]
fn an_iso_dep_a_card_is_activated_and_answers_apdus_as_the_card_model_does() {
    let (_e, mut reader) = setup(Some(Presented::iso_dep_a(
        debit(),
        &[0x04, 0xA1, 0xB2, 0xC3],
    )));
    let PollOutcome::Card(target) = poll(&mut reader, 500) else {
        panic!("no card");
    };
    assert_eq!(target.rf, RfType::A);
    assert_eq!(target.protocol, CardProtocol::IsoDep);
    assert_eq!(target.uid.as_bytes(), &[0x04, 0xA1, 0xB2, 0xC3]);
    assert_eq!(target.sak, Some(0x20));
    let mut reference = debit();
    reference.reset();
    let want = reference.transmit(&[
        0x00, 0xA4, 0x04, 0x00, 0x0E, b'2', b'P', b'A', b'Y', b'.', b'S', b'Y', b'S', b'.', b'D',
        b'D', b'F', b'0', b'1', 0x00,
    ]);
    assert_eq!(select_ppse(&mut reader).expect("exchange"), want);
}

#[test]
fn a_qpboc_tap_runs_through_the_pn532_and_the_issuer_verifies_its_cryptogram() {
    let (_e, mut reader) = setup(Some(Presented::iso_dep_a(
        debit(),
        &[0x04, 0x11, 0x22, 0x33],
    )));
    assert!(matches!(poll(&mut reader, 500), PollOutcome::Card(_)));
    struct Dark;
    impl pos_hal::ErrorType for Dark {
        type Error = std::convert::Infallible;
    }
    impl pos_hal::Indicators for Dark {
        fn beep(&mut self, _: pos_hal::BeepKind) -> Result<(), Self::Error> {
            Ok(())
        }
        fn set_contactless_leds(&mut self, _: pos_hal::ContactlessLeds) -> Result<(), Self::Error> {
            Ok(())
        }
    }
    let capks = pos_emv::CapkSet::from_toml(pos_sim::emv::TEST_CAPK_TOML).expect("capks");
    let txn = pos_emv::TransactionData {
        amount: 1234,
        other_amount: 0,
        kind: 0,
        date: [0x26, 0x12, 0x01],
        time: [0x12, 0, 0],
        unpredictable: [9, 8, 7, 6],
        sequence: 1,
        force_online: false,
        electronic_cash: false,
    };
    let tap = pos_emv::tap(
        &mut reader,
        &mut Dark,
        &pos_emv::TerminalConfig::china_pos(),
        &pos_emv::ContactlessLimits::default(),
        &capks,
        &txn,
    )
    .expect("tap");
    let pos_emv::TapOutcome::Online { icc_data, .. } = tap.outcome() else {
        panic!("{:?}", tap.outcome());
    };
    let get = |tag| {
        pos_hal::tlv::find(icc_data, tag)
            .ok()
            .flatten()
            .map(|t| t.value.to_vec())
    };
    let digits: Vec<u8> = b"6212345678901232".iter().map(|d| d - b'0').collect();
    let mk = pos_emv::issuer::card_master_key(&pos_sim::emv::TEST_IMK, &digits, 1);
    let atc: [u8; 2] = get(0x9F36).expect("ATC").try_into().expect("2");
    let input = pos_emv::issuer::ac_input(get).expect("AC data");
    assert_eq!(
        get(0x9F26).expect("ARQC"),
        pos_emv::issuer::cryptogram(&mk, atc, &input)
    );
}

#[test]
fn an_empty_field_polls_nothing_within_the_timeout() {
    let (_e, mut reader) = setup(None);
    let start = Instant::now();
    assert_eq!(poll(&mut reader, 150), PollOutcome::Nothing);
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(150) && took < Duration::from_secs(2),
        "{took:?}"
    );
}

#[test]
fn two_cards_are_a_collision() {
    let (e, mut reader) = setup(Some(Presented::iso_dep_a(debit(), &[1, 2, 3, 4])));
    e.insert(Presented::iso_dep_a(debit(), &[5, 6, 7, 8]));
    assert_eq!(poll(&mut reader, 300), PollOutcome::Collision);
}

#[test]
fn a_type_b_card_and_a_mifare_card_are_told_apart() {
    let (_e, mut reader) = setup(Some(Presented::iso_dep_b(
        debit(),
        [0xB1, 0xB2, 0xB3, 0xB4],
    )));
    let PollOutcome::Card(b) = poll(&mut reader, 300) else {
        panic!("no B card");
    };
    assert_eq!(
        (b.rf, b.uid.as_bytes()),
        (RfType::B, &[0xB1, 0xB2, 0xB3, 0xB4][..])
    );
    assert!(
        select_ppse(&mut reader)
            .expect("B exchange")
            .ends_with(&[0x90, 0x00])
    );
    let (_e, mut reader) = setup(Some(Presented::mifare_classic(debit(), [9, 9, 9, 9])));
    let PollOutcome::Card(m) = poll(&mut reader, 300) else {
        panic!("no MIFARE card");
    };
    assert_eq!(m.protocol, CardProtocol::Mifare);
    let err = select_ppse(&mut reader).expect_err("MIFARE speaks no APDU");
    assert_eq!(err.kind(), ErrorKind::Protocol);
}

#[test]
fn a_card_pulled_mid_exchange_is_card_removed_and_removal_is_seen() {
    let (e, mut reader) = setup(Some(Presented::iso_dep_a(debit(), &[1, 2, 3, 4])));
    assert!(matches!(poll(&mut reader, 300), PollOutcome::Card(_)));
    e.remove_after(1);
    select_ppse(&mut reader).expect("first exchange");
    let err = select_ppse(&mut reader).expect_err("card gone");
    assert_eq!(err.kind(), ErrorKind::CardRemoved);
    reader
        .wait_for_removal(Duration::from_millis(300), &CancelToken::new())
        .expect("removal");
}

#[test]
fn removal_waits_while_the_card_stays() {
    let (_e, mut reader) = setup(Some(Presented::iso_dep_a(debit(), &[1, 2, 3, 4])));
    assert!(matches!(poll(&mut reader, 300), PollOutcome::Card(_)));
    let err = reader
        .wait_for_removal(Duration::from_millis(100), &CancelToken::new())
        .expect_err("still there");
    assert_eq!(err.kind(), ErrorKind::Timeout);
}

#[test]
fn an_apdu_over_262_bytes_is_refused_before_anything_is_sent() {
    let (e, mut reader) = setup(Some(Presented::iso_dep_a(debit(), &[1, 2, 3, 4])));
    assert!(matches!(poll(&mut reader, 300), PollOutcome::Card(_)));
    let data = [0u8; 300];
    let apdu = Apdu::new(0x80, 0xEE, 0, 0).with_data(&data);
    let mut buf = [0u8; 400];
    let err = reader.transmit(&apdu, &mut buf).expect_err("too long");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(e.exchanges(), 0);
}

#[test]
fn a_long_answer_comes_back_whole_through_mi_chaining() {
    let (e, mut reader) = setup(Some(Presented::iso_dep_a(debit(), &[1, 2, 3, 4])));
    assert!(matches!(poll(&mut reader, 300), PollOutcome::Card(_)));
    // The debit profile echoes `80 EE`: 255 bytes of data + SW is over one chunk.
    let data: Vec<u8> = (0..=254u8).collect();
    let apdu = Apdu::new(0x80, 0xEE, 0, 0).with_data(&data).with_le(256);
    let mut buf = [0u8; 400];
    let r = reader.transmit(&apdu, &mut buf).expect("echo");
    assert_eq!(r.data, &data[..]);
    assert!(e.exchanges() >= 2, "MI chaining took a second exchange");
}

#[test]
fn a_256_byte_answer_comes_back_whole() {
    let (_e, mut reader) = setup(Some(Presented::iso_dep_a(debit(), &[1, 2, 3, 4])));
    assert!(matches!(poll(&mut reader, 300), PollOutcome::Card(_)));
    // `80 EE 01 00 00` asks the card model for the longest short answer: 256 bytes + SW.
    let apdu = Apdu::new(0x80, 0xEE, 0x01, 0).with_le(256);
    let mut buf = [0u8; 400];
    let r = reader.transmit(&apdu, &mut buf).expect("long answer");
    let expected: Vec<u8> = (0..=255u8).collect();
    assert_eq!((r.data, r.sw.is_success()), (&expected[..], true));
}

#[test]
fn a_late_answer_is_aborted_and_never_taken_for_the_next_one() {
    let (e, mut reader) = setup(Some(Presented::iso_dep_a(debit(), &[1, 2, 3, 4])));
    assert!(matches!(poll(&mut reader, 300), PollOutcome::Card(_)));
    e.delay(Duration::from_millis(2_000));
    let err = select_ppse(&mut reader).expect_err("too slow");
    assert_eq!(err.kind(), ErrorKind::Timeout);
    e.delay(Duration::ZERO);
    // After the timeout the target is gone (the driver resynchronised): poll again, then the
    // answer is the answer to this command.
    assert!(matches!(poll(&mut reader, 300), PollOutcome::Card(_)));
    let mut reference = debit();
    reference.reset();
    assert!(
        select_ppse(&mut reader)
            .expect("exchange")
            .ends_with(&[0x90, 0x00])
    );
}

#[test]
fn corrupted_checksums_are_a_typed_error_and_the_next_command_works() {
    let (e, mut reader) = setup(Some(Presented::iso_dep_a(debit(), &[1, 2, 3, 4])));
    assert!(matches!(poll(&mut reader, 300), PollOutcome::Card(_)));
    e.corrupt_checksums(1);
    let err = select_ppse(&mut reader).expect_err("bad checksum");
    assert!(
        matches!(err.kind(), ErrorKind::Timeout | ErrorKind::Protocol),
        "{err}"
    );
    assert!(matches!(poll(&mut reader, 300), PollOutcome::Card(_)));
    assert!(
        select_ppse(&mut reader)
            .expect("exchange")
            .ends_with(&[0x90, 0x00])
    );
}

#[test]
fn cancel_stops_a_poll() {
    let (_e, mut reader) = setup(None);
    let cancel = std::sync::Arc::new(CancelToken::new());
    let c = std::sync::Arc::clone(&cancel);
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        c.cancel();
    });
    let start = Instant::now();
    let err = reader
        .poll(TargetTypes::AB, Duration::from_secs(10), &cancel)
        .expect_err("cancelled");
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    assert!(start.elapsed() < Duration::from_secs(1));
    t.join().expect("thread");
}
