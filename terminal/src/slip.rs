//! The two sale slips of a bank-card POS (merchant copy with signature line, cardholder copy),
//! as device-neutral [`Receipt`](pos_hal::Receipt) lines.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use pos_hal::{Amount, CutKind, DateTime, Pan, ReceiptLine, TextSize, TextStyle};

/// Which copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copy {
    /// 商户存根: kept by the merchant, signed by the card holder.
    Merchant,
    /// 持卡人存根: handed to the card holder.
    Cardholder,
    /// 重打印: the merchant copy printed again from the journal, marked as a reprint.
    Reprint,
}

/// What a sale slip shows. The PAN is only ever printed masked.
#[derive(Debug, Clone)]
pub struct SaleSlip {
    /// Merchant name (Chinese).
    pub merchant_name: String,
    /// Field 42.
    pub merchant_id: String,
    /// Field 41.
    pub terminal_id: String,
    /// Operator number.
    pub operator: String,
    /// The card, or the customer's payment code (scan-code payment).
    pub card: SlipCard,
    /// Issuer / acquirer names.
    pub issuer: String,
    /// Entry mode text (`插卡 I`, `挥卡 C`, `刷卡 S`).
    pub entry: String,
    /// Transaction type text (`消费 SALE`).
    pub transaction: String,
    /// Batch number.
    pub batch: u32,
    /// Voucher number (STAN).
    pub voucher: u32,
    /// Authorisation code (field 38).
    pub auth_code: String,
    /// Reference number (field 37).
    pub rrn: String,
    /// Date and time.
    pub when: DateTime,
    /// Amount.
    pub amount: Amount,
}

/// The strings of one laid-out copy; [`SlipLayout::lines`] borrows from it.
#[derive(Debug, Clone)]
pub struct SlipLayout {
    texts: Vec<String>,
    copy: Copy,
    card_label: &'static str,
}

/// What paid, as the slip shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlipCard {
    /// A bank card (shown masked 6+4).
    Card(Pan),
    /// A customer's payment code, scanned (scan-code payment); shown masked, first 4 and last
    /// 4, like a card number.
    PaymentCode(String),
    /// The terminal's QR order the customer paid (its order number).
    Order(String),
}

impl SlipCard {
    /// A payment code, masked for the slip (`6225***********9012`).
    ///
    /// ```
    /// use pos_terminal::slip::SlipCard;
    /// let card = SlipCard::payment_code("6225880123456789012");
    /// assert_eq!(card.to_string(), "6225***********9012");
    /// ```
    pub fn payment_code(code: &str) -> Self {
        SlipCard::PaymentCode(mask_payment_code(code))
    }
}

/// The date and time a slip prints for an approval: the host's (`MMDDhhmmss`, fields 13 and
/// 12 of its answer, as journaled), in the year of `clock` — the year before when the host's
/// month is ahead of the terminal's (an approval of 31 December reprinted in January). `None`
/// when the host sent no usable time: print the terminal's.
///
/// ```
/// use pos_hal::DateTime;
/// use pos_terminal::slip::host_date_time;
/// let clock = DateTime::new(2027, 1, 2, 8, 0, 0).unwrap();
/// let when = host_date_time("1231235959", clock).unwrap();
/// assert_eq!((when.year(), when.month(), when.day()), (2026, 12, 31));
/// assert_eq!(host_date_time("", clock), None);
/// ```
pub fn host_date_time(host_time: &str, clock: DateTime) -> Option<DateTime> {
    let b = host_time.as_bytes();
    if b.len() != 10 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let two = |i: usize| (b[i] - b'0') * 10 + (b[i + 1] - b'0');
    let month = two(0);
    let year = if month > clock.month() {
        clock.year().checked_sub(1)?
    } else {
        clock.year()
    };
    DateTime::new(year, month, two(2), two(4), two(6), two(8)).ok()
}

/// A payment code masked as slips, screens and the journal show it: first 4 and last 4
/// characters (all masked when it has 8 or fewer; a mask never masks again).
///
/// ```
/// use pos_terminal::slip::mask_payment_code;
/// assert_eq!(mask_payment_code("6225880123456789012"), "6225***********9012");
/// assert_eq!(mask_payment_code("12345678"), "********");
/// ```
pub fn mask_payment_code(code: &str) -> String {
    let n = code.chars().count();
    if n <= 8 {
        return "*".repeat(n);
    }
    code.chars()
        .enumerate()
        .map(|(i, c)| if i < 4 || i + 4 >= n { c } else { '*' })
        .collect()
}

impl core::fmt::Display for SlipCard {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SlipCard::Card(pan) => write!(f, "{pan}"),
            SlipCard::PaymentCode(masked) => f.write_str(masked),
            SlipCard::Order(id) => f.write_str(id),
        }
    }
}

