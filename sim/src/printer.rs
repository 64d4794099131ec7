//! A virtual ESC/POS receipt printer on TCP or a serial pty.
//!
//! It parses the stream (everything `pos-escpos` sends; unknown commands are logged and
//! skipped), keeps a text transcript per job (a job ends at a cut), renders each job to PNG at
//! the printer's dot width with a CJK font, answers `DLE EOT 1–4` and `GS r 1` from its state,
//! pulses the drawer on `ESC p`, and injects faults on demand: paper near end / out (also
//! "out after N lines" for a mid-job stop), cover open, offline, stall (stops reading), and
//! dropping the connection after N bytes of a job.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// The paper sensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Paper {
    /// Plenty.
    #[default]
    Ok,
    /// Near end.
    NearEnd,
    /// Out: printing stops, the rest of the job is lost (reported as not printed).
    Out,
}

/// Faults, set through [`VirtualPrinter`]; the default is a healthy printer.
#[derive(Debug, Clone, Default)]
struct Faults {
    paper: Paper,
    cover_open: bool,
    offline: bool,
    stall: bool,
    drop_after_bytes: Option<usize>,
    paper_out_after_lines: Option<usize>,
}

/// How a line looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    /// 0 left, 1 centre, 2 right.
    pub align: u8,
    /// Bold.
    pub bold: bool,
    /// Width multiplier.
    pub width: u8,
    /// Height multiplier.
    pub height: u8,
}

/// One printed element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Element {
    /// A line of text.
    Text(String, Style),
    /// A QR code with its data and module size.
    Qr(String, u8),
    /// A barcode (symbology code, data).
    Barcode(u8, String),
    /// Blank lines.
    Feed(u8),
}

/// A finished job.
#[derive(Debug, Clone)]
pub struct Job {
    /// What was printed.
    pub elements: Vec<Element>,
    /// False when paper ran out or the cover opened before the cut.
    pub complete: bool,
    /// The rendered image (when an output directory is set).
    pub png: Option<PathBuf>,
}

impl Job {
    /// The text lines (QR and barcodes as `[QR data]` / `[BARCODE data]`).
    pub fn transcript(&self) -> String {
        let mut out = String::new();
        for e in &self.elements {
            match e {
                Element::Text(t, _) => out.push_str(t),
                Element::Qr(d, _) => out.push_str(&format!("[QR {d}]")),
                Element::Barcode(_, d) => out.push_str(&format!("[BARCODE {d}]")),
                Element::Feed(_) => {}
            }
            out.push('\n');
        }
        out
    }
}

#[derive(Debug)]
struct State {
    faults: Faults,
    width_dots: u32,
    out_dir: Option<PathBuf>,
    jobs: Vec<Job>,
    log: Vec<String>,
    drawer_pulses: Vec<Vec<u8>>,
    bytes_received: usize,
}

/// Parser state of one connection.
#[derive(Debug, Default)]
struct Parser {
    pending: Vec<u8>,
    style: Style,
    chinese: bool,
    line: Vec<u8>,
    elements: Vec<Element>,
    lines_in_job: usize,
    interrupted: bool,
    qr_data: String,
    qr_size: u8,
    job_bytes: usize,
}

/// Handle to a running virtual printer. Dropping it stops the server.
#[derive(Debug)]
pub struct VirtualPrinter {
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    endpoint: String,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl VirtualPrinter {
    fn new_state(width_dots: u32, out_dir: Option<PathBuf>) -> Arc<Mutex<State>> {
        Arc::new(Mutex::new(State {
            faults: Faults::default(),
            width_dots,
            out_dir,
            jobs: Vec::new(),
            log: Vec::new(),
            drawer_pulses: Vec::new(),
            bytes_received: 0,
        }))
    }

    /// A printer listening on `127.0.0.1:port` (0 = any free port).
    pub fn tcp(port: u16, width_dots: u32, out_dir: Option<PathBuf>) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        listener.set_nonblocking(true)?;
        let addr: SocketAddr = listener.local_addr()?;
        let state = Self::new_state(width_dots, out_dir);
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("virtual-printer".into())
            .spawn(move || {
                while !sp.load(Ordering::Acquire) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let (st, sp) = (st.clone(), sp.clone());
                            let _ = std::thread::Builder::new()
                                .name("virtual-printer-conn".into())
                                .spawn(move || serve_tcp(stream, &st, &sp));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })?;
        Ok(Self {
            state,
            stop,
            thread: Some(thread),
            endpoint: format!("127.0.0.1:{}", addr.port()),
        })
    }

