//! Fakes of the other devices: scripted (magstripe, printer, PIN pad, keypad, card entry) and
//! recording (display, indicators), plus a clock moved by hand.

use std::time::Duration;

use pos_hal::{
    Amount, BeepKind, CancelToken, CardEntry, CardEvent, Clock, ContactlessLeds, DateTime,
    DeviceKind, Display, DisplayCaps, EntryModes, ErrorType, Indicators, JobResult, Key, Keypad,
    MagstripeReader, MsrCaps, OfflinePinEntry, OfflinePinRequest, PinEntry, PinPad, PinRequest,
    PrinterCaps, PrinterStatus, Receipt, ReceiptPrinter, Swipe,
};

use crate::{MockError, MockResult, Script, mock_device};

/// A scripted magstripe reader: each `read_swipe()` returns the next result.
#[derive(Debug)]
pub struct MockMagstripeReader {
    script: Script<MockResult<Swipe>>,
}

impl MockMagstripeReader {
    /// A reader whose swipes return `swipes` in order.
    pub fn new(swipes: impl IntoIterator<Item = MockResult<Swipe>>) -> Self {
        Self {
            script: Script::new("MockMagstripeReader", swipes),
        }
    }
    /// Panics unless every swipe was read.
    pub fn done(&mut self) {
        self.script.done();
    }
}

mock_device!(MockMagstripeReader, DeviceKind::Magstripe, "Mock MSR");

