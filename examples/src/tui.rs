//! The POS on a text screen: the flows of `pos-terminal` drawn as the terminal's display, a
//! keypad on the keyboard, a side panel to present a card (insert, tap, swipe) and the state
//! of every device, and the last receipt. [`App`] is the state machine and [`App::draw`]
//! the picture, so tests drive it through ratatui's test backend exactly as a person does
//! through the keyboard.

use std::time::Duration;

use pos_terminal::flows::{
    Action, Event, Flow, LoginFlow, OperatorAdminFlow, RecordsFlow, RefundConfig, RefundFlow,
    ReprintFlow, SaleConfig, SaleFlow, ScanFlow, Screen, SelfCheckFlow, SettlementFlow,
    StartupFlow, Step, VoidConfig, VoidFlow,
};
use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Text};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::headless::{PosError, Terminal};

/// What a key does on this screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A digit key.
    Digit(u8),
    /// 确认.
    Enter,
    /// 取消 (Esc).
    Cancel,
    /// 清除 (Backspace).
    Clear,
    /// Present the chip card in the contact reader.
    Insert,
    /// Tap the card on the contactless reader.
    Tap,
    /// Swipe the stripe-only test card.
    Swipe,
    /// Swipe the chip card's stripe (service code 2xx: the POS asks to insert it).
    SwipeChipCard,
    /// Scan the customer's payment code (the scanner, or the demo wallet's code).
    ScanCode,
    /// Switch the home screen between the transaction menu and the management menu.
    Manage,
    /// Leave (on the home screen).
    Quit,
}

/// The demo wallet's payment code, scanned when no scanner is connected.
const DEMO_PAYMENT_CODE: &str = "scan 6225880123456789012";

/// The flows of the home menu, by number key.
const MENU: &[(&str, &str)] = &[
    ("1", "消费 SALE"),
    ("2", "余额查询 BALANCE"),
    ("3", "消费撤销 VOID"),
    ("4", "退货 REFUND"),
    ("5", "预授权 PRE-AUTH"),
    ("6", "结算 SETTLEMENT"),
    ("7", "重打印 REPRINT"),
    ("8", "操作员登录 LOGIN"),
    ("9", "扫码支付 SCAN PAY (scan the customer)"),
    ("0", "扫码收款 SHOW QR (customer scans)"),
];

/// The management menu (管理), by number key.
const MANAGE_MENU: &[(&str, &str)] = &[
    ("1", "设备自检 SELF-CHECK"),
    ("2", "网络检测 NETWORK CHECK"),
    ("3", "交易查询 RECORDS"),
    ("4", "签到 SIGN IN AGAIN"),
    ("5", "操作员登录 LOGIN"),
    ("6", "操作员管理 OPERATORS (supervisor)"),
    ("7", "修改密码 CHANGE MY PASSWORD"),
    ("8", "预授权完成 PRE-AUTH COMPLETION"),
    ("9", "预授权撤销 PRE-AUTH CANCEL"),
];

/// Track 2 of the stripe-only test card (service code 101) and of the chip card (201).
const STRIPE_CARD: &str = "swipe ;6212345678901232=30121011234567890?";
const CHIP_CARD_STRIPE: &str = "swipe ;6212345678901232=30122011234567890?";

/// The application: the terminal (devices, host, journal) and the flow on screen.
pub struct App {
    terminal: Terminal,
    flow: Option<(Box<dyn Flow>, Step)>,
    pin: String,
    message: String,
    /// Where the (virtual) printer saves each receipt as a PNG.
    receipt_images: Option<std::path::PathBuf>,
    /// When the flow started waiting for a timed action (asking after a QR order).
    waiting_since: Option<std::time::Instant>,
    /// The demo's simulated serial devices (`sim-devices`' control port): the card keys make
    /// them swipe or scan, and the POS reads that from its real drivers.
    sim_control: Option<String>,
    /// Signed in with the acquirer: transactions need it.
    signed_in: bool,
    /// The operator logged in: transactions need one.
    operator: Option<String>,
    /// The home screen shows the management menu.
    managing: bool,
    /// Set once the user asked to leave.
    pub quit: bool,
}