    /// A printer on a new pseudo-terminal; [`endpoint`](Self::endpoint) is the slave path to
    /// open as a serial port.
    pub fn pty(width_dots: u32, out_dir: Option<PathBuf>) -> std::io::Result<Self> {
        let (master, slave, path) = open_pty()?;
        let state = Self::new_state(width_dots, out_dir);
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("virtual-printer-pty".into())
            .spawn(move || {
                serve_device(master, &st, &sp, || {});
                drop(slave);
            })?;
        Ok(Self {
            state,
            stop,
            thread: Some(thread),
            endpoint: path,
        })
    }

    /// The device side of a USB printer gadget (`/dev/g_printer0` in the QEMU USB rig): what the
    /// host writes on bulk OUT is printed, answers go out on bulk IN. The "drop the connection"
    /// fault unplugs the gadget through its configfs `UDC` file ([`replug`](Self::replug)
    /// plugs it back).
    pub fn usb_gadget(
        device: &str,
        udc_file: &str,
        width_dots: u32,
        out_dir: Option<PathBuf>,
    ) -> std::io::Result<Self> {
        // Opened once per process and never closed: Linux 6.1's f_printer hits a kernel BUG
        // (list corruption in cd_forget) when /dev/g_printer0 is closed and opened again.
        static OPENED: Mutex<Vec<(String, std::fs::File)>> = Mutex::new(Vec::new());
        let dev = {
            let mut opened = OPENED
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match opened.iter().find(|(path, _)| path == device) {
                Some((_, f)) => f.try_clone()?,
                None => {
                    let f = std::fs::OpenOptions::new()
                        .read(true)
                        .write(true)
                        .open(device)?;
                    let clone = f.try_clone()?;
                    opened.push((device.to_string(), f));
                    clone
                }
            }
        };
        let udc = std::fs::read_to_string(udc_file)?.trim().to_string();
        let state = Self::new_state(width_dots, out_dir);
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        let udc_path = udc_file.to_string();
        let thread = std::thread::Builder::new()
            .name("virtual-printer-usb".into())
            .spawn(move || {
                // Pull the cable: the host sees the device vanish mid-job.
                serve_device(dev, &st, &sp, || {
                    let _ = std::fs::write(&udc_path, "\n");
                });
            })?;
        Ok(Self {
            state,
            stop,
            thread: Some(thread),
            endpoint: format!("{device} ({udc})"),
        })
    }

    /// Plugs a USB gadget printer back in after an unplug fault.
    pub fn replug(&self, udc_file: &str, udc: &str) -> std::io::Result<()> {
        std::fs::write(udc_file, udc)
    }

    /// `127.0.0.1:PORT` or the pty path.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Finished jobs so far.
    pub fn jobs(&self) -> Vec<Job> {
        lock(&self.state).jobs.clone()
    }

    /// Unknown commands and other remarks.
    pub fn log(&self) -> Vec<String> {
        lock(&self.state).log.clone()
    }

    /// Every `ESC p` command received, whole.
    pub fn drawer_pulses(&self) -> Vec<Vec<u8>> {
        lock(&self.state).drawer_pulses.clone()
    }

    /// Sets the paper sensor.
    pub fn set_paper(&self, paper: Paper) {
        lock(&self.state).faults.paper = paper;
    }

    /// Runs out of paper after this many more printed lines of a job (a mid-job stop).
    pub fn paper_out_after_lines(&self, lines: Option<usize>) {
        lock(&self.state).faults.paper_out_after_lines = lines;
    }

    /// Opens or closes the cover.
    pub fn set_cover_open(&self, open: bool) {
        lock(&self.state).faults.cover_open = open;
    }

    /// Takes the printer offline (or back).
    pub fn set_offline(&self, offline: bool) {
        lock(&self.state).faults.offline = offline;
    }

    /// Stops reading the connection (the sender's buffers fill, its writes time out).
    pub fn set_stall(&self, stall: bool) {
        lock(&self.state).faults.stall = stall;
    }

    /// Closes the connection once a job has sent this many bytes.
    pub fn drop_after_bytes(&self, bytes: Option<usize>) {
        lock(&self.state).faults.drop_after_bytes = bytes;
    }

    /// Back to a healthy printer.
    pub fn clear_faults(&self) {
        lock(&self.state).faults = Faults::default();
    }
}

