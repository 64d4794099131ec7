//! The financial requests of the CUP POS dialect, built the one way the acquirer expects them
//! (processing code, 22, 25, 60.1 per transaction; notes/payments-cup-emv.md §2.4). The online
//! layer adds STAN, terminal and merchant ids and the MAC.

use alloc::format;
use alloc::string::String;

use pos_hal::{Amount, EncryptedPinBlock, Pan, PinBlockFormat};

use crate::iso8583::spec::Dialect;
use crate::iso8583::{CodecError, Message, Mti};

/// How the card was read (field 22, first two digits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Entry {
    /// Key entry.
    Manual,
    /// Magnetic stripe.
    Swiped,
    /// Contact chip.
    Inserted,
    /// Contactless.
    Tapped,
    /// Swiped after the chip could not be read.
    Fallback,
}

impl Entry {
    const fn code(self) -> &'static str {
        match self {
            Entry::Manual => "01",
            Entry::Swiped => "02",
            Entry::Inserted => "05",
            Entry::Tapped => "07",
            Entry::Fallback => "80",
        }
    }
}

/// The card side of a request.
#[derive(Debug, Clone, Copy)]
pub struct Card<'a> {
    /// The card number (field 2).
    pub pan: &'a Pan,
    /// How it was read.
    pub entry: Entry,
    /// Track 2 as the acquirer wants it (clear, or encrypted with the TDK), for swiped cards.
    pub track2: Option<&'a str>,
    /// The online PIN block, when the cardholder entered one.
    pub pin: Option<&'a EncryptedPinBlock>,
    /// Chip data for the issuer (field 55, BER-TLV from the EMV kernel).
    pub icc: Option<&'a [u8]>,
    /// PAN sequence number (field 23), for chip cards.
    pub sequence: Option<u8>,
}

impl<'a> Card<'a> {
    /// A card read by `entry`, without track data or PIN.
    pub fn new(pan: &'a Pan, entry: Entry) -> Self {
        Self {
            pan,
            entry,
            track2: None,
            pin: None,
            icc: None,
            sequence: None,
        }
    }
    /// With chip data (field 55) and the PAN sequence number (field 23).
    pub fn with_icc(mut self, data: &'a [u8], sequence: Option<u8>) -> Self {
        self.icc = Some(data);
        self.sequence = sequence;
        self
    }
    /// With track 2 (field 35).
    pub fn with_track2(mut self, track2: &'a str) -> Self {
        self.track2 = Some(track2);
        self
    }
    /// With an online PIN (field 52; field 53 says ISO format 0, TDES).
    pub fn with_pin(mut self, pin: &'a EncryptedPinBlock) -> Self {
        self.pin = Some(pin);
        self
    }
}

/// What the original of a void, refund, completion or cancel was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Original {
    /// Its RRN (field 37).
    pub rrn: String,
    /// Its authorisation code (field 38), for completions.
    pub auth: Option<String>,
    /// Batch and STAN (field 61), when known.
    pub batch_stan: Option<(u32, u32)>,
    /// Its date `MMDD` (field 61 after batch and STAN; zeros stand for those when unknown),
    /// for refunds.
    pub date: Option<String>,
}

fn base(
    mti: Mti,
    proc: &str,
    t60: &str,
    card: &Card<'_>,
    amount: Option<Amount>,
    condition: &str,
    batch: u32,
) -> Result<Message<'static>, CodecError> {
    let mut m = Message::new(mti);
    m.set_text(2, String::from(card.pan.reveal()))?;
    m.set_text(3, String::from(proc))?;
    if let Some(a) = amount {
        m.set_amount(a)?;
    }
    let pin_digit = if card.pin.is_some() { "1" } else { "2" };
    m.set_text(22, format!("{}{pin_digit}", card.entry.code()))?;
    if let Some(n) = card.sequence {
        m.set_text(23, format!("{n:03}"))?;
    }
    m.set_text(25, String::from(condition))?;
    if let Some(t2) = card.track2 {
        m.set_text(35, String::from(t2))?;
    }
    m.set_text(49, "156")?;
    if let Some(pin) = card.pin {
        // 53: PIN format 2 (ISO format 0, with the PAN), then the algorithm: 6 double-length
        // TDES; 4 SM4, whose 16-byte block needs the SM dialect's field 52.
        let sm4 = pin.format == PinBlockFormat::Iso0Sm4;
        if sm4 {
            m.set_dialect(Dialect::CupSm4);
        }
        m.set_bytes(52, pin.reveal().to_vec())?;
        m.set_text(
            53,
            if sm4 {
                "2400000000000000"
            } else {
                "2600000000000000"
            },
        )?;
    }
    if let Some(icc) = card.icc {
        m.set_bytes(55, icc.to_vec())?;
    }
    m.set_text(60, format!("{t60}{batch:06}000"))?;
    Ok(m)
}

