//! `cargo xtask setup`: Debian packages, installed only when missing.

use std::process::{Command, Stdio};

use crate::XtaskError;

/// What the workspace needs, with the reason, so that the list stays honest.
pub const PACKAGES: &[(&str, &str)] = &[
    ("pcscd", "PC/SC daemon the pcsc driver talks to"),
    ("libpcsclite1", "PC/SC client library"),
    ("libpcsclite-dev", "pcsc-sys links against it"),
    (
        "vsmartcard-vpcd",
        "virtual PC/SC readers backed by a TCP card",
    ),
    ("pkg-config", "finds libpcsclite/libudev/libusb"),
    ("libudev-dev", "serialport enumeration"),
    (
        "libusb-1.0-0-dev",
        "rusb (USB printers and magstripe readers)",
    ),
    (
        "libnfc-dev",
        "pos-nfc links the system libnfc (LGPL, dynamically) so libnfc.conf and LIBNFC_DEVICE work",
    ),
    (
        "libnfc-bin",
        "nfc-list: libnfc's own tool, run against the PN532 emulator",
    ),
    ("cmake", "nfc1 builds its vendored libnfc"),
    ("clang", "nfc1 bindgen"),
    ("libclang-dev", "nfc1 bindgen"),
    ("socat", "serial ptys for printer/MSR/PN532 simulators"),
    (
        "fonts-wqy-microhei",
        "CJK font the virtual printer renders receipts with",
    ),
];

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .stderr(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn can_sudo() -> bool {
    Command::new("sudo")
        .args(["-n", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn apt(prefix: &[&str], args: &[&str]) -> Result<(), XtaskError> {
    let mut argv: Vec<&str> = prefix.to_vec();
    argv.push("apt-get");
    argv.extend_from_slice(args);
    let mut cmd = Command::new(argv[0]);
    cmd.args(&argv[1..])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null());
    crate::run::status(&mut cmd)
}

/// Installs whatever is missing; a no-op (no apt at all) when everything is there.
pub fn setup() -> Result<(), XtaskError> {
    let missing: Vec<&str> = PACKAGES
        .iter()
        .map(|(p, _)| *p)
        .filter(|p| !installed(p))
        .collect();
    if missing.is_empty() {
        println!(
            "xtask setup: all {} system packages present",
            PACKAGES.len()
        );
        return Ok(());
    }
    let prefix: &[&str] = if is_root() {
        &[]
    } else if can_sudo() {
        &["sudo", "-n", "env", "DEBIAN_FRONTEND=noninteractive"]
    } else {
        return Err(XtaskError::CannotInstall {
            missing: missing.join(" "),
        });
    };
    println!("xtask setup: installing {}", missing.join(" "));
    apt(prefix, &["update", "-q"])?;
    let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
    args.extend(&missing);
    apt(prefix, &args)?;
    let still: Vec<&str> = missing.into_iter().filter(|p| !installed(p)).collect();
    if !still.is_empty() {
        return Err(XtaskError::CannotInstall {
            missing: still.join(" "),
        });
    }
    Ok(())
}
