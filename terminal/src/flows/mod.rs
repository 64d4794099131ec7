//! The POS flows as state machines without I/O ("sans-IO"): a flow takes [`Event`]s (keys, card
//! events, results of the work it asked for) and answers each with a [`Step`] — the [`Screen`]
//! to show, described as data so that any front-end (TUI, headless runner, a real terminal's
//! LCD) can draw it, and the [`Action`] the runner must perform next. The runner owns the
//! devices and the online layer; the flows own the rules.

mod closing;
pub mod login;
pub mod operator_admin;
pub mod records;
pub mod refund;
pub mod reprint;
pub mod sale;
pub mod scan;
pub mod self_check;
pub mod settle;
pub mod startup;
pub mod void;

pub use login::LoginFlow;
pub use operator_admin::{OperatorAdminFlow, OperatorTask};
pub use records::RecordsFlow;
pub use refund::{RefundConfig, RefundFlow};
pub use reprint::ReprintFlow;
pub use sale::{SaleConfig, SaleFlow};
pub use scan::ScanFlow;
pub use self_check::SelfCheckFlow;
pub use settle::{SettleFailure, SettlementFlow};
pub use startup::{SignInFailure, StartupFlow};
pub use void::{OriginalSale, SupervisedConfig, VoidConfig, VoidFlow};

use alloc::string::String;
use core::time::Duration;

use pos_hal::{Amount, EntryModes, ErrorKind, Key, Pan, Swipe};

use crate::requests::AccountBalance;
use crate::slip::Copy;