impl SaleSlip {
    /// The sample slip of the examples, the demo and the printer tests (test card, CNY 50.00).
    pub fn sample() -> Self {
        Self {
            merchant_name: String::from("拉卡拉测试商户（北京）有限公司"),
            merchant_id: String::from("123456789012345"),
            terminal_id: String::from("12345678"),
            operator: String::from("01"),
            card: SlipCard::Card(
                Pan::parse("6212345678901232").unwrap_or_else(|_| unreachable!("valid test PAN")),
            ),
            issuer: String::from("中国银联"),
            entry: String::from("插卡 I"),
            transaction: String::from("消费 SALE"),
            batch: 1,
            voucher: 123,
            auth_code: String::from("654321"),
            rrn: String::from("000000000042"),
            when: DateTime::new(2026, 11, 23, 20, 30, 0)
                .unwrap_or_else(|_| unreachable!("valid date")),
            amount: Amount::from_minor(5000).unwrap_or_else(|_| unreachable!("small amount")),
        }
    }

    /// Lays out one copy.
    ///
    /// ```
    /// use pos_hal::{Amount, DateTime, Pan, Receipt};
    /// use pos_terminal::slip::{Copy, SaleSlip, SlipCard};
    /// let slip = SaleSlip {
    ///     merchant_name: "拉卡拉测试商户".into(), merchant_id: "123456789012345".into(),
    ///     terminal_id: "12345678".into(), operator: "01".into(),
    ///     card: SlipCard::Card(Pan::parse("6212345678901232")?), issuer: "银联".into(), entry: "插卡 I".into(),
    ///     transaction: "消费 SALE".into(), batch: 1, voucher: 2, auth_code: "123456".into(),
    ///     rrn: "000000000001".into(), when: DateTime::new(2026, 11, 23, 20, 30, 0)?,
    ///     amount: Amount::from_minor(5000)?,
    /// };
    /// let layout = slip.layout(Copy::Merchant);
    /// let lines = layout.lines();
    /// let text: String = Receipt::new(&lines).plain_text();
    /// assert!(text.contains("621234******1232"));
    /// assert!(text.contains("RMB 50.00"));
    /// assert!(text.contains("持卡人签名"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn layout(&self, copy: Copy) -> SlipLayout {
        let copy_name = match copy {
            Copy::Merchant => "商户存根 MERCHANT COPY",
            Copy::Cardholder => "持卡人存根 CARDHOLDER COPY",
            Copy::Reprint => "重打印 REPRINT - 商户存根 MERCHANT COPY",
        };
        let texts = alloc::vec![
            String::from("银联 POS 签购单"),
            String::from(copy_name),
            self.merchant_name.clone(),
            self.merchant_id.clone(),
            self.terminal_id.clone(),
            self.operator.clone(),
            self.issuer.clone(),
            format!("{} {}", self.card, self.entry),
            self.transaction.clone(),
            format!("{:06}", self.batch),
            format!("{:06}", self.voucher),
            self.auth_code.clone(),
            self.rrn.clone(),
            format!("{}", self.when),
            format!("RMB {}", self.amount),
            format!("REF:{} AUTH:{}", self.rrn, self.auth_code),
        ];
        SlipLayout {
            texts,
            copy,
            card_label: match self.card {
                SlipCard::Card(_) => "卡号 CARD NO.",
                SlipCard::PaymentCode(_) => "付款码 PAYMENT CODE",
                SlipCard::Order(_) => "订单号 ORDER NO.",
            },
        }
    }
}

