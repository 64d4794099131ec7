//! The card side of the vpcd protocol (vsmartcard 0.8), as a TCP client of pcscd's vpcd driver.
//!
//! Frames in both directions are a big-endian `u16` length and the payload. A 1-byte payload
//! from vpcd is a control: `00` power off, `01` power on, `02` reset (no reply), `04` get ATR
//! (reply: the ATR). Longer payloads are C-APDUs answered with an R-APDU. Inserting = connecting,
//! removing = closing the socket. vpcd 0.8 writes the length and payload in two `send()`s, so
//! the card must re-arm `TCP_QUICKACK` before every read or each APDU stalls ~40 ms on a
//! delayed ACK (notes/pcsc-vpcd.md §4).

use std::io;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

pub use crate::card::Card;

/// Faults to inject, fixed at insertion.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Answer this many APDUs, then close the socket when the next one arrives (removal
    /// during a transmit).
    pub remove_after: Option<usize>,
    /// Sleep this long before each answer.
    pub delay: Duration,
    /// Answer ATR polls with an empty ATR (a mute card).
    pub mute: bool,
    /// Answer ATR polls with bytes that are not an ATR.
    pub garbage_atr: bool,
    /// Answer every APDU with exactly these bytes (0, 1 byte, oversize…) instead of the card.
    pub raw_response: Option<Vec<u8>>,
}

/// A card inserted into a vpcd slot. Dropping it removes the card.
#[derive(Debug)]
pub struct VirtualCard {
    stream: TcpStream,
    thread: Option<JoinHandle<io::Result<()>>>,
    apdus: Arc<AtomicUsize>,
    commands: Arc<Mutex<Vec<Vec<u8>>>>,
}