fn with_original(
    mut m: Message<'static>,
    original: &Original,
) -> Result<Message<'static>, CodecError> {
    // A completion or cancel names its pre-authorisation by code and date, not by RRN.
    if !original.rrn.is_empty() {
        m.set_text(37, original.rrn.clone())?;
    }
    if let Some(auth) = &original.auth {
        m.set_text(38, auth.clone())?;
    }
    let date = original.date.as_deref().unwrap_or("");
    match original.batch_stan {
        Some((batch, stan)) => m.set_text(61, format!("{batch:06}{stan:06}{date}"))?,
        None if !date.is_empty() => m.set_text(61, format!("{:012}{date}", 0))?,
        None => &mut m,
    };
    Ok(m)
}

/// Sale (消费): 0200, 000000, 60.1 = 22.
///
/// ```
/// use pos_hal::{Amount, Pan};
/// use pos_terminal::requests::{Card, Entry, sale};
/// let pan = Pan::parse("6212345678901232")?;
/// let m = sale(&Card::new(&pan, Entry::Inserted), Amount::from_minor(5000)?, 1)?;
/// assert_eq!(m.string(22)?.as_deref(), Some("052"));
/// assert_eq!(m.string(60)?.as_deref(), Some("22000001000"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn sale(card: &Card<'_>, amount: Amount, batch: u32) -> Result<Message<'static>, CodecError> {
    base(
        Mti::FINANCIAL_REQUEST,
        "000000",
        "22",
        card,
        Some(amount),
        "00",
        batch,
    )
}

/// An electronic cash sale (电子现金消费) the card approved offline, as the journal keeps it
/// and the settlement uploads it: 0200, 000000, 60.1 = 36 (this project's dialect for
/// "offline EC"; field 55 carries the TC).
///
/// ```
/// use pos_hal::{Amount, Pan};
/// use pos_terminal::requests::{Card, Entry, ec_sale};
/// let pan = Pan::parse("6212345678901232")?;
/// let m = ec_sale(&Card::new(&pan, Entry::Inserted), Amount::from_minor(3000)?, 1)?;
/// assert_eq!(m.string(60)?.as_deref(), Some("36000001000"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn ec_sale(
    card: &Card<'_>,
    amount: Amount,
    batch: u32,
) -> Result<Message<'static>, CodecError> {
    base(
        Mti::FINANCIAL_REQUEST,
        "000000",
        "36",
        card,
        Some(amount),
        "00",
        batch,
    )
}

/// Issuer script result advice (脚本处理结果通知, notes/payments-cup-emv.md §2.3): 0620, no
/// MAC, 60 = `00` + batch + `951`, telling the host how the scripts of its answer to
/// `original` ran on the card: field 55 carries the script-advice tags of `icc` (DF31 with
/// each script's result and id). The card number, amount, entry mode and the original's RRN
/// (37) identify the transaction; no track data, no PIN block.
///
/// ```
/// use pos_hal::{Amount, Pan};
/// use pos_terminal::requests::{Card, Entry, sale, script_advice};
/// let pan = Pan::parse("6212345678901232")?;
/// let mut original = sale(&Card::new(&pan, Entry::Inserted), Amount::from_minor(1234)?, 1)?;
/// original.set_text(37, "000000000042")?;
/// let icc = [0xDF, 0x31, 0x05, 0x20, 0, 0, 0, 7];
/// let m = script_advice(&original, &icc, 1)?;
/// assert_eq!(m.mti().to_string(), "0620");
/// assert_eq!(m.string(60)?.as_deref(), Some("00000001951"));
/// assert_eq!(m.string(37)?.as_deref(), Some("000000000042"));
/// assert!(!m.has(52) && !m.has(35));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn script_advice(
    original: &Message<'_>,
    icc: &[u8],
    batch: u32,
) -> Result<Message<'static>, CodecError> {
    let mut m = Message::new(Mti::SCRIPT_ADVICE);
    for n in [2u8, 3, 4, 22, 23, 37, 49] {
        if let Some(v) = original.string(n)? {
            m.set_text(n, v)?;
        }
    }
    m.set_bytes(55, crate::online::icc_subset(icc, &SCRIPT_ADVICE_TAGS))?;
    m.set_text(60, format!("00{batch:06}951"))?;
    Ok(m)
}