impl SlipLayout {
    /// The receipt lines of this copy.
    pub fn lines(&self) -> Vec<ReceiptLine<'_>> {
        let t = |i: usize| self.texts[i].as_str();
        let n = TextStyle::NORMAL;
        let mut lines = alloc::vec![
            ReceiptLine::Text {
                text: t(0),
                style: n.centered().bold().sized(TextSize::Double)
            },
            ReceiptLine::Text {
                text: t(1),
                style: n.centered()
            },
            ReceiptLine::Separator('-'),
            ReceiptLine::Text {
                text: "商户名称 MERCHANT NAME",
                style: n
            },
            ReceiptLine::Text {
                text: t(2),
                style: n.bold()
            },
            ReceiptLine::Columns {
                left: "商户编号 MERCHANT NO.",
                right: t(3),
                style: n
            },
            ReceiptLine::Columns {
                left: "终端编号 TERMINAL NO.",
                right: t(4),
                style: n
            },
            ReceiptLine::Columns {
                left: "操作员号 OPERATOR",
                right: t(5),
                style: n
            },
            ReceiptLine::Columns {
                left: "发卡行 ISSUER",
                right: t(6),
                style: n
            },
            ReceiptLine::Text {
                text: self.card_label,
                style: n
            },
            ReceiptLine::Text {
                text: t(7),
                style: n.bold()
            },
            ReceiptLine::Columns {
                left: "交易类型 TRANS TYPE",
                right: t(8),
                style: n.bold()
            },
            ReceiptLine::Columns {
                left: "批次号 BATCH NO.",
                right: t(9),
                style: n
            },
            ReceiptLine::Columns {
                left: "凭证号 VOUCHER NO.",
                right: t(10),
                style: n
            },
            ReceiptLine::Columns {
                left: "授权码 AUTH NO.",
                right: t(11),
                style: n
            },
            ReceiptLine::Columns {
                left: "参考号 REFER NO.",
                right: t(12),
                style: n
            },
            ReceiptLine::Columns {
                left: "日期时间 DATE/TIME",
                right: t(13),
                style: n
            },
            ReceiptLine::Text {
                text: "金额 AMOUNT",
                style: n
            },
            ReceiptLine::Text {
                text: t(14),
                style: n.bold().sized(TextSize::Double)
            },
            ReceiptLine::Separator('-'),
        ];
        if self.copy != Copy::Cardholder {
            lines.push(ReceiptLine::Text {
                text: "持卡人签名 CARDHOLDER SIGNATURE",
                style: n,
            });
            lines.push(ReceiptLine::Feed(2));
            lines.push(ReceiptLine::Separator('_'));
            lines.push(ReceiptLine::Text {
                text: "本人确认以上交易，同意将其记入本卡账户",
                style: n,
            });
        }
        lines.push(ReceiptLine::Qr {
            data: t(15),
            module_size: 4,
        });
        lines.push(ReceiptLine::Feed(3));
        lines.push(ReceiptLine::Cut(CutKind::Partial));
        lines
    }
}

/// The settlement list (结算单) printed when a batch is closed.
#[derive(Debug, Clone)]
pub struct SettlementSlip {
    /// Merchant name (Chinese).
    pub merchant_name: String,
    /// Field 42.
    pub merchant_id: String,
    /// Field 41.
    pub terminal_id: String,
    /// Operator number.
    pub operator: String,
    /// The batch that was settled.
    pub batch: u32,
    /// Date and time.
    pub when: DateTime,
    /// Sales and completions: amount and count.
    pub debit: (Amount, u32),
    /// Voids and refunds: amount and count.
    pub credit: (Amount, u32),
    /// The host agreed with the totals (对账平).
    pub balanced: bool,
    /// Transactions uploaded because the totals did not agree.
    pub uploaded: usize,
    /// The batch's transactions (交易明细), oldest first; empty prints no detail list.
    pub details: Vec<crate::records::RecordSummary>,
}

/// The strings of a laid-out settlement list; [`SettlementLayout::lines`] borrows from it.
#[derive(Debug, Clone)]
pub struct SettlementLayout {
    texts: Vec<String>,
}

impl SettlementSlip {
    /// Lays the list out.
    pub fn layout(&self) -> SettlementLayout {
        let w = &self.when;
        let texts = alloc::vec![
            self.merchant_name.clone(),
            self.merchant_id.clone(),
            self.terminal_id.clone(),
            self.operator.clone(),
            format!("{:06}", self.batch),
            format!(
                "{:04}/{:02}/{:02} {:02}:{:02}:{:02}",
                w.year(),
                w.month(),
                w.day(),
                w.hour(),
                w.minute(),
                w.second()
            ),
            format!("{}", self.debit.1),
            format!("RMB {}", self.debit.0),
            format!("{}", self.credit.1),
            format!("RMB {}", self.credit.0),
            String::from(if self.balanced {
                "对账平 BALANCED"
            } else {
                "对账不平 NOT BALANCED"
            }),
            format!("{}", self.uploaded),
        ];
        let mut texts = texts;
        for d in &self.details {
            texts.push(format!(
                "{:06} {} {}",
                d.voucher,
                d.kind.split(' ').next().unwrap_or(d.kind),
                d.card
            ));
            let sign = if matches!(d.kind, "消费撤销 VOID" | "退货 REFUND") {
                "-"
            } else {
                ""
            };
            texts.push(format!("{} RMB {sign}{}", d.standing, d.amount));
        }
        SettlementLayout { texts }
    }
}

