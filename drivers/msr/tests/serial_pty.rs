//! The serial reader end to end through a pty: pos-msr on one side, pos-sim's MSR emulator on
//! the other.

use std::time::{Duration, Instant};

use pos_hal::{CancelToken, Error as _, ErrorKind, MagstripeReader, TrackRead};
use pos_msr::open_serial;
use pos_sim::msr::{Framing, MsrEmulator, SwipeCard};

fn swipe_later(
    msr: &std::sync::Arc<MsrEmulator>,
    card: &str,
    framing: Framing,
) -> std::thread::JoinHandle<()> {
    let msr = std::sync::Arc::clone(msr);
    let card = SwipeCard::builtin(card).expect("card");
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        msr.swipe(&card, framing).expect("swipe");
    })
}

#[test]
fn a_swipe_framed_stx_etx_or_by_cr_reads_both_tracks() {
    for framing in [Framing::StxEtx, Framing::Cr] {
        let msr = std::sync::Arc::new(MsrEmulator::start().expect("emulator"));
        let mut reader = open_serial(msr.path(), 9600).expect("opens");
        let t = swipe_later(&msr, "unionpay-debit", framing);
        let swipe = reader
            .read_swipe(Duration::from_secs(3), &CancelToken::new())
            .expect("swipe");
        t.join().expect("thread");
        assert!(
            swipe.track1.ok().is_some() && swipe.track2.ok().is_some(),
            "{framing:?}"
        );
        assert_eq!(
            swipe.tracks().pan().expect("pan").to_string(),
            "621234******1232"
        );
    }
}

#[test]
fn a_chip_card_is_seen_by_its_service_code_and_a_misread_track1_still_pays() {
    let msr = std::sync::Arc::new(MsrEmulator::start().expect("emulator"));
    let mut reader = open_serial(msr.path(), 9600).expect("opens");
    let t = swipe_later(&msr, "chip-card", Framing::StxEtx);
    let swipe = reader
        .read_swipe(Duration::from_secs(3), &CancelToken::new())
        .expect("swipe");
    t.join().expect("thread");
    assert!(
        swipe
            .tracks()
            .service_code()
            .expect("service code")
            .is_chip_card()
    );
    let t = swipe_later(&msr, "misread-track1", Framing::Cr);
    let swipe = reader
        .read_swipe(Duration::from_secs(3), &CancelToken::new())
        .expect("swipe");
    t.join().expect("thread");
    assert!(matches!(swipe.track1, TrackRead::Failed(_)));
    assert_eq!(swipe.tracks().pan().expect("pan").last4(), "1232");
}

#[test]
fn a_slow_trickle_of_bytes_is_one_swipe() {
    let msr = std::sync::Arc::new(MsrEmulator::start().expect("emulator"));
    let mut reader = open_serial(msr.path(), 9600).expect("opens");
    let m = std::sync::Arc::clone(&msr);
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        let card = SwipeCard::builtin("unionpay-debit").expect("card");
        m.trickle(&card, Framing::StxEtx, Duration::from_millis(2))
            .expect("trickle");
    });
    let swipe = reader
        .read_swipe(Duration::from_secs(5), &CancelToken::new())
        .expect("swipe");
    t.join().expect("thread");
    assert!(swipe.is_usable());
}

#[test]
fn garbage_is_a_swipe_with_nothing_usable_and_nothing_swiped_is_a_timeout() {
    let msr = std::sync::Arc::new(MsrEmulator::start().expect("emulator"));
    let mut reader = open_serial(msr.path(), 9600).expect("opens");
    let t = swipe_later(&msr, "garbage", Framing::Cr);
    let swipe = reader
        .read_swipe(Duration::from_secs(3), &CancelToken::new())
        .expect("a frame");
    t.join().expect("thread");
    assert!(!swipe.is_usable());
    let start = Instant::now();
    let err = reader
        .read_swipe(Duration::from_millis(200), &CancelToken::new())
        .expect_err("timeout");
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn a_swipe_made_before_the_prompt_is_not_taken_for_the_next_customer() {
    let msr = MsrEmulator::start().expect("emulator");
    let mut reader = open_serial(msr.path(), 9600).expect("opens");
    msr.swipe(
        &SwipeCard::builtin("unionpay-debit").expect("card"),
        Framing::Cr,
    )
    .expect("swipe");
    std::thread::sleep(Duration::from_millis(50));
    let err = reader
        .read_swipe(Duration::from_millis(200), &CancelToken::new())
        .expect_err("the old swipe was discarded");
    assert_eq!(err.kind(), ErrorKind::Timeout);
}

#[test]
fn cancel_from_another_thread_stops_the_wait() {
    let msr = MsrEmulator::start().expect("emulator");
    let mut reader = open_serial(msr.path(), 9600).expect("opens");
    let cancel = std::sync::Arc::new(CancelToken::new());
    let c = std::sync::Arc::clone(&cancel);
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        c.cancel();
    });
    let start = Instant::now();
    let err = reader
        .read_swipe(Duration::from_secs(10), &cancel)
        .expect_err("cancelled");
    t.join().expect("thread");
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    assert!(start.elapsed() < Duration::from_secs(1));
}