/// Sets `TCP_QUICKACK`; the kernel clears it after the next ACK, hence before every read.
fn quickack(stream: &TcpStream) {
    let one: libc::c_int = 1;
    // SAFETY: valid socket fd, pointer to a live c_int of the size passed.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_QUICKACK,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

fn read_frame(stream: &mut TcpStream) -> io::Result<Option<Vec<u8>>> {
    quickack(stream);
    let frame = pos_io::frame::read(stream, pos_io::frame::MAX_PAYLOAD).map_err(frame_io)?;
    quickack(stream);
    Ok(frame)
}

fn write_frame(stream: &mut TcpStream, payload: &[u8]) -> io::Result<()> {
    // Header and payload in one write: with TCP_NODELAY this is one segment.
    pos_io::frame::write(stream, payload).map_err(frame_io)
}

fn frame_io(e: pos_io::frame::FrameError) -> io::Error {
    match e {
        pos_io::frame::FrameError::Io(io) => io,
        pos_io::frame::FrameError::Truncated { .. } => io::ErrorKind::UnexpectedEof.into(),
        other => io::Error::new(io::ErrorKind::InvalidData, other),
    }
}

const GARBAGE_ATR: &[u8] = &[0x12, 0x34, 0x56];

fn serve(
    mut stream: TcpStream,
    mut card: Box<dyn Card>,
    faults: Faults,
    apdus: Arc<AtomicUsize>,
    commands: Arc<Mutex<Vec<Vec<u8>>>>,
) -> io::Result<()> {
    // Headers only: APDU bodies and responses carry card-holder data.
    let trace = std::env::var_os("POS_SIM_TRACE").is_some();
    while let Some(payload) = read_frame(&mut stream)? {
        if trace {
            let head = &payload[..payload.len().min(4)];
            eprintln!("vpcd-card: <- {} bytes {head:02X?}", payload.len());
        }
        match payload.as_slice() {
            [0x00] | [0x01] | [0x02] => card.reset(),
            [0x04] => {
                let atr = if faults.mute {
                    Vec::new()
                } else if faults.garbage_atr {
                    GARBAGE_ATR.to_vec()
                } else {
                    card.atr()
                };
                write_frame(&mut stream, &atr)?;
            }
            [_] => {} // unknown control: vpcd expects no reply
            apdu => {
                let seen = apdus.fetch_add(1, Ordering::SeqCst);
                if faults.remove_after.is_some_and(|n| seen >= n) {
                    let _ = stream.shutdown(Shutdown::Both);
                    return Ok(());
                }
                if let Ok(mut log) = commands.lock() {
                    log.push(apdu.to_vec());
                }
                if !faults.delay.is_zero() {
                    std::thread::sleep(faults.delay);
                }
                let response = match &faults.raw_response {
                    Some(raw) => raw.clone(),
                    None => card.transmit(apdu),
                };
                write_frame(&mut stream, &response)?;
            }
        }
    }
    Ok(())
}

impl VirtualCard {
    /// Connects to vpcd on `127.0.0.1:port` (3 s timeout) and serves `card` on a thread.
    ///
    /// A successful connect does not mean pcscd sees the card yet (vpcd accepts at its next
    /// ~400 ms poll, and queues a second card silently): wait for `PRESENT` on the PC/SC side.
    pub fn insert(port: u16, card: impl Card, faults: Faults) -> io::Result<Self> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(3))?;
        stream.set_nodelay(true)?;
        let apdus = Arc::new(AtomicUsize::new(0));
        let commands = Arc::new(Mutex::new(Vec::new()));
        let served = stream.try_clone()?;
        let (a, c) = (apdus.clone(), commands.clone());
        let card: Box<dyn Card> = Box::new(card);
        let thread = std::thread::Builder::new()
            .name(format!("vpcd-card-{port}"))
            .spawn(move || serve(served, card, faults, a, c))?;
        Ok(Self {
            stream,
            thread: Some(thread),
            apdus,
            commands,
        })
    }

    /// APDUs received so far (including the one that triggered a removal fault).
    pub fn apdu_count(&self) -> usize {
        self.apdus.load(Ordering::SeqCst)
    }

    /// The C-APDUs answered so far, in order.
    pub fn commands(&self) -> Vec<Vec<u8>> {
        self.commands.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// True while vpcd still holds the connection.
    pub fn is_inserted(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Pulls the card: closes the socket and waits for the serving thread.
    pub fn remove(mut self) {
        self.close();
    }

    /// Blocks until vpcd closes the connection (pcscd stopped), then returns.
    pub fn wait_closed(mut self) -> io::Result<()> {
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(io::Error::other("card thread panicked")),
            None => Ok(()),
        }
    }

    fn close(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Both);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for VirtualCard {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    struct Echo;
    impl Card for Echo {
        fn atr(&self) -> Vec<u8> {
            vec![0x3B, 0x80, 0x80, 0x01, 0x01]
        }
        fn reset(&mut self) {}
        fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
            let mut r = apdu.to_vec();
            r.extend_from_slice(&[0x90, 0x00]);
            r
        }
    }

    fn exchange(s: &mut TcpStream, payload: &[u8]) -> Vec<u8> {
        write_frame(s, payload).expect("write");
        read_frame(s).expect("read").expect("frame")
    }

    /// Plays vpcd's side on a local listener: the framing must match vpcd's exactly.
    #[test]
    fn speaks_the_vpcd_framing_and_faults() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let faults = Faults {
            remove_after: Some(2),
            ..Faults::default()
        };
        let card = VirtualCard::insert(port, Echo, faults).expect("insert");
        let (mut vpcd, _) = listener.accept().expect("accept");
        assert_eq!(exchange(&mut vpcd, &[0x04]), [0x3B, 0x80, 0x80, 0x01, 0x01]);
        write_frame(&mut vpcd, &[0x01]).expect("power on has no reply");
        assert_eq!(exchange(&mut vpcd, &[0x00, 0xB0]), [0x00, 0xB0, 0x90, 0x00]);
        assert_eq!(exchange(&mut vpcd, &[0x00, 0xB1]), [0x00, 0xB1, 0x90, 0x00]);
        // Third APDU: the card is "pulled" mid-transmit.
        write_frame(&mut vpcd, &[0x00, 0xB2]).expect("write");
        assert_eq!(read_frame(&mut vpcd).ok().flatten(), None);
        assert_eq!(card.apdu_count(), 3);
        assert_eq!(card.commands().len(), 2);
    }

    #[test]
    fn mute_and_garbage_atr() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let mute = VirtualCard::insert(
            port,
            Echo,
            Faults {
                mute: true,
                ..Faults::default()
            },
        )
        .expect("insert");
        let (mut vpcd, _) = listener.accept().expect("accept");
        assert_eq!(exchange(&mut vpcd, &[0x04]), Vec::<u8>::new());
        mute.remove();
        let garbage = VirtualCard::insert(
            port,
            Echo,
            Faults {
                garbage_atr: true,
                ..Faults::default()
            },
        )
        .expect("insert");
        let (mut vpcd, _) = listener.accept().expect("accept");
        assert_eq!(exchange(&mut vpcd, &[0x04]), GARBAGE_ATR);
        assert!(pos_hal::Atr::parse(GARBAGE_ATR).is_err());
        drop(garbage);
    }
}
