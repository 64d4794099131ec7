//! Big-endian `u16` length-prefixed frames (CUP host link over TCP, the vpcd protocol).

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::Deadline;

/// The largest payload a 2-byte length can announce.
pub const MAX_PAYLOAD: usize = u16::MAX as usize;

/// Why a frame could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// A payload longer than the prefix can announce (or than the reader accepts): refused,
    /// never cut.
    #[error("frame of {len} bytes exceeds the limit of {max}")]
    TooLong {
        /// Length asked for or announced.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The peer closed the connection in the middle of a frame.
    #[error("connection closed after {got} of {expected} bytes")]
    Truncated {
        /// Bytes received.
        got: usize,
        /// Bytes announced (prefix included).
        expected: usize,
    },
    /// The deadline passed.
    #[error("timed out")]
    Timeout,
    /// The transport failed.
    #[error("I/O error: {0}")]
    Io(#[source] io::Error),
}

/// Prefix + payload in one buffer, so that it goes out in one write (one TCP segment with
/// `TCP_NODELAY`).
///
/// ```
/// let frame = pos_io::frame::encode(b"\x60\x00")?;
/// assert_eq!(frame, [0x00, 0x02, 0x60, 0x00]);
/// assert!(pos_io::frame::encode(&vec![0; 70_000]).is_err());
/// # Ok::<(), pos_io::frame::FrameError>(())
/// ```
pub fn encode(payload: &[u8]) -> Result<Vec<u8>, FrameError> {
    let len = u16::try_from(payload.len()).map_err(|_| FrameError::TooLong {
        len: payload.len(),
        max: MAX_PAYLOAD,
    })?;
    let mut frame = Vec::with_capacity(payload.len() + 2);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(payload);
    Ok(frame)
}

/// Writes one frame.
pub fn write<W: Write + ?Sized>(w: &mut W, payload: &[u8]) -> Result<(), FrameError> {
    let frame = encode(payload)?;
    w.write_all(&frame).map_err(io_error)
}

/// Reads one frame of at most `max` payload bytes from a blocking reader. `Ok(None)` when the
/// peer closed cleanly between frames.
pub fn read<R: Read + ?Sized>(r: &mut R, max: usize) -> Result<Option<Vec<u8>>, FrameError> {
    let mut prefix = [0u8; 2];
    let got = fill(r, &mut prefix)?;
    if got == 0 {
        return Ok(None);
    }
    if got < 2 {
        return Err(FrameError::Truncated { got, expected: 2 });
    }
    let len = usize::from(u16::from_be_bytes(prefix));
    if len > max {
        return Err(FrameError::TooLong { len, max });
    }
    let mut payload = vec![0u8; len];
    let got = fill(r, &mut payload)?;
    if got < len {
        return Err(FrameError::Truncated {
            got: got + 2,
            expected: len + 2,
        });
    }
    Ok(Some(payload))
}

/// A stream whose reads can be bounded in time.
pub trait TimedRead: Read {
    /// Bounds the next reads (`Some(d)` with `d > 0`).
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()>;
}

impl TimedRead for TcpStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }
}

/// Reads one frame by `deadline`; a peer that closes at a frame boundary is
/// [`FrameError::Truncated`] with `got: 0` (a request was outstanding).
pub fn read_by<R: TimedRead + ?Sized>(
    r: &mut R,
    max: usize,
    deadline: Deadline,
) -> Result<Vec<u8>, FrameError> {
    let mut prefix = [0u8; 2];
    fill_by(r, &mut prefix, deadline, 0)?;
    let len = usize::from(u16::from_be_bytes(prefix));
    if len > max {
        return Err(FrameError::TooLong { len, max });
    }
    let mut payload = vec![0u8; len];
    fill_by(r, &mut payload, deadline, 2)?;
    Ok(payload)
}

fn io_error(e: io::Error) -> FrameError {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => FrameError::Timeout,
        _ => FrameError::Io(e),
    }
}

/// Reads until `buf` is full or EOF; returns how much was read.
fn fill<R: Read + ?Sized>(r: &mut R, buf: &mut [u8]) -> Result<usize, FrameError> {
    let mut at = 0;
    while at < buf.len() {
        match r.read(&mut buf[at..]) {
            Ok(0) => break,
            Ok(n) => at += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error(e)),
        }
    }
    Ok(at)
}

fn fill_by<R: TimedRead + ?Sized>(
    r: &mut R,
    buf: &mut [u8],
    deadline: Deadline,
    before: usize,
) -> Result<(), FrameError> {
    let mut at = 0;
    while at < buf.len() {
        let left = deadline.remaining_nonzero().ok_or(FrameError::Timeout)?;
        r.set_read_timeout(Some(left)).map_err(io_error)?;
        match r.read(&mut buf[at..]) {
            Ok(0) => {
                return Err(FrameError::Truncated {
                    got: before + at,
                    expected: before + buf.len(),
                });
            }
            Ok(n) => at += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error(e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn frames_round_trip(payload in proptest::collection::vec(any::<u8>(), 0..600)) {
            let bytes = encode(&payload).expect("fits");
            let back = read(&mut &bytes[..], MAX_PAYLOAD).expect("reads");
            prop_assert_eq!(back, Some(payload));
        }

        #[test]
        fn any_input_is_a_frame_or_a_typed_error(input in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = read(&mut &input[..], 16);
        }
    }

    #[test]
    fn an_announced_frame_over_the_limit_is_refused_not_clamped() {
        let bytes = encode(&[0u8; 40]).expect("fits");
        assert!(matches!(
            read(&mut &bytes[..], 32),
            Err(FrameError::TooLong { len: 40, max: 32 })
        ));
    }

    #[test]
    fn eof_between_frames_is_none_and_inside_a_frame_is_truncated() {
        assert!(matches!(read(&mut &[][..], 10), Ok(None)));
        assert!(matches!(
            read(&mut &[0x00, 0x05, 1, 2][..], 10),
            Err(FrameError::Truncated {
                got: 4,
                expected: 7
            })
        ));
    }
}
