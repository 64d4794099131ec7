//! A private pcscd with the vpcd virtual readers, for `cargo xtask up/down` and for tests
//! that stop and restart the daemon.
//!
//! Rules from notes/pcsc-vpcd.md: never `-x` (it exits while a virtual card is attached);
//! wait for the client socket *and* both vpcd ports in LISTEN without connecting to them (a
//! connect would count as a card insertion); after `kill -9` the socket and PID file stay
//! behind and must be removed once their PID is gone (a zombie counts as gone).

#![warn(missing_docs)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// Why pcscd could not be started or stopped.
#[derive(Debug, thiserror::Error)]
pub enum PcscdError {
    /// Something else holds what we need (a foreign pcscd, the vpcd ports).
    #[error("{0}")]
    Conflict(String),
    /// pcscd could not be started.
    #[error("could not start pcscd: {0}")]
    Spawn(#[source] std::io::Error),
    /// pcscd exited right after starting.
    #[error("pcscd exited at start; its log:\n{log}")]
    Exited {
        /// The log's content.
        log: String,
    },
    /// pcscd did not get ready.
    #[error("pcscd not ready after {seconds} s; see {log}")]
    NotReady {
        /// How long we waited.
        seconds: u64,
        /// Where its log is.
        log: String,
    },
    /// File system trouble.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// First vpcd card port; slot 1 is the next one.
pub const VPCD_PORT: u16 = 35963;
/// Reader names the vpcd entry produces (Debian builds vpcd with two slots).
pub const READERS: [&str; 2] = ["Virtual PCD 00 00", "Virtual PCD 00 01"];
/// Card ports of those readers, in the same order.
pub const PORTS: [u16; 2] = [VPCD_PORT, VPCD_PORT + 1];
const VPCD_DRIVER: &str = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so";
const PCSCD_SOCKET: &str = "/run/pcscd/pcscd.comm";
const PCSCD_SYSTEM_PID: &str = "/run/pcscd/pcscd.pid";

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> PcscdError + '_ {
    move |source| PcscdError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Where our pcscd keeps its config, PID file and log: `$POS_PCSCD_DIR`, else
/// `target/xtask/pcscd` of this workspace.
pub fn state_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("POS_PCSCD_DIR") {
        return PathBuf::from(dir);
    }
    // This crate lives in `sim/stack/`: the workspace is two levels up.
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    crate_dir
        .ancestors()
        .nth(2)
        .unwrap_or(&crate_dir)
        .join("target")
        .join("xtask")
        .join("pcscd")
}

fn pid_file() -> PathBuf {
    state_dir().join("pcscd.pid")
}

fn log_file() -> PathBuf {
    state_dir().join("pcscd.log")
}

/// Process state letter from /proc/PID/stat (`R`, `S`, `Z`…), `None` when gone.
fn proc_state(pid: u32) -> Option<(String, char)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat[open + 1..close].to_string();
    let state = stat[close + 1..].trim_start().chars().next()?;
    Some((comm, state))
}

fn alive(pid: u32) -> bool {
    matches!(proc_state(pid), Some((_, state)) if state != 'Z' && state != 'X')
}

fn read_pid(path: &Path) -> Option<u32> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Every live pcscd on the machine.
fn running_pcscds() -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| matches!(proc_state(*pid), Some((comm, s)) if comm == "pcscd" && s != 'Z'))
        .collect()
}

/// TCP ports in LISTEN, read from /proc/net/tcp{,6} (state 0A).
fn listening_ports() -> Vec<u16> {
    let mut ports = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.len() > 3
                && cols[3] == "0A"
                && let Some(port) = cols[1].rsplit(':').next()
                && let Ok(p) = u16::from_str_radix(port, 16)
            {
                ports.push(p);
            }
        }
    }
    ports
}

/// Our pcscd's PID if it runs.
pub fn our_pcscd() -> Option<u32> {
    read_pid(&pid_file()).filter(|pid| alive(*pid))
}

