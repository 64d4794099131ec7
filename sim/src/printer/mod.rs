//! A virtual ESC/POS receipt printer on TCP or a serial pty.
//!
//! It parses the stream (everything `pos-escpos` sends; unknown commands are logged and
//! skipped), keeps a text transcript per job (a job ends at a cut), renders each job to PNG at
//! the printer's dot width with a CJK font, answers `DLE EOT 1–4` and `GS r 1` from its state,
//! pulses the drawer on `ESC p`, and injects faults on demand: paper near end / out (also
//! "out after N lines" for a mid-job stop), cover open, offline, stall (stops reading), and
//! dropping the connection after N bytes of a job.

mod control;
mod model;
mod parser;
pub mod render;
mod servers;

pub use control::{ControlCommand, PrinterControl, RemoteJob, UnknownCommand, serve_control};
pub use model::{Element, Job, Paper, Style};

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use crate::pty::open_pty;
use model::{Faults, State};
use parser::Parser;
use servers::{serve_device, serve_tcp};

/// Handle to a running virtual printer. Dropping it stops the server.
#[derive(Debug)]
pub struct VirtualPrinter {
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    endpoint: String,
}

pub(crate) fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl VirtualPrinter {
    pub(crate) fn new_state(width_dots: u32, out_dir: Option<PathBuf>) -> Arc<Mutex<State>> {
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
        let addr: SocketAddr = listener.local_addr()?;
        let state = Self::new_state(width_dots, out_dir);
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        let thread =
            crate::server::accept_loop("virtual-printer", listener, stop.clone(), move |stream| {
                serve_tcp(stream, &st, &sp)
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

    /// Paper runs out once this many more jobs are printed whole (`None`: never): the next
    /// job finds none — paper out between the two copies of a sale.
    pub fn paper_out_after_jobs(&self, jobs: Option<usize>) {
        lock(&self.state).faults.paper_out_after_jobs = jobs;
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

    /// Talks while printing: after every chunk of data it reads it sends an Automatic Status
    /// Back block (4 bytes, its current state) and a stray `00` byte, as chatty printers and
    /// noisy serial lines do. A driver must not take any of it for the end of a job.
    pub fn set_noise(&self, noise: bool) {
        lock(&self.state).faults.noise = noise;
    }

    /// Never stops talking: sends XON bytes without pause, as a printer with a stuck status
    /// line does. A driver must bound how long it drains such a line.
    pub fn set_babble(&self, babble: bool) {
        lock(&self.state).faults.babble = babble;
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
