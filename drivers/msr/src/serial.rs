//! Serial magstripe readers (RS-232, USB-CDC): the swipe as text, framed `STX … ETX` or ended
//! by CR/LF, read through any pos-io transport with a deadline and a cancel token.

use std::time::Duration;

use pos_hal::{
    CancelToken, Device, DeviceInfo, DeviceKind, ErrorKind, ErrorType, HealthLevel, HealthReport,
    HealthStatus, MagstripeReader, MsrCaps, Swipe,
};
use pos_io::Transport;

use crate::text;

const STX: u8 = 0x02;
const ETX: u8 = 0x03;
/// A swipe is at most three tracks with framing; more is noise.
const MAX_FRAME: usize = 512;

/// Why a read failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MsrError {
    /// The port failed.
    #[error("magstripe reader port: {0}")]
    Io(#[from] std::io::Error),
    /// No swipe in time.
    #[error("no card was swiped in time")]
    Timeout,
    /// Cancelled through the token.
    #[error("cancelled")]
    Cancelled,
}

impl pos_hal::Error for MsrError {
    fn kind(&self) -> ErrorKind {
        match self {
            MsrError::Io(e) if e.kind() == std::io::ErrorKind::NotFound => ErrorKind::NoDevice,
            MsrError::Io(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                ErrorKind::PermissionDenied
            }
            MsrError::Io(_) => ErrorKind::Disconnected,
            MsrError::Timeout => ErrorKind::Timeout,
            MsrError::Cancelled => ErrorKind::Cancelled,
        }
    }
}

/// A magstripe reader on a serial line.
#[derive(Debug)]
pub struct SerialMsr<T: Transport> {
    transport: T,
    buf: Vec<u8>,
    selector: String,
}

/// Opens a reader on `path` at `baud` (8N1).
pub fn open_serial(
    path: &str,
    baud: u32,
) -> Result<SerialMsr<pos_io::serial::SerialTransport>, MsrError> {
    let mut transport = pos_io::serial::SerialTransport::new(path, baud, false);
    transport.connect()?;
    Ok(SerialMsr::new(
        transport,
        &format!("msr:serial:{path}:{baud}"),
    ))
}

impl<T: Transport> SerialMsr<T> {
    /// A reader on `transport`; `selector` reopens it through the registry.
    pub fn new(transport: T, selector: &str) -> Self {
        Self {
            transport,
            buf: Vec::with_capacity(MAX_FRAME),
            selector: selector.into(),
        }
    }
}

/// The text of a complete frame at the start of `buf` (`STX … ETX [LRC]`, or a line), and
/// how much of `buf` it used.
fn frame(buf: &[u8]) -> Option<(String, usize)> {
    let start = buf.iter().position(|b| !matches!(b, b'\r' | b'\n' | 0))?;
    let body = &buf[start..];
    let (text, used) = if body[0] == STX {
        let end = body.iter().position(|b| *b == ETX)?;
        // An LRC byte may follow ETX: it is not part of the next swipe.
        let lrc = usize::from(body.len() > end + 1);
        (&body[1..end], start + end + 1 + lrc)
    } else {
        let end = body.iter().position(|b| matches!(b, b'\r' | b'\n'))?;
        (&body[..end], start + end + 1)
    };
    Some((String::from_utf8_lossy(text).into_owned(), used))
}

impl<T: Transport> ErrorType for SerialMsr<T> {
    type Error = MsrError;
}

impl<T: Transport> Device for SerialMsr<T> {
    fn info(&self) -> DeviceInfo {
        DeviceInfo::new(
            DeviceKind::Magstripe,
            "msr",
            "serial magstripe reader",
            &self.selector,
        )
    }

    fn health_check(&mut self, level: HealthLevel) -> Result<HealthReport, MsrError> {
        // A serial reader answers nothing until swiped: the port being there is all one knows.
        Ok(HealthReport::new(
            level,
            HealthStatus::Ok,
            "serial port open (the reader speaks only when swiped)",
        ))
    }
}

impl<T: Transport> MagstripeReader for SerialMsr<T> {
    fn caps(&self) -> MsrCaps {
        MsrCaps::default()
    }

    fn read_swipe(&mut self, timeout: Duration, cancel: &CancelToken) -> Result<Swipe, MsrError> {
        let found = pos_io::framed::read_frame(
            &mut self.transport,
            &mut self.buf,
            MAX_FRAME,
            timeout,
            || cancel.is_cancelled(),
            |buf| frame(buf).map(|(text, _)| text::swipe(&text)),
        );
        found.map_err(|e| match e {
            pos_io::framed::FramedReadError::Io(e) => MsrError::Io(e),
            pos_io::framed::FramedReadError::Cancelled => MsrError::Cancelled,
            _ => MsrError::Timeout,
        })
    }
}
