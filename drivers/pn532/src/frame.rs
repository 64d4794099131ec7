//! PN532 host-interface frames (PN532 user manual §6.2), both directions: the driver writes
//! host frames (TFI `D4`) and reads chip frames (TFI `D5`); the emulator the other way round.
//!
//! ```text
//! normal    00 00 FF LEN LCS TFI PD… DCS 00         LEN+LCS ≡ 0, TFI+PD…+DCS ≡ 0 (mod 256)
//! extended  00 00 FF FF FF LENm LENl LCS TFI PD… DCS 00
//! ACK       00 00 FF 00 FF 00      NACK  00 00 FF FF 00 00
//! error     00 00 FF 01 FF 7F 81 00
//! ```

use core::fmt;

/// Frame identifier of host → PN532 frames.
pub const HOST_TO_PN532: u8 = 0xD4;
/// Frame identifier of PN532 → host frames.
pub const PN532_TO_HOST: u8 = 0xD5;
/// The ACK frame.
pub const ACK: [u8; 6] = [0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00];
/// The NACK frame (asks for the last frame again).
pub const NACK: [u8; 6] = [0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00];
/// The application-level error frame.
pub const ERROR: [u8; 8] = [0x00, 0x00, 0xFF, 0x01, 0xFF, 0x7F, 0x81, 0x00];
/// The most TFI + command + data a frame carries (extended frames; the PN532's buffer).
pub const MAX_BODY: usize = 265;
/// The largest encoded frame.
pub const MAX_FRAME: usize = MAX_BODY + 10;

/// A decoded frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    /// ACK.
    Ack,
    /// NACK.
    Nack,
    /// The application-level error frame.
    Error,
    /// An information frame: TFI and the command code with its data.
    Info {
        /// `D4` or `D5`.
        tfi: u8,
        /// Command code, then data.
        body: &'a [u8],
    },
}

/// Why bytes are not (yet) a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// More bytes are needed.
    Incomplete,
    /// Length checksum wrong; skip `skip` bytes and look again.
    LengthChecksum {
        /// Bytes to drop.
        skip: usize,
    },
    /// Data checksum wrong.
    DataChecksum {
        /// Bytes to drop (the whole frame).
        skip: usize,
    },
    /// A length of 0 or over [`MAX_BODY`].
    Length {
        /// Bytes to drop.
        skip: usize,
    },
    /// An encode buffer too small or a body over [`MAX_BODY`] (encoding only).
    TooLong,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Incomplete => f.write_str("PN532 frame incomplete"),
            FrameError::LengthChecksum { .. } => f.write_str("PN532 frame length checksum wrong"),
            FrameError::DataChecksum { .. } => f.write_str("PN532 frame data checksum wrong"),
            FrameError::Length { .. } => f.write_str("PN532 frame length out of range"),
            FrameError::TooLong => f.write_str("PN532 frame too long"),
        }
    }
}

impl core::error::Error for FrameError {}

fn checksum(bytes: impl IntoIterator<Item = u8>) -> u8 {
    bytes
        .into_iter()
        .fold(0u8, |a, b| a.wrapping_add(b))
        .wrapping_neg()
}

/// Encodes an information frame (`tfi`, then `body` = command code and data) into `out`;
/// returns its length. Bodies over 254 bytes with the TFI use the extended form.
pub fn encode(tfi: u8, body: &[u8], out: &mut [u8]) -> Result<usize, FrameError> {
    let len = body.len() + 1;
    if body.is_empty() || len > MAX_BODY {
        return Err(FrameError::TooLong);
    }
    let header = if len > 254 { 8 } else { 5 };
    let total = header + len + 2;
    let out = out.get_mut(..total).ok_or(FrameError::TooLong)?;
    out[..3].copy_from_slice(&[0x00, 0x00, 0xFF]);
    if len > 254 {
        let [hi, lo] = (len as u16).to_be_bytes();
        out[3..8].copy_from_slice(&[0xFF, 0xFF, hi, lo, checksum([hi, lo])]);
    } else {
        out[3] = len as u8;
        out[4] = (len as u8).wrapping_neg();
    }
    out[header] = tfi;
    out[header + 1..header + len].copy_from_slice(body);
    out[header + len] = checksum(core::iter::once(tfi).chain(body.iter().copied()));
    out[header + len + 1] = 0x00;
    Ok(total)
}