/// The tags of field 55 in a script result advice (CUP).
pub const SCRIPT_ADVICE_TAGS: [u32; 11] = [
    0x9F33, 0x95, 0x9F37, 0x9F1E, 0x9F10, 0x9F26, 0x9F36, 0x82, 0xDF31, 0x9F1A, 0x9A,
];

/// Scan-code payment (扫码支付, the terminal scanned the customer's payment code): 0200,
/// 000000, no card number; 22 = `032` (scanned, no PIN), the code in field 59, 60.1 = 22.
/// Field 59 is this project's choice — the acquirer's scan-code dialect names its own field.
///
/// ```
/// use pos_hal::Amount;
/// let m = pos_terminal::requests::scan_sale("6225880123456789012", Amount::from_minor(1200)?, 1)?;
/// assert_eq!(m.string(22)?.as_deref(), Some("032"));
/// assert_eq!(m.string(59)?.as_deref(), Some("6225880123456789012"));
/// assert!(m.text(2)?.is_none());
/// assert!(!format!("{m:?}").contains("6225880123456789012"), "the code is not logged");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn scan_sale(code: &str, amount: Amount, batch: u32) -> Result<Message<'static>, CodecError> {
    let mut m = Message::new(Mti::FINANCIAL_REQUEST);
    m.set_text(3, String::from("000000"))?;
    m.set_amount(amount)?;
    m.set_text(22, String::from("032"))?;
    m.set_text(25, String::from("00"))?;
    m.set_text(49, "156")?;
    m.set_text(59, String::from(code))?;
    m.set_text(60, format!("22{batch:06}000"))?;
    Ok(m)
}

fn order_message(
    proc: &str,
    amount: Option<Amount>,
    f59: String,
    batch: u32,
) -> Result<Message<'static>, CodecError> {
    let mut m = Message::new(Mti::FINANCIAL_REQUEST);
    m.set_text(3, String::from(proc))?;
    if let Some(a) = amount {
        m.set_amount(a)?;
    }
    m.set_text(22, String::from("031"))?;
    m.set_text(25, String::from("00"))?;
    m.set_text(49, "156")?;
    m.set_text(59, f59)?;
    m.set_text(60, format!("22{batch:06}000"))?;
    Ok(m)
}

/// The terminal's QR order for `amount` (扫码支付, the customer scans the terminal): 0200,
/// processing code 330000 (moves no money, not in the totals), 22 = `031`, 59 = `ORDER`. The
/// answer carries the order id in 37 and the QR payload in 59 (this project's dialect).
pub fn order_create(amount: Amount, batch: u32) -> Result<Message<'static>, CodecError> {
    order_message("330000", Some(amount), String::from("ORDER"), batch)
}

/// Asks whether order `id` is paid: 0200, 000000 (a sale when approved: the host books it
/// then, once), 59 = `QUERY:<id>`. `Q1` answers "not paid yet".
///
/// ```
/// use pos_hal::Amount;
/// let m = pos_terminal::requests::order_query("900000000001", Amount::from_minor(500)?, 1)?;
/// assert_eq!(m.processing_code()?.as_deref(), Some("000000"));
/// assert_eq!(m.string(59)?.as_deref(), Some("QUERY:900000000001"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn order_query(id: &str, amount: Amount, batch: u32) -> Result<Message<'static>, CodecError> {
    order_message("000000", Some(amount), format!("QUERY:{id}"), batch)
}

/// Closes order `id` nobody paid: 0200, 340000, 59 = `CLOSE:<id>`; a late payment is refused.
pub fn order_close(id: &str, batch: u32) -> Result<Message<'static>, CodecError> {
    order_message("340000", None, format!("CLOSE:{id}"), batch)
}

/// A balance from field 54 of a balance inquiry's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountBalance {
    /// The amount.
    pub amount: Amount,
    /// `D`: the account is overdrawn by `amount`.
    pub overdrawn: bool,
}

