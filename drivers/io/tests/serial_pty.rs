//! The serial transport on a real pty whose other end never reads: what a UART sees when a
//! printer holds CTS low (hardware flow control) or a USB-serial adapter stalls. Every call
//! must come back by its deadline — with what got out — instead of blocking for ever.
#![cfg(all(unix, feature = "serial"))]

use std::io::ErrorKind;
use std::sync::mpsc;
use std::time::Duration;

use pos_io::Transport;
use pos_io::serial::SerialTransport;

/// Runs `f` on a thread; the test fails (instead of hanging) if it has not returned in 20 s.
fn bounded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("the call blocked past its deadline")
}

#[test]
fn a_write_the_peer_never_takes_times_out_and_says_how_much_got_out() {
    for rtscts in [false, true] {
        let (master, _slave, path) = pos_io::pty::open_pty().expect("pty");
        let (sent, kind) = bounded(move || {
            let mut port = SerialTransport::new(path, 115_200, rtscts);
            let data = vec![0x55u8; 4 << 20];
            match port.write_all(&data, Duration::from_millis(300)) {
                Ok(()) => (data.len(), None),
                Err((sent, e)) => (sent, Some(e.kind())),
            }
        });
        assert_eq!(kind, Some(ErrorKind::TimedOut), "rtscts {rtscts}");
        assert!(sent > 0 && sent < 4 << 20, "partial count {sent}");
        drop(master);
    }
}

#[test]
fn a_read_from_a_silent_peer_returns_nothing_by_its_deadline() {
    let (master, _slave, path) = pos_io::pty::open_pty().expect("pty");
    let n = bounded(move || {
        let mut port = SerialTransport::new(path, 9_600, true);
        let mut buf = [0u8; 64];
        port.read(&mut buf, Duration::from_millis(200))
            .expect("read")
    });
    assert_eq!(n, 0);
    drop(master);
}

#[test]
fn draining_a_peer_that_keeps_sending_is_bounded() {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    let (mut master, _slave, path) = pos_io::pty::open_pty().expect("pty");
    // SAFETY: fcntl on the pty master we own: writes must not block once the slave stops
    // reading, so the chatter can notice the stop flag.
    unsafe {
        let fd = master.as_raw_fd();
        libc::fcntl(
            fd,
            libc::F_SETFL,
            libc::fcntl(fd, libc::F_GETFL) | libc::O_NONBLOCK,
        );
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let written = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (s, w) = (
        std::sync::Arc::clone(&stop),
        std::sync::Arc::clone(&written),
    );
    let chatter = std::thread::spawn(move || {
        while !s.load(std::sync::atomic::Ordering::Acquire) {
            match master.write(&[0xAA; 256]) {
                Ok(n) => {
                    w.fetch_add(n, std::sync::atomic::Ordering::AcqRel);
                }
                Err(_) => std::thread::sleep(Duration::from_micros(100)),
            }
        }
    });
    bounded(move || {
        let mut port = SerialTransport::new(path, 115_200, false);
        port.connect().expect("open");
        // The peer is talking before the drain starts.
        while written.load(std::sync::atomic::Ordering::Acquire) < 4096 {
            std::thread::sleep(Duration::from_millis(1));
        }
        port.drain(Duration::from_millis(200));
    });
    stop.store(true, std::sync::atomic::Ordering::Release);
    chatter.join().expect("chatter");
}
