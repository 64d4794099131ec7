//! A relay between libnfc and a PN532 on a serial port that keeps one of libnfc's traps from
//! killing the process.
//!
//! libnfc calls `abort()` when the status byte of an answer to InDataExchange,
//! InCommunicateThru, PowerDown and a few other commands has bit 7 (NAD) set
//! (`pn53x_transceive`, libnfc 1.8.0) — so one bad answer from a faulty or hostile reader
//! would end the whole POS. For `pn532_uart:` devices libnfc is given a pty instead of the
//! port; this relay copies bytes both ways and rewrites such an answer's status byte to the
//! PN532 error "timeout" (01, with the checksum mended), which libnfc reports as an error.
//! Every other byte passes unchanged, malformed ones included.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pos_pn532::frame::{self, Frame, FrameError};

/// Answer codes (command + 1) whose status byte libnfc checks for NAD with `abort()`.
const NAD_CHECKED: [u8; 14] = [
    0x17, 0x41, 0x43, 0x47, 0x4F, 0x51, 0x55, 0x57, 0x87, 0x89, 0x8F, 0x91, 0x93, 0x95,
];
/// What a rewritten status byte says: PN532 error 01, the target did not answer.
const STATUS_TIMEOUT: u8 = 0x01;
/// An incomplete frame is passed on as it is after this long (libnfc times out on it).
const HOLD: Duration = Duration::from_millis(50);

/// The running relay; stopped (and the port closed) when dropped.
pub(crate) struct Relay {
    pty_path: String,
    rewritten: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    _slave: std::fs::File,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("pty", &self.pty_path)
            .finish()
    }
}

fn baud_constant(baud: u32) -> Option<libc::speed_t> {
    Some(match baud {
        9_600 => libc::B9600,
        19_200 => libc::B19200,
        38_400 => libc::B38400,
        57_600 => libc::B57600,
        115_200 => libc::B115200,
        230_400 => libc::B230400,
        460_800 => libc::B460800,
        921_600 => libc::B921600,
        _ => return None,
    })
}

/// Opens the serial port raw, non-blocking, at `baud`.
fn open_port(path: &str, baud: u32) -> io::Result<OwnedFd> {
    let speed = baud_constant(baud)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "unsupported baud rate"))?;
    let c_path = std::ffi::CString::new(path)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in the port path"))?;
    // SAFETY: a NUL-terminated path; the fd returned is owned by the OwnedFd below.
    let fd = unsafe {
        libc::open(
            c_path.as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_NONBLOCK | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor nobody else owns.
    let port = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: termios is initialised by tcgetattr before it is changed and written back.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(fd, &mut t) != 0 {
            return Err(io::Error::last_os_error());
        }
        libc::cfmakeraw(&mut t);
        libc::cfsetspeed(&mut t, speed);
        t.c_cflag |= libc::CLOCAL | libc::CREAD;
        if libc::tcsetattr(fd, libc::TCSANOW, &t) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(port)
}

fn set_nonblocking(fd: i32) {
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
}

/// Writes all of `bytes` to a non-blocking fd, waiting for room up to a second.
fn write_all(fd: i32, mut bytes: &[u8]) {
    let end = Instant::now() + Duration::from_secs(1);
    while !bytes.is_empty() && Instant::now() < end {
        // SAFETY: writes from a valid slice to a descriptor we own.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n > 0 {
            bytes = &bytes[n as usize..];
            continue;
        }
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLOUT,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut pfd, 1, 10) };
    }
}

fn read_some(fd: i32, buf: &mut [u8]) -> usize {
    // SAFETY: reads into a valid buffer from a descriptor we own.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    usize::try_from(n).unwrap_or(0)
}

/// Where the TFI of a frame starting with `00 FF` at `start` sits.
fn tfi_at(bytes: &[u8], start: usize) -> usize {
    let at = start + 2;
    if bytes.get(at..at + 2) == Some(&[0xFF, 0xFF]) {
        at + 5
    } else {
        at + 2
    }
}

/// Splits the chip's stream into what can go to libnfc now; answers libnfc would abort on
/// are rewritten in place. Returns how many bytes of `pending` may be sent.
fn ready_to_send(pending: &mut [u8], rewritten: &AtomicUsize) -> usize {
    let mut sent = 0;
    loop {
        let rest = &pending[sent..];
        match frame::decode(rest) {
            Ok((f, used)) => {
                let patch = match f {
                    Frame::Info { tfi: 0xD5, body }
                        if body.len() >= 2
                            && NAD_CHECKED.contains(&body[0])
                            && body[1] & 0x80 != 0 =>
                    {
                        Some(body[1])
                    }
                    _ => None,
                };
                if let Some(old) = patch {
                    let start = rest.windows(2).position(|w| w == [0x00, 0xFF]).unwrap_or(0);
                    let tfi = sent + tfi_at(rest, start);
                    let status = tfi + 2;
                    let dcs = sent + used - 2;
                    pending[status] = STATUS_TIMEOUT;
                    pending[dcs] = pending[dcs].wrapping_add(old).wrapping_sub(STATUS_TIMEOUT);
                    rewritten.fetch_add(1, Ordering::AcqRel);
                    tracing::warn!(
                        "the reader sent a status byte with NAD set (libnfc would abort): answered as a timeout"
                    );
                }
                sent += used;
            }
            Err(FrameError::Incomplete) => {
                // Hold from a frame start on; bytes before one go now (but a last 00 may
                // begin a start code).
                return match rest.windows(2).position(|w| w == [0x00, 0xFF]) {
                    Some(start) => sent + start,
                    None if rest.last() == Some(&0x00) => sent + rest.len() - 1,
                    None => sent + rest.len(),
                };
            }
            Err(
                FrameError::LengthChecksum { skip }
                | FrameError::DataChecksum { skip }
                | FrameError::Length { skip },
            ) => sent += skip.clamp(1, rest.len()),
            Err(_) => return pending.len(),
        }
        if sent >= pending.len() {
            return pending.len();
        }
    }
}