impl Drop for VirtualPrinter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What the parser made of a byte stream (see [`parse_stream`]).
#[derive(Debug, Clone)]
pub struct ParsedStream {
    /// Finished jobs.
    pub jobs: Vec<Job>,
    /// Bytes the printer would send back.
    pub replies: Vec<u8>,
    /// Unknown commands and remarks.
    pub log: Vec<String>,
}

/// Runs the printer's parser over `bytes` offline (no rendering): for tools and fuzzing.
///
/// ```
/// let parsed = pos_sim::printer::parse_stream(&[0x1B, 0x40, b'h', b'i', 0x0A, 0x10, 0x04, 0x04, 0x1D, 0x56, 0x00]);
/// assert_eq!(parsed.jobs[0].transcript(), "hi\n");
/// assert_eq!(parsed.replies, vec![0x12]);
/// ```
pub fn parse_stream(bytes: &[u8]) -> ParsedStream {
    let state = VirtualPrinter::new_state(384, None);
    let mut parser = Parser::default();
    let mut replies = Vec::new();
    let _ = parser.feed(bytes, &state, &mut replies);
    let s = lock(&state);
    ParsedStream {
        jobs: s.jobs.clone(),
        replies,
        log: s.log.clone(),
    }
}

/// What the connection loop must do after feeding bytes.
enum Verdict {
    Continue,
    Drop,
}

fn serve_tcp(mut stream: TcpStream, state: &Mutex<State>, stop: &AtomicBool) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
    let mut parser = Parser::default();
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::Acquire) {
        if lock(state).faults.stall {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        }
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let mut replies = Vec::new();
                let verdict = parser.feed(&buf[..n], state, &mut replies);
                if !replies.is_empty() && stream.write_all(&replies).is_err() {
                    break;
                }
                if let Verdict::Drop = verdict {
                    let _ = stream.shutdown(std::net::Shutdown::Both);
                    break;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
    parser.abandon(state);
}

fn open_pty() -> std::io::Result<(std::fs::File, std::fs::File, String)> {
    use std::os::fd::FromRawFd;
    let (mut master, mut slave) = (0, 0);
    let mut name = [0 as libc::c_char; 128];
    // SAFETY: openpty writes two fds and a NUL-terminated name into the buffers we pass.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            name.as_mut_ptr(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // Raw mode: no echo, no line editing, no CR/LF translation of receipt bytes.
    // SAFETY: `slave` is a valid tty fd; termios is fully initialised by tcgetattr.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(slave, &mut t) == 0 {
            libc::cfmakeraw(&mut t);
            libc::tcsetattr(slave, libc::TCSANOW, &t);
        }
    }
    // SAFETY: the name buffer is NUL-terminated by openpty.
    let path = unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) }
        .to_string_lossy()
        .into_owned();
    // SAFETY: both fds are fresh and owned by nobody else.
    Ok(unsafe {
        (
            std::fs::File::from_raw_fd(master),
            std::fs::File::from_raw_fd(slave),
            path,
        )
    })
}

/// Serves a character device (pty master, USB gadget): poll, read, parse, answer.
/// `on_drop` runs when the "drop the connection" fault fires (a pty has nothing to drop).
fn serve_device(
    mut dev: std::fs::File,
    state: &Mutex<State>,
    stop: &AtomicBool,
    on_drop: impl Fn(),
) {
    use std::os::fd::AsRawFd;
    let mut parser = Parser::default();
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::Acquire) {
        if lock(state).faults.stall {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        }
        let mut pfd = libc::pollfd {
            fd: dev.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let ready = unsafe { libc::poll(&mut pfd, 1, 50) };
        if ready <= 0 || pfd.revents & libc::POLLIN == 0 {
            continue;
        }
        match dev.read(&mut buf) {
            Ok(0) | Err(_) => std::thread::sleep(Duration::from_millis(20)),
            Ok(n) => {
                let mut replies = Vec::new();
                if let Verdict::Drop = parser.feed(&buf[..n], state, &mut replies) {
                    on_drop();
                    parser = Parser::default();
                    continue;
                }
                if !replies.is_empty() {
                    let _ = dev.write_all(&replies);
                }
            }
        }
    }
}

/// Bytes a command needs beyond the bytes available, or its length.
enum Need {
    More,
    Len(usize),
}

impl Parser {
    fn log(&self, state: &Mutex<State>, text: String) {
        lock(state).log.push(text);
    }

    fn flush_line(&mut self, state: &Mutex<State>) {
        let text = if self.chinese {
            encoding_rs::GB18030
                .decode_without_bom_handling(&self.line)
                .0
                .into_owned()
        } else {
            String::from_utf8_lossy(&self.line).into_owned()
        };
        self.line.clear();
        self.push(Element::Text(text, self.style), state);
    }

