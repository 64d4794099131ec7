//! Reading a payment card's applications and PAN over any [`IccReader`].
//!
//! This is the minimum an integrator needs to see that a reader and card work. The EMV kernel
//! in `pos-terminal` does the full job (risk management, CVM, cryptograms).

use pos_hal::tlv::{self, TlvError, TlvIter};
use pos_hal::{Apdu, CardChannel, ErrorKind, IccReader, Pan, StatusWord, Track2};

/// A payment application found on the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    /// AID.
    pub aid: Vec<u8>,
    /// Label (tag 50), if any.
    pub label: String,
    /// Priority (tag 87), 15 when absent.
    pub priority: u8,
}

/// What `read` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardInfo {
    /// Applications in directory order.
    pub applications: Vec<Application>,
    /// Where they came from: `"PSE"` or `"PPSE"`.
    pub directory: &'static str,
    /// The PAN of the first application.
    pub pan: Option<Pan>,
    /// Expiry `YYMM`, if read.
    pub expiry: Option<String>,
}

/// Why a card could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError<E: pos_hal::Error + std::fmt::Display> {
    /// The reader failed.
    #[error("reader: {0}")]
    Reader(E),
    /// The card answered with malformed TLV.
    #[error("card sent malformed TLV: {0}")]
    Tlv(#[from] TlvError),
    /// A command was refused.
    #[error("{command} refused with {sw}")]
    Refused {
        /// The command.
        command: &'static str,
        /// Its status word.
        sw: StatusWord,
    },
    /// The card's AFL names an invalid SFI/record range, or more records than any payment
    /// card has (a card that would keep the terminal reading).
    #[error("card's AFL is invalid or asks for more than {MAX_RECORDS} records")]
    BadAfl,
    /// Neither PSE nor PPSE lists an application.
    #[error("no payment application found (neither PSE nor PPSE)")]
    NoApplication,
}

impl<E: pos_hal::Error + std::fmt::Display> ReadError<E> {
    /// The kind, for callers that only care about that.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ReadError::Reader(e) => e.kind(),
            _ => ErrorKind::Protocol,
        }
    }
}

const PSE: &[u8] = b"1PAY.SYS.DDF01";
const PPSE: &[u8] = b"2PAY.SYS.DDF01";

struct Session<'a, R: CardChannel + ?Sized> {
    reader: &'a mut R,
    buf: Vec<u8>,
}

impl<R: CardChannel + ?Sized> Session<'_, R>
where
    R::Error: std::fmt::Display,
{
    fn send(&mut self, apdu: Apdu<'_>) -> Result<(Vec<u8>, StatusWord), ReadError<R::Error>> {
        let r = self
            .reader
            .transmit(&apdu, &mut self.buf)
            .map_err(ReadError::Reader)?;
        Ok((r.data.to_vec(), r.sw))
    }

    fn select(&mut self, name: &[u8]) -> Result<Option<Vec<u8>>, ReadError<R::Error>> {
        let (fci, sw) = self.send(
            Apdu::new(0x00, 0xA4, 0x04, 0x00)
                .with_data(name)
                .with_le(256),
        )?;
        Ok(sw.is_success().then_some(fci))
    }

    fn read_record(&mut self, sfi: u8, record: u8) -> Result<Option<Vec<u8>>, ReadError<R::Error>> {
        let (data, sw) = self.send(Apdu::new(0x00, 0xB2, record, (sfi << 3) | 4).with_le(256))?;
        Ok(sw.is_success().then_some(data))
    }
}

fn directory_entries(bytes: &[u8], out: &mut Vec<Application>) -> Result<(), TlvError> {
    for item in TlvIter::new(bytes) {
        let t = item?;
        if t.tag == 0x61 {
            let aid = tlv::find(t.value, 0x4F)?
                .map(|x| x.value.to_vec())
                .unwrap_or_default();
            let label = tlv::find(t.value, 0x50)?
                .map(|x| String::from_utf8_lossy(x.value).into_owned())
                .unwrap_or_default();
            let priority = tlv::find(t.value, 0x87)?
                .and_then(|x| x.value.first().copied())
                .unwrap_or(15);
            if !aid.is_empty() {
                out.push(Application {
                    aid,
                    label,
                    priority: priority & 0x0F,
                });
            }
        } else if t.is_constructed() {
            directory_entries(t.value, out)?;
        }
    }
    Ok(())
}