/// What the screen shows.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Screen {
    /// 请输入金额: the amount typed so far.
    Amount {
        /// The amount.
        amount: Amount,
    },
    /// 请刷卡/插卡/挥卡: waiting for a card in these modes.
    PresentCard {
        /// The amount.
        amount: Amount,
        /// Modes accepted now.
        modes: EntryModes,
    },
    /// 请插卡: a chip card was swiped; use the chip.
    InsertChip,
    /// 请选择应用: the chip holds several payment applications (or asks to confirm its
    /// one); a digit picks one, Enter the first.
    SelectApplication {
        /// The applications' labels, highest priority first (key 1 is the first).
        labels: alloc::vec::Vec<String>,
    },
    /// 是否使用电子现金: 1 pays from the card's electronic cash (offline), 0 or Enter goes
    /// online.
    UseElectronicCash {
        /// The amount.
        amount: Amount,
        /// The card's electronic cash balance.
        balance: Amount,
    },
    /// 请顾客扫码: the customer scans this QR with their wallet (the terminal's order).
    ShowQr {
        /// The amount.
        amount: Amount,
        /// What the QR encodes (the acquirer's payment URL for the order).
        payload: String,
    },
    /// 请扫描付款码: scan the customer's payment code (scan-code payment).
    ScanCode {
        /// The amount.
        amount: Amount,
        /// The last scan was not a payment code: scan again.
        again: bool,
    },
    /// 请确认卡号: the masked card number to confirm (Enter) or refuse (Cancel).
    ConfirmCard {
        /// PAN masked 6+4.
        masked_pan: String,
        /// The amount.
        amount: Amount,
    },
    /// 请输入密码: the PIN pad has the customer's attention.
    EnterPin {
        /// The amount.
        amount: Amount,
    },
    /// 密码错误，请重新输入: the host said the PIN was wrong (55); enter it again.
    WrongPin {
        /// The amount.
        amount: Amount,
        /// Tries left before the sale is declined.
        tries_left: u8,
    },
    /// 处理中: online.
    Processing,
    /// 请输入主管密码: the supervisor password, shown as stars.
    SupervisorPassword {
        /// Digits typed so far.
        typed: usize,
    },
    /// 请输入原凭证号: the voucher number of the original.
    VoucherNumber {
        /// Digits typed so far.
        digits: String,
    },
    /// 请输入原参考号: the original's reference number (refund).
    OriginalReference {
        /// Digits typed so far.
        digits: String,
    },
    /// 请输入原授权码: the pre-authorisation's authorisation code (completion, cancel).
    OriginalAuthCode {
        /// Digits typed so far.
        digits: String,
    },
    /// 请输入原交易日期: the original's date, `MMDD` (refund).
    OriginalDate {
        /// Digits typed so far.
        digits: String,
    },
    /// 原交易: the original to confirm.
    OriginalSale {
        /// Its voucher number.
        voucher: u32,
        /// Its card, masked 6+4.
        masked_pan: String,
        /// Its amount.
        amount: Amount,
    },
    /// 余额: the balance the host gave (balance inquiry).
    Balance {
        /// Field 54's balance; `None` when the answer had none that could be read.
        balance: Option<AccountBalance>,
    },
    /// 交易成功.
    Approved {
        /// The amount.
        amount: Amount,
        /// Authorisation code.
        auth: String,
    },
    /// 交易失败: declined, with what it means and what to do.
    Declined {
        /// Response code.
        rc: String,
        /// Cause in words.
        cause: &'static str,
        /// What the operator can do.
        action: &'static str,
    },
    /// 打印中.
    Printing {
        /// Which copy.
        copy: Copy,
    },
    /// 请撕下商户联: tear off the merchant copy, then press a key for the cardholder copy.
    TearReceipt,
    /// The printer stopped (paper out, cover open): fix it and press Enter to print again.
    PrinterProblem {
        /// Which copy is to be printed again.
        copy: Copy,
        /// The kind of fault.
        fault: ErrorKind,
    },
    /// The flow ended without a transaction (cancelled, timeout, card refused) — and why.
    Ended {
        /// Why, in words.
        reason: &'static str,
    },
    /// The outcome is unknown: the transaction will be reversed automatically.
    Reversing,
    /// 请输入操作员号: the operator number typed so far.
    OperatorId {
        /// Digits typed.
        digits: String,
    },
    /// 请输入操作员密码: the password as stars.
    OperatorPassword {
        /// The operator.
        operator: String,
        /// Digits typed.
        typed: usize,
    },
    /// The login was refused, and why.
    LoginRefused {
        /// Why.
        reason: crate::operators::OperatorError,
    },
    /// 登录成功.
    LoggedIn {
        /// The operator.
        operator: String,
        /// Its role.
        role: crate::operators::Role,
    },
    /// 重打印: 1 the last transaction, 2 one by its voucher number.
    ReprintMenu,
    /// 结算: the open batch's totals, to confirm before settling.
    SettlementTotals {
        /// Debit and credit amounts and counts.
        totals: crate::online::Totals,
    },
    /// 打印结算单: the settlement list is printing.
    PrintingSettlement,
    /// The printer stopped during the settlement list: Enter prints it again, Cancel skips it
    /// (the settlement stands).
    SettlementPrinterProblem {
        /// The kind of fault.
        fault: ErrorKind,
    },
    /// 自检中: the devices (or the network) are being checked.
    SelfChecking,
    /// 键盘测试: press every digit key, then Enter (Cancel skips the test).
    KeyTest {
        /// Digits seen so far (bit n = digit n).
        seen: u16,
    },
    /// The self-check's (or network check's) findings.
    SelfCheckReport {
        /// What was found.
        report: self_check::SelfCheckReport,
        /// Enter prints it.
        printable: bool,
    },
    /// 打印自检单: the self-check report is printing.
    PrintingReport,
    /// The printer stopped while printing the report: Enter tries again, Cancel skips it.
    ReportPrinterProblem {
        /// The kind of fault.
        fault: ErrorKind,
    },
    /// 开机: the devices' state after power-on; any key signs in.
    PowerOn {
        /// The device check.
        report: self_check::SelfCheckReport,
    },
    /// 签到中: signing in.
    SigningIn,
    /// 签到成功: signed in, the batch open.
    SignedIn {
        /// The batch number.
        batch: u32,
    },
    /// 签到失败: why, what to do; Enter tries again, Cancel gives up.
    SignInFailed {
        /// The response code, or `NET`/`ANS`/`KEY`/`JNL`.
        code: String,
        /// The cause in words.
        cause: &'static str,
        /// What the operator can do.
        action: &'static str,
    },
    /// 交易查询: one record of the open batch.
    Record {
        /// The record (masked).
        record: alloc::boxed::Box<crate::records::RecordSummary>,
        /// Its place, 1 = newest.
        position: usize,
        /// How many there are.
        count: usize,
    },
    /// 交易查询: the open batch has no transactions.
    NoRecords,
    /// 操作员管理: the operators (number, locked) and what the supervisor can do.
    OperatorMenu {
        /// Every operator: number and whether it is locked.
        operators: alloc::vec::Vec<(String, bool)>,
    },
    /// The number of the operator to add, remove or reset.
    OperatorNumber {
        /// What for.
        task: OperatorTask,
        /// Digits typed.
        digits: String,
    },
    /// A password typed as stars (old, new, or the new one again).
    OperatorPasswordEntry {
        /// What for.
        task: OperatorTask,
        /// Whose.
        operator: String,
        /// Which one is asked.
        prompt: &'static str,
        /// Digits typed.
        typed: usize,
    },
    /// The change was refused, and why.
    OperatorRefused {
        /// Why.
        reason: crate::operators::OperatorError,
    },
    /// The change is done (and kept).
    OperatorChanged {
        /// What was done.
        task: OperatorTask,
        /// To whom.
        operator: String,
    },
    /// The new password and its repetition differ: nothing changed.
    PasswordsDiffer,
    /// Done.
    Done,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A key was pressed.
    Key(Key),
    /// A card was swiped (boxed: a swipe holds three tracks inline).
    Swiped(alloc::boxed::Box<Swipe>),
    /// A chip card was inserted (its data comes with [`Event::ChipRead`]).
    Inserted,
    /// A contactless card was tapped (its data comes with [`Event::ChipRead`]).
    Tapped,
    /// What the chip (contact or contactless) gave, or why it could not be read.
    ChipRead(Result<ChipCard, ErrorKind>),
    /// The wait for a key or a card ran out.
    Timeout,
    /// The scanner read the customer's payment code (the runner keeps it), or failed.
    CodeScanned(Result<(), ErrorKind>),
    /// The host created the terminal's QR order: what the QR encodes (the runner keeps the
    /// order id), or why not.
    OrderCreated(Result<String, ErrorKind>),
    /// The unpaid order was closed (or could not be: the host then expires it).
    OrderClosed,
    /// The PIN pad's answer: a PIN was entered (the block is with the runner), or bypassed.
    Pin(Result<bool, ErrorKind>),
    /// The online layer's answer.
    Online(OnlineOutcome),
    /// The journal's answer to [`Action::LookUpVoucher`]: the approved sale of the open batch
    /// with that voucher number, if any.
    Original(Option<alloc::boxed::Box<OriginalSale>>),
    /// The printer's answer for the copy that was asked for.
    Printed(Result<(), ErrorKind>),
    /// The operator table was saved ([`Action::SaveOperators`]).
    Saved(Result<(), ErrorKind>),
    /// The journal's totals of the open batch ([`Action::LookUpTotals`]).
    Totals(crate::online::Totals),
    /// The settlement's outcome ([`Action::Settle`]).
    Settled(Result<crate::online::Settlement, SettleFailure>),
    /// Every device role's health ([`Action::CheckDevices`]).
    DevicesChecked(alloc::vec::Vec<self_check::DeviceCheck>),
    /// The echo tests' result ([`Action::CheckNetwork`]).
    NetworkChecked(self_check::NetworkReport),
    /// The sign-in's outcome ([`Action::SignIn`]): the batch, or why not.
    SignedIn(Result<u32, SignInFailure>),
    /// The open batch's records, oldest first ([`Action::LookUpRecords`]).
    Records(alloc::vec::Vec<crate::records::RecordSummary>),
    /// The card's electronic cash balance when it offers electronic cash for the amount
    /// ([`Action::CheckElectronicCash`]); `None` when it does not.
    ElectronicCash(Option<Amount>),
    /// The inserted card holds several applications, or asks the cardholder to confirm its
    /// only one ([`Action::ReadChip`]): their labels, highest priority first. Answer the
    /// choice with [`Action::SelectApplication`].
    Applications(alloc::vec::Vec<String>),
    /// The card refused an offline PIN ([`Action::GetPin`] for a card with
    /// [`ChipCard::offline_pin`]); this many tries are left on it.
    PinRejected {
        /// Tries left on the card.
        tries_left: u8,
    },
}

