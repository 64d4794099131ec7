//! A pcscd that accepts connections but never answers (hung, or a stale socket held by
//! something else): pcsc-lite would wait for ever in `SCardEstablishContext`. The driver gives
//! up within its deadline, says so, and leaves no thread blocked. A daemon that hangs up at
//! once does not make the watcher spin: it backs off between attempts. No pcscd is needed:
//! the "daemon" is a socket of this test (`PCSCLITE_CSOCK_NAME`), so it runs everywhere.

use std::os::unix::net::UnixListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use pos_hal::{Error as _, ErrorKind};
use pos_pcsc::ESTABLISH_TIMEOUT;

fn establish_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .flatten()
                .filter(|t| {
                    std::fs::read_to_string(t.path().join("comm"))
                        .is_ok_and(|c| c.trim() == "pcsc-establish")
                })
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn a_pcscd_that_never_answers_is_an_error_within_the_deadline_not_a_hang() {
    let dir = std::env::temp_dir().join(format!("pos-hung-pcscd-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("pcscd.comm");
    let listener = UnixListener::bind(&path).expect("socket");
    let hang_up = Arc::new(AtomicBool::new(false));
    let accepted = Arc::new(AtomicUsize::new(0));
    let (mode, count) = (Arc::clone(&hang_up), Arc::clone(&accepted));
    std::thread::spawn(move || {
        // Accepted and kept, never read nor answered — or, later, hung up on at once.
        let mut held = Vec::new();
        for connection in listener.incoming() {
            count.fetch_add(1, Ordering::SeqCst);
            if !mode.load(Ordering::SeqCst) {
                held.push(connection);
            }
        }
    });
    // SAFETY: set before this test binary's first PC/SC call; its only test.
    unsafe { std::env::set_var("PCSCLITE_CSOCK_NAME", &path) };

    let started = Instant::now();
    let err = pos_pcsc::readers().expect_err("a daemon that never answers");
    let took = started.elapsed();
    assert!(
        took >= ESTABLISH_TIMEOUT && took < ESTABLISH_TIMEOUT + Duration::from_secs(3),
        "{took:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Disconnected, "{err}");
    assert!(err.to_string().contains("does not answer"), "{err}");
    // The attempt was cut off, not abandoned: its thread is gone.
    let deadline = Instant::now() + Duration::from_secs(3);
    while establish_threads() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        establish_threads(),
        0,
        "a blocked establish thread was left"
    );

    // A daemon that hangs up at once: the watcher reports the service lost and tries again
    // every poll period (250 ms), not in a busy loop.
    hang_up.store(true, Ordering::SeqCst);
    let watcher = pos_pcsc::Watcher::start().expect("watcher");
    let lost = watcher.wait_for(Duration::from_secs(3), |e| {
        *e == pos_pcsc::ReaderEvent::ServiceLost
    });
    assert!(lost.is_some(), "no ServiceLost event");
    let before = accepted.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_secs(2));
    let attempts = accepted.load(Ordering::SeqCst) - before;
    assert!(
        (2..=10).contains(&attempts),
        "{attempts} attempts in 2 s: it must retry, at most every 250 ms"
    );
    let stopping = Instant::now();
    watcher.stop();
    assert!(stopping.elapsed() < Duration::from_secs(2));
    let _ = std::fs::remove_dir_all(&dir);
}
