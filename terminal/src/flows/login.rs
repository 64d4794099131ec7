//! Operator login (签到后操作员登录): the operator number, the password as stars, checked
//! against the operator table the flow holds; wrong passwords are counted and persisted
//! ([`Action::SaveOperators`]) so a power cycle does not reset them; a locked operator is told
//! to ask the supervisor.

use alloc::string::String;
use core::time::Duration;

use pos_hal::Key;
use zeroize::Zeroizing;

use super::{Action, Event, Screen, Step};
use crate::operators::{Operators, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Id,
    Password,
    Saving { accepted: bool },
    Refused,
    Done,
}

/// The login flow.
#[derive(Debug, Clone)]
pub struct LoginFlow {
    state: State,
    operators: Operators,
    id: String,
    password: Zeroizing<String>,
    logged_in: Option<(String, Role)>,
    timeout: Duration,
    last: Step,
}

impl LoginFlow {
    /// Starts with the terminal's operator table.
    ///
    /// ```
    /// use pos_terminal::flows::{LoginFlow, Screen};
    /// use pos_terminal::operators::Operators;
    /// let (_, step) = LoginFlow::start(Operators::default(), core::time::Duration::from_secs(60));
    /// assert!(matches!(step.screen, Screen::OperatorId { .. }));
    /// ```
    pub fn start(operators: Operators, timeout: Duration) -> (Self, Step) {
        let step = Step {
            screen: Screen::OperatorId {
                digits: String::new(),
            },
            action: Action::WaitKey { timeout },
        };
        let flow = Self {
            state: State::Id,
            operators,
            id: String::new(),
            password: Zeroizing::new(String::new()),
            logged_in: None,
            timeout,
            last: step.clone(),
        };
        (flow, step)
    }

    /// Who logged in, once someone did.
    pub fn logged_in(&self) -> Option<&(String, Role)> {
        self.logged_in.as_ref()
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

    fn ask_id(&mut self) -> Step {
        self.id.clear();
        self.password.clear();
        let wait = self.wait();
        self.go(
            State::Id,
            Screen::OperatorId {
                digits: String::new(),
            },
            wait,
        )
    }

    fn ask_password(&mut self) -> Step {
        let wait = self.wait();
        let screen = Screen::OperatorPassword {
            operator: self.id.clone(),
            typed: self.password.len(),
        };
        self.go(State::Password, screen, wait)
    }

    /// Feeds one event.
    pub fn on(&mut self, event: Event) -> Step {
        let wait = self.wait();
        match (self.state, event) {
            (State::Id, Event::Key(Key::Digit(d))) if self.id.len() < 2 => {
                self.id.push(char::from(b'0' + d.min(9)));
                let digits = self.id.clone();
                self.go(State::Id, Screen::OperatorId { digits }, wait)
            }
            (State::Id, Event::Key(Key::Clear)) => self.ask_id(),
            (State::Id, Event::Key(Key::Enter)) if self.id.len() == 2 => self.ask_password(),
            (State::Id | State::Password, Event::Key(Key::Cancel) | Event::Timeout) => {
                self.password.clear();
                self.go(
                    State::Done,
                    Screen::Ended {
                        reason: "no operator logged in",
                    },
                    Action::Finish,
                )
            }
            (State::Password, Event::Key(Key::Digit(d))) if self.password.len() < 8 => {
                self.password.push(char::from(b'0' + d.min(9)));
                self.ask_password()
            }
            (State::Password, Event::Key(Key::Clear)) => {
                self.password.clear();
                self.ask_password()
            }
            (State::Password, Event::Key(Key::Enter)) if !self.password.is_empty() => {
                let result = self.operators.login(&self.id, &self.password);
                self.password.clear();
                let accepted = match result {
                    Ok(role) => {
                        self.logged_in = Some((self.id.clone(), role));
                        true
                    }
                    Err(reason) => {
                        self.last.screen = Screen::LoginRefused { reason };
                        false
                    }
                };
                let screen = if accepted {
                    Screen::Processing
                } else {
                    self.last.screen.clone()
                };
                let operators = self.operators.clone();
                self.go(
                    State::Saving { accepted },
                    screen,
                    Action::SaveOperators { operators },
                )
            }
            (State::Saving { accepted: true }, Event::Saved(_)) => match self.logged_in.clone() {
                Some((operator, role)) => self.go(
                    State::Done,
                    Screen::LoggedIn { operator, role },
                    Action::Finish,
                ),
                None => self.ask_id(),
            },
            (State::Saving { accepted: false }, Event::Saved(_)) => {
                let screen = self.last.screen.clone();
                self.go(State::Refused, screen, wait)
            }
            (State::Refused, Event::Key(_) | Event::Timeout) => self.ask_id(),
            _ => self.last.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operators::OperatorError;

    fn keys(f: &mut LoginFlow, text: &str) -> Step {
        let mut last = f.last.clone();
        for c in text.bytes() {
            last = f.on(Event::Key(Key::Digit(c - b'0')));
        }
        last
    }

    fn start() -> LoginFlow {
        LoginFlow::start(Operators::default(), Duration::from_secs(60)).0
    }

    #[test]
    fn cashier_01_logs_in_with_0000_and_the_table_is_saved() {
        let mut f = start();
        keys(&mut f, "01");
        let s = f.on(Event::Key(Key::Enter));
        assert_eq!(
            s.screen,
            Screen::OperatorPassword {
                operator: "01".into(),
                typed: 0
            }
        );
        let s = keys(&mut f, "0000");
        assert_eq!(
            s.screen,
            Screen::OperatorPassword {
                operator: "01".into(),
                typed: 4
            }
        );
        let s = f.on(Event::Key(Key::Enter));
        assert!(matches!(s.action, Action::SaveOperators { .. }));
        let s = f.on(Event::Saved(Ok(())));
        assert_eq!(
            s.screen,
            Screen::LoggedIn {
                operator: "01".into(),
                role: Role::Cashier
            }
        );
        assert_eq!(f.logged_in(), Some(&("01".into(), Role::Cashier)));
    }

    #[test]
    fn three_wrong_passwords_lock_and_each_count_is_saved() {
        let mut f = start();
        let mut saved = None;
        for want in [
            OperatorError::WrongPassword { left: 2 },
            OperatorError::WrongPassword { left: 1 },
            OperatorError::Locked,
        ] {
            keys(&mut f, "01");
            f.on(Event::Key(Key::Enter));
            keys(&mut f, "9999");
            let s = f.on(Event::Key(Key::Enter));
            let Action::SaveOperators { operators } = s.action else {
                panic!("not saved: {s:?}");
            };
            saved = Some(operators);
            assert_eq!(
                f.on(Event::Saved(Ok(()))).screen,
                Screen::LoginRefused { reason: want }
            );
            f.on(Event::Key(Key::Enter));
        }
        let mut table = saved.expect("saved");
        assert_eq!(table.login("01", "0000"), Err(OperatorError::Locked));
        assert_eq!(f.logged_in(), None);
    }

    #[test]
    fn cancel_ends_without_an_operator() {
        let mut f = start();
        keys(&mut f, "0");
        let s = f.on(Event::Key(Key::Cancel));
        assert!(matches!(s.screen, Screen::Ended { .. }));
        assert_eq!(f.logged_in(), None);
    }
}
