//! What a journal record was, read back from its stripped request: the kind of transaction,
//! the card (masked), the amount, where it stands. One reading for the records query
//! (交易查询), reprints and the settlement's transaction list.

use alloc::string::String;

use pos_hal::{Amount, Pan};

use crate::iso8583::Message;
use crate::journal::{Outcome, Record};

/// The transaction kind of a journaled request, bilingual (`消费 SALE`); `None` for requests
/// that are no transaction of their own (QR order create/close).
///
/// ```
/// use pos_terminal::records::kind_of;
/// use pos_terminal::iso8583::{Message, Mti};
/// let mut m = Message::new(Mti::FINANCIAL_REQUEST);
/// m.set_text(3, "200000")?;
/// assert_eq!(kind_of(&m), Some("消费撤销 VOID"));
/// # Ok::<(), pos_terminal::iso8583::CodecError>(())
/// ```
pub fn kind_of(request: &Message<'_>) -> Option<&'static str> {
    let text = |n| request.string(n).ok().flatten().unwrap_or_default();
    let t60 = text(60);
    let entry = text(22);
    Some(
        match (request.mti().as_str(), text(3).as_str(), t60.get(..2)) {
            ("0200", "000000", _) if entry.starts_with("03") => "扫码支付 SCAN PAY",
            ("0200", "000000", Some("20")) => "预授权完成 AUTH COMPLETE",
            ("0200", "000000", Some("36")) => "电子现金消费 EC SALE",
            ("0200", "000000", _) => "消费 SALE",
            ("0200", "200000", _) => "消费撤销 VOID",
            ("0200", "310000", _) => "余额查询 BALANCE",
            ("0220", _, _) => "退货 REFUND",
            ("0100", "030000", _) => "预授权 PRE-AUTH",
            ("0100", "200000", _) => "预授权撤销 PRE-AUTH CANCEL",
            _ => return None,
        },
    )
}

/// How the card was read (the slip's letter): `刷卡 S`, `挥卡 C`, `插卡 I`, `扫码 Q`.
pub fn entry_of(request: &Message<'_>) -> &'static str {
    match request
        .string(22)
        .ok()
        .flatten()
        .as_deref()
        .and_then(|e| e.get(..2))
    {
        Some("02") | Some("80") => "刷卡 S",
        Some("07") => "挥卡 C",
        Some("03") => "扫码 Q",
        _ => "插卡 I",
    }
}

/// Where a record stands, for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Standing {
    /// Approved.
    Approved,
    /// Declined with this response code.
    Declined(String),
    /// Sent, answer not known yet (power lost while waiting).
    Pending,
    /// Outcome unknown: its reversal is queued.
    Reversing,
    /// Reversed.
    Reversed,
    /// Approved, then cancelled by an approved void of the same batch.
    Voided,
    /// An inquiry the host did not answer (nothing to reverse).
    Unanswered,
}

impl core::fmt::Display for Standing {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Standing::Approved => f.write_str("成功 APPROVED"),
            Standing::Declined(rc) => write!(f, "拒绝 DECLINED {rc}"),
            Standing::Pending => f.write_str("未知 PENDING"),
            Standing::Reversing => f.write_str("待冲正 TO BE REVERSED"),
            Standing::Reversed => f.write_str("已冲正 REVERSED"),
            Standing::Voided => f.write_str("已撤销 VOIDED"),
            Standing::Unanswered => f.write_str("无应答 NO ANSWER"),
        }
    }
}

/// One record as the records query shows it: nothing in it is secret (the card is masked
/// 6+4, a payment code 4+4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSummary {
    /// The voucher number.
    pub voucher: u32,
    /// The batch.
    pub batch: u32,
    /// The kind, bilingual.
    pub kind: &'static str,
    /// How the card was read.
    pub entry: &'static str,
    /// The card (masked) or payment code (masked); empty when the request named none.
    pub card: String,
    /// The amount (zero for a balance inquiry).
    pub amount: Amount,
    /// Where it stands.
    pub standing: Standing,
    /// Reference number (37) and authorisation code (38) of an approval.
    pub rrn: String,
    /// Authorisation code.
    pub auth: String,
    /// When it was written (Unix seconds), when the journal keeps it.
    pub created: Option<u64>,
}

impl RecordSummary {
    /// Reads a record; `None` when its request does not unpack or is no transaction.
    pub fn of(record: &Record) -> Option<Self> {
        let request = Message::unpack(&record.request).ok()?;
        let kind = kind_of(&request)?;
        let text = |n| request.string(n).ok().flatten().unwrap_or_default();
        let card = match Pan::parse(&text(2)) {
            Ok(pan) => alloc::format!("{pan}"),
            // The journal keeps a scanned payment code masked already (59).
            Err(_) if kind == "扫码支付 SCAN PAY" => crate::slip::mask_payment_code(&text(59)),
            Err(_) => String::new(),
        };
        let (standing, rrn, auth) = match &record.outcome {
            Outcome::Approved { rrn, auth, .. } => (Standing::Approved, rrn.clone(), auth.clone()),
            Outcome::Declined { rc } => {
                (Standing::Declined(rc.clone()), String::new(), String::new())
            }
            Outcome::Pending => (Standing::Pending, String::new(), String::new()),
            Outcome::Unknown(_) => (Standing::Reversing, String::new(), String::new()),
            Outcome::Reversed => (Standing::Reversed, String::new(), String::new()),
            Outcome::Unanswered => (Standing::Unanswered, String::new(), String::new()),
        };
        Some(Self {
            voucher: record.voucher,
            batch: record.batch,
            kind,
            entry: entry_of(&request),
            card,
            amount: request.amount().ok().flatten().unwrap_or(Amount::ZERO),
            standing,
            rrn,
            auth,
            created: record.created,
        })
    }
}

