//! Scripted fakes for every trait (embedded-hal-mock style), behind the `mock` feature.
//!
//! Each fake is built from the calls it expects, in order, with the result each returns. A
//! call that does not match the next expectation panics with both sides shown; dropping a fake
//! with expectations left panics too (unless already panicking). Call `done()` to check early.
//!
//! ```
//! use pos_hal::mock::{IccCall, MockIccReader};
//! use pos_hal::{Apdu, Atr, IccReader};
//!
//! let atr = Atr::parse(&[0x3B, 0x80, 0x80, 0x01, 0x01])?;
//! let mut reader = MockIccReader::new([
//!     IccCall::PowerOn(Ok(atr)),
//!     IccCall::transmit(&[0x00, 0xB2, 0x01, 0x0C, 0x00], &[0x70, 0x00, 0x90, 0x00]),
//! ]);
//! assert_eq!(reader.power_on()?, atr);
//! let mut buf = [0u8; 64];
//! let rsp = reader.transmit(&Apdu::new(0x00, 0xB2, 0x01, 0x0C).with_le(256), &mut buf)?;
//! assert_eq!(rsp.data, &[0x70, 0x00]);
//! reader.done();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use alloc::collections::VecDeque;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

use crate::{
    Amount, Apdu, Atr, CancelToken, CardEntry, CardEvent, Clock, DateTime, DeviceInfo, DeviceKind,
    Display, DisplayCaps, EntryModes, Error, ErrorKind, ErrorType, FixedStr, HealthCheck,
    HealthLevel, HealthReport, HealthStatus, IccReader, Indicators, JobResult, Key, Keypad,
    MagstripeReader, MsrCaps, PinEntry, PinPad, PinRequest, PrinterCaps, PrinterStatus, Rapdu,
    ReaderCaps, Receipt, ReceiptLine, ReceiptPrinter, Target, TargetTypes, Tracks,
    indicators::{BeepKind, ContactlessLeds},
    picc::PiccReader,
    printer::{Charsets, PaperState},
};

/// The error every fake returns: just a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MockError(pub ErrorKind);

impl Error for MockError {
    fn kind(&self) -> ErrorKind {
        self.0
    }
}

impl fmt::Display for MockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mock error: {}", self.0)
    }
}

impl core::error::Error for MockError {}

/// What a scripted call returns.
pub type MockResult<T> = Result<T, MockError>;

/// An ordered list of expected calls.
#[derive(Debug)]
struct Script<C: fmt::Debug> {
    device: &'static str,
    calls: VecDeque<C>,
}

impl<C: fmt::Debug> Script<C> {
    fn new(device: &'static str, calls: impl IntoIterator<Item = C>) -> Self {
        Self {
            device,
            calls: calls.into_iter().collect(),
        }
    }

    fn next(&mut self, called: &str) -> C {
        match self.calls.pop_front() {
            Some(call) => call,
            None => panic!(
                "{}: unexpected call {called}: the script is finished",
                self.device
            ),
        }
    }

    fn mismatch(&self, expected: &C, called: &str) -> ! {
        panic!(
            "{}: expected {expected:?}, but {called} was called",
            self.device
        )
    }

    fn done(&mut self) {
        if !self.calls.is_empty() {
            let left = core::mem::take(&mut self.calls);
            panic!(
                "{}: {} expected call(s) never made: {left:?}",
                self.device,
                left.len()
            );
        }
    }
}

impl<C: fmt::Debug> Drop for Script<C> {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.done();
        }
    }
}

fn info(kind: DeviceKind, name: &str) -> DeviceInfo {
    DeviceInfo {
        kind,
        driver: "mock",
        name: FixedStr::truncated(name),
        selector: FixedStr::truncated(name),
    }
}

fn healthy(level: HealthLevel) -> MockResult<HealthReport> {
    Ok(HealthReport {
        level,
        status: HealthStatus::Ok,
        detail: FixedStr::truncated("mock device"),
    })
}