/// What the chip read gave the flow (the kernel keeps the rest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChipCard {
    /// The card number.
    pub pan: Pan,
    /// The card asks for an online PIN.
    pub online_pin: bool,
    /// The card checks the PIN itself (offline PIN, plaintext or enciphered): the PIN the
    /// cardholder types goes to the card, which may answer [`Event::PinRejected`].
    pub offline_pin: bool,
}

/// The online layer's answer, as the flows need it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OnlineOutcome {
    /// Approved.
    Approved {
        /// Authorisation code.
        auth: String,
    },
    /// Declined with this response code.
    Declined {
        /// Field 39.
        rc: String,
    },
    /// No usable answer: the request is being reversed.
    Unknown,
    /// The host could not be reached before sending (a queued reversal is still pending).
    Unreachable,
    /// A balance inquiry was answered with this available balance (field 54).
    Balance {
        /// Field 54's balance; `None` when the answer had none that could be read.
        balance: Option<AccountBalance>,
    },
}

/// Which card transaction a flow performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transaction {
    /// 消费: amount, card, PIN when the card asks, two receipts.
    Sale,
    /// 余额查询: card, PIN always, the balance shown, nothing printed.
    Balance,
    /// 消费撤销: the void of the sale [`Event::Original`] named.
    Void,
    /// 退货: a refund of the sale with this reference number (37) and date (`MMDD`), ASCII
    /// digits.
    Refund {
        /// The original's reference number.
        reference: [u8; 12],
        /// The original's date.
        date: [u8; 4],
    },
    /// 预授权: amount, card, PIN when the card asks, two receipts; no money moves yet.
    PreAuth,
    /// 电子现金消费: a sale paid from the chip's electronic cash balance, approved offline by
    /// the card (a TC) and uploaded at settlement; when the card wants to go online after
    /// all, it goes online as a sale.
    ElectronicCash,
    /// 预授权完成: the pre-authorisation with this authorisation code (38) and date is
    /// completed for the amount typed.
    Completion {
        /// The pre-authorisation's authorisation code (ASCII digits).
        auth: [u8; 6],
        /// Its date, `MMDD`.
        date: [u8; 4],
    },
    /// 预授权撤销: the pre-authorisation with this authorisation code and date is cancelled
    /// (supervisor password).
    PreAuthCancel {
        /// The pre-authorisation's authorisation code.
        auth: [u8; 6],
        /// Its date, `MMDD`.
        date: [u8; 4],
    },
}