    fn push(&mut self, element: Element, state: &Mutex<State>) {
        if self.interrupted {
            return;
        }
        let mut s = lock(state);
        let blocked = s.faults.paper == Paper::Out || s.faults.cover_open || s.faults.offline;
        if blocked {
            self.interrupted = true;
            return;
        }
        self.elements.push(element);
        self.lines_in_job += 1;
        if let Some(n) = s.faults.paper_out_after_lines
            && self.lines_in_job >= n
        {
            s.faults.paper = Paper::Out;
            s.faults.paper_out_after_lines = None;
        }
    }

    fn end_job(&mut self, state: &Mutex<State>) {
        if !self.line.is_empty() {
            self.flush_line(state);
        }
        let elements = std::mem::take(&mut self.elements);
        let complete = !self.interrupted;
        self.interrupted = false;
        self.lines_in_job = 0;
        self.job_bytes = 0;
        let (width, out_dir, index) = {
            let s = lock(state);
            (s.width_dots, s.out_dir.clone(), s.jobs.len() + 1)
        };
        let png = out_dir.and_then(|dir| {
            let path = dir.join(format!("job-{index:03}.png"));
            crate::render::render_png(&elements, width, &path)
                .ok()
                .map(|_| path)
        });
        lock(state).jobs.push(Job {
            elements,
            complete,
            png,
        });
    }

    /// A connection closed mid-job: what was received is not a printed job.
    fn abandon(&mut self, state: &Mutex<State>) {
        if !self.elements.is_empty() || !self.line.is_empty() {
            self.log(state, "connection closed mid-job; job discarded".into());
        }
    }

    fn status_byte(n: u8, f: &Faults) -> Option<u8> {
        let stopped = f.offline || f.cover_open || f.paper == Paper::Out;
        Some(match n {
            1 => {
                if stopped {
                    0x1E
                } else {
                    0x16
                }
            }
            2 => {
                0x12 | if f.cover_open { 0x04 } else { 0 }
                    | if f.paper == Paper::Out { 0x20 } else { 0 }
            }
            3 => 0x12,
            4 => match f.paper {
                Paper::Ok => 0x12,
                Paper::NearEnd => 0x1E,
                Paper::Out => 0x7E,
            },
            _ => return None,
        })
    }

    /// Length of the command at the start of `b`.
    fn command_len(b: &[u8]) -> Need {
        let need = |n: usize| {
            if b.len() >= n {
                Need::Len(n)
            } else {
                Need::More
            }
        };
        match b {
            [0x1B] | [0x1D] | [0x1C] | [0x10] => Need::More,
            [0x1B, c, ..] => match c {
                b'@' | b'<' | b'2' | b'=' | b'J' => {
                    need(if *c == b'J' || *c == b'=' { 3 } else { 2 })
                }
                b'p' => need(5),
                b'!' | b'a' | b'E' | b'-' | b'G' | b'M' | b'd' | b'3' | b't' | b'R' | b'V'
                | b'{' | b'c' | b'r' => need(3),
                _ => Need::Len(2),
            },
            [0x1D, c, ..] => match c {
                b'V' => match b.get(2) {
                    None => Need::More,
                    Some(65 | 66) => need(4),
                    Some(_) => need(3),
                },
                b'k' => match b.get(2) {
                    None => Need::More,
                    Some(m) if *m <= 6 => match b[3..].iter().position(|x| *x == 0) {
                        Some(p) => Need::Len(3 + p + 1),
                        None => Need::More,
                    },
                    Some(_) => match b.get(3) {
                        None => Need::More,
                        Some(n) => need(4 + usize::from(*n)),
                    },
                },
                b'(' => match (b.get(3), b.get(4)) {
                    (Some(l), Some(h)) => need(5 + usize::from(*l) + 256 * usize::from(*h)),
                    _ => Need::More,
                },
                b'L' | b'W' | b'P' => need(4),
                b'!' | b'H' | b'w' | b'h' | b'f' | b'B' | b'b' | b'r' | b'a' | b'I' => need(3),
                _ => Need::Len(2),
            },
            [0x1C, c, ..] => match c {
                b'&' | b'.' => need(2),
                b'C' | b'!' => need(3),
                _ => Need::Len(2),
            },
            [0x10, 0x04, ..] => need(3),
            [0x10, 0x14, ..] => need(5),
            [0x10, 0x05, ..] => need(3),
            [0x10, ..] => Need::Len(1),
            _ => Need::Len(1),
        }
    }

