//! Power-on (开机): the devices checked, the result shown, then sign-in (签到) on a key press —
//! and when sign-in fails, the cause in plain words, what the operator can do, and a retry.
//! Until it succeeds the terminal does no transaction.

use alloc::string::String;
use core::time::Duration;

use pos_hal::{ErrorKind, Key};

use super::self_check::SelfCheckReport;
use super::{Action, Event, Screen, Step};

/// Why sign-in failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignInFailure {
    /// The host refused it with this response code (97 unknown terminal, A7 key error…).
    Rejected {
        /// Field 39.
        rc: String,
    },
    /// No connection or no answer in time.
    Unreachable(ErrorKind),
    /// The answer failed the checks (another terminal's, garbled).
    BadAnswer,
    /// The working keys did not match their check values, or the key block was malformed.
    Keys,
    /// The journal could not record the batch.
    Journal(ErrorKind),
}

impl SignInFailure {
    /// A short code for the screen (`97`, `NET`, `KEY`…).
    pub fn code(&self) -> &str {
        match self {
            SignInFailure::Rejected { rc } => rc,
            SignInFailure::Unreachable(_) => "NET",
            SignInFailure::BadAnswer => "ANS",
            SignInFailure::Keys => "KEY",
            SignInFailure::Journal(_) => "JNL",
        }
    }

    /// The cause in words and what the operator can do.
    ///
    /// ```
    /// use pos_terminal::flows::startup::SignInFailure;
    /// let (cause, action) = SignInFailure::Keys.explain();
    /// assert!(cause.contains("check values"));
    /// assert!(action.contains("master key"));
    /// ```
    pub fn explain(&self) -> (&'static str, &'static str) {
        match self {
            SignInFailure::Rejected { rc } => crate::online::explain(rc),
            SignInFailure::Unreachable(_) => (
                "the acquirer's host cannot be reached",
                "check the network cable, Wi-Fi or SIM card, then try again",
            ),
            SignInFailure::BadAnswer => (
                "the host's answer failed the terminal's checks",
                "try again; if it persists, call the acquirer's help desk",
            ),
            SignInFailure::Keys => (
                "the working keys do not match their check values",
                "load the master key again, then sign in",
            ),
            SignInFailure::Journal(_) => (
                "the terminal cannot write its journal",
                "restart the terminal; if it persists, have it serviced",
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Checking,
    Ready,
    SigningIn,
    Failed,
    Done,
}

/// The power-on flow.
#[derive(Debug, Clone)]
pub struct StartupFlow {
    state: State,
    timeout: Duration,
    batch: Option<u32>,
    attempts: u32,
    last: Step,
}

impl StartupFlow {
    /// Starts with the device check.
    ///
    /// ```
    /// use pos_terminal::flows::{Action, StartupFlow};
    /// let (_, step) = StartupFlow::start(core::time::Duration::from_secs(60));
    /// assert_eq!(step.action, Action::CheckDevices);
    /// ```
    pub fn start(timeout: Duration) -> (Self, Step) {
        let step = Step {
            screen: Screen::SelfChecking,
            action: Action::CheckDevices,
        };
        let flow = Self {
            state: State::Checking,
            timeout,
            batch: None,
            attempts: 0,
            last: step.clone(),
        };
        (flow, step)
    }

    /// The batch the host gave, once signed in.
    pub fn signed_in(&self) -> Option<u32> {
        self.batch
    }

    /// Sign-in attempts so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    fn go(&mut self, state: State, screen: Screen, action: Action) -> Step {
        self.state = state;
        self.last = Step { screen, action };
        self.last.clone()
    }

    fn sign_in(&mut self) -> Step {
        self.attempts = self.attempts.saturating_add(1);
        self.go(State::SigningIn, Screen::SigningIn, Action::SignIn)
    }

    /// Feeds one event.
    pub fn on(&mut self, event: Event) -> Step {
        let wait = Action::WaitKey {
            timeout: self.timeout,
        };
        match (self.state, event) {
            (State::Checking, Event::DevicesChecked(devices)) => {
                let report = SelfCheckReport {
                    devices,
                    ..SelfCheckReport::default()
                };
                self.go(State::Ready, Screen::PowerOn { report }, wait)
            }
            // Any key signs in; so does the wait running out (an unattended terminal comes up
            // signed in).
            (State::Ready, Event::Key(_) | Event::Timeout) => self.sign_in(),
            (State::SigningIn, Event::SignedIn(Ok(batch))) => {
                self.batch = Some(batch);
                self.go(State::Done, Screen::SignedIn { batch }, Action::Finish)
            }
            (State::SigningIn, Event::SignedIn(Err(failure))) => {
                let (cause, action) = failure.explain();
                let screen = Screen::SignInFailed {
                    code: String::from(failure.code()),
                    cause,
                    action,
                };
                self.go(State::Failed, screen, wait)
            }
            (State::Failed, Event::Key(Key::Enter)) => self.sign_in(),
            (State::Failed, Event::Key(Key::Cancel) | Event::Timeout) => self.go(
                State::Done,
                Screen::Ended {
                    reason: "not signed in: no transaction until the terminal signs in",
                },
                Action::Finish,
            ),
            _ => self.last.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_then_a_key_then_signed_in() {
        let (mut f, _) = StartupFlow::start(Duration::from_secs(60));
        let s = f.on(Event::DevicesChecked(alloc::vec::Vec::new()));
        assert!(matches!(s.screen, Screen::PowerOn { .. }));
        assert_eq!(f.on(Event::Key(Key::Digit(5))).action, Action::SignIn);
        let s = f.on(Event::SignedIn(Ok(7)));
        assert_eq!(s.screen, Screen::SignedIn { batch: 7 });
        assert_eq!(s.action, Action::Finish);
        assert_eq!(f.signed_in(), Some(7));
    }

    #[test]
    fn a_rejected_sign_in_is_explained_and_enter_tries_again() {
        let (mut f, _) = StartupFlow::start(Duration::from_secs(60));
        f.on(Event::DevicesChecked(alloc::vec::Vec::new()));
        f.on(Event::Timeout);
        let s = f.on(Event::SignedIn(Err(SignInFailure::Rejected {
            rc: "97".into(),
        })));
        let text = alloc::format!("{}", s.screen);
        assert!(text.contains("(97)"), "{text}");
        assert!(text.contains("does not know this terminal"), "{text}");
        assert!(text.contains("ENTER: TRY AGAIN"), "{text}");
        // Other keys do nothing: only Enter retries, only Cancel gives up.
        assert_eq!(f.on(Event::Key(Key::Digit(1))).screen, s.screen);
        assert_eq!(f.on(Event::Key(Key::Enter)).action, Action::SignIn);
        assert_eq!(f.attempts(), 2);
        f.on(Event::SignedIn(Ok(1)));
        assert_eq!(f.signed_in(), Some(1));
    }

    #[test]
    fn giving_up_leaves_the_terminal_signed_out() {
        let (mut f, _) = StartupFlow::start(Duration::from_secs(60));
        f.on(Event::DevicesChecked(alloc::vec::Vec::new()));
        f.on(Event::Key(Key::Enter));
        let s = f.on(Event::SignedIn(Err(SignInFailure::Unreachable(
            ErrorKind::Timeout,
        ))));
        assert!(alloc::format!("{}", s.screen).contains("cannot be reached"));
        let s = f.on(Event::Key(Key::Cancel));
        assert!(matches!(s.screen, Screen::Ended { .. }));
        assert_eq!(f.signed_in(), None);
    }
}