/// How the card was read, as the request needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CardSource {
    /// Magnetic stripe.
    Swipe,
    /// Swipe after failed chip reads (field 22 `80`).
    Fallback,
    /// Contact chip.
    Chip,
    /// Contactless.
    Contactless,
    /// A customer's payment code, scanned (field 22 `03`).
    PaymentCode,
    /// The customer scanned the terminal's QR (the order is queried, field 22 `03`).
    TerminalQr,
}

/// What the runner must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Wait for a key.
    WaitKey {
        /// How long.
        timeout: Duration,
    },
    /// Wait for a card in these modes.
    WaitCard {
        /// Modes.
        modes: EntryModes,
        /// How long.
        timeout: Duration,
    },
    /// Read the inserted or tapped card: a sale or balance inquiry runs the EMV/qPBOC kernel
    /// up to cardholder verification (its cryptogram comes with [`Action::GoOnline`]); a
    /// void or refund reads the card number.
    ReadChip {
        /// What the card is read for.
        transaction: Transaction,
        /// The amount (zero for a balance inquiry, a void or a refund not yet keyed).
        amount: Amount,
    },
    /// Start the transaction on the card's application number `index` of the last
    /// [`Event::Applications`]; answer with [`Event::ChipRead`] — or [`Event::Applications`]
    /// again without it when the card refuses it (blocked).
    SelectApplication {
        /// 0 is the first label.
        index: usize,
    },
    /// Create the terminal's QR order for this amount ([`crate::requests::order_create`]);
    /// answer with [`Event::OrderCreated`].
    CreateOrder {
        /// The amount.
        amount: Amount,
    },
    /// Wait `after` for a key (Cancel stops), then ask whether the order is paid
    /// ([`crate::requests::order_query`] through [`crate::online::Online::request`]); answer
    /// with [`Event::Online`] — declined `Q1` means "not paid yet".
    QueryOrder {
        /// The amount.
        amount: Amount,
        /// How long to wait first.
        after: Duration,
    },
    /// Close the unpaid order ([`crate::requests::order_close`]); answer with
    /// [`Event::OrderClosed`].
    CloseOrder,
    /// Ask the inserted chip card whether it offers electronic cash (its PDOL asks for 9F7A)
    /// with a balance covering this amount; answer with [`Event::ElectronicCash`].
    CheckElectronicCash {
        /// The amount.
        amount: Amount,
    },
    /// Read the customer's payment code with the scanner; answer with [`Event::CodeScanned`].
    ScanCode {
        /// How long.
        timeout: Duration,
    },
    /// Ask the PIN pad for an online PIN for this card.
    GetPin {
        /// The card number the block is bound to.
        pan: Pan,
    },
    /// Send the request (the runner builds it with [`crate::requests::sale`] or
    /// [`crate::requests::balance`] from the card data it holds and passes it to
    /// [`crate::online::Online::request`]).
    GoOnline {
        /// What to send.
        transaction: Transaction,
        /// The amount (zero for a balance inquiry).
        amount: Amount,
        /// How the card was read.
        source: CardSource,
    },
    /// Find the approved sale of the open batch with this voucher number.
    LookUpVoucher {
        /// The voucher number typed.
        voucher: u32,
    },
    /// The approved transaction cannot be completed (its merchant copy cannot be printed and
    /// the operator gave up): queue its reversal (reason 06, [`crate::online::Online::abandon`])
    /// and answer with [`Event::Online`] ([`OnlineOutcome::Unknown`]).
    Abandon,
    /// Print this copy of the slip.
    Print {
        /// Which copy.
        copy: Copy,
    },
    /// Print the merchant copy of an approved transaction of the journal again: the last
    /// one, or the one with this voucher number; answer with [`Event::Printed`]
    /// (`Err(InvalidInput)` when there is no such approved transaction).
    Reprint {
        /// The voucher number, `None` for the last transaction.
        voucher: Option<u32>,
    },
    /// Keep this operator table (failure counts, passwords); answer with [`Event::Saved`].
    SaveOperators {
        /// The table.
        operators: crate::operators::Operators,
    },
    /// Read the open batch's totals from the journal; answer with [`Event::Totals`].
    LookUpTotals,
    /// Settle the open batch (0500, batch upload when asked); answer with [`Event::Settled`].
    Settle,
    /// Print the settlement list; answer with [`Event::Printed`].
    PrintSettlement {
        /// What was settled.
        report: crate::online::Settlement,
    },
    /// Ask every device role for its health ([`pos_hal::Device::health_check`], internal
    /// level); answer with [`Event::DevicesChecked`].
    CheckDevices,
    /// Send this many echo tests ([`crate::online::Online::echo`]), timing each; answer with
    /// [`Event::NetworkChecked`].
    CheckNetwork {
        /// How many.
        echoes: u8,
    },
    /// Print the self-check report; answer with [`Event::Printed`].
    PrintSelfCheck {
        /// What to print.
        report: self_check::SelfCheckReport,
    },
    /// Sign in ([`crate::online::Online::sign_in`]); answer with [`Event::SignedIn`].
    SignIn,
    /// Read the open batch's records from the journal ([`crate::records::RecordSummary`]);
    /// answer with [`Event::Records`].
    LookUpRecords,
    /// The flow is over.
    Finish,
}

