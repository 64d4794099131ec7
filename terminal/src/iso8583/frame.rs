//! The frame around a message: 2-byte length, TPDU, 6-byte header.

use alloc::vec::Vec;

use super::error::{CodecError, CodecErrorKind as K};
use super::message::Message;
use super::spec::Dialect;

/// What the host asks for in the low nibble of header byte 2 of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostRequest {
    /// Nothing.
    None,
    /// Download magstripe parameters.
    DownloadParameters,
    /// Upload terminal status.
    UploadStatus,
    /// Sign in again (new working keys).
    SignInAgain,
    /// Update the CA public keys.
    UpdateCapks,
    /// Download IC parameters.
    DownloadIcParameters,
    /// TMS download.
    TmsDownload,
    /// Card BIN blacklist.
    BinBlacklist,
    /// Another code.
    Other(u8),
}

/// TPDU and header of a message.
///
/// ```
/// use pos_terminal::iso8583::{Frame, HostRequest};
/// let request = Frame::new([0x60, 0x00, 0x03, 0x00, 0x00], [0x60, 0x31, 0x00, 0x31, 0x00, 0x00]);
/// let reply = request.reply_frame();
/// assert_eq!(reply.tpdu, [0x60, 0x00, 0x00, 0x00, 0x03]);
/// let mut demanding = reply;
/// demanding.header[2] = 0x03;
/// assert_eq!(demanding.host_request(), HostRequest::SignInAgain);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    /// `60` + destination (2) + source (2).
    pub tpdu: [u8; 5],
    /// Application class, version, status|request, sub-version.
    pub header: [u8; 6],
}

/// TPDU + header bytes.
const HEAD: usize = 11;

impl Frame {
    /// A frame with this TPDU and header.
    pub const fn new(tpdu: [u8; 5], header: [u8; 6]) -> Self {
        Self { tpdu, header }
    }

    /// The frame a host answers with: destination and source swapped.
    pub fn reply_frame(&self) -> Self {
        let t = self.tpdu;
        Self {
            tpdu: [t[0], t[3], t[4], t[1], t[2]],
            header: self.header,
        }
    }

    /// What the host asks the terminal to do after this transaction.
    pub fn host_request(&self) -> HostRequest {
        match self.header[2] & 0x0F {
            0 => HostRequest::None,
            1 => HostRequest::DownloadParameters,
            2 => HostRequest::UploadStatus,
            3 => HostRequest::SignInAgain,
            4 => HostRequest::UpdateCapks,
            5 => HostRequest::DownloadIcParameters,
            6 => HostRequest::TmsDownload,
            7 => HostRequest::BinBlacklist,
            n => HostRequest::Other(n),
        }
    }

    /// TPDU + header + message, without the length prefix (what a [`HostLink`](crate::host::HostLink) carries).
    pub fn encode_payload(&self, message: &Message<'_>) -> Result<Vec<u8>, CodecError> {
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(&self.tpdu);
        out.extend_from_slice(&self.header);
        message.pack_into(&mut out).map_err(|e| CodecError {
            offset: e.offset + HEAD,
            ..e
        })?;
        Ok(out)
    }

    /// Like [`encode_payload`](Self::encode_payload), with field 64 set to the MAC that `mac`
    /// computes over MTI..field 63 (the bitmap already has bit 64 set).
    pub fn encode_payload_with_mac(
        &self,
        message: &mut Message<'_>,
        mac: impl FnOnce(&[u8]) -> [u8; 8],
    ) -> Result<Vec<u8>, CodecError> {
        message.set_bytes(64, alloc::vec![0u8; 8])?;
        let mut out = self.encode_payload(message)?;
        let end = out.len();
        let value = mac(&out[HEAD..end - 8]);
        out[end - 8..].copy_from_slice(&value);
        message.set_bytes(64, value.to_vec())?;
        Ok(out)
    }

    /// Length prefix + payload.
    pub fn encode(&self, message: &Message<'_>) -> Result<Vec<u8>, CodecError> {
        let payload = self.encode_payload(message)?;
        let len = u16::try_from(payload.len()).map_err(|_| {
            CodecError::at(
                None,
                0,
                K::TooLong {
                    len: payload.len(),
                    max: 0xFFFF,
                },
            )
        })?;
        let mut out = Vec::with_capacity(payload.len() + 2);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&payload);
        Ok(out)
    }

    /// Splits a payload (no length prefix) into frame and message ([`Dialect::Cup`]).
    pub fn decode_payload(bytes: &[u8]) -> Result<(Frame, Message<'_>), CodecError> {
        Self::decode_payload_in(bytes, Dialect::Cup)
    }

    /// Splits a payload of `dialect` into frame and message.
    pub fn decode_payload_in(
        bytes: &[u8],
        dialect: Dialect,
    ) -> Result<(Frame, Message<'_>), CodecError> {
        if bytes.len() < HEAD {
            return Err(CodecError::at(
                None,
                bytes.len(),
                K::Truncated {
                    needed: HEAD - bytes.len(),
                },
            ));
        }
        let mut tpdu = [0; 5];
        tpdu.copy_from_slice(&bytes[..5]);
        let mut header = [0; 6];
        header.copy_from_slice(&bytes[5..HEAD]);
        let message = Message::unpack_in(&bytes[HEAD..], dialect).map_err(|e| CodecError {
            offset: e.offset + HEAD,
            ..e
        })?;
        Ok((Frame { tpdu, header }, message))
    }

    /// Splits a length-prefixed frame; the prefix must match the bytes present.
    pub fn decode(bytes: &[u8]) -> Result<(Frame, Message<'_>), CodecError> {
        let prefix = bytes.get(..2).ok_or_else(|| {
            CodecError::at(
                None,
                0,
                K::Truncated {
                    needed: 2 - bytes.len(),
                },
            )
        })?;
        let declared = usize::from(u16::from_be_bytes([prefix[0], prefix[1]]));
        let actual = bytes.len() - 2;
        if declared != actual {
            return Err(CodecError::at(None, 0, K::FrameLength { declared, actual }));
        }
        let (frame, message) = Self::decode_payload(&bytes[2..]).map_err(|e| CodecError {
            offset: e.offset + 2,
            ..e
        })?;
        Ok((frame, message))
    }

    /// The MAC input of a payload produced by [`encode_payload_with_mac`](Self::encode_payload_with_mac)
    /// or received: MTI..field 63, and the received MAC. `None` when the payload is too short.
    pub fn mac_parts(payload: &[u8]) -> Option<(&[u8], &[u8])> {
        let body = payload.get(HEAD..)?;
        let split = body.len().checked_sub(8)?;
        Some(body.split_at(split))
    }
}