fn copy_response<'r>(bytes: &[u8], out: &'r mut [u8]) -> MockResult<Rapdu<'r>> {
    let dst = out
        .get_mut(..bytes.len())
        .ok_or(MockError(ErrorKind::Protocol))?;
    dst.copy_from_slice(bytes);
    Rapdu::parse(dst).map_err(|_| MockError(ErrorKind::Protocol))
}

fn encode(command: &Apdu<'_>) -> Vec<u8> {
    let mut bytes = alloc::vec![0; command.encoded_len()];
    match command.encode_into(&mut bytes) {
        Ok(n) => bytes.truncate(n),
        Err(e) => panic!("mock: the code under test built an invalid APDU: {e}"),
    }
    bytes
}

macro_rules! scripted_health {
    ($ty:ty) => {
        impl HealthCheck for $ty {
            fn health_check(&mut self, level: HealthLevel) -> MockResult<HealthReport> {
                healthy(level)
            }
        }
    };
}

/// An expected [`IccReader`] call.
#[derive(Debug)]
pub enum IccCall {
    /// `card_present()` returns this.
    CardPresent(MockResult<bool>),
    /// `wait_for_card()` returns this.
    WaitForCard(MockResult<()>),
    /// `power_on()` returns this.
    PowerOn(MockResult<Atr>),
    /// `transmit()` must send exactly `command` and gets `response` (data + SW).
    Transmit {
        /// Expected encoded command APDU.
        command: Vec<u8>,
        /// Response bytes or error.
        response: MockResult<Vec<u8>>,
    },
    /// `power_off()` returns this.
    PowerOff(MockResult<()>),
}

impl IccCall {
    /// A successful exchange.
    pub fn transmit(command: &[u8], response: &[u8]) -> Self {
        IccCall::Transmit {
            command: command.to_vec(),
            response: Ok(response.to_vec()),
        }
    }
}

/// A scripted contact reader.
#[derive(Debug)]
pub struct MockIccReader {
    script: Script<IccCall>,
}

impl MockIccReader {
    /// A reader that expects `calls` in order.
    pub fn new(calls: impl IntoIterator<Item = IccCall>) -> Self {
        Self {
            script: Script::new("MockIccReader", calls),
        }
    }
    /// Panics unless every expected call was made.
    pub fn done(&mut self) {
        self.script.done();
    }
}

impl ErrorType for MockIccReader {
    type Error = MockError;
}
scripted_health!(MockIccReader);