/// What every flow offers its runner.
pub trait Flow {
    /// Feeds one event; returns what to show and do next. Events that mean nothing in the
    /// current state repeat the current step.
    fn on(&mut self, event: Event) -> Step;
    /// The amount the flow is about (for the slip).
    fn amount(&self) -> Amount;
}

impl Flow for SaleFlow {
    fn on(&mut self, event: Event) -> Step {
        SaleFlow::on(self, event)
    }
    fn amount(&self) -> Amount {
        SaleFlow::amount(self)
    }
}

impl Flow for ScanFlow {
    fn on(&mut self, event: Event) -> Step {
        ScanFlow::on(self, event)
    }
    fn amount(&self) -> Amount {
        ScanFlow::amount(self)
    }
}

impl Flow for SettlementFlow {
    fn on(&mut self, event: Event) -> Step {
        SettlementFlow::on(self, event)
    }
    fn amount(&self) -> Amount {
        self.report()
            .and_then(|r| Amount::from_minor(r.totals.debit.0).ok())
            .unwrap_or(Amount::ZERO)
    }
}

impl Flow for LoginFlow {
    fn on(&mut self, event: Event) -> Step {
        LoginFlow::on(self, event)
    }
    fn amount(&self) -> Amount {
        Amount::ZERO
    }
}

impl Flow for ReprintFlow {
    fn on(&mut self, event: Event) -> Step {
        ReprintFlow::on(self, event)
    }
    fn amount(&self) -> Amount {
        Amount::ZERO
    }
}

impl Flow for StartupFlow {
    fn on(&mut self, event: Event) -> Step {
        StartupFlow::on(self, event)
    }
    fn amount(&self) -> Amount {
        Amount::ZERO
    }
}

impl Flow for SelfCheckFlow {
    fn on(&mut self, event: Event) -> Step {
        SelfCheckFlow::on(self, event)
    }
    fn amount(&self) -> Amount {
        Amount::ZERO
    }
}

impl Flow for RecordsFlow {
    fn on(&mut self, event: Event) -> Step {
        RecordsFlow::on(self, event)
    }
    fn amount(&self) -> Amount {
        Amount::ZERO
    }
}

impl Flow for OperatorAdminFlow {
    fn on(&mut self, event: Event) -> Step {
        OperatorAdminFlow::on(self, event)
    }
    fn amount(&self) -> Amount {
        Amount::ZERO
    }
}

impl Flow for RefundFlow {
    fn on(&mut self, event: Event) -> Step {
        RefundFlow::on(self, event)
    }
    fn amount(&self) -> Amount {
        RefundFlow::amount(self)
    }
}

impl Flow for VoidFlow {
    fn on(&mut self, event: Event) -> Step {
        VoidFlow::on(self, event)
    }
    fn amount(&self) -> Amount {
        VoidFlow::amount(self)
    }
}

/// A flow's answer to an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What to show.
    pub screen: Screen,
    /// What to do.
    pub action: Action,
}