/// A QR code as text: two modules per character cell (upper and lower half blocks), with a
/// quiet zone, so a phone can scan it off the screen.
pub fn qr_text(payload: &str) -> Option<String> {
    let qr = qrcodegen::QrCode::encode_text(payload, qrcodegen::QrCodeEcc::Low).ok()?;
    let quiet = 2;
    let size = qr.size();
    let dark = |x: i32, y: i32| qr.get_module(x, y);
    let mut out = String::new();
    let mut y = -quiet;
    while y < size + quiet {
        for x in -quiet..size + quiet {
            out.push(match (dark(x, y), dark(x, y + 1)) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        out.push('\n');
        y += 2;
    }
    Some(out)
}

/// The newest `*.png` in `dir`, by modification time then name.
fn newest_png(dir: &std::path::Path) -> Option<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "png"))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .max()
        .map(|(_, path)| path)
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("screen", &self.flow.as_ref().map(|(_, s)| s.screen.name()))
            .finish_non_exhaustive()
    }
}

fn boxed<F: Flow + 'static>((flow, step): (F, Step)) -> (Box<dyn Flow>, Step) {
    (Box::new(flow), step)
}

impl App {
    /// Around an opened (signed-in) terminal; an operator logs in before the first
    /// transaction.
    pub fn new(mut terminal: Terminal) -> Self {
        terminal.echo_receipts(false);
        Self {
            terminal,
            flow: None,
            pin: String::new(),
            message: String::from("已签到 SIGNED IN · 8 操作员登录 LOG IN"),
            receipt_images: None,
            waiting_since: None,
            sim_control: None,
            signed_in: true,
            operator: None,
            managing: false,
            quit: false,
        }
    }

    /// Around a terminal just powered on ([`Terminal::open_signed_out`]): the power-on flow
    /// checks the devices and signs in (retrying on Enter), a batch left open from an
    /// earlier day is settled, then the operator logs in.
    pub fn power_on(terminal: Terminal) -> Result<Self, PosError> {
        let mut app = Self::new(terminal);
        app.signed_in = false;
        app.message.clear();
        app.flow = Some(boxed(StartupFlow::start(Duration::from_secs(60))));
        app.run_actions()?;
        Ok(app)
    }

    /// The terminal behind the screen (a bench runner flushes reversals through it).
    pub fn terminal_mut(&mut self) -> &mut Terminal {
        &mut self.terminal
    }

    /// The operator logged in, if any.
    pub fn operator(&self) -> Option<&str> {
        self.operator.as_deref()
    }

    /// Signed in with the acquirer.
    pub fn signed_in(&self) -> bool {
        self.signed_in
    }

    /// What a finished flow leaves behind: a sign-in (then the forced settlement and the
    /// login follow), a logged-in operator.
    fn finished(&mut self) -> Result<(), PosError> {
        let Some((_, step)) = self.flow.as_ref() else {
            return Ok(());
        };
        match &step.screen {
            Screen::SignedIn { batch } => {
                self.signed_in = true;
                self.message = format!("签到成功 SIGNED IN · 批次 BATCH {batch:06}");
                if let Some(report) = self.terminal.settle_if_due()? {
                    self.message = format!(
                        "签到成功 SIGNED IN · 已结算上批 BATCH {:06} SETTLED",
                        report.batch
                    );
                }
                self.flow = Some(boxed(LoginFlow::start(
                    self.terminal.operators()?,
                    Duration::from_secs(60),
                )));
            }
            Screen::LoggedIn { operator, .. } => {
                self.operator = Some(operator.clone());
                self.terminal.set_operator(operator);
                self.message = format!("已签到 SIGNED IN · 操作员 OPERATOR {operator}");
            }
            _ => {}
        }
        Ok(())
    }

