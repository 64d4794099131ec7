//! Reading one frame from a device that speaks only when something happens (a swipe, a
//! scan): fresh bytes only, a deadline, cancellation, a bound on noise, and nothing left in
//! memory — what a card's tracks or a payment code pass through must be wiped.

use std::io;
use std::time::Duration;

use crate::{Deadline, Transport};

/// Why no frame came.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FramedReadError {
    /// The transport failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// No complete frame before the deadline.
    #[error("no complete frame in time")]
    Timeout,
    /// `cancelled` said so.
    #[error("cancelled")]
    Cancelled,
}

/// Reads from `transport` until `frame` finds a complete frame in the bytes received and
/// returns what it made of it. Bytes that were waiting before the call are dropped first
/// (only what happens from now on counts); more than `max` bytes without a frame are noise
/// and dropped; `cancelled` is asked between reads. `buf` is the scratch buffer: it is wiped
/// (zeroed, then emptied) whatever the outcome, as is every chunk read.
///
/// ```
/// use std::io::Write;
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
/// use std::time::Duration;
/// use pos_io::{FileTransport, Transport, framed::read_frame};
/// let (mut device, _slave, path) = pos_io::pty::open_pty()?;
/// let mut port = FileTransport::new(path);
/// port.connect()?;
/// // The device reports a read every 50 ms until the reader has one (what came before the
/// // call is dropped: only reads from now on count).
/// let done = Arc::new(AtomicBool::new(false));
/// let stop = Arc::clone(&done);
/// let device = std::thread::spawn(move || {
///     while !stop.load(Ordering::Relaxed) {
///         std::thread::sleep(Duration::from_millis(50));
///         device.write_all(b"6226001\r\n")?;
///     }
///     Ok::<(), std::io::Error>(())
/// });
/// let mut scratch = Vec::new();
/// let line = read_frame(&mut port, &mut scratch, 256, Duration::from_secs(5), || false, |b| {
///     // A line: what lies between line ends.
///     let start = b.iter().position(|c| !matches!(c, b'\r' | b'\n'))?;
///     let len = b[start..].iter().position(|c| *c == b'\r')?;
///     Some(String::from_utf8_lossy(&b[start..start + len]).into_owned())
/// });
/// done.store(true, Ordering::Relaxed);
/// assert_eq!(line?, "6226001");
/// assert!(scratch.is_empty(), "wiped");
/// device.join().expect("device thread")?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_frame<T: Transport + ?Sized, R>(
    transport: &mut T,
    buf: &mut Vec<u8>,
    max: usize,
    timeout: Duration,
    cancelled: impl Fn() -> bool,
    mut frame: impl FnMut(&[u8]) -> Option<R>,
) -> Result<R, FramedReadError> {
    wipe(buf);
    transport.drain(Duration::from_millis(20));
    let deadline = Deadline::after(timeout);
    let mut chunk = [0u8; 128];
    let outcome = loop {
        if cancelled() {
            break Err(FramedReadError::Cancelled);
        }
        if let Some(found) = frame(buf) {
            break Ok(found);
        }
        if deadline.expired() {
            break Err(FramedReadError::Timeout);
        }
        match transport.read(&mut chunk, deadline.slice(Duration::from_millis(50))) {
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                chunk[..n].iter_mut().for_each(|b| *b = 0);
            }
            Err(e) => break Err(FramedReadError::Io(e)),
        }
        if buf.len() > max {
            wipe(buf);
        }
    };
    wipe(buf);
    outcome
}

fn wipe(buf: &mut Vec<u8>) {
    buf.iter_mut().for_each(|b| *b = 0);
    buf.clear();
}