fn write_config(dir: &Path) -> Result<PathBuf, PcscdError> {
    let conf_dir = dir.join("reader.conf.d");
    fs::create_dir_all(&conf_dir).map_err(io_err(&conf_dir))?;
    let conf = conf_dir.join("vpcd");
    let text = format!(
        "# written by cargo xtask up; /dev/null:PORT makes vpcd listen for cards on PORT and PORT+1\n\
         FRIENDLYNAME \"Virtual PCD\"\n\
         DEVICENAME   /dev/null:0x{VPCD_PORT:04X}\n\
         LIBPATH      {VPCD_DRIVER}\n\
         CHANNELID    0x{VPCD_PORT:04X}\n"
    );
    fs::write(&conf, text).map_err(io_err(&conf))?;
    Ok(conf_dir)
}

fn remove_stale_system_files() {
    match read_pid(Path::new(PCSCD_SYSTEM_PID)) {
        Some(pid) if alive(pid) => {}
        _ => {
            let _ = fs::remove_file(PCSCD_SOCKET);
            let _ = fs::remove_file(PCSCD_SYSTEM_PID);
        }
    }
}

/// Starts pcscd unless ours already runs. Returns its PID.
pub fn up() -> Result<u32, PcscdError> {
    up_within(Duration::from_secs(15))
}

/// Like [`up`], but gives pcscd only `limit` to become ready; a pcscd that is not ready by
/// then is stopped again, never left running half-started.
pub fn up_within(limit: Duration) -> Result<u32, PcscdError> {
    if let Some(pid) = our_pcscd() {
        eprintln!("pcscd: already running (pid {pid})");
        return Ok(pid);
    }
    let foreign = running_pcscds();
    if let Some(pid) = foreign.first() {
        return Err(PcscdError::Conflict(format!(
            "a pcscd not started by xtask is running (pid {pid}). It would not have the vpcd readers \
             this workspace tests with. Stop it first (`systemctl stop pcscd.socket pcscd.service` \
             or `kill {pid}`), then run `cargo xtask up` again."
        )));
    }
    // A pcscd that was just stopped may still be closing its sockets: give it a moment.
    let vpcd_busy = || -> Vec<u16> {
        listening_ports()
            .into_iter()
            .filter(|p| *p == VPCD_PORT || *p == VPCD_PORT + 1)
            .collect()
    };
    let waited = Instant::now();
    let mut busy = vpcd_busy();
    while !busy.is_empty() && waited.elapsed() < Duration::from_secs(2) {
        sleep(Duration::from_millis(20));
        busy = vpcd_busy();
    }
    if !busy.is_empty() {
        return Err(PcscdError::Conflict(format!(
            "TCP port(s) {busy:?} are already taken; vpcd needs {VPCD_PORT} and {}",
            VPCD_PORT + 1
        )));
    }
    if !Path::new(VPCD_DRIVER).exists() {
        return Err(PcscdError::Conflict(format!(
            "{VPCD_DRIVER} is missing: run `cargo xtask setup` (package vsmartcard-vpcd)"
        )));
    }
    remove_stale_system_files();
    let dir = state_dir();
    let conf_dir = write_config(&dir)?;
    let log_path = log_file();
    let log = fs::File::create(&log_path).map_err(io_err(&log_path))?;
    let log_err = log.try_clone().map_err(io_err(&log_path))?;
    let mut cmd = Command::new("pcscd");
    cmd.arg("-f").arg("-c").arg(&conf_dir);
    if std::env::var_os("PCSCD_DEBUG").is_some() {
        cmd.args(["-d", "-a"]);
    }
    cmd.stdin(Stdio::null()).stdout(log).stderr(log_err);
    // Its own process group: it outlives `cargo xtask up` and no terminal ^C reaches it.
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let child = cmd.spawn().map_err(PcscdError::Spawn)?;
    let pid = child.id();
    let pid_path = pid_file();
    fs::write(&pid_path, format!("{pid}\n")).map_err(io_err(&pid_path))?;
    // The child is reaped by `down` through its PID; dropping the handle does not kill it.
    drop(child);

    let started = Instant::now();
    loop {
        if !alive(pid) {
            let _ = fs::remove_file(&pid_path);
            let tail = fs::read_to_string(&log_path).unwrap_or_default();
            return Err(PcscdError::Exited { log: tail });
        }
        // The budget is checked first: readiness seen after it does not count (and a zero
        // budget fails deterministically, however fast pcscd starts).
        if started.elapsed() >= limit {
            let _ = down();
            return Err(PcscdError::NotReady {
                seconds: limit.as_secs(),
                log: log_path.display().to_string(),
            });
        }
        let ports = listening_ports();
        let ready = Path::new(PCSCD_SOCKET).exists()
            && ports.contains(&VPCD_PORT)
            && ports.contains(&(VPCD_PORT + 1));
        if ready {
            break;
        }
        sleep(Duration::from_millis(50));
    }
    eprintln!(
        "pcscd: pid {pid} ready in {} ms: '{}' <- card on tcp/{VPCD_PORT}, '{}' <- tcp/{}",
        started.elapsed().as_millis(),
        READERS[0],
        READERS[1],
        VPCD_PORT + 1
    );
    Ok(pid)
}

