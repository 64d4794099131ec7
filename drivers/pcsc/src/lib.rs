//! # pos-pcsc — card readers through PC/SC
//!
//! Implements [`pos_hal::IccReader`] and [`pos_hal::PiccReader`] on the `pcsc` crate, i.e. on
//! pcscd (Linux/macOS) or WinSCard. What it adds over raw PC/SC:
//!
//! * discovery with card state ([`readers`]) and a hot-plug [`Watcher`] built on
//!   `SCardGetStatusChange` and the `\\?PnP?\Notification` pseudo-reader;
//! * readers chosen by exact name or substring ([`ReaderSelector`]), shared or exclusive
//!   ([`pos_hal::Claimed`]), T=0 and T=1;
//! * automatic GET RESPONSE on `61xx` and re-send on `6Cxx` (configurable), extended APDUs,
//!   a receive buffer of the PC/SC maximum so `InsufficientBuffer` cannot happen;
//! * errors mapped to [`pos_hal::ErrorKind`] — including the empty "successful" transmit
//!   pcscd returns when a card is pulled mid-command;
//! * recovery: when pcscd is stopped or restarted, the next call establishes a new context and
//!   finds the reader again (pcsc-rust issue #21);
//! * waits with timeouts and cancellation from another thread, both through a
//!   [`pos_hal::CancelToken`] and through `SCardCancel` ([`Canceller`]).
//!
//! ```no_run
//! use std::time::Duration;
//! use pos_hal::{Apdu, CancelToken, CardChannel, IccReader};
//! use pos_pcsc::{PcscReader, ReaderSelector};
//!
//! let mut reader = PcscReader::open(&ReaderSelector::Contains("PCD 00 00".into()))?;
//! reader.wait_for_card(Duration::from_secs(10), &CancelToken::new())?;
//! let atr = reader.power_on()?;
//! println!("ATR {atr}");
//! let mut buf = [0u8; 258];
//! let select = Apdu::new(0x00, 0xA4, 0x04, 0x00).with_data(b"1PAY.SYS.DDF01").with_le(256);
//! let response = reader.transmit(&select, &mut buf)?;
//! println!("SW {}", response.sw);
//! # Ok::<(), pos_pcsc::PcscError>(())
//! ```

#![warn(missing_docs)]

mod context;
mod discovery;
mod error;
mod reader;
mod watchdog;
mod watcher;

pub use context::{Canceller, ESTABLISH_TIMEOUT};
pub use discovery::{CardState, ReaderInfo, readers};
pub use error::PcscError;
pub use reader::{ConnectOptions, PcscReader, PcscTransaction, ProtocolChoice, ReaderSelector};
pub use watcher::{ReaderEvent, Watcher};
