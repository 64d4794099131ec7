//! Device self-check (设备自检) and network check (网络检测): the keypad tested key by key,
//! every fitted device asked for its health, the host echoed a few times with the round trip
//! measured, and the report shown and — on request — printed.

use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use pos_hal::{ErrorKind, HealthReport, HealthStatus, Key};

use super::{Action, Event, Screen, Step};

/// How one device answered the self-check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckResult {
    /// The terminal has none configured.
    NotFitted,
    /// The device ran its check.
    Checked(HealthReport),
    /// The check could not run (the device does not answer).
    Failed(ErrorKind),
}

impl CheckResult {
    /// The device works (or is not fitted, which is no fault).
    pub fn is_fault(&self) -> bool {
        match self {
            CheckResult::NotFitted => false,
            CheckResult::Checked(r) => r.status == HealthStatus::Failed,
            CheckResult::Failed(_) => true,
        }
    }
}

/// One line of the self-check: a device role and its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceCheck {
    /// The role, bilingual (`打印机 PRINTER`).
    pub role: &'static str,
    /// The result.
    pub result: CheckResult,
}

/// Why the host did not echo.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EchoFailure {
    /// No connection or no answer in time.
    Unreachable(ErrorKind),
    /// The host answered with this response code.
    Rejected {
        /// Field 39.
        rc: String,
    },
    /// The answer did not match the request (another terminal's, garbled).
    BadAnswer,
}

/// The network check: echo tests (0820) and their round trips.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkReport {
    /// Echoes sent.
    pub sent: u8,
    /// Echoes answered with `00`.
    pub answered: u8,
    /// Fastest round trip, milliseconds.
    pub min_ms: u32,
    /// Mean round trip of the answered ones, milliseconds.
    pub mean_ms: u32,
    /// Slowest round trip, milliseconds.
    pub max_ms: u32,
    /// The last failure, if any echo failed.
    pub failure: Option<EchoFailure>,
}

impl NetworkReport {
    /// Summarises round trips (`Ok(ms)`) and failures, in order.
    ///
    /// ```
    /// use pos_terminal::flows::self_check::{EchoFailure, NetworkReport};
    /// let r = NetworkReport::from_tries(&[Ok(12), Ok(30), Err(EchoFailure::BadAnswer)]);
    /// assert_eq!((r.sent, r.answered, r.min_ms, r.mean_ms, r.max_ms), (3, 2, 12, 21, 30));
    /// assert_eq!(r.failure, Some(EchoFailure::BadAnswer));
    /// ```
    pub fn from_tries(tries: &[Result<u32, EchoFailure>]) -> Self {
        let times: Vec<u32> = tries
            .iter()
            .filter_map(|t| t.as_ref().ok().copied())
            .collect();
        let sum: u64 = times.iter().map(|&t| u64::from(t)).sum();
        Self {
            sent: u8::try_from(tries.len()).unwrap_or(u8::MAX),
            answered: u8::try_from(times.len()).unwrap_or(u8::MAX),
            min_ms: times.iter().copied().min().unwrap_or(0),
            mean_ms: u32::try_from(sum / (times.len().max(1) as u64)).unwrap_or(u32::MAX),
            max_ms: times.iter().copied().max().unwrap_or(0),
            failure: tries.iter().rev().find_map(|t| t.clone().err()),
        }
    }

    /// Every echo was answered.
    pub fn ok(&self) -> bool {
        self.sent > 0 && self.answered == self.sent
    }

    /// The failure in words: cause and what to do.
    pub fn explain(&self) -> Option<(&'static str, &'static str)> {
        Some(match self.failure.as_ref()? {
            EchoFailure::Unreachable(_) => (
                "the acquirer's host cannot be reached",
                "check the network cable, Wi-Fi or SIM card and the host address",
            ),
            EchoFailure::Rejected { rc } => crate::online::explain(rc),
            EchoFailure::BadAnswer => (
                "the host's answers do not match the requests",
                "check the host address; call the acquirer's help desk",
            ),
        })
    }
}