impl Screen {
    /// A short name of the screen (`Amount`, `Approved`…), for scripts and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Screen::Amount { .. } => "Amount",
            Screen::PresentCard { .. } => "PresentCard",
            Screen::InsertChip => "InsertChip",
            Screen::UseElectronicCash { .. } => "UseElectronicCash",
            Screen::SelectApplication { .. } => "SelectApplication",
            Screen::ScanCode { .. } => "ScanCode",
            Screen::ShowQr { .. } => "ShowQr",
            Screen::ConfirmCard { .. } => "ConfirmCard",
            Screen::EnterPin { .. } => "EnterPin",
            Screen::Processing => "Processing",
            Screen::WrongPin { .. } => "WrongPin",
            Screen::Balance { .. } => "Balance",
            Screen::SupervisorPassword { .. } => "SupervisorPassword",
            Screen::VoucherNumber { .. } => "VoucherNumber",
            Screen::OriginalSale { .. } => "OriginalSale",
            Screen::OriginalReference { .. } => "OriginalReference",
            Screen::OriginalDate { .. } => "OriginalDate",
            Screen::OriginalAuthCode { .. } => "OriginalAuthCode",
            Screen::Approved { .. } => "Approved",
            Screen::Declined { .. } => "Declined",
            Screen::Printing { .. } => "Printing",
            Screen::TearReceipt => "TearReceipt",
            Screen::PrinterProblem { .. } => "PrinterProblem",
            Screen::Ended { .. } => "Ended",
            Screen::Reversing => "Reversing",
            Screen::SettlementTotals { .. } => "SettlementTotals",
            Screen::OperatorId { .. } => "OperatorId",
            Screen::ReprintMenu => "ReprintMenu",
            Screen::OperatorPassword { .. } => "OperatorPassword",
            Screen::LoginRefused { .. } => "LoginRefused",
            Screen::LoggedIn { .. } => "LoggedIn",
            Screen::PrintingSettlement => "PrintingSettlement",
            Screen::SettlementPrinterProblem { .. } => "SettlementPrinterProblem",
            Screen::SelfChecking => "SelfChecking",
            Screen::KeyTest { .. } => "KeyTest",
            Screen::SelfCheckReport { .. } => "SelfCheckReport",
            Screen::PrintingReport => "PrintingReport",
            Screen::ReportPrinterProblem { .. } => "ReportPrinterProblem",
            Screen::PowerOn { .. } => "PowerOn",
            Screen::SigningIn => "SigningIn",
            Screen::SignedIn { .. } => "SignedIn",
            Screen::SignInFailed { .. } => "SignInFailed",
            Screen::Record { .. } => "Record",
            Screen::NoRecords => "NoRecords",
            Screen::OperatorMenu { .. } => "OperatorMenu",
            Screen::OperatorNumber { .. } => "OperatorNumber",
            Screen::OperatorPasswordEntry { .. } => "OperatorPasswordEntry",
            Screen::OperatorRefused { .. } => "OperatorRefused",
            Screen::OperatorChanged { .. } => "OperatorChanged",
            Screen::PasswordsDiffer => "PasswordsDiffer",
            Screen::Done => "Done",
        }
    }
}

