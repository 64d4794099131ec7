//! pos-pcsc against the real pcscd + vpcd with simulated cards (run by `cargo xtask test`).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use pos_hal::{
    Apdu, CancelToken, CardChannel, CardProtocol, Claimed, Device, Error as _, ErrorKind,
    HealthLevel, HealthStatus, IccReader, PiccReader, PollOutcome, StatusWord, TargetTypes,
};
use pos_pcsc::{ConnectOptions, PcscError, PcscReader, ReaderEvent, ReaderSelector, Watcher};
use pos_sim::emv::EmvCard;
use pos_sim::vpcd::Faults;

const PSE: &[u8] = b"1PAY.SYS.DDF01";
const UNIONPAY_AID: [u8; 8] = [0xA0, 0x00, 0x00, 0x03, 0x33, 0x01, 0x01, 0x01];

fn open(slot: usize) -> PcscReader {
    PcscReader::open(&ReaderSelector::Exact(READERS[slot].into())).expect("reader opens")
}

fn send(reader: &mut PcscReader, raw: &[u8]) -> Result<(Vec<u8>, StatusWord), PcscError> {
    let apdu = Apdu::parse(raw).expect("test APDU is valid");
    let mut buf = vec![0u8; 4096];
    let r = CardChannel::transmit(reader, &apdu, &mut buf)?;
    Ok((r.data.to_vec(), r.sw))
}

/// The read sequence of a contact kernel: PSE, directory, application, its records, GPO,
/// GET DATA. 10 APDUs.
fn read_sequence() -> Vec<Vec<u8>> {
    vec![
        select(PSE),
        vec![0x00, 0xB2, 0x01, 0x0C, 0x00],
        select(&UNIONPAY_AID),
        vec![0x80, 0xA8, 0x00, 0x00, 0x02, 0x83, 0x00, 0x00],
        vec![0x00, 0xB2, 0x01, 0x0C, 0x00],
        vec![0x00, 0xB2, 0x01, 0x14, 0x00],
        vec![0x80, 0xCA, 0x9F, 0x36, 0x00],
        vec![0x80, 0xCA, 0x9F, 0x13, 0x00],
        vec![0x80, 0xCA, 0x9F, 0x17, 0x00],
        vec![0x80, 0xCA, 0x9F, 0x79, 0x00],
    ]
}