    fn feed(&mut self, data: &[u8], state: &Mutex<State>, replies: &mut Vec<u8>) -> Verdict {
        self.pending.extend_from_slice(data);
        self.job_bytes += data.len();
        let drop_now = {
            let mut s = lock(state);
            s.bytes_received += data.len();
            s.faults
                .drop_after_bytes
                .is_some_and(|n| self.job_bytes >= n)
        };
        if drop_now {
            lock(state).faults.drop_after_bytes = None;
            self.pending.clear();
            self.elements.clear();
            self.line.clear();
            self.log(state, "fault: connection dropped mid-job".into());
            return Verdict::Drop;
        }
        let mut at = 0;
        while at < self.pending.len() {
            let rest = &self.pending[at..];
            let first = rest[0];
            if first >= 0x20 || (self.chinese && first >= 0x80) {
                self.line.push(first);
                at += 1;
                continue;
            }
            if first == 0x0A {
                self.flush_line(state);
                at += 1;
                continue;
            }
            if first == 0x0D || first == 0x00 {
                at += 1;
                continue;
            }
            let Need::Len(n) = Self::command_len(rest) else {
                break;
            };
            let cmd = rest[..n].to_vec();
            at += n;
            self.command(&cmd, state, replies);
        }
        self.pending.drain(..at);
        Verdict::Continue
    }