/// A batch's records read back ([`RecordSummary::of`]), the sales an approved void cancelled
/// marked [`Standing::Voided`] (the void names its original by batch and STAN in field 61).
pub fn summarize(records: &[Record]) -> alloc::vec::Vec<RecordSummary> {
    let voided: alloc::vec::Vec<(u32, u32)> = records
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Approved { .. }))
        .filter_map(|r| {
            let m = Message::unpack(&r.request).ok()?;
            if kind_of(&m)? != "消费撤销 VOID" {
                return None;
            }
            let f61 = m.string(61).ok().flatten()?;
            Some((f61.get(..6)?.parse().ok()?, f61.get(6..12)?.parse().ok()?))
        })
        .collect();
    records
        .iter()
        .filter_map(|r| {
            let mut s = RecordSummary::of(r)?;
            if s.standing == Standing::Approved
                && s.kind != "消费撤销 VOID"
                && voided.contains(&(r.batch, r.stan))
            {
                s.standing = Standing::Voided;
            }
            Some(s)
        })
        .collect()
}

impl core::fmt::Display for RecordSummary {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "凭证号 VOUCHER {:06}  {}\n{}\nRMB {}\n{}",
            self.voucher, self.kind, self.card, self.amount, self.standing
        )?;
        if !self.auth.is_empty() {
            write!(f, "\n授权码 AUTH {}", self.auth)?;
        }
        if !self.rrn.is_empty() {
            write!(f, "  参考号 REF {}", self.rrn)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iso8583::Mti;

    fn record(msg: &Message<'_>, outcome: Outcome) -> Record {
        Record::new(1, 11, 2, 7, msg.pack().expect("packs"), outcome)
    }

    #[test]
    fn a_sale_reads_back_masked_with_its_codes() {
        let mut m = Message::new(Mti::FINANCIAL_REQUEST);
        m.set_text(2, "6212345678901232").expect("test value");
        m.set_text(3, "000000").expect("test value");
        m.set_amount(Amount::from_minor(5000).expect("test value"))
            .expect("test value");
        m.set_text(22, "021").expect("test value");
        m.set_text(60, "22000002000").expect("test value");
        let r = record(
            &m,
            Outcome::Approved {
                rrn: "000000000042".into(),
                auth: "123456".into(),
                host_time: String::new(),
            },
        );
        let s = RecordSummary::of(&r).expect("summary");
        assert_eq!(s.kind, "消费 SALE");
        assert_eq!(s.entry, "刷卡 S");
        assert_eq!(s.card, "621234******1232");
        assert_eq!(s.standing, Standing::Approved);
        let text = alloc::format!("{s}");
        assert!(
            text.contains("VOUCHER 000007") && text.contains("50.00"),
            "{text}"
        );
        assert!(!text.contains("6212345678901232"), "{text}");
    }

    #[test]
    fn a_sale_cancelled_by_an_approved_void_reads_back_voided() {
        let approved = || Outcome::Approved {
            rrn: "000000000042".into(),
            auth: "123456".into(),
            host_time: String::new(),
        };
        let mut sale = Message::new(Mti::FINANCIAL_REQUEST);
        sale.set_text(2, "6212345678901232").expect("test value");
        sale.set_text(3, "000000").expect("test value");
        sale.set_text(60, "22000002000").expect("test value");
        let mut void = Message::new(Mti::FINANCIAL_REQUEST);
        void.set_text(2, "6212345678901232").expect("test value");
        void.set_text(3, "200000").expect("test value");
        void.set_text(60, "23000002000").expect("test value");
        void.set_text(61, "0000020000110201").expect("test value");
        let records = [
            Record::new(1, 11, 2, 1, sale.pack().expect("packs"), approved()),
            Record::new(2, 12, 2, 2, sale.pack().expect("packs"), approved()),
            Record::new(3, 13, 2, 3, void.pack().expect("packs"), approved()),
        ];
        let s = summarize(&records);
        assert_eq!(
            s[0].standing,
            Standing::Voided,
            "STAN 11 of batch 2 was voided"
        );
        assert_eq!(s[1].standing, Standing::Approved);
        assert_eq!(s[2].standing, Standing::Approved, "the void itself stands");
        assert!(alloc::format!("{}", s[0]).contains("已撤销 VOIDED"));
    }

    #[test]
    fn garbage_and_order_management_are_no_record_to_show() {
        let r = Record::new(1, 1, 1, 1, alloc::vec![0xff, 0x00, 0x12], Outcome::Pending);
        assert_eq!(RecordSummary::of(&r), None);
        let mut m = Message::new(Mti::FINANCIAL_REQUEST);
        m.set_text(3, "330000").expect("test value");
        assert_eq!(RecordSummary::of(&record(&m, Outcome::Pending)), None);
    }
}
