//! `sim-devices`: its banner names two ptys and a control port; `swipe` and `scan` lines
//! make the magstripe reader and the scanner send, read back through the real drivers.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use pos_hal::{CancelToken, CodeScanner, MagstripeReader};

#[test]
fn control_lines_swipe_and_scan_on_the_ptys_the_banner_names() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sim-devices"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("sim-devices runs");
    let mut banner = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut banner)
        .expect("banner");
    let parts: Vec<&str> = banner
        .trim()
        .strip_prefix("sim-devices: ready on ")
        .expect("banner")
        .split(',')
        .filter_map(|kv| kv.split_once('=').map(|(_, v)| v))
        .collect();
    let [msr, scanner, control] = parts[..] else {
        panic!("banner {banner:?}");
    };
    let mut reader = pos_msr::open_serial(msr, 9600).expect("msr opens");
    let mut scan = pos_scanner::open_serial(scanner, 9600).expect("scanner opens");
    let send = |line: &'static str| {
        let control = control.to_string();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            let mut s = std::net::TcpStream::connect(control).expect("control port");
            writeln!(s, "{line}").expect("send");
            let mut answer = String::new();
            BufReader::new(s).read_line(&mut answer).expect("answer");
            answer
        })
    };
    let t = send("swipe chip-card");
    let swipe = reader
        .read_swipe(Duration::from_secs(5), &CancelToken::new())
        .expect("swipe");
    assert_eq!(t.join().expect("thread").trim(), "ok");
    assert!(
        swipe
            .tracks()
            .service_code()
            .expect("service code")
            .is_chip_card()
    );
    let t = send("scan 6225880123456789012");
    let code = scan
        .read_code(Duration::from_secs(5), &CancelToken::new())
        .expect("code");
    assert_eq!(t.join().expect("thread").trim(), "ok");
    assert_eq!(code.as_str(), "6225880123456789012");
    let t = send("swipe no-such-card");
    assert!(t.join().expect("thread").starts_with("error:"));
    let _ = child.kill();
    let _ = child.wait();
}