    fn command(&mut self, cmd: &[u8], state: &Mutex<State>, replies: &mut Vec<u8>) {
        let arg = |i: usize| cmd.get(i).copied().unwrap_or(0);
        // Style changes end the current text run.
        let had_text = !self.line.is_empty();
        let ends_text = matches!(cmd.first(), Some(0x1B | 0x1D))
            && had_text
            && !matches!(cmd, [0x1B, b'p', ..]);
        if ends_text {
            self.flush_line(state);
        }
        match cmd {
            [0x10, 0x04, n] => {
                if let Some(b) = Self::status_byte(*n, &lock(state).faults) {
                    replies.push(b);
                }
            }
            [0x1B, b'@'] => self.style = Style::default(),
            [0x1B, b'a', ..] => self.style.align = arg(2) % 48 % 3,
            [0x1B, b'E', ..] => self.style.bold = arg(2) & 1 == 1,
            // ESC d n prints the line buffer and feeds n lines: the first feed ends the text line.
            [0x1B, b'd', ..] => {
                let extra = if had_text {
                    arg(2).saturating_sub(1)
                } else {
                    arg(2)
                };
                if extra > 0 {
                    self.push(Element::Feed(extra), state);
                }
            }
            [0x1B, b'p', ..] => lock(state).drawer_pulses.push(cmd.to_vec()),
            [0x1D, b'!', ..] => {
                self.style.width = (arg(2) >> 4) + 1;
                self.style.height = (arg(2) & 0x0F) + 1;
            }
            [0x1D, b'V', ..] => self.end_job(state),
            [0x1D, b'r', ..] => {
                // Buffered: answered only when reached, and not while stopped.
                let f = lock(state).faults.clone();
                if f.paper != Paper::Out && !f.cover_open && !f.offline {
                    replies.push(if f.paper == Paper::NearEnd {
                        0x03
                    } else {
                        0x00
                    });
                }
            }
            [0x1D, b'k', m, ..] => {
                let data = if *m <= 6 {
                    &cmd[3..cmd.len() - 1]
                } else {
                    &cmd[4..]
                };
                let text =
                    String::from_utf8_lossy(data.strip_prefix(b"{B").unwrap_or(data)).into_owned();
                self.push(Element::Barcode(*m, text), state);
            }
            [0x1D, b'(', b'k', _, _, 49, 67, size] => self.qr_size = *size,
            [0x1D, b'(', b'k', _, _, 49, 80, 48, data @ ..] => {
                self.qr_data = String::from_utf8_lossy(data).into_owned()
            }
            [0x1D, b'(', b'k', _, _, 49, 81, ..] => {
                let data = std::mem::take(&mut self.qr_data);
                self.push(Element::Qr(data, self.qr_size.max(1)), state);
            }
            [0x1D, b'(', b'k', ..] => {}
            [0x1C, b'&'] => self.chinese = true,
            [0x1C, b'.'] => self.chinese = false,
            [
                0x1B,
                b'-' | b'G' | b'M' | b'3' | b't' | b'R' | b'2' | b'V' | b'{',
                ..,
            ]
            | [
                0x1D,
                b'H' | b'w' | b'h' | b'f' | b'B' | b'b' | b'L' | b'W' | b'P' | b'a',
                ..,
            ]
            | [0x1C, b'C' | b'!', ..] => {}
            other => {
                let shown: Vec<String> = other.iter().map(|b| format!("{b:02x}")).collect();
                self.log(state, format!("unknown command {}", shown.join(" ")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> (Arc<Mutex<State>>, Vec<u8>) {
        let state = VirtualPrinter::new_state(384, None);
        let mut p = Parser::default();
        let mut replies = Vec::new();
        // One byte at a time: commands split across reads must still parse.
        for b in bytes {
            let _ = p.feed(&[*b], &state, &mut replies);
        }
        (state, replies)
    }

    #[test]
    fn parses_text_styles_qr_and_cut_split_at_every_byte() {
        let mut job = vec![0x1B, 0x40, 0x1C, 0x26, 0x1B, 0x61, 0x01, 0x1B, 0x45, 0x01];
        job.extend_from_slice(&[0xC7, 0xA9, 0xB9, 0xBA, 0xB5, 0xA5, 0x0A]); // 签购单
        job.extend_from_slice(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x04]);
        job.extend_from_slice(&[
            0x1D, 0x28, 0x6B, 0x07, 0x00, 0x31, 0x50, 0x30, b'R', b'R', b'N', b'1',
        ]);
        job.extend_from_slice(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30]);
        job.extend_from_slice(&[0x10, 0x04, 0x01, 0x1D, 0x56, 0x41, 0x01]);
        let (state, replies) = parse(&job);
        assert_eq!(replies, vec![0x16]);
        let s = lock(&state);
        assert_eq!(s.jobs.len(), 1);
        assert_eq!(s.jobs[0].transcript(), "签购单\n[QR RRN1]\n");
        assert!(s.jobs[0].complete);
        assert!(s.log.is_empty(), "{:?}", s.log);
    }

    #[test]
    fn unknown_commands_are_logged_not_fatal() {
        let (state, _) = parse(&[0x1B, 0x7F, b'o', b'k', 0x0A, 0x1D, 0x56, 0x00]);
        let s = lock(&state);
        assert_eq!(s.jobs[0].transcript(), "ok\n");
        assert_eq!(s.log.len(), 1);
    }
}

/// Drives a `sim-printer --control ADDR` running in another process (the USB rig's printer
/// gadget helper).
#[derive(Debug)]
pub struct PrinterControl {
    reader: std::io::BufReader<TcpStream>,
    writer: TcpStream,
}

/// A job as the control port reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteJob {
    /// Printed to the end.
    pub complete: bool,
    /// Its transcript.
    pub transcript: String,
}

impl PrinterControl {
    /// Connects, retrying for up to `wait` while the helper starts.
    pub fn connect(addr: &str, wait: Duration) -> std::io::Result<Self> {
        let start = std::time::Instant::now();
        loop {
            match TcpStream::connect(addr) {
                Ok(s) => {
                    s.set_read_timeout(Some(Duration::from_secs(5)))?;
                    return Ok(Self {
                        reader: std::io::BufReader::new(s.try_clone()?),
                        writer: s,
                    });
                }
                Err(e) if start.elapsed() > wait => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// Sends one command; returns the answer's lines before `OK`.
    pub fn command(&mut self, cmd: &str) -> std::io::Result<Vec<String>> {
        use std::io::BufRead;
        self.writer.write_all(format!("{cmd}\n").as_bytes())?;
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
            }
            let line = line.trim_end_matches('\n').to_string();
            if line == "OK" {
                return Ok(lines);
            }
            if let Some(err) = line.strip_prefix("ERR") {
                return Err(std::io::Error::other(err.trim().to_string()));
            }
            lines.push(line);
        }
    }

    /// The jobs printed so far.
    pub fn jobs(&mut self) -> std::io::Result<Vec<RemoteJob>> {
        let mut jobs = Vec::new();
        let mut current: Option<RemoteJob> = None;
        for line in self.command("jobs")? {
            if let Some(state) = line.strip_prefix("JOB ") {
                current = Some(RemoteJob {
                    complete: state == "complete",
                    transcript: String::new(),
                });
            } else if line == "END" {
                jobs.extend(current.take());
            } else if let Some(job) = current.as_mut() {
                job.transcript.push_str(&line);
                job.transcript.push('\n');
            }
        }
        Ok(jobs)
    }
}