    /// The card keys drive the simulated magstripe reader and scanner at `addr` (`sim-devices`'
    /// control port); the POS reads their swipes and scans through its drivers.
    pub fn with_sim_control(mut self, addr: impl Into<String>) -> Self {
        self.sim_control = Some(addr.into());
        self
    }

    /// Asks the simulated devices to act a moment from now (once the driver listens).
    fn simulate(&self, line: &'static str) {
        let Some(addr) = self.sim_control.clone() else {
            return;
        };
        std::thread::spawn(move || {
            use std::io::{BufRead, Write};
            std::thread::sleep(Duration::from_millis(300));
            let Ok(addr) = addr.parse::<std::net::SocketAddr>() else {
                return;
            };
            if let Ok(mut stream) =
                std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2))
            {
                let _ = writeln!(stream, "{line}");
                let mut answer = String::new();
                let _ = std::io::BufReader::new(stream).read_line(&mut answer);
            }
        });
    }

    /// Shows, under the last receipt, the newest PNG the printer saved in `dir` (the virtual
    /// printer's `--out`).
    pub fn with_receipt_images(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.receipt_images = Some(dir.into());
        self
    }

    /// The line under the keys: what the POS last told the operator (a device error, who is
    /// logged in).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The name of the screen shown (`Home` between flows).
    pub fn screen_name(&self) -> &'static str {
        self.flow.as_ref().map_or("Home", |(_, s)| s.screen.name())
    }

    fn start(&mut self, choice: u8) -> Result<(), PosError> {
        // Voids, refunds and cancels check the supervisor against the operator table.
        let mut sup = || self.terminal.operators();
        let timeout = Duration::from_secs(60);
        if self.managing {
            let flow = match choice {
                1 => boxed(SelfCheckFlow::start(timeout)),
                2 => boxed(SelfCheckFlow::network(timeout)),
                3 => boxed(RecordsFlow::start(timeout)),
                4 => boxed(StartupFlow::start(timeout)),
                5 => boxed(LoginFlow::start(self.terminal.operators()?, timeout)),
                6 => boxed(OperatorAdminFlow::start(
                    self.terminal.operators()?,
                    timeout,
                )),
                8 | 9 if !self.signed_in || self.operator.is_none() => {
                    self.message = "请先签到并登录 SIGN IN AND LOG IN FIRST".into();
                    return Ok(());
                }
                8 => boxed(RefundFlow::completion(RefundConfig::new(sup()?))),
                9 => boxed(RefundFlow::preauth_cancel(RefundConfig::new(sup()?))),
                7 => match self.operator.clone() {
                    Some(me) => boxed(OperatorAdminFlow::change_own(
                        self.terminal.operators()?,
                        &me,
                        timeout,
                    )),
                    None => {
                        self.message = "请先登录操作员 LOG IN FIRST".into();
                        return Ok(());
                    }
                },
                _ => return Ok(()),
            };
            self.flow = Some(flow);
            self.message.clear();
            return self.run_actions();
        }
        let transaction = !matches!(choice, 7 | 8);
        if transaction && !self.signed_in {
            self.message = "请先签到 SIGN IN FIRST: a 管理 MANAGE, 4".into();
            return Ok(());
        }
        if transaction && self.operator.is_none() {
            // Nobody may take money before an operator logs in.
            self.message = "请先登录操作员 LOG IN FIRST".into();
            self.flow = Some(boxed(LoginFlow::start(self.terminal.operators()?, timeout)));
            return self.run_actions();
        }
        let flow = match choice {
            1 => boxed(SaleFlow::start(SaleConfig::default())),
            2 => boxed(SaleFlow::balance(SaleConfig::default())),
            3 => boxed(VoidFlow::start(VoidConfig::new(sup()?))),
            4 => boxed(RefundFlow::start(RefundConfig::new(sup()?))),
            5 => boxed(SaleFlow::preauth(SaleConfig::default())),
            6 => boxed(SettlementFlow::start(timeout)),
            7 => boxed(ReprintFlow::start(timeout)),
            8 => boxed(LoginFlow::start(self.terminal.operators()?, timeout)),
            9 => boxed(ScanFlow::start(timeout)),
            0 => boxed(ScanFlow::show_qr(
                timeout,
                pos_terminal::flows::scan::ORDER_POLL,
            )),
            _ => return Ok(()),
        };
        self.flow = Some(flow);
        self.message.clear();
        self.run_actions()
    }

    /// Performs every action that needs no person (reading the chip, going online,
    /// printing) until the flow waits for a key, a card or a PIN.
    fn run_actions(&mut self) -> Result<(), PosError> {
        self.waiting_since = None;
        while let Some((flow, step)) = self.flow.as_mut() {
            match &step.action {
                Action::WaitKey { .. }
                | Action::WaitCard { .. }
                | Action::GetPin { .. }
                | Action::ScanCode { .. } => {
                    return Ok(());
                }
                // Asked after on a clock: [`App::tick`].
                Action::QueryOrder { .. } => {
                    self.waiting_since = Some(std::time::Instant::now());
                    return Ok(());
                }
                Action::Finish => {
                    let before = step.screen.name();
                    self.finished()?;
                    // A sign-in hands over to the login: go on with it.
                    match self.flow.as_ref() {
                        Some((_, next)) if next.screen.name() != before => continue,
                        _ => return Ok(()),
                    }
                }
                other => {
                    let Some(event) = self.terminal.perform(other, flow.as_ref()) else {
                        return Ok(());
                    };
                    *step = flow.on(event);
                }
            }
        }
        Ok(())
    }

    fn feed(&mut self, event: Event) -> Result<(), PosError> {
        if let Some((flow, step)) = self.flow.as_mut() {
            *step = flow.on(event);
        }
        self.run_actions()
    }

    /// Time passes (call it a few times a second): a QR order is asked after once its wait
    /// is over.
    pub fn tick(&mut self) -> Result<(), PosError> {
        let due = match (self.flow.as_ref(), self.waiting_since) {
            (Some((_, step)), Some(since)) => match step.action {
                Action::QueryOrder { after, .. } => since.elapsed() >= after,
                _ => false,
            },
            _ => false,
        };
        if !due {
            return Ok(());
        }
        if let Some((flow, step)) = self.flow.as_mut()
            && let Some(event) = self.terminal.perform(&step.action, flow.as_ref())
        {
            *step = flow.on(event);
        }
        self.run_actions()
    }

    /// One key press.
    pub fn input(&mut self, input: Input) -> Result<(), PosError> {
        let action = self.flow.as_ref().map(|(_, s)| s.action.clone());
        match (action, input) {
            (None, Input::Digit(d)) => self.start(d),
            (None, Input::Manage) => {
                self.managing = !self.managing;
                Ok(())
            }
            (None, Input::Quit | Input::Cancel) => {
                self.quit = true;
                Ok(())
            }
            (None, _) => Ok(()),
            (Some(Action::Finish), _) => {
                self.flow = None;
                Ok(())
            }
            (Some(Action::GetPin { .. }), Input::Digit(d)) if self.pin.len() < 12 => {
                self.pin.push(char::from(b'0' + d.min(9)));
                Ok(())
            }
            (Some(Action::GetPin { .. }), Input::Clear) => {
                self.pin.pop();
                Ok(())
            }
            (Some(Action::GetPin { .. }), Input::Enter) if self.pin.len() >= 4 => {
                let line = format!("pin {}", self.pin);
                self.pin.clear();
                let event = self.terminal.pin(&line)?;
                self.feed(event)
            }
            (Some(Action::GetPin { .. }), Input::Cancel) => {
                self.pin.clear();
                let event = self.terminal.pin("pin-cancel")?;
                self.feed(event)
            }
            (
                Some(Action::WaitCard { .. }),
                card @ (Input::Insert | Input::Tap | Input::Swipe | Input::SwipeChipCard),
            ) => {
                let line = match card {
                    Input::Insert => "insert",
                    Input::Tap => "tap",
                    // A magstripe reader takes the swipe (the simulated one is told to swipe
                    // the card); without one, the test card's track.
                    Input::Swipe | Input::SwipeChipCard if self.terminal.has_magstripe() => {
                        self.simulate(if card == Input::Swipe {
                            "swipe unionpay-debit"
                        } else {
                            "swipe chip-card"
                        });
                        "swipe"
                    }
                    Input::Swipe => STRIPE_CARD,
                    _ => CHIP_CARD_STRIPE,
                };
                match self.terminal.card_event(line) {
                    Ok(event) => self.feed(event),
                    Err(e) => {
                        self.message = e.to_string();
                        Ok(())
                    }
                }
            }
            (Some(Action::ScanCode { .. }), Input::ScanCode) => {
                let line = if self.terminal.has_scanner() {
                    self.simulate("scan 6225880123456789012");
                    "scan"
                } else {
                    DEMO_PAYMENT_CODE
                };
                match self.terminal.scan_event(line) {
                    Ok(event) => self.feed(event),
                    Err(e) => {
                        self.message = e.to_string();
                        Ok(())
                    }
                }
            }
            (Some(_), Input::Digit(d)) => self.feed(Event::Key(pos_hal::Key::Digit(d))),
            (Some(_), Input::Enter) => self.feed(Event::Key(pos_hal::Key::Enter)),
            (Some(_), Input::Clear) => self.feed(Event::Key(pos_hal::Key::Clear)),
            (Some(_), Input::Cancel) => self.feed(Event::Key(pos_hal::Key::Cancel)),
            (Some(_), _) => Ok(()),
        }
    }

    /// The text of the POS display (the flow's screen, or the menu).
    pub fn screen(&self) -> String {
        self.screen_text()
    }

    fn screen_text(&self) -> String {
        match &self.flow {
            None => {
                let (title, menu) = if self.managing {
                    ("管理 MANAGE", MANAGE_MENU)
                } else {
                    ("请选择 SELECT", MENU)
                };
                let mut text = format!("拉卡拉 POS  {title}\n\n");
                for (key, name) in menu {
                    text.push_str(&format!("{key} {name}\n"));
                }
                text
            }
            // At 80×24 the whole QR must fit: one line of text, then the code.
            Some((_, step)) if matches!(step.screen, Screen::ShowQr { .. }) => {
                let Screen::ShowQr { amount, payload } = &step.screen else {
                    return String::new();
                };
                let qr = qr_text(payload).unwrap_or_else(|| payload.clone());
                format!("RMB {amount} 请顾客扫码 CUSTOMER: SCAN\n{qr}")
            }
            Some((_, step)) => {
                let mut text = step.screen.to_string();
                if matches!(step.action, Action::GetPin { .. }) {
                    text.push_str(&format!("\n{}", "*".repeat(self.pin.len())));
                }
                if let Screen::Done = step.screen {
                    text.push_str("\n按任意键返回 PRESS A KEY");
                }
                text
            }
        }
    }

    fn hints(&self) -> String {
        let action = self.flow.as_ref().map(|(_, s)| &s.action);
        match action {
            None if self.managing => {
                "0-9 选择 choose · a 交易 transactions · q/Esc 退出 quit".into()
            }
            None => "0-9 选择 choose · a 管理 manage · q/Esc 退出 quit".into(),
            Some(Action::WaitCard { .. }) => {
                "i 插卡 insert · t 挥卡 tap · s 刷卡 swipe · c 刷IC卡 swipe chip card · Esc 取消"
                    .into()
            }
            Some(Action::GetPin { .. }) => {
                "0-9 密码 PIN · Enter 确认 · Backspace 清除 · Esc 取消".into()
            }
            Some(Action::ScanCode { .. }) => "m 扫码 scan the payment code · Esc 取消".into(),
            Some(Action::QueryOrder { .. }) => {
                "等待顾客付款 waiting for the customer to pay · Esc 取消".into()
            }
            Some(Action::Finish) => "任意键 any key: home".into(),
            _ => "0-9 · Enter 确认 · Backspace 清除 · Esc 取消".into(),
        }
    }

    /// Draws the whole screen (a notice instead when the window is under 80×24).
    pub fn draw(&self, frame: &mut Frame<'_>) {
        let area = frame.area();
        if area.width < 80 || area.height < 24 {
            frame.render_widget(
                Paragraph::new(format!(
                    "请放大窗口 The window is {}×{}: the POS needs at least 80×24.",
                    area.width, area.height
                ))
                .wrap(Wrap { trim: true }),
                area,
            );
            return;
        }
        let outer = Layout::default()
            .direction(Direction::Horizontal)
            .constraints([Constraint::Percentage(55), Constraint::Percentage(45)])
            .split(frame.area());
        let left = Layout::default()
            .direction(Direction::Vertical)
            .constraints([Constraint::Min(8), Constraint::Length(4)])
            .split(outer[0]);
        let screen = Paragraph::new(Text::from(self.screen_text()))
            .wrap(Wrap { trim: false })
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(format!(" POS · {} ", self.screen_name())),
            );
        frame.render_widget(screen, left[0]);
        let mut hint_lines = vec![Line::from(self.hints())];
        if !self.message.is_empty() {
            hint_lines.push(Line::styled(
                self.message.clone(),
                Style::default().add_modifier(Modifier::BOLD),
            ));
        }
        frame.render_widget(
            Paragraph::new(hint_lines)
                .wrap(Wrap { trim: true })
                .block(Block::default().borders(Borders::ALL).title(" 键 keys ")),
            left[1],
        );
        let devices: Vec<Line<'_>> = self
            .terminal
            .devices()
            .into_iter()
            .map(|(role, what)| Line::from(format!("{role}: {what}")))
            .collect();
        // Every role on a line, borders, and room for a long path to wrap.
        let device_rows = devices.len() as u16 + 4;
        let right = Layout::default()
            .direction(Direction::Vertical)
            .constraints([Constraint::Length(device_rows), Constraint::Min(4)])
            .split(outer[1]);
        frame.render_widget(
            Paragraph::new(devices).wrap(Wrap { trim: true }).block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(" 设备 devices "),
            ),
            right[0],
        );
        let mut receipt = String::new();
        if self.terminal.printed > 0
            && let Some(png) = self.receipt_images.as_deref().and_then(newest_png)
        {
            // The file name first: a narrow panel cuts the end of the line.
            let name = png.file_name().map(|n| n.to_string_lossy().into_owned());
            let dir = png.parent().map(|d| d.display().to_string());
            receipt.push_str(&format!(
                "图片 image: {} in {}\n",
                name.unwrap_or_default(),
                dir.unwrap_or_default()
            ));
        }
        receipt.push_str(self.terminal.last_receipt().unwrap_or("(no receipt yet)"));
        frame.render_widget(
            Paragraph::new(receipt).block(Block::default().borders(Borders::ALL).title(format!(
                " 签购单 receipt · {} printed ",
                self.terminal.printed
            ))),
            right[1],
        );
    }
}

/// A "please wait" box over the screen while a long step runs (sign-in, settlement, batch
/// upload, printing): `text` says which.
pub fn draw_progress(frame: &mut ratatui::Frame<'_>, text: &str) {
    let area = frame.area();
    let width = area.width.min(60);
    let height = area.height.min(5);
    let popup = ratatui::layout::Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    frame.render_widget(ratatui::widgets::Clear, popup);
    frame.render_widget(
        Paragraph::new(format!("{text} …"))
            .wrap(Wrap { trim: true })
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(" 请稍候 please wait "),
            ),
        popup,
    );
}
