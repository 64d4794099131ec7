//! Operator management (操作员管理), for the supervisor: add a cashier, remove one, set a
//! cashier's password (which unlocks it), list the operators; and for anyone, changing their
//! own password. Passwords are typed as stars, new ones twice; every change is kept
//! ([`Action::SaveOperators`]) before it is reported done. The rules live in
//! [`crate::operators::Operators`].

use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use pos_hal::Key;
use zeroize::Zeroizing;

use super::{Action, Event, Screen, Step};
use crate::operators::{OperatorError, Operators};

/// What the supervisor chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorTask {
    /// 增加操作员: a new cashier with a password.
    Add,
    /// 删除操作员.
    Remove,
    /// 重置密码: a cashier's new password; unlocks it.
    Reset,
    /// 修改密码: an operator changes their own password.
    ChangeOwn,
}

impl OperatorTask {
    /// Bilingual name.
    pub fn name(self) -> &'static str {
        match self {
            OperatorTask::Add => "增加操作员 ADD OPERATOR",
            OperatorTask::Remove => "删除操作员 REMOVE OPERATOR",
            OperatorTask::Reset => "重置密码 RESET PASSWORD",
            OperatorTask::ChangeOwn => "修改密码 CHANGE PASSWORD",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Supervisor,
    Menu,
    Id,
    OldPassword,
    NewPassword,
    Again,
    Saving,
    Result,
    Done,
}

/// The operator management flow.
#[derive(Debug, Clone)]
pub struct OperatorAdminFlow {
    state: State,
    operators: Operators,
    task: Option<OperatorTask>,
    /// The supervisor's password (checked at each change), or the operator's old one.
    authority: Zeroizing<String>,
    id: String,
    new: Zeroizing<String>,
    again: Zeroizing<String>,
    timeout: Duration,
    last: Step,
}

const PASSWORD_MAX: usize = 8;

impl OperatorAdminFlow {
    /// The supervisor's menu: the supervisor password first.
    ///
    /// ```
    /// use pos_terminal::flows::{OperatorAdminFlow, Screen};
    /// use pos_terminal::operators::Operators;
    /// let (_, step) = OperatorAdminFlow::start(Operators::default(), core::time::Duration::from_secs(60));
    /// assert_eq!(step.screen, Screen::SupervisorPassword { typed: 0 });
    /// ```
    pub fn start(operators: Operators, timeout: Duration) -> (Self, Step) {
        let step = Step {
            screen: Screen::SupervisorPassword { typed: 0 },
            action: Action::WaitKey { timeout },
        };
        (
            Self::new(operators, timeout, State::Supervisor, None, step.clone()),
            step,
        )
    }

    /// Operator `id` changes their own password: the old one, then the new one twice.
    pub fn change_own(operators: Operators, id: &str, timeout: Duration) -> (Self, Step) {
        let step = Step {
            screen: Screen::OperatorPasswordEntry {
                task: OperatorTask::ChangeOwn,
                operator: String::from(id),
                prompt: "原密码 OLD PASSWORD",
                typed: 0,
            },
            action: Action::WaitKey { timeout },
        };
        let mut flow = Self::new(
            operators,
            timeout,
            State::OldPassword,
            Some(OperatorTask::ChangeOwn),
            step.clone(),
        );
        flow.id = String::from(id);
        (flow, step)
    }

    fn new(
        operators: Operators,
        timeout: Duration,
        state: State,
        task: Option<OperatorTask>,
        last: Step,
    ) -> Self {
        Self {
            state,
            operators,
            task,
            authority: Zeroizing::new(String::new()),
            id: String::new(),
            new: Zeroizing::new(String::new()),
            again: Zeroizing::new(String::new()),
            timeout,
            last,
        }
    }