/// Finds the first frame in `bytes` (leading garbage and preamble zeros are skipped) and
/// returns it with the number of bytes it used. `Err(Incomplete)` asks for more bytes; the
/// other errors say how many bytes to drop before trying again.
pub fn decode(bytes: &[u8]) -> Result<(Frame<'_>, usize), FrameError> {
    let Some(start) = bytes.windows(2).position(|w| w == [0x00, 0xFF]) else {
        return Err(FrameError::Incomplete);
    };
    let at = start + 2;
    let b = |i: usize| bytes.get(at + i).copied().ok_or(FrameError::Incomplete);
    let (l0, l1) = (b(0)?, b(1)?);
    match (l0, l1) {
        (0x00, 0xFF) => {
            return Ok((
                Frame::Ack,
                at + 2 + usize::from(bytes.get(at + 2) == Some(&0)),
            ));
        }
        (0xFF, 0x00) => {
            return Ok((
                Frame::Nack,
                at + 2 + usize::from(bytes.get(at + 2) == Some(&0)),
            ));
        }
        _ => {}
    }
    let (len, body_at) = if (l0, l1) == (0xFF, 0xFF) {
        let (hi, lo, lcs) = (b(2)?, b(3)?, b(4)?);
        if checksum([hi, lo]) != lcs {
            return Err(FrameError::LengthChecksum { skip: at });
        }
        (usize::from(u16::from_be_bytes([hi, lo])), at + 5)
    } else {
        if l0.wrapping_add(l1) != 0 {
            return Err(FrameError::LengthChecksum { skip: at });
        }
        (usize::from(l0), at + 2)
    };
    if len == 0 || len > MAX_BODY {
        return Err(FrameError::Length { skip: body_at });
    }
    let end = body_at + len;
    let dcs = *bytes.get(end).ok_or(FrameError::Incomplete)?;
    let tfi_body = &bytes[body_at..end];
    if checksum(tfi_body.iter().copied()) != dcs {
        return Err(FrameError::DataChecksum { skip: end + 1 });
    }
    // The postamble is optional on the wire: take it when it is there.
    let used = end + 1 + usize::from(bytes.get(end + 1) == Some(&0));
    if tfi_body == [0x7F] {
        return Ok((Frame::Error, used));
    }
    Ok((
        Frame::Info {
            tfi: tfi_body[0],
            body: &tfi_body[1..],
        },
        used,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn frames_from_the_libnfc_trace_decode() {
        // SAMConfiguration as libnfc sends it.
        let sam = [0x00, 0x00, 0xFF, 0x03, 0xFD, 0xD4, 0x14, 0x01, 0x17, 0x00];
        assert_eq!(
            decode(&sam),
            Ok((
                Frame::Info {
                    tfi: 0xD4,
                    body: &[0x14, 0x01]
                },
                10
            ))
        );
        let mut out = [0u8; MAX_FRAME];
        let n = encode(0xD4, &[0x14, 0x01], &mut out).expect("encode");
        assert_eq!(&out[..n], &sam);
        assert_eq!(decode(&ACK), Ok((Frame::Ack, 6)));
        assert_eq!(decode(&NACK), Ok((Frame::Nack, 6)));
        assert_eq!(decode(&ERROR), Ok((Frame::Error, 8)));
        // The wake-up preamble before a frame is skipped.
        let mut woken = [0x55u8, 0x55, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0].to_vec();
        woken.extend_from_slice(&sam);
        assert!(matches!(decode(&woken), Ok((Frame::Info { .. }, 26))));
    }

    #[test]
    fn long_bodies_use_the_extended_form() {
        let body = [0x40u8; 260];
        let mut out = [0u8; MAX_FRAME];
        let n = encode(0xD4, &body, &mut out).expect("encode");
        assert_eq!(&out[3..5], &[0xFF, 0xFF]);
        assert_eq!(
            decode(&out[..n]),
            Ok((
                Frame::Info {
                    tfi: 0xD4,
                    body: &body
                },
                n
            ))
        );
        assert_eq!(
            encode(0xD4, &[0u8; MAX_BODY], &mut out),
            Err(FrameError::TooLong)
        );
    }

    #[test]
    fn broken_frames_say_how_much_to_skip() {
        assert_eq!(
            decode(&[0x00, 0x00, 0xFF, 0x03]),
            Err(FrameError::Incomplete)
        );
        let bad_len = [0x00, 0x00, 0xFF, 0x03, 0xFC, 0xD4, 0x14, 0x01, 0x17, 0x00];
        assert!(matches!(
            decode(&bad_len),
            Err(FrameError::LengthChecksum { .. })
        ));
        let bad_data = [0x00, 0x00, 0xFF, 0x03, 0xFD, 0xD4, 0x14, 0x01, 0x18, 0x00];
        assert_eq!(decode(&bad_data), Err(FrameError::DataChecksum { skip: 9 }));
    }

    proptest! {
        #[test]
        fn any_body_round_trips(body in proptest::collection::vec(any::<u8>(), 1..MAX_BODY), tfi in any::<u8>()) {
            let mut out = [0u8; MAX_FRAME];
            let n = encode(tfi, &body, &mut out).expect("encode");
            prop_assert_eq!(decode(&out[..n]), Ok((Frame::Info { tfi, body: &body }, n)));
        }

        #[test]
        fn any_bytes_decode_or_fail_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            match decode(&bytes) {
                Ok((_, used)) => prop_assert!(used <= bytes.len()),
                Err(FrameError::LengthChecksum { skip } | FrameError::DataChecksum { skip } | FrameError::Length { skip }) => {
                    prop_assert!(skip > 0 && skip <= bytes.len() + 1)
                }
                Err(_) => {}
            }
        }
    }
}