impl MagstripeReader for MockMagstripeReader {
    fn caps(&self) -> MsrCaps {
        MsrCaps::default()
    }
    fn read_swipe(&mut self, _: Duration, cancel: &CancelToken) -> MockResult<Swipe> {
        self.script.expect_wait(cancel, "read_swipe()", Ok)
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

/// A scripted receipt printer that records the text of every receipt it printed.
#[derive(Debug)]
pub struct MockPrinter {
    script: Script<PrinterCall>,
    /// One string per successful `print()`: [`Receipt::plain_text`].
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
}

mock_device!(MockPrinter, DeviceKind::Printer, "Mock printer");

impl ReceiptPrinter for MockPrinter {
    fn caps(&self) -> PrinterCaps {
        PrinterCaps::paper_58mm()
    }
    fn status(&mut self, cancel: &CancelToken) -> MockResult<PrinterStatus> {
        self.script.expect_wait(cancel, "status()", |c| match c {
            PrinterCall::Status(r) => Ok(r),
            other => Err(other),
        })
    }
    fn print(&mut self, receipt: &Receipt<'_>, cancel: &CancelToken) -> MockResult<JobResult> {
        let result = self.script.expect_wait(cancel, "print()", |c| match c {
            PrinterCall::Print(r) => Ok(r),
            other => Err(other),
        })?;
        self.printed.push(receipt.plain_text());
        Ok(result)
    }
    fn open_drawer(&mut self) -> MockResult<()> {
        self.script.expect("open_drawer()", |c| match c {
            PrinterCall::OpenDrawer(r) => Ok(r),
            other => Err(other),
        })
    }
}

/// A scripted PIN pad: each `get_pin()` returns the next result, each `get_offline_pin()`
/// the next of its own script.
#[derive(Debug)]
pub struct MockPinPad {
    script: Script<MockResult<PinEntry>>,
    offline: Script<MockResult<OfflinePinEntry>>,
}

impl MockPinPad {
    /// A PIN pad whose (online) entries are `entries` in order.
    pub fn new(entries: impl IntoIterator<Item = MockResult<PinEntry>>) -> Self {
        Self {
            script: Script::new("MockPinPad", entries),
            offline: Script::new("MockPinPad offline", []),
        }
    }
    /// With these offline PIN entries, in order.
    pub fn with_offline(
        mut self,
        entries: impl IntoIterator<Item = MockResult<OfflinePinEntry>>,
    ) -> Self {
        self.offline = Script::new("MockPinPad offline", entries);
        self
    }
    /// Panics unless every entry was used.
    pub fn done(&mut self) {
        self.script.done();
        self.offline.done();
    }
}

mock_device!(MockPinPad, DeviceKind::PinPad, "Mock PIN pad");

impl PinPad for MockPinPad {
    fn get_pin(&mut self, _: &PinRequest<'_>, cancel: &CancelToken) -> MockResult<PinEntry> {
        self.script.expect_wait(cancel, "get_pin()", Ok)
    }
    fn get_offline_pin(
        &mut self,
        _: &OfflinePinRequest<'_>,
        cancel: &CancelToken,
    ) -> MockResult<OfflinePinEntry> {
        self.offline.expect_wait(cancel, "get_offline_pin()", Ok)
    }
}

/// A scripted keypad: each `read_key()` returns the next result.
#[derive(Debug)]
pub struct MockKeypad {
    script: Script<MockResult<Key>>,
}

impl MockKeypad {
    /// A keypad whose presses are `keys` in order.
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
            .chain(std::iter::once(Ok(Key::Enter)));
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
        self.script.expect_wait(cancel, "read_key()", Ok)
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
        DisplayCaps::new(8, 21, true)
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
            .push(vec![prompt.to_string(), amount.to_string()]);
        Ok(())
    }
    fn show_menu(&mut self, title: &str, items: &[&str], selected: usize) -> MockResult<()> {
        let mut screen = vec![title.to_string()];
        for (i, item) in items.iter().enumerate() {
            let mark = if i == selected { "> " } else { "  " };
            screen.push(format!("{mark}{item}"));
        }
        self.screens.push(screen);
        Ok(())
    }
    fn show_qr(&mut self, caption: &str, data: &str) -> MockResult<()> {
        self.screens
            .push(vec![caption.to_string(), format!("[QR {data}]")]);
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
    /// Advances monotonic time (saturating).
    pub fn advance(&mut self, by: Duration) {
        self.uptime = self.uptime.saturating_add(by);
    }
}

impl ErrorType for MockClock {
    type Error = std::convert::Infallible;
}

impl Clock for MockClock {
    fn now(&mut self) -> Result<DateTime, std::convert::Infallible> {
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
        let called = format!("detect({modes:?})");
        self.script
            .expect_wait(cancel, &called, |(expected, result)| {
                if expected == modes {
                    Ok(result)
                } else {
                    Err((expected, result))
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pos_hal::{Error, ErrorKind, ReceiptLine};

    #[test]
    #[should_panic(expected = "script is finished")]
    fn extra_calls_fail() {
        let mut keypad = MockKeypad::typing("");
        let token = CancelToken::new();
        let _ = keypad.read_key(Duration::ZERO, &token);
        let _ = keypad.read_key(Duration::ZERO, &token);
    }

    #[test]
    fn scripted_errors_come_back_as_kinds_and_nothing_is_recorded() {
        let token = CancelToken::new();
        let mut printer = MockPrinter::new([
            PrinterCall::Status(Ok(PrinterStatus::default())),
            PrinterCall::Print(Err(MockError(ErrorKind::PaperOut))),
        ]);
        assert!(printer.status(&token).is_ok_and(|s| s.ready()));
        let lines = [ReceiptLine::Separator('-')];
        let err = printer
            .print(&Receipt::new(&lines), &token)
            .err()
            .map(|e| e.kind());
        assert_eq!(err, Some(ErrorKind::PaperOut));
        assert!(printer.printed.is_empty());
        printer.done();
    }

    #[test]
    fn card_entry_checks_the_modes_asked_for() {
        let mut entry = MockCardEntry::new([(EntryModes::ALL, Ok(CardEvent::Timeout))]);
        let event = entry.detect(EntryModes::ALL, Duration::ZERO, &CancelToken::new());
        assert_eq!(event, Ok(CardEvent::Timeout));
    }
}