/// The screen as the lines a text display shows (bilingual, as Chinese POS terminals do).
impl core::fmt::Display for Screen {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Screen::Amount { amount } => write!(f, "消费 SALE\n请输入金额 AMOUNT\n{amount:>21}"),
            Screen::PresentCard { amount, modes } => {
                let mut how = alloc::vec::Vec::new();
                if modes.contains(EntryModes::SWIPE) {
                    how.push("刷卡 SWIPE");
                }
                if modes.contains(EntryModes::INSERT) {
                    how.push("插卡 INSERT");
                }
                if modes.contains(EntryModes::TAP) {
                    how.push("挥卡 TAP");
                }
                if *amount == Amount::ZERO {
                    write!(f, "请 {}", how.join(" / "))
                } else {
                    write!(f, "RMB {amount}\n请 {}", how.join(" / "))
                }
            }
            Screen::InsertChip => f.write_str("IC卡请插卡\nCHIP CARD: PLEASE INSERT"),
            Screen::SelectApplication { labels } => {
                f.write_str("请选择应用 SELECT APPLICATION")?;
                for (i, label) in labels.iter().enumerate() {
                    write!(f, "\n{} {label}", i + 1)?;
                }
                f.write_str("\n确认键 ENTER: 1")
            }
            Screen::UseElectronicCash { amount, balance } => write!(
                f,
                "RMB {amount}\n是否使用电子现金? USE ELECTRONIC CASH?\n电子现金余额 EC BALANCE RMB {balance}\n1 是 YES    0 否 NO (ONLINE)"
            ),
            Screen::ShowQr { amount, payload } => write!(
                f,
                "扫码支付 SCAN PAY\nRMB {amount}\n请顾客扫码 CUSTOMER: SCAN THIS CODE\n{payload}"
            ),
            Screen::ScanCode { amount, again } => write!(
                f,
                "扫码支付 SCAN PAY\nRMB {amount}\n{}请扫描付款码 SCAN THE PAYMENT CODE",
                if *again {
                    "不是付款码 NOT A PAYMENT CODE\n"
                } else {
                    ""
                }
            ),
            Screen::ConfirmCard { masked_pan, amount } => {
                write!(f, "请确认卡号 CONFIRM CARD\n{masked_pan}\nRMB {amount}")
            }
            Screen::EnterPin { amount } => write!(f, "RMB {amount}\n请输入密码 ENTER PIN"),
            Screen::Processing => f.write_str("处理中 PROCESSING…"),
            Screen::WrongPin { amount, tries_left } => write!(
                f,
                "RMB {amount}\n密码错误 WRONG PIN\n请重新输入 ENTER IT AGAIN ({tries_left} tries left)"
            ),
            Screen::Balance { balance: Some(b) } => {
                let sign = if b.overdrawn { "-" } else { "" };
                write!(
                    f,
                    "余额查询 BALANCE\n可用余额 AVAILABLE\nRMB {sign}{}",
                    b.amount
                )
            }
            Screen::SupervisorPassword { typed } => {
                write!(
                    f,
                    "请输入主管密码 SUPERVISOR PASSWORD\n{}",
                    "*".repeat(*typed)
                )
            }
            Screen::OriginalReference { digits } => {
                write!(f, "退货 REFUND\n请输入原参考号 ORIGINAL REF. No.\n{digits}")
            }
            Screen::OriginalAuthCode { digits } => {
                write!(
                    f,
                    "预授权 PRE-AUTH\n请输入原授权码 ORIGINAL AUTH CODE\n{digits}"
                )
            }
            Screen::OriginalDate { digits } => {
                write!(
                    f,
                    "退货 REFUND\n请输入原交易日期 ORIGINAL DATE (MMDD)\n{digits}"
                )
            }
            Screen::VoucherNumber { digits } => {
                write!(f, "请输入原凭证号 ORIGINAL VOUCHER No.\n{digits}")
            }
            Screen::OriginalSale {
                voucher,
                masked_pan,
                amount,
            } => write!(
                f,
                "撤销原交易 VOID\n凭证号 VOUCHER {voucher:06}\n{masked_pan}\nRMB {amount}\n确认请按确认键 ENTER TO CONFIRM"
            ),
            Screen::Balance { balance: None } => {
                f.write_str("余额查询 BALANCE\n主机未返回余额 THE HOST GAVE NO BALANCE")
            }
            Screen::Approved { amount, auth } => {
                write!(f, "交易成功 APPROVED\nRMB {amount}\n授权码 AUTH {auth}")
            }
            Screen::Declined { rc, cause, action } => {
                write!(f, "交易失败 DECLINED ({rc})\n{cause}\n{action}")
            }
            Screen::Printing { copy } => match copy {
                Copy::Merchant => f.write_str("打印商户联 PRINTING MERCHANT COPY"),
                Copy::Cardholder => f.write_str("打印持卡人联 PRINTING CARDHOLDER COPY"),
                Copy::Reprint => f.write_str("重打印 REPRINTING"),
            },
            Screen::TearReceipt => {
                f.write_str("请撕下商户联 TEAR OFF THE MERCHANT COPY\n按任意键继续 PRESS A KEY")
            }
            Screen::PrinterProblem { fault, copy } => {
                write!(
                    f,
                    "打印机故障 PRINTER: {fault}\n处理后按确认 FIX IT, THEN PRESS ENTER"
                )?;
                match copy {
                    Copy::Merchant => f.write_str("\n按取消则冲正 CANCEL: REVERSE THE SALE"),
                    Copy::Cardholder | Copy::Reprint => {
                        f.write_str("\n按取消不打印 CANCEL: SKIP THIS COPY")
                    }
                }
            }
            Screen::Ended { reason } => write!(f, "交易结束 ENDED\n{reason}"),
            Screen::Reversing => {
                f.write_str("交易结果未知 OUTCOME UNKNOWN\n将自动冲正 IT WILL BE REVERSED")
            }
            Screen::SettlementTotals { totals } => {
                let money = |cents: u64| Amount::from_minor(cents).unwrap_or(Amount::MAX);
                write!(
                    f,
                    "结算 SETTLEMENT\n借记 DEBIT {} 笔 RMB {}\n贷记 CREDIT {} 笔 RMB {}\n确认结算请按确认 ENTER TO SETTLE",
                    totals.debit.1,
                    money(totals.debit.0),
                    totals.credit.1,
                    money(totals.credit.0)
                )
            }
            Screen::PrintingSettlement => f.write_str("打印结算单 PRINTING SETTLEMENT LIST"),
            Screen::ReprintMenu => f.write_str(
                "重打印 REPRINT\n1 最后一笔 THE LAST TRANSACTION\n2 任意一笔 BY VOUCHER No.",
            ),
            Screen::OperatorId { digits } => {
                write!(
                    f,
                    "操作员登录 OPERATOR LOGIN\n请输入操作员号 OPERATOR No.\n{digits}"
                )
            }
            Screen::OperatorPassword { operator, typed } => write!(
                f,
                "操作员 OPERATOR {operator}\n请输入密码 PASSWORD\n{}",
                "*".repeat(*typed)
            ),
            Screen::LoginRefused { reason } => {
                write!(f, "登录失败 LOGIN REFUSED\n{reason}\n按任意键 PRESS A KEY")
            }
            Screen::LoggedIn { operator, role } => {
                let role = match role {
                    crate::operators::Role::Supervisor => "主管 SUPERVISOR",
                    crate::operators::Role::Administrator => "系统管理员 ADMINISTRATOR",
                    crate::operators::Role::Cashier => "操作员 CASHIER",
                };
                write!(f, "登录成功 LOGGED IN\n{role} {operator}")
            }
            Screen::SettlementPrinterProblem { fault } => write!(
                f,
                "打印机故障 PRINTER: {fault}\n处理后按确认 FIX IT, THEN PRESS ENTER\n按取消不打印 CANCEL: SKIP THE LIST"
            ),
            Screen::SelfChecking => f.write_str("自检中 CHECKING…"),
            Screen::KeyTest { seen } => {
                f.write_str("键盘测试 KEY TEST\n请按 0-9 PRESS EVERY DIGIT\n")?;
                for d in 0..10u8 {
                    if seen & (1 << d) != 0 {
                        write!(f, "{d}")?;
                    } else {
                        f.write_str("_")?;
                    }
                }
                f.write_str("\n完成按确认 ENTER WHEN DONE")
            }
            Screen::SelfCheckReport { report, printable } => {
                f.write_str(if report.has_fault() {
                    "自检 SELF-CHECK: 有故障 FAULTS FOUND"
                } else {
                    "自检 SELF-CHECK: 正常 ALL OK"
                })?;
                for line in report.lines() {
                    write!(f, "\n{line}")?;
                }
                if *printable {
                    f.write_str("\n确认打印 ENTER: PRINT  取消 CANCEL: DONE")
                } else {
                    f.write_str("\n按任意键 PRESS A KEY")
                }
            }
            Screen::PrintingReport => f.write_str("打印自检单 PRINTING THE REPORT"),
            Screen::ReportPrinterProblem { fault } => write!(
                f,
                "打印机故障 PRINTER: {fault}\n处理后按确认 FIX IT, THEN PRESS ENTER\n按取消不打印 CANCEL: SKIP THE REPORT"
            ),
            Screen::PowerOn { report } => {
                f.write_str("开机自检 POWER-ON CHECK")?;
                for line in report.lines() {
                    write!(f, "\n{line}")?;
                }
                f.write_str("\n按任意键签到 PRESS A KEY TO SIGN IN")
            }
            Screen::SigningIn => f.write_str("签到中 SIGNING IN…"),
            Screen::SignedIn { batch } => {
                write!(f, "签到成功 SIGNED IN\n批次号 BATCH {batch:06}")
            }
            Screen::SignInFailed {
                code,
                cause,
                action,
            } => write!(
                f,
                "签到失败 SIGN-IN FAILED ({code})\n{cause}\n{action}\n确认重试 ENTER: TRY AGAIN  取消 CANCEL"
            ),
            Screen::Record {
                record,
                position,
                count,
            } => write!(
                f,
                "交易查询 RECORDS {position}/{count}\n{record}\n确认下一笔 ENTER: NEXT  清除 CLEAR: BACK"
            ),
            Screen::NoRecords => {
                f.write_str("交易查询 RECORDS\n无交易 NO TRANSACTIONS IN THIS BATCH")
            }
            Screen::OperatorMenu { operators } => {
                f.write_str("操作员管理 OPERATORS\n")?;
                for (id, locked) in operators {
                    write!(f, "{id}{} ", if *locked { "(锁 LOCKED)" } else { "" })?;
                }
                f.write_str(
                    "\n1 增加 ADD  2 删除 REMOVE  3 重置密码 RESET PASSWORD\n取消 CANCEL: DONE",
                )
            }
            Screen::OperatorNumber { task, digits } => {
                write!(f, "{}\n请输入操作员号 OPERATOR No.\n{digits}", task.name())
            }
            Screen::OperatorPasswordEntry {
                task,
                operator,
                prompt,
                typed,
            } => write!(
                f,
                "{}\n操作员 OPERATOR {operator}\n{prompt}\n{}",
                task.name(),
                "*".repeat(*typed)
            ),
            Screen::OperatorRefused { reason } => {
                write!(f, "操作失败 REFUSED\n{reason}\n按任意键 PRESS A KEY")
            }
            Screen::OperatorChanged { task, operator } => write!(
                f,
                "{}\n操作员 OPERATOR {operator}\n成功 DONE\n按任意键 PRESS A KEY",
                task.name()
            ),
            Screen::PasswordsDiffer => f.write_str(
                "两次密码不一致 THE PASSWORDS DIFFER\n未修改 NOTHING CHANGED\n按任意键 PRESS A KEY",
            ),
            Screen::Done => f.write_str("完成 DONE"),
        }
    }
}