    /// The operator table as it stands (saved after every change).
    pub fn operators(&self) -> &Operators {
        &self.operators
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

    fn menu(&mut self) -> Step {
        self.id.clear();
        self.new.clear();
        self.again.clear();
        let list: Vec<(String, bool)> = self
            .operators
            .iter()
            .map(|o| {
                (
                    String::from(core::str::from_utf8(&o.id).unwrap_or("??")),
                    o.locked(),
                )
            })
            .collect();
        let wait = self.wait();
        self.go(State::Menu, Screen::OperatorMenu { operators: list }, wait)
    }

    fn ask_id(&mut self) -> Step {
        let wait = self.wait();
        let screen = Screen::OperatorNumber {
            task: self.task.unwrap_or(OperatorTask::Add),
            digits: self.id.clone(),
        };
        self.go(State::Id, screen, wait)
    }

    fn ask_password(&mut self, state: State) -> Step {
        let (prompt, typed) = match state {
            State::OldPassword => ("原密码 OLD PASSWORD", self.authority.len()),
            State::NewPassword => ("新密码 NEW PASSWORD", self.new.len()),
            _ => ("再输一次 AGAIN", self.again.len()),
        };
        let wait = self.wait();
        let screen = Screen::OperatorPasswordEntry {
            task: self.task.unwrap_or(OperatorTask::ChangeOwn),
            operator: self.id.clone(),
            prompt,
            typed,
        };
        self.go(state, screen, wait)
    }

    fn refuse(&mut self, reason: OperatorError) -> Step {
        // Failure counts changed (a wrong supervisor or old password): keep them too.
        let operators = self.operators.clone();
        self.go(
            State::Saving,
            Screen::OperatorRefused { reason },
            Action::SaveOperators { operators },
        )
    }

    fn apply(&mut self) -> Step {
        let id = self.id.clone();
        let result = match self.task {
            Some(OperatorTask::Add) => self.operators.add(&self.authority, &id, &self.new),
            Some(OperatorTask::Remove) => self.operators.remove(&self.authority, &id),
            Some(OperatorTask::Reset) => self.operators.reset(&self.authority, &id, &self.new),
            Some(OperatorTask::ChangeOwn) => {
                self.operators
                    .change_password(&id, &self.authority, &self.new)
            }
            None => Err(OperatorError::Invalid),
        };
        self.new.clear();
        self.again.clear();
        match result {
            Ok(()) => {
                let operators = self.operators.clone();
                let screen = Screen::OperatorChanged {
                    task: self.task.unwrap_or(OperatorTask::Add),
                    operator: id,
                };
                self.go(State::Saving, screen, Action::SaveOperators { operators })
            }
            Err(reason) => self.refuse(reason),
        }
    }

    fn end(&mut self) -> Step {
        self.authority.clear();
        self.new.clear();
        self.again.clear();
        self.go(State::Done, Screen::Done, Action::Finish)
    }

    fn typed(&mut self) -> Option<&mut Zeroizing<String>> {
        match self.state {
            State::Supervisor | State::OldPassword => Some(&mut self.authority),
            State::NewPassword => Some(&mut self.new),
            State::Again => Some(&mut self.again),
            _ => None,
        }
    }

    /// Feeds one event.
    pub fn on(&mut self, event: Event) -> Step {
        let wait = self.wait();
        match (self.state, event) {
            (_, Event::Key(Key::Cancel) | Event::Timeout)
                if !matches!(self.state, State::Saving | State::Done) =>
            {
                self.end()
            }
            (
                State::Supervisor | State::OldPassword | State::NewPassword | State::Again,
                Event::Key(Key::Digit(d)),
            ) => {
                let state = self.state;
                if let Some(field) = self.typed()
                    && field.len() < PASSWORD_MAX
                {
                    field.push(char::from(b'0' + d.min(9)));
                }
                self.password_screen(state, wait)
            }
            (
                State::Supervisor | State::OldPassword | State::NewPassword | State::Again,
                Event::Key(Key::Clear),
            ) => {
                let state = self.state;
                if let Some(field) = self.typed() {
                    field.clear();
                }
                self.password_screen(state, wait)
            }
            (State::Supervisor, Event::Key(Key::Enter)) if !self.authority.is_empty() => {
                match self.operators.login("00", &self.authority) {
                    Ok(_) => {
                        // The good password resets the supervisor's failure count: keep it.
                        let operators = self.operators.clone();
                        self.go(
                            State::Saving,
                            Screen::Processing,
                            Action::SaveOperators { operators },
                        )
                    }
                    Err(reason) => {
                        self.authority.clear();
                        self.refuse(reason)
                    }
                }
            }
            (State::Menu, Event::Key(Key::Digit(d @ 1..=3))) => {
                self.task = Some(match d {
                    1 => OperatorTask::Add,
                    2 => OperatorTask::Remove,
                    _ => OperatorTask::Reset,
                });
                self.ask_id()
            }
            (State::Id, Event::Key(Key::Digit(d))) if self.id.len() < 2 => {
                self.id.push(char::from(b'0' + d.min(9)));
                self.ask_id()
            }
            (State::Id, Event::Key(Key::Clear)) => {
                self.id.clear();
                self.ask_id()
            }
            (State::Id, Event::Key(Key::Enter)) if self.id.len() == 2 => {
                if self.task == Some(OperatorTask::Remove) {
                    self.apply()
                } else {
                    self.ask_password(State::NewPassword)
                }
            }
            (State::OldPassword, Event::Key(Key::Enter)) if !self.authority.is_empty() => {
                self.ask_password(State::NewPassword)
            }
            (State::NewPassword, Event::Key(Key::Enter)) if !self.new.is_empty() => {
                self.ask_password(State::Again)
            }
            (State::Again, Event::Key(Key::Enter)) if !self.again.is_empty() => {
                if *self.again == *self.new {
                    self.apply()
                } else {
                    self.new.clear();
                    self.again.clear();
                    let wait = self.wait();
                    self.go(State::Result, Screen::PasswordsDiffer, wait)
                }
            }
            (State::Saving, Event::Saved(_)) => match &self.last.screen {
                Screen::Processing => self.menu(),
                screen => {
                    let screen = screen.clone();
                    self.go(State::Result, screen, wait)
                }
            },
            (State::Result, Event::Key(_) | Event::Timeout) => {
                if self.authority.is_empty() || self.task == Some(OperatorTask::ChangeOwn) {
                    // A refused supervisor or a finished own change: the flow is over.
                    self.end()
                } else {
                    self.menu()
                }
            }
            _ => self.last.clone(),
        }
    }

    fn password_screen(&mut self, state: State, wait: Action) -> Step {
        match state {
            State::Supervisor => {
                let typed = self.authority.len();
                self.go(
                    State::Supervisor,
                    Screen::SupervisorPassword { typed },
                    wait,
                )
            }
            other => self.ask_password(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operators::Role;

    fn digits(f: &mut OperatorAdminFlow, text: &str) -> Step {
        let mut last = f.last.clone();
        for c in text.bytes() {
            last = f.on(Event::Key(Key::Digit(c - b'0')));
        }
        last
    }

    fn enter(f: &mut OperatorAdminFlow) -> Step {
        f.on(Event::Key(Key::Enter))
    }

    fn supervisor(f: &mut OperatorAdminFlow) {
        digits(f, "123456");
        assert!(matches!(enter(f).action, Action::SaveOperators { .. }));
        let s = f.on(Event::Saved(Ok(())));
        assert!(matches!(s.screen, Screen::OperatorMenu { .. }), "{s:?}");
    }

    fn start() -> OperatorAdminFlow {
        OperatorAdminFlow::start(Operators::default(), Duration::from_secs(60)).0
    }

    #[test]
    fn the_supervisor_adds_a_cashier_who_can_then_log_in() {
        let mut f = start();
        supervisor(&mut f);
        f.on(Event::Key(Key::Digit(1)));
        digits(&mut f, "07");
        let s = enter(&mut f);
        assert!(matches!(s.screen, Screen::OperatorPasswordEntry { .. }));
        digits(&mut f, "2468");
        enter(&mut f);
        digits(&mut f, "2468");
        let s = enter(&mut f);
        assert!(matches!(s.action, Action::SaveOperators { .. }));
        assert!(matches!(s.screen, Screen::OperatorChanged { .. }));
        let text = alloc::format!("{}", s.screen);
        assert!(text.contains("07") && !text.contains("2468"), "{text}");
        f.on(Event::Saved(Ok(())));
        let s = enter(&mut f);
        let Screen::OperatorMenu { operators } = &s.screen else {
            panic!("{s:?}");
        };
        assert!(operators.iter().any(|(id, _)| id == "07"));
        let mut ops = f.operators().clone();
        assert_eq!(ops.login("07", "2468"), Ok(Role::Cashier));
    }

    #[test]
    fn a_wrong_supervisor_password_is_counted_kept_and_ends_the_flow() {
        let mut f = start();
        digits(&mut f, "000000");
        let s = enter(&mut f);
        assert!(matches!(s.screen, Screen::OperatorRefused { .. }));
        let Action::SaveOperators { operators } = s.action else {
            panic!("{s:?}");
        };
        let sup = operators
            .iter()
            .find(|o| &o.id == b"00")
            .expect("supervisor");
        assert_eq!(sup.failures, 1);
        f.on(Event::Saved(Ok(())));
        assert_eq!(enter(&mut f).action, Action::Finish);
    }

    #[test]
    fn a_reset_unlocks_a_locked_cashier_and_passwords_must_match() {
        let mut ops = Operators::default();
        for _ in 0..3 {
            let _ = ops.login("01", "9999");
        }
        assert_eq!(ops.login("01", "0000"), Err(OperatorError::Locked));
        let (mut f, _) = OperatorAdminFlow::start(ops, Duration::from_secs(60));
        supervisor(&mut f);
        f.on(Event::Key(Key::Digit(3)));
        digits(&mut f, "01");
        enter(&mut f);
        digits(&mut f, "1357");
        enter(&mut f);
        digits(&mut f, "1358");
        assert_eq!(enter(&mut f).screen, Screen::PasswordsDiffer);
        enter(&mut f);
        f.on(Event::Key(Key::Digit(3)));
        digits(&mut f, "01");
        enter(&mut f);
        digits(&mut f, "1357");
        enter(&mut f);
        digits(&mut f, "1357");
        enter(&mut f);
        f.on(Event::Saved(Ok(())));
        let mut ops = f.operators().clone();
        assert_eq!(ops.login("01", "1357"), Ok(Role::Cashier));
    }

    #[test]
    fn the_supervisor_and_the_administrator_cannot_be_removed() {
        let mut f = start();
        supervisor(&mut f);
        f.on(Event::Key(Key::Digit(2)));
        digits(&mut f, "00");
        let s = enter(&mut f);
        assert_eq!(
            s.screen,
            Screen::OperatorRefused {
                reason: OperatorError::NotAllowed
            }
        );
    }

    #[test]
    fn an_operator_changes_their_own_password_with_the_old_one() {
        let (mut f, _) =
            OperatorAdminFlow::change_own(Operators::default(), "01", Duration::from_secs(60));
        digits(&mut f, "0000");
        enter(&mut f);
        digits(&mut f, "4321");
        enter(&mut f);
        digits(&mut f, "4321");
        let s = enter(&mut f);
        assert!(matches!(s.screen, Screen::OperatorChanged { .. }), "{s:?}");
        f.on(Event::Saved(Ok(())));
        assert_eq!(enter(&mut f).action, Action::Finish);
        let mut ops = f.operators().clone();
        assert_eq!(ops.login("01", "4321"), Ok(Role::Cashier));
        assert!(ops.login("01", "0000").is_err());
    }
}
