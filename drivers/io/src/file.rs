//! Device files (`/dev/usb/lp0`) and capture files.

use std::fs::{File, OpenOptions};
use std::io::{self, ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::time::Duration;

use crate::Deadline;
use crate::transport::{Transport, timed_out};

/// A device file such as `/dev/usb/lp0` (usblp), or any file to capture output.
///
/// Device nodes (under `/dev`) are opened non-blocking and every read and write waits with
/// `poll(2)` only until its deadline: a printer that stops taking data cannot block the caller
/// for ever. Plain files are written as they are and never read.
#[derive(Debug)]
pub struct FileTransport {
    path: PathBuf,
    file: Option<File>,
    device: bool,
}

impl FileTransport {
    /// `path`; `/dev/…` nodes are read back (usblp answers status), plain files are not.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let device = path.starts_with("/dev");
        Self {
            path,
            file: None,
            device,
        }
    }

    fn file(&mut self) -> io::Result<&mut File> {
        if self.file.is_none() {
            let mut options = OpenOptions::new();
            if self.device {
                options
                    .read(true)
                    .write(true)
                    .custom_flags(libc::O_NONBLOCK);
            } else {
                options.append(true).create(true);
            }
            self.file = Some(options.open(&self.path)?);
        }
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::from(ErrorKind::NotConnected))
    }

    /// Opens the file now.
    pub fn connect(&mut self) -> io::Result<()> {
        self.file().map(|_| ())
    }
}

/// Waits until `file` is ready for `events` or `deadline` passes; `Ok(false)` on timeout.
fn wait_ready(file: &File, events: libc::c_short, deadline: Deadline) -> io::Result<bool> {
    loop {
        let left = deadline.remaining();
        let ms = libc::c_int::try_from(left.as_millis().max(u128::from(!left.is_zero())))
            .unwrap_or(libc::c_int::MAX);
        let mut fd = libc::pollfd {
            fd: file.as_raw_fd(),
            events,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        let n = unsafe { libc::poll(&mut fd, 1, ms) };
        match n {
            0 => return Ok(false),
            n if n > 0 => return Ok(true),
            _ => {
                let e = io::Error::last_os_error();
                if e.kind() != ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }
}

impl Transport for FileTransport {
    fn write_all(&mut self, data: &[u8], timeout: Duration) -> Result<(), (usize, io::Error)> {
        let device = self.device;
        let file = self.file().map_err(|e| (0, e))?;
        if !device {
            file.write_all(data).map_err(|e| (0, e))?;
            return file.flush().map_err(|e| (data.len(), e));
        }
        let deadline = Deadline::after(timeout);
        let mut sent = 0;
        while sent < data.len() {
            match file.write(&data[sent..]) {
                Ok(0) => return Err((sent, io::Error::from(ErrorKind::WriteZero))),
                Ok(n) => sent += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if !wait_ready(file, libc::POLLOUT, deadline).map_err(|e| (sent, e))? {
                        return Err((sent, timed_out()));
                    }
                }
                Err(e) => return Err((sent, e)),
            }
        }
        Ok(())
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        if !self.device {
            return Ok(0);
        }
        let file = self.file()?;
        let deadline = Deadline::after(timeout);
        loop {
            match file.read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if !wait_ready(file, libc::POLLIN, deadline)? {
                        return Ok(0);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn can_read(&self) -> bool {
        self.device
    }

    fn reset(&mut self) {
        self.file = None;
    }

    fn describe(&self) -> String {
        format!("file:{}", self.path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// A FIFO nobody reads stands in for a printer that stopped taking data: the kernel buffer
    /// fills up and the write must give up at its deadline instead of blocking for ever.
    #[test]
    fn a_device_that_stops_reading_times_out_instead_of_blocking() {
        let dir = std::env::temp_dir().join(format!("pos-io-fifo-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let fifo = dir.join("lp");
        let _ = std::fs::remove_file(&fifo);
        let c_path = std::ffi::CString::new(fifo.to_string_lossy().as_bytes()).expect("no NUL");
        // SAFETY: a valid C string path.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        // Keep a reader open (that never reads) so that opening for writing succeeds.
        let _reader = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
            .expect("reader end");
        let mut t = FileTransport {
            path: fifo.clone(),
            file: None,
            device: true,
        };
        let start = Instant::now();
        let big = vec![0x1Bu8; 1 << 20];
        let err = t
            .write_all(&big, Duration::from_millis(200))
            .expect_err("the pipe fills up");
        assert_eq!(err.1.kind(), ErrorKind::TimedOut);
        assert!(
            err.0 > 0 && err.0 < big.len(),
            "some bytes got out: {}",
            err.0
        );
        assert!(start.elapsed() < Duration::from_secs(2));
        let _ = std::fs::remove_file(&fifo);

        // A device with nothing to say: the read returns empty at its deadline, not before
        // and not never.
        let quiet = dir.join("quiet");
        let c_path = std::ffi::CString::new(quiet.to_string_lossy().as_bytes()).expect("no NUL");
        // SAFETY: a valid C string path.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let mut r = FileTransport {
            path: quiet.clone(),
            file: None,
            device: true,
        };
        let start = Instant::now();
        let mut buf = [0u8; 8];
        assert_eq!(
            r.read(&mut buf, Duration::from_millis(100)).expect("read"),
            0
        );
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_millis(90) && waited < Duration::from_secs(1),
            "{waited:?}"
        );
        let _ = std::fs::remove_file(&quiet);
    }
}