/// The data a PDOL asks for, filled with zeros (enough for reading, not for a transaction).
fn pdol_zeros(pdol: &[u8]) -> Vec<u8> {
    let mut len = 0usize;
    let mut i = 0;
    while i < pdol.len() {
        // Tag: 1 byte, or more when the low 5 bits are all set.
        let first = pdol[i];
        i += 1;
        if first & 0x1F == 0x1F {
            while i < pdol.len() && pdol[i] & 0x80 != 0 {
                i += 1;
            }
            i += 1;
        }
        if let Some(l) = pdol.get(i) {
            len += usize::from(*l);
        }
        i += 1;
    }
    vec![0; len]
}

/// The applications a contactless card lists in its PPSE (`2PAY.SYS.DDF01`), in order.
///
/// ```
/// use pos_hal_mock::{IccCall, MockIccReader};
/// let ppse = [0x00, 0xA4, 0x04, 0x00, 0x0E, b'2', b'P', b'A', b'Y', b'.', b'S', b'Y', b'S', b'.', b'D', b'D', b'F', b'0', b'1', 0x00];
/// let fci = [0x6F, 0x13, 0xA5, 0x11, 0xBF, 0x0C, 0x0E, 0x61, 0x0C, 0x4F, 0x08,
///            0xA0, 0x00, 0x00, 0x03, 0x33, 0x01, 0x01, 0x01, 0x87, 0x00, 0x90, 0x00];
/// let mut card = MockIccReader::new([IccCall::transmit(&ppse, &fci)]);
/// let apps = pos_examples::card_info::contactless_applications(&mut card)?;
/// assert_eq!(apps[0].aid, [0xA0, 0x00, 0x00, 0x03, 0x33, 0x01, 0x01, 0x01]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn contactless_applications<C: CardChannel + ?Sized>(
    channel: &mut C,
) -> Result<Vec<Application>, ReadError<C::Error>>
where
    C::Error: std::fmt::Display,
{
    let mut s = Session {
        reader: channel,
        buf: vec![0; 512],
    };
    let mut applications = Vec::new();
    if let Some(fci) = s.select(PPSE)? {
        directory_entries(&fci, &mut applications)?;
    }
    if applications.is_empty() {
        return Err(ReadError::NoApplication);
    }
    Ok(applications)
}

/// Reads the applications, then PAN and expiry of the first one.
///
/// ```
/// use pos_hal_mock::{IccCall, MockIccReader};
/// let mut reader = MockIccReader::new([IccCall::transmit(
///     &[0x00, 0xA4, 0x04, 0x00, 0x0E, b'1', b'P', b'A', b'Y', b'.', b'S', b'Y', b'S', b'.', b'D', b'D', b'F', b'0', b'1', 0x00],
///     &[0x6A, 0x82],
/// ), IccCall::transmit(
///     &[0x00, 0xA4, 0x04, 0x00, 0x0E, b'2', b'P', b'A', b'Y', b'.', b'S', b'Y', b'S', b'.', b'D', b'D', b'F', b'0', b'1', 0x00],
///     &[0x6A, 0x82],
/// )]);
/// let err = pos_examples::card_info::read(&mut reader).unwrap_err();
/// assert_eq!(err.to_string(), "no payment application found (neither PSE nor PPSE)");
/// ```
pub fn read<R: IccReader + ?Sized>(reader: &mut R) -> Result<CardInfo, ReadError<R::Error>>
where
    R::Error: std::fmt::Display,
{
    let mut s = Session {
        reader,
        buf: vec![0; 4096],
    };
    let mut applications = Vec::new();
    let mut directory = "PSE";
    if let Some(fci) = s.select(PSE)? {
        let sfi = tlv::find(&fci, 0x88)?
            .and_then(|t| t.value.first().copied())
            .unwrap_or(1);
        for record in 1..=16 {
            match s.read_record(sfi, record)? {
                Some(data) => directory_entries(&data, &mut applications)?,
                None => break,
            }
        }
    }
    if applications.is_empty() {
        directory = "PPSE";
        if let Some(fci) = s.select(PPSE)? {
            directory_entries(&fci, &mut applications)?;
        }
    }
    let Some(first) = applications.first().cloned() else {
        return Err(ReadError::NoApplication);
    };
    let fci = s.select(&first.aid)?.ok_or(ReadError::Refused {
        command: "SELECT application",
        sw: StatusWord::FILE_NOT_FOUND,
    })?;
    let pdol = tlv::find(&fci, 0x9F38)?
        .map(|t| t.value.to_vec())
        .unwrap_or_default();
    let mut gpo_data = vec![0x83];
    let zeros = pdol_zeros(&pdol);
    gpo_data.push(zeros.len() as u8);
    gpo_data.extend_from_slice(&zeros);
    let (gpo, sw) = s.send(
        Apdu::new(0x80, 0xA8, 0x00, 0x00)
            .with_data(&gpo_data)
            .with_le(256),
    )?;
    if !sw.is_success() {
        return Err(ReadError::Refused {
            command: "GET PROCESSING OPTIONS",
            sw,
        });
    }
    let afl = match tlv::find(&gpo, 0x94)? {
        Some(t) => t.value.to_vec(),
        // Format 1: 80 { AIP(2) AFL… }
        None => tlv::find(&gpo, 0x80)?
            .map(|t| t.value.get(2..).unwrap_or_default().to_vec())
            .unwrap_or_default(),
    };
    let mut pan = None;
    let mut expiry = None;
    'afl: for (sfi, record) in records_to_read(&afl)? {
        {
            let Some(data) = s.read_record(sfi, record)? else {
                continue;
            };
            if pan.is_none() {
                pan = tlv::find(&data, 0x5A)?.and_then(|t| Pan::from_bcd(t.value).ok());
            }
            if let Some(t2) =
                tlv::find(&data, 0x57)?.and_then(|t| Track2::from_equivalent_data(t.value).ok())
            {
                pan = pan.or_else(|| t2.pan().ok());
                expiry = expiry.or_else(|| Some(t2.expiry().to_string()));
            }
            if expiry.is_none() {
                expiry = tlv::find(&data, 0x5F24)?
                    .map(|t| hex::encode_upper(t.value.get(..2).unwrap_or_default()));
            }
            if pan.is_some() && expiry.is_some() {
                break 'afl;
            }
        }
    }
    Ok(CardInfo {
        applications,
        directory,
        pan,
        expiry,
    })
}