fn run(master: OwnedFd, port: OwnedFd, rewritten: &AtomicUsize, stop: &AtomicBool) {
    let (m, p) = (master.as_raw_fd(), port.as_raw_fd());
    let mut buf = [0u8; 1024];
    let mut pending: Vec<u8> = Vec::new();
    let mut held_since: Option<Instant> = None;
    while !stop.load(Ordering::Acquire) {
        let mut fds = [
            libc::pollfd {
                fd: m,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: p,
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: two valid pollfds.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), 2, 20) };
        if ready < 0 {
            continue;
        }
        if fds[0].revents & libc::POLLIN != 0 {
            let n = read_some(m, &mut buf);
            write_all(p, &buf[..n]);
        } else if fds[0].revents & libc::POLLHUP != 0 {
            // libnfc closed the pty between two opens: wait for the next one.
            std::thread::sleep(Duration::from_millis(5));
        }
        if fds[1].revents & libc::POLLIN != 0 {
            let n = read_some(p, &mut buf);
            pending.extend_from_slice(&buf[..n]);
        }
        if pending.is_empty() {
            held_since = None;
            continue;
        }
        let mut n = ready_to_send(&mut pending, rewritten);
        if n == 0 && held_since.is_some_and(|t| t.elapsed() > HOLD) {
            n = pending.len();
        }
        if n > 0 {
            write_all(m, &pending[..n]);
            pending.drain(..n);
            held_since = None;
        }
        if !pending.is_empty() && held_since.is_none() {
            held_since = Some(Instant::now());
        }
    }
}

impl Relay {
    /// Opens `port` at `baud` and a pty for libnfc; starts copying.
    pub(crate) fn start(port: &str, baud: u32) -> io::Result<Self> {
        let device = open_port(port, baud)?;
        let (master, slave, pty_path) = pos_io::pty::open_pty()?;
        set_nonblocking(master.as_raw_fd());
        let master = OwnedFd::from(master);
        let rewritten = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s) = (Arc::clone(&rewritten), Arc::clone(&stop));
        let thread = std::thread::Builder::new()
            .name("pn532-relay".into())
            .spawn(move || run(master, device, &r, &s))?;
        Ok(Self {
            pty_path,
            rewritten,
            stop,
            thread: Some(thread),
            _slave: slave,
        })
    }

    /// The pty libnfc opens instead of the port.
    pub(crate) fn pty_path(&self) -> &str {
        &self.pty_path
    }

    /// Answers rewritten so far.
    pub(crate) fn rewritten(&self) -> usize {
        self.rewritten.load(Ordering::Acquire)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: &[u8]) -> Vec<u8> {
        let mut out = vec![0u8; frame::MAX_FRAME];
        let n = frame::encode(frame::PN532_TO_HOST, body, &mut out).expect("encode");
        out.truncate(n);
        out
    }

    #[test]
    fn an_exchange_answer_with_nad_becomes_a_timeout_with_a_valid_checksum() {
        let count = AtomicUsize::new(0);
        let mut stream = frame::ACK.to_vec();
        stream.extend(answer(&[0x41, 0x80, 0x90, 0x00]));
        let n = ready_to_send(&mut stream, &count);
        assert_eq!(n, stream.len());
        assert_eq!(count.load(Ordering::Acquire), 1);
        let (f, _) = frame::decode(&stream[6..]).expect("still a valid frame");
        assert_eq!(
            f,
            Frame::Info {
                tfi: 0xD5,
                body: &[0x41, STATUS_TIMEOUT, 0x90, 0x00]
            }
        );
    }

    #[test]
    fn other_answers_and_malformed_bytes_pass_unchanged() {
        let count = AtomicUsize::new(0);
        // A status with NAD on a command libnfc does not check, garbage, a good answer.
        let mut stream = answer(&[0x4B, 0x81, 0x00]);
        stream.extend_from_slice(&[0x12, 0x34]);
        stream.extend(answer(&[0x41, 0x00, 0x90, 0x00]));
        let before = stream.clone();
        assert_eq!(ready_to_send(&mut stream, &count), stream.len());
        assert_eq!((stream, count.load(Ordering::Acquire)), (before, 0));
    }

    #[test]
    fn an_incomplete_frame_is_held_and_bytes_before_it_go() {
        let count = AtomicUsize::new(0);
        let whole = answer(&[0x41, 0x80, 0x90, 0x00]);
        let mut stream = vec![0x12];
        stream.extend_from_slice(&whole[..5]);
        assert_eq!(
            ready_to_send(&mut stream, &count),
            2,
            "0x12 and the preamble 00"
        );
    }
}
