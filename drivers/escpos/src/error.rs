//! Errors and their HAL kinds.

use std::time::Duration;

use pos_hal::ErrorKind;

/// Everything that can go wrong with an ESC/POS printer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EscposError {
    /// The selector is not `tcp:…`, `serial:…`, `usb:…` or `file:…`.
    #[error(
        "invalid printer selector {0:?} (want tcp:HOST:PORT, serial:PATH[:BAUD], usb:VID:PID or file:PATH)"
    )]
    Selector(String),
    /// Could not reach the printer.
    #[error("cannot open printer {target}: {source}")]
    Open {
        /// What was opened.
        target: String,
        /// Why.
        source: std::io::Error,
    },
    /// The connection broke; the job (if any) was not printed.
    #[error("printer connection lost after {bytes_sent} bytes: {source}")]
    Disconnected {
        /// Bytes of the job delivered before the break.
        bytes_sent: usize,
        /// Why.
        source: std::io::Error,
    },
    /// No answer in time.
    #[error("printer did not answer within {0:?}")]
    Timeout(Duration),
    /// Out of paper; the job was not (completely) printed.
    #[error("printer is out of paper; the job was not printed")]
    PaperOut,
    /// Cover open; the job was not (completely) printed.
    #[error("printer cover is open; the job was not printed")]
    CoverOpen,
    /// Offline for another reason (error, feed button…).
    #[error("printer is offline")]
    Offline,
    /// A status byte that is not a `DLE EOT` answer.
    #[error("printer sent {0:#04x}, not a status byte")]
    BadStatus(u8),
    /// This transport cannot read status back.
    #[error("status read-back is not supported on this connection")]
    NoStatus,
    /// The receipt cannot be encoded (QR data too long, barcode data invalid…).
    #[error("cannot encode receipt line {line}: invalid {what}")]
    Encode {
        /// 1-based line of the receipt (0: the job frame).
        line: usize,
        /// What could not be encoded.
        what: &'static str,
    },
    /// The job or status query was cancelled; a job is then not printed.
    #[error("cancelled; the job was not printed")]
    Cancelled,
    /// This build has no support for the transport the address names.
    #[error("printer {0} needs the `{1}` feature of pos-escpos, which this build lacks")]
    TransportNotBuilt(String, &'static str),
    /// USB trouble.
    #[cfg(feature = "usb")]
    #[error("USB: {0}")]
    Usb(#[from] rusb::Error),
    /// Serial port trouble.
    #[cfg(feature = "serial")]
    #[error("serial port: {0}")]
    Serial(#[from] serialport::Error),
}

impl pos_hal::Error for EscposError {
    fn kind(&self) -> ErrorKind {
        match self {
            EscposError::Selector(_) | EscposError::Encode { .. } => ErrorKind::InvalidInput,
            EscposError::Cancelled => ErrorKind::Cancelled,
            EscposError::Open { source, .. } => match source.kind() {
                std::io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
                std::io::ErrorKind::TimedOut => ErrorKind::Timeout,
                _ => ErrorKind::NoDevice,
            },
            EscposError::Disconnected { .. } => ErrorKind::Disconnected,
            EscposError::Timeout(_) => ErrorKind::Timeout,
            EscposError::PaperOut => ErrorKind::PaperOut,
            EscposError::CoverOpen => ErrorKind::CoverOpen,
            EscposError::Offline => ErrorKind::NotReady,
            EscposError::BadStatus(_) => ErrorKind::Protocol,
            EscposError::NoStatus | EscposError::TransportNotBuilt(..) => ErrorKind::NotSupported,
            #[cfg(feature = "usb")]
            EscposError::Usb(e) => match e {
                rusb::Error::Access => ErrorKind::PermissionDenied,
                rusb::Error::NoDevice | rusb::Error::NotFound => ErrorKind::NoDevice,
                rusb::Error::Busy => ErrorKind::Busy,
                rusb::Error::Timeout => ErrorKind::Timeout,
                rusb::Error::InvalidParam => ErrorKind::InvalidInput,
                _ => ErrorKind::Other,
            },
            #[cfg(feature = "serial")]
            EscposError::Serial(e) => match e.kind() {
                serialport::ErrorKind::NoDevice => ErrorKind::NoDevice,
                serialport::ErrorKind::InvalidInput => ErrorKind::InvalidInput,
                _ => ErrorKind::Other,
            },
        }
    }
}