/// The most records a terminal reads from one application (EMV cards use well under 20).
pub const MAX_RECORDS: usize = 64;

/// The (SFI, record) pairs an AFL names, checked: 4-byte entries, SFI 1..=30, first record
/// at least 1 and not after the last, at most [`MAX_RECORDS`] in all.
pub fn records_to_read<E: pos_hal::Error + std::fmt::Display>(
    afl: &[u8],
) -> Result<Vec<(u8, u8)>, ReadError<E>> {
    if !afl.len().is_multiple_of(4) {
        return Err(ReadError::BadAfl);
    }
    let mut out = Vec::new();
    for entry in afl.chunks_exact(4) {
        let sfi = entry[0] >> 3;
        let (first, last) = (entry[1], entry[2]);
        if !(1..=30).contains(&sfi) || first == 0 || last < first {
            return Err(ReadError::BadAfl);
        }
        for record in first..=last {
            if out.len() == MAX_RECORDS {
                return Err(ReadError::BadAfl);
            }
            out.push((sfi, record));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    type R = Result<Vec<(u8, u8)>, ReadError<ErrorKind>>;

    #[test]
    fn the_card_cannot_make_the_terminal_read_for_ever() {
        let ok: R = records_to_read(&[0x08, 0x01, 0x02, 0x00, 0x10, 0x01, 0x01, 0x00]);
        assert_eq!(ok.ok(), Some(vec![(1, 1), (1, 2), (2, 1)]));
        // One entry asking for 255 records, or many entries adding up: refused.
        let greedy: R = records_to_read(&[0x08, 0x01, 0xFF, 0x00]);
        assert!(matches!(greedy, Err(ReadError::BadAfl)));
        let many: R = records_to_read(&[0x08, 0x01, 0x20, 0x00].repeat(3));
        assert!(matches!(many, Err(ReadError::BadAfl)));
        for bad in [
            &[0x00, 0x01, 0x01, 0x00][..],
            &[0x08, 0x00, 0x01, 0x00],
            &[0x08, 0x02, 0x01, 0x00],
            &[0x08, 0x01],
        ] {
            let r: R = records_to_read(bad);
            assert!(matches!(r, Err(ReadError::BadAfl)), "{bad:02X?}");
        }
    }

    #[test]
    fn pdol_lengths_add_up() {
        let pdol = hex::decode("9F66049F02069F03069F1A0295055F2A029A039C019F3704").expect("hex");
        assert_eq!(pdol_zeros(&pdol).len(), 4 + 6 + 6 + 2 + 5 + 2 + 3 + 1 + 4);
        assert_eq!(pdol_zeros(&[0x9F]).len(), 0);
    }
}
