//! Pseudo-terminals: the serial simulators (printer, PN532, MSR) give the slave to the driver
//! under test, and pos-nfc's relay gives one to libnfc in front of a real port.

/// Opens a pty in raw mode: (master, slave, slave path). Keep the slave open as long as the
/// master is used, so the master never sees a hang-up between two opens of the device.
///
/// ```
/// let (_master, _slave, path) = pos_io::pty::open_pty()?;
/// assert!(path.starts_with("/dev/pts/"));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn open_pty() -> std::io::Result<(std::fs::File, std::fs::File, String)> {
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
