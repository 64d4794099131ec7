//! The transports the virtual printer serves: TCP, a pty, a USB gadget device node.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::lock;
use super::model::State;
use super::parser::{Parser, Verdict};

pub(crate) fn serve_tcp(mut stream: TcpStream, state: &Mutex<State>, stop: &AtomicBool) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
    // Printers answer status queries at once; Nagle would hold each answer for the terminal's
    // delayed ACK.
    let _ = stream.set_nodelay(true);
    let mut parser = Parser::default();
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::Acquire) {
        if lock(state).faults.stall {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        }
        let babble = lock(state).faults.babble;
        if babble {
            // Bytes faster than any drain loop reads them (XON: not an answer to anything); the
            // socket does not wait for input meanwhile.
            let _ = stream.set_nonblocking(false);
            if stream.write_all(&[0x11; 4096]).is_err() {
                break;
            }
            let _ = stream.set_nonblocking(true);
        } else {
            let _ = stream.set_nonblocking(false);
        }
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let mut replies = Vec::new();
                let verdict = parser.feed(&buf[..n], state, &mut replies);
                if !replies.is_empty() && stream.write_all(&replies).is_err() {
                    break;
                }
                if let Verdict::Drop = verdict {
                    let _ = stream.shutdown(std::net::Shutdown::Both);
                    break;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
    parser.abandon(state);
}

/// Serves a character device (pty master, USB gadget): poll, read, parse, answer.
/// `on_drop` runs when the "drop the connection" fault fires (a pty has nothing to drop).
pub(crate) fn serve_device(
    mut dev: std::fs::File,
    state: &Mutex<State>,
    stop: &AtomicBool,
    on_drop: impl Fn(),
) {
    use std::os::fd::AsRawFd;
    let mut parser = Parser::default();
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::Acquire) {
        if lock(state).faults.stall {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        }
        let mut pfd = libc::pollfd {
            fd: dev.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let ready = unsafe { libc::poll(&mut pfd, 1, 50) };
        if ready <= 0 || pfd.revents & libc::POLLIN == 0 {
            continue;
        }
        match dev.read(&mut buf) {
            Ok(0) | Err(_) => std::thread::sleep(Duration::from_millis(20)),
            Ok(n) => {
                let mut replies = Vec::new();
                if let Verdict::Drop = parser.feed(&buf[..n], state, &mut replies) {
                    on_drop();
                    parser = Parser::default();
                    continue;
                }
                if !replies.is_empty() {
                    let _ = dev.write_all(&replies);
                }
            }
        }
    }
}