impl SettlementLayout {
    /// The receipt lines.
    pub fn lines(&self) -> Vec<ReceiptLine<'_>> {
        let t = |i: usize| self.texts[i].as_str();
        let n = TextStyle::NORMAL;
        let row = |left, right| ReceiptLine::Columns {
            left,
            right,
            style: n,
        };
        let mut lines = alloc::vec![
            ReceiptLine::Text {
                text: "结算总计单",
                style: n.centered().bold().sized(TextSize::Double)
            },
            ReceiptLine::Text {
                text: "SETTLEMENT",
                style: n.centered()
            },
            ReceiptLine::Separator('-'),
            ReceiptLine::Text {
                text: t(0),
                style: n.bold()
            },
            row("商户编号 MERCHANT NO.", t(1)),
            row("终端编号 TERMINAL NO.", t(2)),
            row("操作员号 OPERATOR", t(3)),
            row("批次号 BATCH NO.", t(4)),
            row("日期时间 DATE/TIME", t(5)),
            ReceiptLine::Separator('-'),
            row("借记笔数 DEBIT COUNT", t(6)),
            row("借记金额 DEBIT AMOUNT", t(7)),
            row("贷记笔数 CREDIT COUNT", t(8)),
            row("贷记金额 CREDIT AMOUNT", t(9)),
            ReceiptLine::Separator('-'),
            ReceiptLine::Text {
                text: t(10),
                style: n.centered().bold()
            },
            row("上送笔数 UPLOADED", t(11)),
        ];
        if self.texts.len() > 12 {
            lines.push(ReceiptLine::Separator('-'));
            lines.push(ReceiptLine::Text {
                text: "交易明细 TRANSACTIONS",
                style: n.centered().bold(),
            });
            for pair in self.texts[12..].chunks(2) {
                lines.push(ReceiptLine::Text {
                    text: pair[0].as_str(),
                    style: n,
                });
                if let Some(second) = pair.get(1) {
                    lines.push(ReceiptLine::Text {
                        text: second.as_str(),
                        style: n.aligned(pos_hal::Align::Right),
                    });
                }
            }
        }
        lines.push(ReceiptLine::Feed(3));
        lines.push(ReceiptLine::Cut(CutKind::Partial));
        lines
    }
}

/// The self-check report (自检单) as printed.
#[derive(Debug, Clone)]
pub struct SelfCheckSlip {
    /// Field 42.
    pub merchant_id: String,
    /// Field 41.
    pub terminal_id: String,
    /// Date and time.
    pub when: DateTime,
    /// What was found.
    pub report: crate::flows::self_check::SelfCheckReport,
}

/// The strings of a laid-out self-check report; [`SelfCheckLayout::lines`] borrows from it.
#[derive(Debug, Clone)]
pub struct SelfCheckLayout {
    head: [String; 3],
    verdict: &'static str,
    findings: Vec<String>,
}

impl SelfCheckSlip {
    /// Lays the report out.
    pub fn layout(&self) -> SelfCheckLayout {
        let w = &self.when;
        SelfCheckLayout {
            head: [
                self.merchant_id.clone(),
                self.terminal_id.clone(),
                format!(
                    "{:04}/{:02}/{:02} {:02}:{:02}:{:02}",
                    w.year(),
                    w.month(),
                    w.day(),
                    w.hour(),
                    w.minute(),
                    w.second()
                ),
            ],
            verdict: if self.report.has_fault() {
                "有故障 FAULTS FOUND"
            } else {
                "全部正常 ALL OK"
            },
            findings: self.report.lines(),
        }
    }
}

impl SelfCheckLayout {
    /// The receipt lines.
    ///
    /// ```
    /// use pos_terminal::flows::self_check::SelfCheckReport;
    /// use pos_terminal::slip::{SaleSlip, SelfCheckSlip};
    /// let slip = SelfCheckSlip {
    ///     merchant_id: "123456789012345".into(),
    ///     terminal_id: "12345678".into(),
    ///     when: SaleSlip::sample().when,
    ///     report: SelfCheckReport::default(),
    /// };
    /// let layout = slip.layout();
    /// let text = pos_hal::Receipt::new(&layout.lines()).plain_text();
    /// assert!(text.contains("自检单") && text.contains("ALL OK"));
    /// ```
    pub fn lines(&self) -> Vec<ReceiptLine<'_>> {
        let n = TextStyle::NORMAL;
        let row = |left, right| ReceiptLine::Columns {
            left,
            right,
            style: n,
        };
        let mut lines = alloc::vec![
            ReceiptLine::Text {
                text: "自检单",
                style: n.centered().bold().sized(TextSize::Double)
            },
            ReceiptLine::Text {
                text: "SELF-CHECK",
                style: n.centered()
            },
            ReceiptLine::Separator('-'),
            row("商户编号 MERCHANT NO.", self.head[0].as_str()),
            row("终端编号 TERMINAL NO.", self.head[1].as_str()),
            row("日期时间 DATE/TIME", self.head[2].as_str()),
            ReceiptLine::Separator('-'),
        ];
        lines.extend(self.findings.iter().map(|text| ReceiptLine::Text {
            text: text.as_str(),
            style: n,
        }));
        lines.push(ReceiptLine::Separator('-'));
        lines.push(ReceiptLine::Text {
            text: self.verdict,
            style: n.centered().bold(),
        });
        lines.push(ReceiptLine::Feed(3));
        lines.push(ReceiptLine::Cut(CutKind::Partial));
        lines
    }
}
