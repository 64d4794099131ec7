//! Reprint (重打印): the merchant copy of the last approved transaction, or of the one with a
//! given voucher number, printed again from the journal and marked as a reprint.

use alloc::string::String;
use core::time::Duration;

use pos_hal::{ErrorKind, Key};

use super::{Action, Event, Screen, Step};
use crate::slip::Copy;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Menu,
    Voucher,
    Printing(Option<u32>),
    PrinterProblem(Option<u32>),
    Acknowledge,
    Done,
}

/// The reprint flow.
#[derive(Debug, Clone)]
pub struct ReprintFlow {
    state: State,
    digits: String,
    timeout: Duration,
    last: Step,
}

impl ReprintFlow {
    /// Starts at the menu.
    ///
    /// ```
    /// use pos_hal::Key;
    /// use pos_terminal::flows::{Action, Event, ReprintFlow};
    /// let (mut f, _) = ReprintFlow::start(core::time::Duration::from_secs(60));
    /// assert_eq!(f.on(Event::Key(Key::Digit(1))).action, Action::Reprint { voucher: None });
    /// ```
    pub fn start(timeout: Duration) -> (Self, Step) {
        let step = Step {
            screen: Screen::ReprintMenu,
            action: Action::WaitKey { timeout },
        };
        let flow = Self {
            state: State::Menu,
            digits: String::new(),
            timeout,
            last: step.clone(),
        };
        (flow, step)
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

    fn print(&mut self, voucher: Option<u32>) -> Step {
        self.go(
            State::Printing(voucher),
            Screen::Printing {
                copy: Copy::Reprint,
            },
            Action::Reprint { voucher },
        )
    }

    fn end(&mut self, reason: &'static str) -> Step {
        self.go(State::Done, Screen::Ended { reason }, Action::Finish)
    }

    /// Feeds one event.
    pub fn on(&mut self, event: Event) -> Step {
        let wait = self.wait();
        match (self.state, event) {
            (State::Menu, Event::Key(Key::Digit(1))) => self.print(None),
            (State::Menu, Event::Key(Key::Digit(2))) => {
                self.digits.clear();
                self.go(
                    State::Voucher,
                    Screen::VoucherNumber {
                        digits: String::new(),
                    },
                    wait,
                )
            }
            (State::Voucher, Event::Key(Key::Digit(d))) if self.digits.len() < 6 => {
                self.digits.push(char::from(b'0' + d.min(9)));
                let digits = self.digits.clone();
                self.go(State::Voucher, Screen::VoucherNumber { digits }, wait)
            }
            (State::Voucher, Event::Key(Key::Clear)) => {
                self.digits.pop();
                let digits = self.digits.clone();
                self.go(State::Voucher, Screen::VoucherNumber { digits }, wait)
            }
            (State::Voucher, Event::Key(Key::Enter)) if !self.digits.is_empty() => {
                let voucher = self.digits.parse().ok();
                match voucher {
                    Some(v) => self.print(Some(v)),
                    None => self.last.clone(),
                }
            }
            (State::Menu | State::Voucher, Event::Key(Key::Cancel) | Event::Timeout) => {
                self.end("nothing reprinted")
            }
            (State::Printing(_), Event::Printed(Ok(()))) => {
                self.go(State::Done, Screen::Done, Action::Finish)
            }
            (State::Printing(_), Event::Printed(Err(ErrorKind::InvalidInput))) => self.go(
                State::Acknowledge,
                Screen::Ended {
                    reason: "no approved transaction with that voucher number in the journal",
                },
                wait,
            ),
            (State::Printing(voucher), Event::Printed(Err(fault))) => self.go(
                State::PrinterProblem(voucher),
                Screen::PrinterProblem {
                    copy: Copy::Reprint,
                    fault,
                },
                wait,
            ),
            (State::PrinterProblem(voucher), Event::Key(Key::Enter)) => self.print(voucher),
            (State::PrinterProblem(_), Event::Key(Key::Cancel)) => self.end("nothing reprinted"),
            (State::Acknowledge, Event::Key(_) | Event::Timeout) => {
                self.go(State::Done, Screen::Done, Action::Finish)
            }
            _ => self.last.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow() -> ReprintFlow {
        ReprintFlow::start(Duration::from_secs(60)).0
    }

    #[test]
    fn by_voucher_number_then_printed() {
        let mut f = flow();
        f.on(Event::Key(Key::Digit(2)));
        for d in [0, 0, 0, 0, 1, 2] {
            f.on(Event::Key(Key::Digit(d)));
        }
        let s = f.on(Event::Key(Key::Enter));
        assert_eq!(s.action, Action::Reprint { voucher: Some(12) });
        assert_eq!(f.on(Event::Printed(Ok(()))).screen, Screen::Done);
    }

    #[test]
    fn an_unknown_voucher_is_said_and_a_printer_fault_offers_a_retry() {
        let mut f = flow();
        f.on(Event::Key(Key::Digit(1)));
        let s = f.on(Event::Printed(Err(ErrorKind::InvalidInput)));
        assert!(matches!(s.screen, Screen::Ended { .. }));
        let mut g = flow();
        g.on(Event::Key(Key::Digit(1)));
        let s = g.on(Event::Printed(Err(ErrorKind::PaperOut)));
        assert!(matches!(
            s.screen,
            Screen::PrinterProblem {
                copy: Copy::Reprint,
                ..
            }
        ));
        assert_eq!(
            g.on(Event::Key(Key::Enter)).action,
            Action::Reprint { voucher: None }
        );
    }
}