/// Stops our pcscd (SIGTERM, then SIGKILL after 5 s) and cleans its files.
pub fn down() -> Result<(), PcscdError> {
    let pid_path = pid_file();
    let Some(pid) = read_pid(&pid_path) else {
        eprintln!("pcscd: nothing to stop");
        return Ok(());
    };
    if alive(pid) && matches!(proc_state(pid), Some((comm, _)) if comm == "pcscd") {
        signal(pid, "TERM");
        let started = Instant::now();
        while alive(pid) && started.elapsed() < Duration::from_secs(5) {
            sleep(Duration::from_millis(50));
        }
        if alive(pid) {
            signal(pid, "KILL");
            while alive(pid) && started.elapsed() < Duration::from_secs(8) {
                sleep(Duration::from_millis(50));
            }
        }
        reap(pid);
        // The thread-group leader shows as a zombie while pcscd's other threads still shut
        // their readers down and hold the vpcd sockets: wait for the ports to be free too, so
        // an `up` right after never finds them taken.
        let vpcd = |p: &u16| *p == VPCD_PORT || *p == VPCD_PORT + 1;
        while listening_ports().iter().any(vpcd) && started.elapsed() < Duration::from_secs(10) {
            sleep(Duration::from_millis(20));
        }
        eprintln!("pcscd: {pid} stopped");
    } else {
        eprintln!("pcscd: {pid} was not running; cleaned up");
    }
    let _ = fs::remove_file(&pid_path);
    remove_stale_system_files();
    Ok(())
}

/// Reaps `pid` if this process started it (no-op otherwise), so no zombie stays behind.
fn reap(pid: u32) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: waitpid with WNOHANG and a null status pointer only inspects our own children.
    unsafe {
        libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG);
    }
}

fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status();
}

/// One line per daemon saying whether it runs.
pub fn status() -> String {
    let mut out = match our_pcscd() {
        Some(pid) => format!("pcscd: running (pid {pid}), log {}", log_file().display()),
        None => "pcscd: not running (start it with `cargo xtask up`)".to_string(),
    };
    let foreign: Vec<u32> = running_pcscds()
        .into_iter()
        .filter(|p| Some(*p) != our_pcscd())
        .collect();
    if !foreign.is_empty() {
        out.push_str(&format!("\nforeign pcscd processes: {foreign:?}"));
    }
    out
}

/// Stops and starts our pcscd again (tests of the driver's recovery).
pub fn restart() -> Result<u32, PcscdError> {
    down()?;
    up()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_state_dir_is_in_the_workspace_target_dir() {
        if std::env::var_os("POS_PCSCD_DIR").is_some() {
            return; // chosen by the user
        }
        let dir = super::state_dir();
        let workspace = dir
            .ancestors()
            .nth(3)
            .expect("target/xtask/pcscd has three parents");
        assert!(
            workspace.join("Cargo.lock").is_file(),
            "{} is not the workspace's target dir",
            dir.display()
        );
    }
}
