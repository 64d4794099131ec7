//! `DLE EOT n` real-time status, decoded by bit masks (notes/printers-magstripe.md §3).

use pos_hal::{PaperState, PrinterStatus};

use crate::EscposError;

/// `DLE EOT 1` (printer), `2` (offline cause), `4` (roll paper sensor).
pub const DLE_EOT: [[u8; 3]; 3] = [[0x10, 0x04, 0x01], [0x10, 0x04, 0x02], [0x10, 0x04, 0x04]];

/// True for a byte with the fixed bits of a `DLE EOT` answer (`0xx1xx10`).
pub fn is_status_byte(b: u8) -> bool {
    b & 0x93 == 0x12
}

/// Decodes the answers to `DLE EOT 1`, `2` and `4`.
///
/// ```
/// use pos_escpos::status::decode;
/// use pos_hal::PaperState;
/// assert!(decode(0x16, 0x12, 0x12)?.ready());
/// assert_eq!(decode(0x16, 0x12, 0x1E)?.paper, PaperState::NearEnd);
/// let out = decode(0x1E, 0x32, 0x7E)?;
/// assert_eq!((out.online, out.paper), (false, PaperState::Out));
/// assert!(decode(0x1E, 0x16, 0x12)?.cover_open);
/// assert!(decode(0xFF, 0x12, 0x12).is_err());
/// # Ok::<(), pos_escpos::EscposError>(())
/// ```
pub fn decode(printer: u8, offline: u8, paper: u8) -> Result<PrinterStatus, EscposError> {
    for b in [printer, offline, paper] {
        if !is_status_byte(b) {
            return Err(EscposError::BadStatus(b));
        }
    }
    let paper_state = if paper & 0x60 != 0 || offline & 0x20 != 0 {
        PaperState::Out
    } else if paper & 0x0C != 0 {
        PaperState::NearEnd
    } else {
        PaperState::Ok
    };
    Ok(PrinterStatus::default()
        .with_online(printer & 0x08 == 0)
        .with_paper(paper_state)
        .with_cover_open(offline & 0x04 != 0)
        .with_drawer_open(Some(printer & 0x04 == 0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn emulator_table_decodes() {
        // (DLE EOT 1, 2, 4) per fault, measured against an ESC/POS emulator.
        let rows = [
            ((0x16, 0x12, 0x12), true, PaperState::Ok, false),
            ((0x16, 0x12, 0x1E), true, PaperState::NearEnd, false),
            ((0x1E, 0x32, 0x7E), false, PaperState::Out, false),
            ((0x1E, 0x16, 0x12), false, PaperState::Ok, true),
            ((0x1E, 0x12, 0x12), false, PaperState::Ok, false),
            ((0x16, 0x12, 0x72), true, PaperState::Out, false),
        ];
        for ((a, b, c), online, paper, cover) in rows {
            let s = decode(a, b, c).expect("valid");
            assert_eq!(
                (s.online, s.paper, s.cover_open),
                (online, paper, cover),
                "{a:02X} {b:02X} {c:02X}"
            );
        }
    }

    proptest! {
        #[test]
        fn never_panics(a in any::<u8>(), b in any::<u8>(), c in any::<u8>()) {
            let ok = is_status_byte(a) && is_status_byte(b) && is_status_byte(c);
            prop_assert_eq!(decode(a, b, c).is_ok(), ok);
        }
    }
}

/// One message in the byte stream a printer sends back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inbound {
    /// An answer to `DLE EOT n` (`0xx1xx10`).
    Status(u8),
    /// A `GS r` answer (`0xx0xxxx`) outside any ASB block: the printer reached our request.
    PaperSensor(u8),
    /// A complete Automatic Status Back block (`0xx1xx00` + three `0xx0xxxx` bytes).
    Asb([u8; 4]),
    /// Anything else (XON/XOFF, bytes with bit 7 set): ignored.
    Other(u8),
}

/// Splits the printer's byte stream into messages. ASB blocks are 4 bytes whose last three
/// look exactly like `GS r` answers: only a decoder that knows where a block starts can tell
/// them apart, so every byte from the printer goes through one of these.
///
/// ```
/// use pos_escpos::status::{Inbound, InboundDecoder};
/// let mut d = InboundDecoder::default();
/// let got: Vec<_> = [0x10, 0x00, 0x0F, 0x00, 0x00, 0x12]
///     .into_iter()
///     .filter_map(|b| d.push(b))
///     .collect();
/// assert_eq!(got, [Inbound::Asb([0x10, 0x00, 0x0F, 0x00]), Inbound::PaperSensor(0x00), Inbound::Status(0x12)]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct InboundDecoder {
    asb: [u8; 4],
    asb_len: usize,
}

impl InboundDecoder {
    /// Feeds one byte; a message when one is complete.
    pub fn push(&mut self, b: u8) -> Option<Inbound> {
        if self.asb_len > 0 {
            if b & 0x90 == 0 {
                self.asb[self.asb_len] = b;
                self.asb_len += 1;
                if self.asb_len == 4 {
                    self.asb_len = 0;
                    return Some(Inbound::Asb(self.asb));
                }
                return None;
            }
            // Not a continuation byte: the block was cut short; take this byte afresh.
            self.asb_len = 0;
        }
        match b {
            b if b & 0x93 == 0x10 => {
                self.asb = [b, 0, 0, 0];
                self.asb_len = 1;
                None
            }
            b if b & 0x93 == 0x12 => Some(Inbound::Status(b)),
            b if b & 0x90 == 0 => Some(Inbound::PaperSensor(b)),
            b => Some(Inbound::Other(b)),
        }
    }

    /// Forgets a partial block (after a drain or a reconnect).
    pub fn reset(&mut self) {
        self.asb_len = 0;
    }
}

/// What an ASB block says is stopping the printer, if anything.
pub fn asb_fault(block: [u8; 4]) -> Option<EscposError> {
    if block[2] & 0x0C != 0 {
        Some(EscposError::PaperOut)
    } else if block[0] & 0x20 != 0 {
        Some(EscposError::CoverOpen)
    } else if block[0] & 0x08 != 0 {
        Some(EscposError::Offline)
    } else {
        None
    }
}

#[cfg(test)]
mod inbound_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn asb_continuation_bytes_are_never_paper_sensor_answers(noise in proptest::collection::vec((0u8..0x04, 0u8..0x10), 0..20)) {
            // Any number of ASB blocks in a row decode as blocks only.
            let mut d = InboundDecoder::default();
            for (flags, paper) in noise {
                let block = [0x10 | (flags << 2), 0x00, paper & 0x0F, 0x00];
                let got: Vec<_> = block.into_iter().filter_map(|b| d.push(b)).collect();
                prop_assert_eq!(got, vec![Inbound::Asb(block)]);
            }
        }

        #[test]
        fn any_stream_decodes_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut d = InboundDecoder::default();
            for b in bytes {
                let _ = d.push(b);
            }
        }
    }
}
