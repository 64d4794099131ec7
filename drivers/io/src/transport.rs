//! Byte pipes to a device with deadlines on every call.

use std::fmt;
use std::io::{self, ErrorKind, Write};
use std::time::Duration;

use crate::Deadline;

/// A connection to a device (printer, reader): every call is bounded in time; after a failure
/// `reset` closes it and the next call opens it again, so a late answer to an abandoned request
/// is never read as the answer to a new one.
pub trait Transport: Send + fmt::Debug {
    /// Writes all of `data` within `timeout`; on failure also says how many bytes got out.
    fn write_all(&mut self, data: &[u8], timeout: Duration) -> Result<(), (usize, io::Error)>;
    /// Reads what arrives within `timeout`; `Ok(0)` when nothing came.
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize>;
    /// True when the device can answer (status read-back).
    fn can_read(&self) -> bool;
    /// Discards unread input, so that a stale answer is never taken for a new one. Bounded:
    /// a device that keeps sending is read for at most `limit`.
    fn drain(&mut self, limit: Duration) {
        let deadline = Deadline::after(limit);
        let mut buf = [0u8; 64];
        while !deadline.expired()
            && matches!(self.read(&mut buf, Duration::from_millis(1)), Ok(n) if n > 0)
        {}
    }
    /// Closes the connection; the next call opens it again.
    fn reset(&mut self);
    /// What it talks to, as the address part of a selector (`tcp:HOST:PORT`…).
    fn describe(&self) -> String;
}

impl Transport for Box<dyn Transport> {
    fn write_all(&mut self, data: &[u8], timeout: Duration) -> Result<(), (usize, io::Error)> {
        (**self).write_all(data, timeout)
    }
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        (**self).read(buf, timeout)
    }
    fn can_read(&self) -> bool {
        (**self).can_read()
    }
    fn drain(&mut self, limit: Duration) {
        (**self).drain(limit)
    }
    fn reset(&mut self) {
        (**self).reset()
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

/// The error of a write that ran out of time.
pub fn timed_out() -> io::Error {
    io::Error::new(
        ErrorKind::TimedOut,
        "the device did not accept the data in time",
    )
}

/// Writes all of `data` before the deadline, re-arming the writer's timeout with what is left
/// before every write; on failure says how many bytes got out.
pub fn write_by_deadline<W: Write + ?Sized>(
    writer: &mut W,
    data: &[u8],
    timeout: Duration,
    mut set_timeout: impl FnMut(&mut W, Duration) -> io::Result<()>,
) -> Result<(), (usize, io::Error)> {
    let deadline = Deadline::after(timeout);
    let mut sent = 0;
    while sent < data.len() {
        let left = deadline.remaining_nonzero().ok_or((sent, timed_out()))?;
        set_timeout(writer, left).map_err(|e| (sent, e))?;
        match writer.write(&data[sent..]) {
            Ok(0) => return Err((sent, io::Error::from(ErrorKind::WriteZero))),
            Ok(n) => sent += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err((sent, timed_out()));
            }
            Err(e) => return Err((sent, e)),
        }
    }
    Ok(())
}