/// What the self-check found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SelfCheckReport {
    /// Digits 0–9 seen in the key test (bit n = digit n); `None` when the test was skipped.
    pub keys_seen: Option<u16>,
    /// Every device role.
    pub devices: Vec<DeviceCheck>,
    /// The network check, when one ran.
    pub network: Option<NetworkReport>,
}

/// All ten digit keys.
pub const ALL_DIGITS: u16 = 0x03ff;

impl SelfCheckReport {
    /// Anything failed: a device, the key test, or the network.
    pub fn has_fault(&self) -> bool {
        self.devices.iter().any(|d| d.result.is_fault())
            || self.keys_seen.is_some_and(|k| k != ALL_DIGITS)
            || self.network.as_ref().is_some_and(|n| !n.ok())
    }

    /// The report as lines (screen and printed list share them).
    pub fn lines(&self) -> Vec<String> {
        use core::fmt::Write;
        let mut out = Vec::new();
        match self.keys_seen {
            Some(ALL_DIGITS) => out.push(String::from("键盘 KEYPAD: OK")),
            Some(seen) => {
                let mut line = String::from("键盘 KEYPAD: 未按 NOT PRESSED");
                for d in (0..10u8).filter(|d| seen & (1 << d) == 0) {
                    let _ = write!(line, " {d}");
                }
                out.push(line);
            }
            None => {}
        }
        for d in &self.devices {
            let mut line = String::new();
            let _ = match &d.result {
                CheckResult::NotFitted => write!(line, "{}: 未配置 NOT FITTED", d.role),
                CheckResult::Checked(r) => {
                    let state = match r.status {
                        HealthStatus::Ok => "正常 OK",
                        HealthStatus::Degraded => "警告 WARNING",
                        _ => "故障 FAULT",
                    };
                    write!(line, "{}: {state} {}", d.role, r.detail.as_str())
                }
                CheckResult::Failed(kind) => write!(line, "{}: 故障 FAULT {kind}", d.role),
            };
            out.push(String::from(line.trim_end()));
        }
        if let Some(n) = &self.network {
            let mut line = String::new();
            if n.answered > 0 {
                let _ = write!(
                    line,
                    "网络 NETWORK: {}/{} 应答 ANSWERED, {}/{}/{} ms",
                    n.answered, n.sent, n.min_ms, n.mean_ms, n.max_ms
                );
            } else {
                let _ = write!(line, "网络 NETWORK: 不通 NO ANSWER ({})", n.sent);
            }
            out.push(line);
            if let Some((cause, action)) = n.explain() {
                out.push(String::from(cause));
                out.push(String::from(action));
            }
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Keys,
    Devices,
    Network,
    Report,
    Printing,
    PrinterProblem,
    Done,
}

/// The self-check flow: key test, devices, network, report, print on Enter.
#[derive(Debug, Clone)]
pub struct SelfCheckFlow {
    state: State,
    timeout: Duration,
    report: SelfCheckReport,
    with_devices: bool,
    echoes: u8,
    last: Step,
}

/// Echo tests of a network check.
pub const ECHOES: u8 = 3;

impl SelfCheckFlow {
    /// The device self-check: the keypad first (press every digit, then Enter; Cancel or a
    /// timeout skips it), then every device and the network.
    ///
    /// ```
    /// use pos_terminal::flows::{Screen, SelfCheckFlow};
    /// let (_, step) = SelfCheckFlow::start(core::time::Duration::from_secs(30));
    /// assert_eq!(step.screen, Screen::KeyTest { seen: 0 });
    /// ```
    pub fn start(timeout: Duration) -> (Self, Step) {
        let step = Step {
            screen: Screen::KeyTest { seen: 0 },
            action: Action::WaitKey { timeout },
        };
        let flow = Self {
            state: State::Keys,
            timeout,
            report: SelfCheckReport {
                keys_seen: Some(0),
                ..SelfCheckReport::default()
            },
            with_devices: true,
            echoes: ECHOES,
            last: step.clone(),
        };
        (flow, step)
    }

    /// The network check alone: [`ECHOES`] echo tests with their round trips.
    ///
    /// ```
    /// use pos_terminal::flows::{Action, SelfCheckFlow};
    /// let (_, step) = SelfCheckFlow::network(core::time::Duration::from_secs(30));
    /// assert_eq!(step.action, Action::CheckNetwork { echoes: 3 });
    /// ```
    pub fn network(timeout: Duration) -> (Self, Step) {
        let step = Step {
            screen: Screen::SelfChecking,
            action: Action::CheckNetwork { echoes: ECHOES },
        };
        let flow = Self {
            state: State::Network,
            timeout,
            report: SelfCheckReport::default(),
            with_devices: false,
            echoes: ECHOES,
            last: step.clone(),
        };
        (flow, step)
    }

    /// What was found so far.
    pub fn report(&self) -> &SelfCheckReport {
        &self.report
    }

    fn go(&mut self, state: State, screen: Screen, action: Action) -> Step {
        self.state = state;
        self.last = Step { screen, action };
        self.last.clone()
    }

    fn wait(&self) -> Action {
        Action::WaitKey {
            timeout: self.timeout,
        }
    }

    fn show(&mut self) -> Step {
        let wait = self.wait();
        let screen = Screen::SelfCheckReport {
            report: self.report.clone(),
            printable: true,
        };
        self.go(State::Report, screen, wait)
    }

    fn check_devices(&mut self) -> Step {
        self.go(State::Devices, Screen::SelfChecking, Action::CheckDevices)
    }

    fn print(&mut self) -> Step {
        let report = self.report.clone();
        self.go(
            State::Printing,
            Screen::PrintingReport,
            Action::PrintSelfCheck { report },
        )
    }

    /// Feeds one event.
    pub fn on(&mut self, event: Event) -> Step {
        let wait = self.wait();
        match (self.state, event) {
            (State::Keys, Event::Key(Key::Digit(d))) if d < 10 => {
                let seen = self.report.keys_seen.unwrap_or(0) | (1 << d);
                self.report.keys_seen = Some(seen);
                self.go(State::Keys, Screen::KeyTest { seen }, wait)
            }
            (State::Keys, Event::Key(Key::Enter)) => self.check_devices(),
            (State::Keys, Event::Key(Key::Cancel) | Event::Timeout) => {
                self.report.keys_seen = None;
                self.check_devices()
            }
            (State::Devices, Event::DevicesChecked(devices)) => {
                self.report.devices = devices;
                let echoes = self.echoes;
                self.go(
                    State::Network,
                    Screen::SelfChecking,
                    Action::CheckNetwork { echoes },
                )
            }
            (State::Network, Event::NetworkChecked(network)) => {
                self.report.network = Some(network);
                if self.with_devices {
                    self.show()
                } else {
                    let screen = Screen::SelfCheckReport {
                        report: self.report.clone(),
                        printable: false,
                    };
                    self.go(State::Report, screen, wait)
                }
            }
            (State::Report, Event::Key(Key::Enter)) if self.with_devices => self.print(),
            (State::Report, Event::Key(_) | Event::Timeout) => {
                self.go(State::Done, Screen::Done, Action::Finish)
            }
            (State::Printing, Event::Printed(Ok(()))) => {
                self.go(State::Done, Screen::Done, Action::Finish)
            }
            (State::Printing, Event::Printed(Err(fault))) => self.go(
                State::PrinterProblem,
                Screen::ReportPrinterProblem { fault },
                wait,
            ),
            (State::PrinterProblem, Event::Key(Key::Enter)) => self.print(),
            (State::PrinterProblem, Event::Key(Key::Cancel) | Event::Timeout) => {
                self.go(State::Done, Screen::Done, Action::Finish)
            }
            _ => self.last.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pos_hal::HealthLevel;

    fn devices(printer: CheckResult) -> Vec<DeviceCheck> {
        alloc::vec![
            DeviceCheck {
                role: "打印机 PRINTER",
                result: printer
            },
            DeviceCheck {
                role: "非接 CONTACTLESS",
                result: CheckResult::NotFitted
            },
        ]
    }

    fn ok() -> CheckResult {
        CheckResult::Checked(HealthReport::new(
            HealthLevel::Internal,
            HealthStatus::Ok,
            "ready",
        ))
    }

    #[test]
    fn every_key_then_devices_then_network_then_the_report_printed() {
        let (mut f, _) = SelfCheckFlow::start(Duration::from_secs(30));
        for d in 0..10 {
            f.on(Event::Key(Key::Digit(d)));
        }
        assert_eq!(f.on(Event::Key(Key::Enter)).action, Action::CheckDevices);
        let s = f.on(Event::DevicesChecked(devices(ok())));
        assert_eq!(s.action, Action::CheckNetwork { echoes: ECHOES });
        let s = f.on(Event::NetworkChecked(NetworkReport::from_tries(&[
            Ok(3),
            Ok(5),
            Ok(4),
        ])));
        let Screen::SelfCheckReport { report, printable } = &s.screen else {
            panic!("{s:?}");
        };
        assert!(printable);
        assert!(!report.has_fault(), "{report:?}");
        assert!(matches!(
            f.on(Event::Key(Key::Enter)).action,
            Action::PrintSelfCheck { .. }
        ));
        assert_eq!(f.on(Event::Printed(Ok(()))).action, Action::Finish);
    }

    #[test]
    fn a_key_not_pressed_a_failed_printer_and_a_silent_host_are_faults() {
        let (mut f, _) = SelfCheckFlow::start(Duration::from_secs(30));
        for d in 0..9 {
            f.on(Event::Key(Key::Digit(d)));
        }
        f.on(Event::Key(Key::Enter));
        assert_eq!(f.report().keys_seen, Some(ALL_DIGITS & !(1 << 9)));
        f.on(Event::DevicesChecked(devices(CheckResult::Failed(
            ErrorKind::Timeout,
        ))));
        let s = f.on(Event::NetworkChecked(NetworkReport::from_tries(&[Err(
            EchoFailure::Unreachable(ErrorKind::Timeout),
        )])));
        let text = alloc::format!("{}", s.screen);
        assert!(text.contains("NOT PRESSED 9"), "{text}");
        assert!(text.contains("PRINTER: 故障 FAULT"), "{text}");
        assert!(text.contains("NO ANSWER"), "{text}");
        assert!(text.contains("cannot be reached"), "{text}");
        assert!(f.report().has_fault());
    }

    #[test]
    fn cancel_skips_the_key_test_and_the_network_check_alone_prints_nothing() {
        let (mut f, _) = SelfCheckFlow::start(Duration::from_secs(30));
        assert_eq!(f.on(Event::Key(Key::Cancel)).action, Action::CheckDevices);
        assert_eq!(f.report().keys_seen, None);
        let (mut n, _) = SelfCheckFlow::network(Duration::from_secs(30));
        let s = n.on(Event::NetworkChecked(NetworkReport::from_tries(&[Ok(1)])));
        assert!(matches!(
            s.screen,
            Screen::SelfCheckReport {
                printable: false,
                ..
            }
        ));
        assert_eq!(n.on(Event::Key(Key::Enter)).action, Action::Finish);
    }

    #[test]
    fn a_printer_fault_while_printing_the_report_offers_a_retry() {
        let (mut f, _) = SelfCheckFlow::start(Duration::from_secs(30));
        f.on(Event::Key(Key::Enter));
        f.on(Event::DevicesChecked(devices(ok())));
        f.on(Event::NetworkChecked(NetworkReport::from_tries(&[Ok(1)])));
        f.on(Event::Key(Key::Enter));
        let s = f.on(Event::Printed(Err(ErrorKind::PaperOut)));
        assert!(matches!(s.screen, Screen::ReportPrinterProblem { .. }));
        assert!(matches!(
            f.on(Event::Key(Key::Enter)).action,
            Action::PrintSelfCheck { .. }
        ));
        f.on(Event::Printed(Err(ErrorKind::PaperOut)));
        assert_eq!(f.on(Event::Key(Key::Cancel)).action, Action::Finish);
    }
}