/// The balance in field 54: account type (2), amount type (2), currency (3), sign `C`/`D`,
/// amount (12). `None` when the field is absent or malformed.
///
/// ```
/// use pos_terminal::iso8583::{Message, Mti};
/// use pos_terminal::requests::available_balance;
/// let mut m = Message::new(Mti::FINANCIAL_REQUEST);
/// m.set_text(54, "1002156D000000000250").unwrap();
/// let b = available_balance(&m).unwrap();
/// assert_eq!((b.amount.to_string().as_str(), b.overdrawn), ("2.50", true));
/// ```
pub fn available_balance(answer: &Message<'_>) -> Option<AccountBalance> {
    let text = answer.string(54).ok()??;
    let overdrawn = match text.get(7..8)? {
        "C" => false,
        "D" => true,
        _ => return None,
    };
    let digits = text.get(8..20)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(AccountBalance {
        amount: Amount::from_minor(digits.parse().ok()?).ok()?,
        overdrawn,
    })
}

/// Balance inquiry (余额查询): 0200, 310000, 60.1 = 01.
pub fn balance(card: &Card<'_>, batch: u32) -> Result<Message<'static>, CodecError> {
    base(
        Mti::FINANCIAL_REQUEST,
        "310000",
        "01",
        card,
        None,
        "00",
        batch,
    )
}

/// Void of a sale in this batch (消费撤销): 0200, 200000, 60.1 = 23, the sale's RRN.
pub fn void(
    card: &Card<'_>,
    amount: Amount,
    batch: u32,
    original: &Original,
) -> Result<Message<'static>, CodecError> {
    with_original(
        base(
            Mti::FINANCIAL_REQUEST,
            "200000",
            "23",
            card,
            Some(amount),
            "00",
            batch,
        )?,
        original,
    )
}

/// Refund (退货): 0220, 200000, 60.1 = 25, the sale's RRN.
pub fn refund(
    card: &Card<'_>,
    amount: Amount,
    batch: u32,
    original: &Original,
) -> Result<Message<'static>, CodecError> {
    with_original(
        base(
            Mti::FINANCIAL_ADVICE,
            "200000",
            "25",
            card,
            Some(amount),
            "00",
            batch,
        )?,
        original,
    )
}

/// Pre-authorisation (预授权): 0100, 030000, 25 = 06, 60.1 = 10.
pub fn preauth(
    card: &Card<'_>,
    amount: Amount,
    batch: u32,
) -> Result<Message<'static>, CodecError> {
    base(
        Mti::AUTH_REQUEST,
        "030000",
        "10",
        card,
        Some(amount),
        "06",
        batch,
    )
}

/// Pre-authorisation cancel (预授权撤销): 0100, 200000, 25 = 06, 60.1 = 11, its RRN.
pub fn preauth_cancel(
    card: &Card<'_>,
    amount: Amount,
    batch: u32,
    original: &Original,
) -> Result<Message<'static>, CodecError> {
    with_original(
        base(
            Mti::AUTH_REQUEST,
            "200000",
            "11",
            card,
            Some(amount),
            "06",
            batch,
        )?,
        original,
    )
}

/// Pre-authorisation completion (预授权完成): 0200, 000000, 25 = 06, 60.1 = 20, its auth code.
pub fn completion(
    card: &Card<'_>,
    amount: Amount,
    batch: u32,
    original: &Original,
) -> Result<Message<'static>, CodecError> {
    with_original(
        base(
            Mti::FINANCIAL_REQUEST,
            "000000",
            "20",
            card,
            Some(amount),
            "06",
            batch,
        )?,
        original,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn with_54(text: &str) -> Message<'static> {
        let mut m = Message::new(Mti::FINANCIAL_REQUEST);
        m.set_text(54, alloc::string::String::from(text))
            .expect("fits");
        m
    }

    #[test]
    fn the_balance_and_its_sign_are_read_and_malformed_fields_give_none() {
        let b = available_balance(&with_54("1002156C000000012345")).expect("balance");
        assert_eq!((b.amount.minor(), b.overdrawn), (12_345, false));
        assert_eq!(
            available_balance(&with_54("1002156X000000012345")),
            None,
            "sign"
        );
        assert_eq!(
            available_balance(&with_54("1002156C00000001234A")),
            None,
            "digits"
        );
        assert_eq!(available_balance(&with_54("1002156C")), None, "short");
        assert_eq!(
            available_balance(&Message::new(Mti::FINANCIAL_REQUEST)),
            None
        );
    }

    proptest! {
        #[test]
        fn any_field_54_is_read_without_panicking(text in "[ -~]{0,20}") {
            let _ = available_balance(&with_54(&text));
        }
    }
}
