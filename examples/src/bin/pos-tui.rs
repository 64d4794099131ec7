//! The POS on a text screen (ratatui): the same flows, devices and host as `pos`, driven from
//! the keyboard.
//!
//! pos-tui --host 127.0.0.1:5000 --journal pos.sqlite [--printer SEL] [--reader SEL]
//!         [--contactless-reader SEL] [--log FILE]
//!
//! Keys: digits, Enter (确认), Backspace (清除), Esc (取消); on a card prompt `i` insert, `t` tap,
//! `s` swipe, `c` swipe a chip card; on a scan prompt `m` scans the payment code; `q` leaves
//! from the menu. The drivers' messages go to
//! `--log` so they never draw over the screen.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use pos_examples::headless::{PosError, Terminal};
use pos_examples::tui::{App, Input};
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind};

#[derive(Parser, Debug)]
#[command(
    version,
    about = "The POS on a text screen, on real devices and the real host link"
)]
struct Args {
    #[command(flatten)]
    terminal: pos_examples::terminal_args::TerminalArgs,
    /// The directory where the printer saves receipts as PNG (the virtual printer's
    /// `--out`): the newest one's path is shown under the receipt.
    #[arg(long, value_name = "DIR")]
    receipt_images: Option<std::path::PathBuf>,
    /// The demo's simulated magstripe reader and scanner (`sim-devices`' control port): the
    /// swipe and scan keys make them act.
    #[arg(long, value_name = "HOST:PORT")]
    sim_control: Option<String>,
    /// Where the drivers' messages go while the screen is up.
    #[arg(long, default_value = "pos-tui.log")]
    log: std::path::PathBuf,
}

fn input_of(code: KeyCode) -> Option<Input> {
    Some(match code {
        KeyCode::Char(c @ '0'..='9') => Input::Digit(c as u8 - b'0'),
        KeyCode::Enter => Input::Enter,
        KeyCode::Esc => Input::Cancel,
        KeyCode::Backspace | KeyCode::Delete => Input::Clear,
        KeyCode::Char('i') | KeyCode::F(1) => Input::Insert,
        KeyCode::Char('t') | KeyCode::F(2) => Input::Tap,
        KeyCode::Char('s') | KeyCode::F(3) => Input::Swipe,
        KeyCode::Char('c') | KeyCode::F(4) => Input::SwipeChipCard,
        KeyCode::Char('m') | KeyCode::F(5) => Input::ScanCode,
        KeyCode::Char('a') | KeyCode::F(6) => Input::Manage,
        KeyCode::Char('q') => Input::Quit,
        _ => return None,
    })
}

/// Sends stderr (the drivers' and the runner's messages) to `path` while the screen is up;
/// returns the original stderr, for [`restore_stderr`].
fn redirect_stderr(path: &std::path::Path) -> std::io::Result<libc::c_int> {
    use std::os::fd::AsRawFd;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    // SAFETY: dup and dup2 on valid descriptors; fd 2 then refers to the log file and the
    // returned descriptor to the terminal's stderr.
    unsafe {
        let saved = libc::dup(2);
        if saved < 0 || libc::dup2(file.as_raw_fd(), 2) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(saved)
    }
}

/// Gives stderr back to the terminal, so a failure is seen.
fn restore_stderr(saved: libc::c_int) {
    // SAFETY: `saved` came from dup in redirect_stderr and is closed once here.
    unsafe {
        libc::dup2(saved, 2);
        libc::close(saved);
    }
}

/// Draws the "please wait" box for each long step on the shared screen.
fn progress_on(
    screen: &std::rc::Rc<std::cell::RefCell<ratatui::DefaultTerminal>>,
) -> Box<dyn FnMut(pos_terminal::online::Progress)> {
    let screen = std::rc::Rc::clone(screen);
    Box::new(move |step| {
        let text = step.to_string();
        if let Ok(mut s) = screen.try_borrow_mut() {
            let _ = s.draw(|f| pos_examples::tui::draw_progress(f, &text));
        }
    })
}

fn run(args: &Args) -> Result<(), PosError> {
    let settings = args.terminal.settings()?;
    let saved_stderr =
        redirect_stderr(&args.log).map_err(|e| PosError::Setup(format!("--log: {e}")))?;
    // ratatui::init restores the terminal on panic too.
    let screen = std::rc::Rc::new(std::cell::RefCell::new(ratatui::init()));
    // Powered on signed out: the power-on screens check the devices and sign in (a refusal
    // is explained and retried on Enter), then the operator logs in.
    let opened = Terminal::open_signed_out(&settings, progress_on(&screen)).and_then(App::power_on);
    let mut app = match opened {
        Ok(app) => app,
        Err(e) => {
            ratatui::restore();
            restore_stderr(saved_stderr);
            return Err(e);
        }
    };
    if let Some(dir) = &args.receipt_images {
        app = app.with_receipt_images(dir);
    }
    if let Some(addr) = &args.sim_control {
        app = app.with_sim_control(addr);
    }
    let result = loop {
        if let Err(e) = screen.borrow_mut().draw(|f| app.draw(f)) {
            break Err(PosError::Setup(format!("screen: {e}")));
        }
        if app.quit {
            break Ok(());
        }
        match event::poll(Duration::from_millis(250)) {
            Ok(true) => {}
            Ok(false) => {
                if let Err(e) = app.tick() {
                    break Err(e);
                }
                continue;
            }
            Err(e) => break Err(PosError::Setup(format!("keyboard: {e}"))),
        }
        if let Ok(Event::Key(key)) = event::read()
            && key.kind == KeyEventKind::Press
            && let Some(input) = input_of(key.code)
            && let Err(e) = app.input(input)
        {
            break Err(e);
        }
    };
    ratatui::restore();
    restore_stderr(saved_stderr);
    result
}

fn main() -> ExitCode {
    let args = Args::parse();
    if !std::io::stdout().is_terminal() {
        eprintln!(
            "pos-tui: stdout is not a terminal. Run it in a terminal, or drive the same flows \
             from a script with `pos --script FILE` (see examples/scripts/)."
        );
        return ExitCode::from(2);
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pos-tui: {e}");
            ExitCode::FAILURE
        }
    }
}