/// Driver-stack smoke test: the `pcsc` crate and our discovery both see the two vpcd readers
/// of the pcscd `cargo xtask up` started.
#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn smoke_both_vpcd_readers_are_listed() {
    require_stack();
    let ctx = pcsc::Context::establish(pcsc::Scope::User).expect("pcscd");
    let names: Vec<String> = ctx
        .list_readers_owned()
        .expect("readers")
        .into_iter()
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    println!("pcsc crate sees: {names:?}");
    for want in READERS {
        assert!(
            names.iter().any(|n| n == want),
            "{want} missing from {names:?}"
        );
    }
    let ours = pos_pcsc::readers().expect("discovery");
    assert!(
        READERS.iter().all(|r| ours.iter().any(|i| i.name == *r)),
        "{ours:?}"
    );
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn insert_read_remove_reinsert() {
    require_stack();
    let card = insert_profile(0, "unionpay-debit", Faults::default());
    let mut reader = open(0);
    reader
        .wait_for_card(Duration::from_secs(2), &CancelToken::new())
        .expect("card present");
    let atr = reader.power_on().expect("power on");
    assert_eq!(atr.as_bytes(), profile("unionpay-debit").atr.0.as_slice());
    let expected: Vec<Vec<u8>> = {
        let mut reference = EmvCard::new(profile("unionpay-debit"));
        read_sequence()
            .iter()
            .map(|a| pos_sim::vpcd::Card::transmit(&mut reference, a))
            .collect()
    };
    for (apdu, want) in read_sequence().iter().zip(&expected) {
        let (data, sw) = send(&mut reader, apdu).expect("exchange");
        let mut got = data.clone();
        got.extend_from_slice(&[sw.sw1(), sw.sw2()]);
        assert_eq!(&got, want, "APDU {apdu:02X?}");
    }
    let info = pos_pcsc::readers().expect("list");
    let state = info.iter().find(|r| r.name == READERS[0]).map(|r| r.state);
    assert!(state.is_some_and(|s| s.has_card()), "{state:?}");

    remove(card, 0);
    let err = send(&mut reader, &select(PSE)).expect_err("card is gone");
    assert_eq!(err.kind(), ErrorKind::CardRemoved, "{err}");
    // And it stays an error: never a stale answer.
    let again = send(&mut reader, &select(PSE)).expect_err("still gone");
    assert!(
        matches!(again.kind(), ErrorKind::CardRemoved | ErrorKind::NoCard),
        "{again}"
    );
    assert!(matches!(
        reader.power_on().map_err(|e| e.kind()),
        Err(ErrorKind::NoCard)
    ));

    let card = insert_profile(0, "unionpay-debit", Faults::default());
    reader
        .wait_for_card(Duration::from_secs(2), &CancelToken::new())
        .expect("re-inserted");
    reader.power_on().expect("reconnect");
    let (_, sw) = send(&mut reader, &select(PSE)).expect("works again");
    assert!(sw.is_success());
    drop(reader);
    remove(card, 0);
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn card_pulled_during_each_of_the_first_ten_apdus() {
    require_stack();
    let sequence = read_sequence();
    let expected: Vec<Vec<u8>> = {
        let mut reference = EmvCard::new(profile("unionpay-debit"));
        sequence
            .iter()
            .map(|a| pos_sim::vpcd::Card::transmit(&mut reference, a))
            .collect()
    };
    for pull_at in 0..10 {
        let faults = Faults {
            remove_after: Some(pull_at),
            ..Faults::default()
        };
        let card = insert_profile(0, "unionpay-debit", faults);
        let mut reader = open(0);
        reader.power_on().expect("power on");
        for (i, apdu) in sequence.iter().enumerate() {
            match send(&mut reader, apdu) {
                Ok((data, sw)) => {
                    assert!(i < pull_at, "APDU {i} answered after the pull at {pull_at}");
                    let mut got = data;
                    got.extend_from_slice(&[sw.sw1(), sw.sw2()]);
                    assert_eq!(got, expected[i], "stale or wrong answer to APDU {i}");
                }
                Err(e) => {
                    assert_eq!(
                        i, pull_at,
                        "APDU {i} failed before the pull at {pull_at}: {e}"
                    );
                    assert!(
                        matches!(e.kind(), ErrorKind::CardRemoved | ErrorKind::NoCard),
                        "pull at {pull_at}: {e} ({:?})",
                        e.kind()
                    );
                    // Every later command fails too.
                    let later =
                        send(&mut reader, &sequence[0]).expect_err("no answers after removal");
                    assert!(
                        matches!(later.kind(), ErrorKind::CardRemoved | ErrorKind::NoCard),
                        "{later}"
                    );
                    break;
                }
            }
        }
        drop(reader);
        card.remove();
        wait_state(0, None, Duration::from_secs(5));
    }
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn waiting_for_a_card_outlives_a_pcscd_restart() {
    require_stack();
    let mut reader = open(0);
    // The reader was opened (its context established) before pcscd restarts: the first
    // call after is the wait for a card, which must find the new pcscd by itself.
    pos_sim::pcscd::restart().expect("pcscd restarts");
    let card = insert_profile(0, "unionpay-debit", Faults::default());
    reader
        .wait_for_card(Duration::from_secs(5), &CancelToken::new())
        .expect("the card, through the new pcscd");
    reader.power_on().expect("power on");
    assert!(
        send(&mut reader, &select(PSE))
            .expect("after restart")
            .1
            .is_success()
    );
    drop(reader);
    drop(card);
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn pcscd_restart_is_recovered_by_the_driver() {
    require_stack();
    let card = insert_profile(0, "unionpay-debit", Faults::default());
    let mut reader = open(0);
    reader.power_on().expect("power on");
    assert!(
        send(&mut reader, &select(PSE))
            .expect("before restart")
            .1
            .is_success()
    );
    let watcher = Watcher::start().expect("watcher");
    let seen = watcher.wait_for(Duration::from_secs(3), |e| {
        matches!(e, ReaderEvent::CardInserted { .. })
    });
    assert!(seen.is_some(), "initial card event");

    pos_sim::pcscd::restart().expect("pcscd restarts");
    card.wait_closed().ok(); // vpcd went away with pcscd

    let err = send(&mut reader, &select(PSE)).expect_err("old connection is gone");
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Disconnected | ErrorKind::CardRemoved | ErrorKind::NoCard
        ),
        "{err} ({:?})",
        err.kind()
    );
    // The watcher saw the readers go and come back with the service.
    let lost = watcher.wait_for(Duration::from_secs(5), |e| *e == ReaderEvent::ServiceLost);
    let back = watcher.wait_for(Duration::from_secs(5), |e| {
        *e == ReaderEvent::ServiceRestored
    });
    let readers_back = watcher.wait_for(
        Duration::from_secs(5),
        |e| matches!(e, ReaderEvent::ReaderAttached(name) if name == READERS[0]),
    );
    assert!(
        lost.is_some() && back.is_some() && readers_back.is_some(),
        "{lost:?} {back:?} {readers_back:?}"
    );
    watcher.stop();
    let card = insert_profile(0, "unionpay-debit", Faults::default());
    // The same handle finds the new pcscd by itself.
    reader
        .wait_for_card(Duration::from_secs(3), &CancelToken::new())
        .expect("new context");
    reader.power_on().expect("power on after restart");
    assert!(
        send(&mut reader, &select(PSE))
            .expect("after restart")
            .1
            .is_success()
    );
    drop(reader);
    remove(card, 0);
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn two_cards_in_two_readers_from_two_threads() {
    require_stack();
    let up = insert_profile(0, "unionpay-debit", Faults::default());
    let visa = insert_profile(1, "visa-credit", Faults::default());
    let aids: [&[u8]; 2] = [&UNIONPAY_AID, &[0xA0, 0x00, 0x00, 0x00, 0x03, 0x10, 0x10]];
    std::thread::scope(|s| {
        for (slot, aid) in aids.into_iter().enumerate() {
            s.spawn(move || {
                let mut reader = open(slot);
                reader.power_on().expect("power on");
                for _ in 0..300 {
                    let (fci, sw) = send(&mut reader, &select(aid)).expect("select");
                    assert!(sw.is_success());
                    let name = pos_hal::tlv::find(&fci, 0x84).expect("tlv").expect("84");
                    assert_eq!(name.value, aid, "slot {slot} got another card's answer");
                }
            });
        }
    });
    remove(up, 0);
    remove(visa, 1);
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn t0_card_get_response_and_6c_resend() {
    require_stack();
    let mut t0 = profile("unionpay-debit");
    t0.t0 = true;
    let card = insert(0, EmvCard::new(t0), Faults::default());
    let mut reader = open(0);
    reader.power_on().expect("power on");
    let (fci, sw) = send(&mut reader, &select(PSE)).expect("select");
    assert!(sw.is_success(), "{sw}");
    assert!(
        pos_hal::tlv::find(&fci, 0x88).expect("tlv").is_some(),
        "FCI joined from GET RESPONSE"
    );
    let (record, sw) = send(&mut reader, &[0x00, 0xB2, 0x01, 0x0C, 0x00]).expect("read");
    assert!(
        sw.is_success() && record.first() == Some(&0x70),
        "6C re-send: {sw}"
    );
    let sent = card.commands();
    assert!(
        sent.iter().any(|c| c[1] == 0xC0),
        "GET RESPONSE was sent: {sent:02X?}"
    );
    assert!(
        sent.iter().any(|c| c[1] == 0xB2 && c[4] != 0),
        "READ RECORD re-sent with Le"
    );

    reader.set_options(ConnectOptions {
        auto_get_response: false,
        auto_resend_on_6c: false,
        ..ConnectOptions::default()
    });
    let (_, sw) = send(&mut reader, &select(PSE)).expect("raw select");
    assert!(
        sw.bytes_available().is_some(),
        "raw 61xx comes back when disabled: {sw}"
    );
    let (_, sw) = send(&mut reader, &[0x00, 0xB2, 0x01, 0x0C, 0x00]).expect("raw read");
    assert!(sw.exact_length().is_some(), "raw 6Cxx: {sw}");
    drop(reader);
    remove(card, 0);
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn cancel_from_another_thread_within_100ms() {
    require_stack();
    wait_state(1, None, Duration::from_secs(5));
    let token = Arc::new(CancelToken::new());
    let mut reader = open(1);
    let remote = token.clone();
    let waiter = std::thread::spawn(move || {
        let result = reader.wait_for_card(Duration::from_secs(20), &remote);
        (result, Instant::now(), reader)
    });
    std::thread::sleep(Duration::from_millis(300));
    let cancelled_at = Instant::now();
    token.cancel();
    let (result, returned_at, mut reader) = waiter.join().expect("waiter");
    let lag = returned_at.duration_since(cancelled_at);
    assert_eq!(result.map_err(|e| e.kind()), Err(ErrorKind::Cancelled));
    assert!(
        lag < Duration::from_millis(100),
        "token cancel took {lag:?}"
    );

    // SCardCancel wakes the wait at once.
    let canceller = reader.canceller().expect("canceller");
    let waiter = std::thread::spawn(move || {
        let result = reader.wait_for_card(Duration::from_secs(20), &CancelToken::new());
        (result, Instant::now())
    });
    std::thread::sleep(Duration::from_millis(300));
    let cancelled_at = Instant::now();
    canceller.cancel().expect("SCardCancel");
    let (result, returned_at) = waiter.join().expect("waiter");
    assert_eq!(result.map_err(|e| e.kind()), Err(ErrorKind::Cancelled));
    assert!(returned_at.duration_since(cancelled_at) < Duration::from_millis(100));
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn wait_for_card_times_out() {
    require_stack();
    wait_state(1, None, Duration::from_secs(5));
    let mut reader = open(1);
    let start = Instant::now();
    let err = reader
        .wait_for_card(Duration::from_millis(300), &CancelToken::new())
        .expect_err("empty");
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(start.elapsed() < Duration::from_millis(800));
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn bad_cards_give_typed_errors() {
    require_stack();
    // Garbage ATR: pcscd accepts it, our parser does not.
    let card = insert_profile(
        0,
        "unionpay-debit",
        Faults {
            garbage_atr: true,
            ..Faults::default()
        },
    );
    let mut reader = open(0);
    let err = reader.power_on().expect_err("garbage ATR");
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert!(
        matches!(err, PcscError::Atr(_) | PcscError::MuteCard { .. }),
        "{err:?}"
    );
    card.remove();
    std::thread::sleep(Duration::from_millis(900));

    // A 1-byte response, an oversize response and an unknown status word. (An empty vpcd frame
    // is not sent: vpcd 0.8 then waits forever inside SCardTransmit. pcscd's own empty
    // answer after a mid-command removal is covered by the card-pull test.)
    for (raw, want) in [
        (vec![0x90], Some(ErrorKind::CardRemoved)),
        (vec![0x5A; 600], Some(ErrorKind::InvalidInput)),
        (vec![0x12, 0x34], None),
    ] {
        let faults = Faults {
            raw_response: Some(raw.clone()),
            ..Faults::default()
        };
        let card = insert_profile(0, "unionpay-debit", faults);
        let mut reader = open(0);
        reader.power_on().expect("power on");
        let bytes = select(PSE);
        let apdu = Apdu::parse(&bytes).expect("apdu");
        let mut small = [0u8; 258];
        let result = CardChannel::transmit(&mut reader, &apdu, &mut small).map(|r| r.sw);
        match want {
            Some(kind) => {
                let err = result.expect_err("bad response");
                assert_eq!(err.kind(), kind, "{raw:02X?}: {err}");
            }
            None => assert_eq!(result.expect("typed SW"), StatusWord(0x1234)),
        }
        drop(reader);
        remove(card, 0);
    }
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn mute_card_and_slow_card() {
    require_stack();
    let card = insert_profile(
        0,
        "unionpay-debit",
        Faults {
            mute: true,
            ..Faults::default()
        },
    );
    let mut reader = open(0);
    let err = reader.power_on().expect_err("a mute card has no ATR");
    assert!(
        matches!(err.kind(), ErrorKind::Protocol | ErrorKind::NoCard),
        "{err} ({:?})",
        err.kind()
    );
    drop(reader);
    card.remove();
    std::thread::sleep(Duration::from_millis(900));

    let slow = Faults {
        delay: Duration::from_millis(150),
        ..Faults::default()
    };
    let card = insert_profile(0, "unionpay-debit", slow);
    let mut reader = open(0);
    reader.power_on().expect("power on");
    let start = Instant::now();
    let (_, sw) = send(&mut reader, &select(PSE)).expect("slow answer still arrives");
    assert!(sw.is_success());
    assert!(start.elapsed() >= Duration::from_millis(150));
    drop(reader);
    remove(card, 0);
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn extended_length_apdu_goes_through() {
    require_stack();
    let card = insert_profile(0, "unionpay-debit", Faults::default());
    let mut reader = open(0);
    reader.power_on().expect("power on");
    let data: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
    let echo = Apdu::new(0x80, 0xEE, 0x00, 0x00)
        .with_data(&data)
        .with_le(65_536);
    assert!(echo.is_extended());
    let mut buf = vec![0u8; 70_000];
    let r = CardChannel::transmit(&mut reader, &echo, &mut buf).expect("extended exchange");
    assert!(r.sw.is_success());
    assert_eq!(r.data, &data[..]);
    drop(reader);
    remove(card, 0);
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn watcher_reports_insert_and_remove() {
    require_stack();
    wait_state(1, None, Duration::from_secs(5));
    let watcher = Watcher::start().expect("watcher");
    let attached = watcher.wait_for(
        Duration::from_secs(3),
        |e| matches!(e, ReaderEvent::ReaderAttached(n) if n == READERS[1]),
    );
    assert!(attached.is_some(), "initial reader list");
    let card = insert_profile(1, "visa-credit", Faults::default());
    let inserted = watcher.wait_for(
        Duration::from_secs(3),
        |e| matches!(e, ReaderEvent::CardInserted { reader, .. } if reader == READERS[1]),
    );
    match inserted {
        Some(ReaderEvent::CardInserted { atr, .. }) => {
            assert_eq!(atr, profile("visa-credit").atr.0)
        }
        other => panic!("no insert event: {other:?}"),
    }
    card.remove();
    let removed = watcher.wait_for(
        Duration::from_secs(3),
        |e| matches!(e, ReaderEvent::CardRemoved { reader } if reader == READERS[1]),
    );
    assert!(removed.is_some(), "no remove event");
    watcher.stop();
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn exclusive_claim_makes_others_busy_until_dropped() {
    require_stack();
    let card = insert_profile(0, "unionpay-debit", Faults::default());
    let mut claimed = Claimed::claim(open(0)).map_err(|(_, e)| e).expect("claim");
    claimed.power_on().expect("power on exclusively");
    let mut other = open(0);
    let err = other.power_on().expect_err("busy");
    assert_eq!(err.kind(), ErrorKind::Busy, "{err}");
    drop(claimed);
    other
        .power_on()
        .expect("free again after the claim is dropped");
    drop(other);
    remove(card, 0);
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn contactless_poll_reads_the_uid_and_health_check_works() {
    require_stack();
    let card = insert_profile(1, "unionpay-debit", Faults::default());
    let mut reader = open(1);
    let outcome = reader
        .poll(TargetTypes::AB, Duration::from_secs(2), &CancelToken::new())
        .expect("poll");
    let PollOutcome::Card(target) = outcome else {
        panic!("no card: {outcome:?}")
    };
    assert_eq!(target.protocol, CardProtocol::IsoDep);
    assert_eq!(
        target.uid.as_bytes(),
        &[0x04, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6]
    );
    assert_eq!(target.historical.as_bytes(), b"PBOC DEBIT");
    let mut buf = [0u8; 300];
    let bytes = select(b"2PAY.SYS.DDF01");
    let ppse = Apdu::parse(&bytes).expect("apdu");
    let r = CardChannel::transmit(&mut reader, &ppse, &mut buf).expect("PPSE");
    assert!(r.sw.is_success());
    reader.deactivate().expect("deactivate");
    let report = reader.health_check(HealthLevel::External).expect("health");
    assert_eq!(report.status, HealthStatus::Ok, "{report:?}");
    assert!(report.detail.as_str().contains("ATR 3B 8A"), "{report:?}");
    drop(reader);
    remove(card, 1);
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn unknown_reader_is_a_typed_error() {
    require_stack();
    let err =
        PcscReader::open(&ReaderSelector::Exact("No Such Reader 00 00".into())).expect_err("none");
    assert_eq!(err.kind(), ErrorKind::NoDevice);
    let found = PcscReader::open(&ReaderSelector::Contains("pcd 00 01".into())).expect("substring");
    assert_eq!(found.name(), READERS[1]);
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn a_transaction_keeps_other_handles_out_until_it_ends() {
    require_stack();
    let card = insert_profile(0, "unionpay-debit", Faults::default());
    let mut holder = open(0);
    let mut other = open(0);
    holder.power_on().expect("holder powers");
    other
        .power_on()
        .expect("shared: the other handle connects too");
    let bytes = select(PSE);
    let pse = Apdu::parse(&bytes).expect("apdu");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        let during = holder
            .transaction(|t| {
                let mut buf = [0u8; 300];
                assert!(t.transmit(&pse, &mut buf)?.sw.is_success());
                // The other application tries to slip a command in between ours.
                let tx = tx.clone();
                let other = &mut other;
                let pse = &pse;
                s.spawn(move || {
                    let mut buf = [0u8; 300];
                    let r = CardChannel::transmit(other, pse, &mut buf).map(|r| r.sw);
                    let _ = tx.send(r.map_err(|e| e.kind()));
                });
                let early = rx.recv_timeout(Duration::from_millis(400));
                let record = Apdu::parse(&[0x00, 0xB2, 0x01, 0x0C, 0x00]).expect("apdu");
                assert!(t.transmit(&record, &mut buf)?.sw.is_success());
                Ok(early)
            })
            .expect("transaction");
        match during {
            // pcsc-lite made the other handle wait: it gets through once we are done.
            Err(_) => {
                let after = rx.recv_timeout(Duration::from_secs(5)).expect("released");
                assert_eq!(after, Ok(StatusWord::OK));
            }
            // Or it refused it at once; it never got an answer inside our transaction.
            Ok(result) => assert_eq!(result, Err(ErrorKind::Busy)),
        }
    });
    let mut buf = [0u8; 300];
    let r = CardChannel::transmit(&mut other, &pse, &mut buf).expect("free again");
    assert!(r.sw.is_success());
    drop((holder, other));
    remove(card, 0);
}

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn a_card_that_never_answers_times_out_and_the_reader_recovers() {
    require_stack();
    // vpcd given an empty answer leaves SCardTransmit waiting for ever (notes/pcsc-vpcd.md).
    let hung = insert_profile(
        0,
        "unionpay-debit",
        Faults {
            raw_response: Some(Vec::new()),
            ..Faults::default()
        },
    );
    let before = threads();
    let mut reader = open(0);
    reader.set_options(ConnectOptions {
        transmit_timeout: Duration::from_millis(800),
        ..ConnectOptions::default()
    });
    reader.power_on().expect("the ATR still comes");
    let start = Instant::now();
    let err = send(&mut reader, &select(PSE)).expect_err("no answer");
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "ended by the deadline, not by the card: {:?}",
        start.elapsed()
    );
    remove(hung, 0);

    // The same handle works again with a healthy card: a new connection to pcscd.
    let card = insert_profile(0, "unionpay-debit", Faults::default());
    reader.power_on().expect("power on after the timeout");
    let (_, sw) = send(&mut reader, &select(PSE)).expect("select");
    assert_eq!(sw, StatusWord::OK);
    drop(reader);
    remove(card, 0);
    assert!(
        threads() <= before,
        "no thread left behind ({} → {})",
        before,
        threads()
    );
}