impl IccReader for MockIccReader {
    fn caps(&self) -> ReaderCaps {
        ReaderCaps {
            contact: true,
            contactless: false,
            t0: true,
            t1: true,
            max_apdu: 261,
        }
    }
    fn info(&self) -> DeviceInfo {
        info(DeviceKind::ContactReader, "Mock ICC 00 00")
    }
    fn card_present(&mut self) -> MockResult<bool> {
        match self.script.next("card_present()") {
            IccCall::CardPresent(r) => r,
            other => self.script.mismatch(&other, "card_present()"),
        }
    }
    fn wait_for_card(&mut self, _timeout: Duration, cancel: &CancelToken) -> MockResult<()> {
        if cancel.is_cancelled() {
            return Err(MockError(ErrorKind::Cancelled));
        }
        match self.script.next("wait_for_card()") {
            IccCall::WaitForCard(r) => r,
            other => self.script.mismatch(&other, "wait_for_card()"),
        }
    }
    fn power_on(&mut self) -> MockResult<Atr> {
        match self.script.next("power_on()") {
            IccCall::PowerOn(r) => r,
            other => self.script.mismatch(&other, "power_on()"),
        }
    }
    fn transmit<'r>(&mut self, command: &Apdu<'_>, out: &'r mut [u8]) -> MockResult<Rapdu<'r>> {
        let sent = encode(command);
        let called = alloc::format!("transmit({})", hex(&sent));
        match self.script.next(&called) {
            IccCall::Transmit {
                command: expected,
                response,
            } if expected == sent => copy_response(&response?, out),
            other => self.script.mismatch(&other, &called),
        }
    }
    fn power_off(&mut self) -> MockResult<()> {
        match self.script.next("power_off()") {
            IccCall::PowerOff(r) => r,
            other => self.script.mismatch(&other, "power_off()"),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| alloc::format!("{b:02X}")).collect()
}

/// An expected [`PiccReader`] call.
#[derive(Debug)]
pub enum PiccCall {
    /// `poll()` returns this.
    Poll(MockResult<Target>),
    /// `transmit()` must send `command` and gets `response`.
    Transmit {
        /// Expected encoded command APDU.
        command: Vec<u8>,
        /// Response bytes or error.
        response: MockResult<Vec<u8>>,
    },
    /// `release()` returns this.
    Release(MockResult<()>),
}

/// A scripted contactless reader.
#[derive(Debug)]
pub struct MockPiccReader {
    script: Script<PiccCall>,
}

impl MockPiccReader {
    /// A reader that expects `calls` in order.
    pub fn new(calls: impl IntoIterator<Item = PiccCall>) -> Self {
        Self {
            script: Script::new("MockPiccReader", calls),
        }
    }
    /// Panics unless every expected call was made.
    pub fn done(&mut self) {
        self.script.done();
    }
}

impl ErrorType for MockPiccReader {
    type Error = MockError;
}
scripted_health!(MockPiccReader);

impl PiccReader for MockPiccReader {
    fn caps(&self) -> ReaderCaps {
        ReaderCaps {
            contact: false,
            contactless: true,
            t0: false,
            t1: true,
            max_apdu: 261,
        }
    }
    fn info(&self) -> DeviceInfo {
        info(DeviceKind::ContactlessReader, "Mock PICC 00 00")
    }
    fn poll(&mut self, _: TargetTypes, _: Duration, cancel: &CancelToken) -> MockResult<Target> {
        if cancel.is_cancelled() {
            return Err(MockError(ErrorKind::Cancelled));
        }
        match self.script.next("poll()") {
            PiccCall::Poll(r) => r,
            other => self.script.mismatch(&other, "poll()"),
        }
    }
    fn transmit<'r>(&mut self, command: &Apdu<'_>, out: &'r mut [u8]) -> MockResult<Rapdu<'r>> {
        let sent = encode(command);
        let called = alloc::format!("transmit({})", hex(&sent));
        match self.script.next(&called) {
            PiccCall::Transmit {
                command: expected,
                response,
            } if expected == sent => copy_response(&response?, out),
            other => self.script.mismatch(&other, &called),
        }
    }
    fn release(&mut self) -> MockResult<()> {
        match self.script.next("release()") {
            PiccCall::Release(r) => r,
            other => self.script.mismatch(&other, "release()"),
        }
    }
}

/// A scripted magstripe reader: each `read_swipe()` returns the next result.
#[derive(Debug)]
pub struct MockMagstripeReader {
    script: Script<MockResult<Tracks>>,
}

impl MockMagstripeReader {
    /// A reader whose swipes return `swipes` in order.
    pub fn new(swipes: impl IntoIterator<Item = MockResult<Tracks>>) -> Self {
        Self {
            script: Script::new("MockMagstripeReader", swipes),
        }
    }
    /// Panics unless every swipe was read.
    pub fn done(&mut self) {
        self.script.done();
    }
}

impl ErrorType for MockMagstripeReader {
    type Error = MockError;
}
scripted_health!(MockMagstripeReader);

impl MagstripeReader for MockMagstripeReader {
    fn caps(&self) -> MsrCaps {
        MsrCaps {
            tracks: [true, true, true],
            encrypting: false,
        }
    }
    fn info(&self) -> DeviceInfo {
        info(DeviceKind::Magstripe, "Mock MSR")
    }
    fn read_swipe(&mut self, _: Duration, cancel: &CancelToken) -> MockResult<Tracks> {
        if cancel.is_cancelled() {
            return Err(MockError(ErrorKind::Cancelled));
        }
        self.script.next("read_swipe()")
    }
}

/// An expected [`ReceiptPrinter`] call.
#[derive(Debug)]
pub enum PrinterCall {
    /// `status()` returns this.
    Status(MockResult<PrinterStatus>),
    /// `print()` returns this; the receipt's text is recorded in [`MockPrinter::printed`].
    Print(MockResult<JobResult>),
    /// `open_drawer()` returns this.
    OpenDrawer(MockResult<()>),
}

/// A scripted receipt printer that records the text of every receipt it was asked to print.
#[derive(Debug)]
pub struct MockPrinter {
    script: Script<PrinterCall>,
    /// One string per `print()` call: the receipt's text lines joined by `\n`.
    pub printed: Vec<String>,
}

impl MockPrinter {
    /// A printer that expects `calls` in order.
    pub fn new(calls: impl IntoIterator<Item = PrinterCall>) -> Self {
        Self {
            script: Script::new("MockPrinter", calls),
            printed: Vec::new(),
        }
    }
    /// Panics unless every expected call was made.
    pub fn done(&mut self) {
        self.script.done();
    }
    /// A ready status.
    pub const READY: PrinterStatus = PrinterStatus {
        online: true,
        paper: PaperState::Ok,
        cover_open: false,
        drawer_open: None,
    };
}

/// Renders a receipt's text content, one line per element (used by the fakes and tests).
pub fn receipt_text(receipt: &Receipt<'_>) -> String {
    let mut out = String::new();
    for line in receipt.lines() {
        match line {
            ReceiptLine::Text { text, .. } => out.push_str(text),
            ReceiptLine::Columns { left, right, .. } => {
                out.push_str(left);
                out.push(' ');
                out.push_str(right);
            }
            ReceiptLine::Separator(c) => out.push_str(&c.to_string().repeat(32)),
            ReceiptLine::Qr { data, .. } => out.push_str(&alloc::format!("[QR {data}]")),
            ReceiptLine::Barcode { data, .. } => out.push_str(&alloc::format!("[BARCODE {data}]")),
            ReceiptLine::Feed(_) => {}
            ReceiptLine::Cut(_) => out.push_str("[CUT]"),
        }
        out.push('\n');
    }
    out
}

impl ErrorType for MockPrinter {
    type Error = MockError;
}
scripted_health!(MockPrinter);

impl ReceiptPrinter for MockPrinter {
    fn caps(&self) -> PrinterCaps {
        PrinterCaps {
            width_dots: 384,
            columns: 32,
            cutter: true,
            drawer: true,
            status: true,
            charsets: Charsets::ASCII.union(Charsets::GB18030),
        }
    }
    fn status(&mut self) -> MockResult<PrinterStatus> {
        match self.script.next("status()") {
            PrinterCall::Status(r) => r,
            other => self.script.mismatch(&other, "status()"),
        }
    }
    fn print(&mut self, receipt: &Receipt<'_>) -> MockResult<JobResult> {
        match self.script.next("print()") {
            PrinterCall::Print(r) => {
                if r.is_ok() {
                    self.printed.push(receipt_text(receipt));
                }
                r
            }
            other => self.script.mismatch(&other, "print()"),
        }
    }
    fn open_drawer(&mut self) -> MockResult<()> {
        match self.script.next("open_drawer()") {
            PrinterCall::OpenDrawer(r) => r,
            other => self.script.mismatch(&other, "open_drawer()"),
        }
    }
    fn info(&self) -> DeviceInfo {
        info(DeviceKind::Printer, "Mock printer 58mm")
    }
}

/// A scripted PIN pad: each `get_pin()` returns the next result.
#[derive(Debug)]
pub struct MockPinPad {
    script: Script<MockResult<PinEntry>>,
}

impl MockPinPad {
    /// A PIN pad whose entries are `entries` in order.
    pub fn new(entries: impl IntoIterator<Item = MockResult<PinEntry>>) -> Self {
        Self {
            script: Script::new("MockPinPad", entries),
        }
    }
    /// Panics unless every entry was used.
    pub fn done(&mut self) {
        self.script.done();
    }
}

impl ErrorType for MockPinPad {
    type Error = MockError;
}
scripted_health!(MockPinPad);

impl PinPad for MockPinPad {
    fn get_pin(&mut self, _: &PinRequest<'_>, cancel: &CancelToken) -> MockResult<PinEntry> {
        if cancel.is_cancelled() {
            return Err(MockError(ErrorKind::Cancelled));
        }
        self.script.next("get_pin()")
    }
}

/// A scripted keypad: each `read_key()` returns the next result.
#[derive(Debug)]
pub struct MockKeypad {
    script: Script<MockResult<Key>>,
}

impl MockKeypad {
    /// A keypad that "presses" `keys` in order.
    pub fn new(keys: impl IntoIterator<Item = MockResult<Key>>) -> Self {
        Self {
            script: Script::new("MockKeypad", keys),
        }
    }
    /// Presses digits then Enter, e.g. `typing("5000")`.
    pub fn typing(digits: &str) -> Self {
        let keys = digits
            .bytes()
            .filter(u8::is_ascii_digit)
            .map(|d| Ok(Key::Digit(d - b'0')))
            .chain(core::iter::once(Ok(Key::Enter)));
        Self::new(keys)
    }
    /// Panics unless every key was read.
    pub fn done(&mut self) {
        self.script.done();
    }
}

impl ErrorType for MockKeypad {
    type Error = MockError;
}

impl Keypad for MockKeypad {
    fn read_key(&mut self, _: Duration, cancel: &CancelToken) -> MockResult<Key> {
        if cancel.is_cancelled() {
            return Err(MockError(ErrorKind::Cancelled));
        }
        self.script.next("read_key()")
    }
}

/// A recording display: every screen shown is kept as text lines for assertions.
#[derive(Debug, Default)]
pub struct MockDisplay {
    /// Screens in the order they were shown.
    pub screens: Vec<Vec<String>>,
}

impl MockDisplay {
    /// The last screen, joined by `\n`.
    pub fn last(&self) -> String {
        self.screens
            .last()
            .map(|s| s.join("\n"))
            .unwrap_or_default()
    }
}

impl ErrorType for MockDisplay {
    type Error = MockError;
}

impl Display for MockDisplay {
    fn caps(&self) -> DisplayCaps {
        DisplayCaps {
            rows: 8,
            columns: 21,
            qr: true,
        }
    }
    fn clear(&mut self) -> MockResult<()> {
        self.screens.push(Vec::new());
        Ok(())
    }
    fn show_lines(&mut self, lines: &[&str]) -> MockResult<()> {
        self.screens
            .push(lines.iter().map(|l| l.to_string()).collect());
        Ok(())
    }
    fn show_amount(&mut self, prompt: &str, amount: Amount) -> MockResult<()> {
        self.screens
            .push(alloc::vec![prompt.to_string(), amount.to_string()]);
        Ok(())
    }
    fn show_menu(&mut self, title: &str, items: &[&str], selected: usize) -> MockResult<()> {
        let mut screen = alloc::vec![title.to_string()];
        for (i, item) in items.iter().enumerate() {
            screen.push(alloc::format!(
                "{}{item}",
                if i == selected { "> " } else { "  " }
            ));
        }
        self.screens.push(screen);
        Ok(())
    }
    fn show_qr(&mut self, caption: &str, data: &str) -> MockResult<()> {
        self.screens.push(alloc::vec![
            caption.to_string(),
            alloc::format!("[QR {data}]")
        ]);
        Ok(())
    }
}

/// A recording beeper/lights.
#[derive(Debug, Default)]
pub struct MockIndicators {
    /// Beeps in order.
    pub beeps: Vec<BeepKind>,
    /// Light states in order.
    pub leds: Vec<ContactlessLeds>,
}

impl ErrorType for MockIndicators {
    type Error = MockError;
}

impl Indicators for MockIndicators {
    fn beep(&mut self, kind: BeepKind) -> MockResult<()> {
        self.beeps.push(kind);
        Ok(())
    }
    fn set_contactless_leds(&mut self, leds: ContactlessLeds) -> MockResult<()> {
        self.leds.push(leds);
        Ok(())
    }
}

/// A clock that only moves when the test says so (embassy's `MockDriver` idea).
#[derive(Debug, Clone)]
pub struct MockClock {
    now: DateTime,
    uptime: Duration,
}

impl MockClock {
    /// A clock standing at `now`.
    pub fn new(now: DateTime) -> Self {
        Self {
            now,
            uptime: Duration::ZERO,
        }
    }
    /// Sets the wall-clock time (e.g. to the next day, to force settlement).
    pub fn set(&mut self, now: DateTime) {
        self.now = now;
    }
    /// Advances monotonic time.
    pub fn advance(&mut self, by: Duration) {
        self.uptime += by;
    }
}

impl ErrorType for MockClock {
    type Error = MockError;
}

impl Clock for MockClock {
    fn now(&mut self) -> MockResult<DateTime> {
        Ok(self.now)
    }
    fn uptime(&mut self) -> Duration {
        self.uptime
    }
}

/// A scripted combined card entry: each `detect()` must be asked for `modes` and returns the
/// scripted event.
#[derive(Debug)]
pub struct MockCardEntry {
    script: Script<(EntryModes, MockResult<CardEvent>)>,
}

impl MockCardEntry {
    /// Expects `detect(modes)` calls in order with these results.
    pub fn new(calls: impl IntoIterator<Item = (EntryModes, MockResult<CardEvent>)>) -> Self {
        Self {
            script: Script::new("MockCardEntry", calls),
        }
    }
    /// Panics unless every expected call was made.
    pub fn done(&mut self) {
        self.script.done();
    }
}

impl ErrorType for MockCardEntry {
    type Error = MockError;
}

impl CardEntry for MockCardEntry {
    fn detect(
        &mut self,
        modes: EntryModes,
        _: Duration,
        cancel: &CancelToken,
    ) -> MockResult<CardEvent> {
        if cancel.is_cancelled() {
            return Err(MockError(ErrorKind::Cancelled));
        }
        let called = alloc::format!("detect({modes:?})");
        match self.script.next(&called) {
            (expected, result) if expected == modes => result,
            other => self.script.mismatch(&other, &called),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "expected Transmit")]
    fn wrong_apdu_fails_loudly() {
        let mut reader = MockIccReader::new([IccCall::transmit(&[0, 0xA4, 4, 0], &[0x90, 0])]);
        let mut buf = [0u8; 8];
        let _ = reader.transmit(&Apdu::new(0, 0xB2, 1, 0x0C), &mut buf);
    }

    #[test]
    #[should_panic(expected = "never made")]
    fn unused_expectations_fail_on_drop() {
        let _reader = MockIccReader::new([IccCall::PowerOff(Ok(()))]);
    }

    #[test]
    #[should_panic(expected = "script is finished")]
    fn extra_calls_fail() {
        let mut keypad = MockKeypad::typing("");
        let token = CancelToken::new();
        let _ = keypad.read_key(Duration::ZERO, &token);
        let _ = keypad.read_key(Duration::ZERO, &token);
    }

    #[test]
    fn scripted_errors_come_back_as_kinds() {
        let mut printer = MockPrinter::new([
            PrinterCall::Status(Ok(MockPrinter::READY)),
            PrinterCall::Print(Err(MockError(ErrorKind::PaperOut))),
        ]);
        assert!(printer.status().is_ok_and(|s| s.ready()));
        let lines = [ReceiptLine::Separator('-')];
        let err = printer.print(&Receipt::new(&lines)).err().map(|e| e.kind());
        assert_eq!(err, Some(ErrorKind::PaperOut));
        assert!(printer.printed.is_empty());
        printer.done();
    }
}
