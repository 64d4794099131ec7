//! TcpHostLink against a real TCP peer on loopback.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use pos_hal::{CancelToken, Error as _, ErrorKind};
use pos_platform::TcpHostLink;
use pos_platform::TcpLinkError;
use pos_terminal::host::HostLink;

fn read_frame(s: &mut TcpStream) -> Option<Vec<u8>> {
    pos_io::frame::read(s, pos_io::frame::MAX_PAYLOAD).ok()?
}

fn write_frame(s: &mut TcpStream, body: &[u8]) {
    let _ = pos_io::frame::write(s, body);
}

/// These peers speak raw frames, not ISO 8583: every frame is the answer.
fn ex(link: &mut TcpHostLink, request: &[u8], timeout: Duration) -> Result<Vec<u8>, TcpLinkError> {
    link.exchange_matching(request, timeout, &CancelToken::new(), &|_| true)
}

fn kind(r: Result<Vec<u8>, TcpLinkError>) -> Result<Vec<u8>, ErrorKind> {
    r.map_err(|e| e.kind())
}

/// A peer that handles each connection with `handler` (request → what to do).
fn peer(handler: fn(&mut TcpStream, Vec<u8>)) -> (String, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let t = thread::spawn(move || {
        for stream in listener.incoming().take(4) {
            let Ok(mut s) = stream else { break };
            while let Some(req) = read_frame(&mut s) {
                handler(&mut s, req);
            }
        }
    });
    (format!("localhost:{port}"), t)
}

#[test]
fn exchanges_by_host_name_with_length_framing() {
    let (addr, _t) = peer(|s, req| {
        let mut answer = req.clone();
        answer.reverse();
        write_frame(s, &answer);
    });
    let mut link = TcpHostLink::new(addr);
    let answer = ex(&mut link, &[1, 2, 3], Duration::from_secs(2)).expect("answer");
    assert_eq!(answer, vec![3, 2, 1]);
    assert!(!link.is_connected(), "short connection by default");
    let again = ex(&mut link, &[4, 5], Duration::from_secs(2)).expect("reconnects");
    assert_eq!(again, vec![5, 4]);
}

#[test]
fn a_late_answer_is_never_taken_for_the_next_one() {
    let (addr, _t) = peer(|s, req| {
        if req == [1] {
            thread::sleep(Duration::from_millis(400));
        }
        write_frame(s, &req);
    });
    let mut link = TcpHostLink::new(addr).keep_open(true);
    let start = Instant::now();
    assert_eq!(
        kind(ex(&mut link, &[1], Duration::from_millis(150))),
        Err(ErrorKind::Timeout)
    );
    assert!(start.elapsed() < Duration::from_millis(350));
    thread::sleep(Duration::from_millis(400)); // the late answer to [1] arrives now
    assert_eq!(
        kind(ex(&mut link, &[2], Duration::from_secs(2))),
        Ok(vec![2])
    );
}

#[test]
fn broken_peers_give_typed_errors() {
    let (addr, _t) = peer(|s, _| {
        let _ = s.write_all(&[0x00]); // half a length prefix, then close
        let _ = s.shutdown(std::net::Shutdown::Both);
    });
    let mut link = TcpHostLink::new(addr);
    assert_eq!(
        kind(ex(&mut link, &[1], Duration::from_secs(2))),
        Err(ErrorKind::Disconnected)
    );
    let (addr, _t) = peer(|s, _| {
        let _ = s.write_all(&[0x00, 0x00]); // zero-length answer
    });
    let mut link = TcpHostLink::new(addr);
    assert_eq!(
        kind(ex(&mut link, &[1], Duration::from_secs(2))),
        Err(ErrorKind::Protocol)
    );
    // Nobody listening.
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let mut link = TcpHostLink::new(format!("127.0.0.1:{port}"));
    assert_eq!(
        kind(ex(&mut link, &[1], Duration::from_secs(2))),
        Err(ErrorKind::NoDevice)
    );
    let mut link = TcpHostLink::new("no-such-host.invalid:1");
    assert_eq!(
        kind(ex(&mut link, &[1], Duration::from_secs(2))),
        Err(ErrorKind::NoDevice)
    );
}

#[test]
fn errors_keep_the_io_error_as_source() {
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let mut link = TcpHostLink::new(format!("127.0.0.1:{port}"));
    let err = ex(&mut link, &[1], Duration::from_secs(2)).expect_err("refused");
    let source = std::error::Error::source(&err).expect("io source");
    let io = source
        .downcast_ref::<std::io::Error>()
        .expect("an io::Error");
    assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);
    assert!(err.to_string().contains(&port.to_string()), "{err}");
}

#[test]
fn bytes_waiting_before_a_request_are_not_its_answer() {
    // The peer answers every request, then volunteers a stray frame: on a kept-open link the
    // stray frame must not be taken for the answer to the next request.
    let (addr, _t) = peer(|s, req| {
        write_frame(s, &req);
        write_frame(s, b"stray");
    });
    let mut link = TcpHostLink::new(addr).keep_open(true);
    assert_eq!(
        kind(ex(&mut link, &[1], Duration::from_secs(2))),
        Ok(vec![1])
    );
    thread::sleep(Duration::from_millis(100)); // the stray frame arrives now
    assert_eq!(
        kind(ex(&mut link, &[2], Duration::from_secs(2))),
        Ok(vec![2])
    );
}

#[test]
fn any_timeout_saturates() {
    let (addr, _t) = peer(|s, req| write_frame(s, &req));
    let mut link = TcpHostLink::new(addr);
    assert_eq!(kind(ex(&mut link, &[7], Duration::MAX)), Ok(vec![7]));
}

#[test]
fn a_frame_that_is_not_the_answer_is_dropped_and_the_answer_taken() {
    // The peer first sends an answer meant for someone else, then the real one.
    let (addr, _t) = peer(|s, req| {
        write_frame(s, b"for another request");
        write_frame(s, &req);
    });
    let mut link = TcpHostLink::new(addr);
    let want = vec![9, 9, 9];
    let expected = want.clone();
    let got = link.exchange_matching(&want, Duration::from_secs(2), &CancelToken::new(), &|a| {
        a == expected.as_slice()
    });
    assert_eq!(kind(got), Ok(want));
}

#[test]
fn an_exchange_can_be_cancelled_from_another_thread() {
    let (addr, _t) = peer(|_, _| thread::sleep(Duration::from_secs(3)));
    let mut link = TcpHostLink::new(addr);
    let cancel = std::sync::Arc::new(CancelToken::new());
    let remote = cancel.clone();
    let canceller = thread::spawn(move || {
        thread::sleep(Duration::from_millis(100));
        remote.cancel();
    });
    let start = Instant::now();
    let err = link.exchange_matching(&[1], Duration::from_secs(10), &cancel, &|_| true);
    assert_eq!(kind(err), Err(ErrorKind::Cancelled));
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "cancel ends the wait, not the timeout"
    );
    canceller.join().expect("canceller");
}
