//! `cargo xtask test` and `cargo xtask demo`.

use std::process::Command;

use pos_sim_stack as daemons;

use crate::{XtaskError, packages};

/// Runs a command, inheriting stdio; error unless it exits 0.
pub fn status(cmd: &mut Command) -> Result<(), XtaskError> {
    let line = format!("{cmd:?}");
    let status = cmd.status().map_err(|source| XtaskError::Spawn {
        command: line.clone(),
        source,
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(XtaskError::Failed {
            command: line,
            status,
        })
    }
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(crate::workspace_root());
    cmd
}

/// Runs `body` with the daemons up and always brings them down again.
fn with_daemons(body: impl FnOnce() -> Result<(), XtaskError>) -> Result<(), XtaskError> {
    let was_running = daemons::our_pcscd().is_some();
    daemons::up()?;
    let result = body();
    if !was_running {
        daemons::down()?;
    }
    result
}

/// setup + up + nextest + doctests + down.
pub fn test(extra: &[String]) -> Result<(), XtaskError> {
    packages::setup()?;
    with_daemons(|| {
        // Tests that need the real stack are #[ignore]d (a plain `cargo test` reports them as
        // skipped); here the stack is up, so they run too. The USB rig tests run in the guest.
        let has_nextest = cargo()
            .args(["nextest", "--version"])
            .output()
            .is_ok_and(|o| o.status.success());
        let mut tests = cargo();
        if has_nextest {
            tests.args([
                "nextest",
                "run",
                "--workspace",
                "--no-fail-fast",
                "--run-ignored",
                "all",
                "-E",
                "not binary(usb_rig)",
            ]);
            tests.args(extra);
        } else {
            println!("xtask test: cargo-nextest not found, using cargo test (one test at a time)");
            tests.args([
                "test",
                "--workspace",
                "--lib",
                "--bins",
                "--tests",
                "--no-fail-fast",
            ]);
            tests.args(extra);
            // USB rig tests are all named rig_*: they run in the guest below.
            tests.args([
                "--",
                "--include-ignored",
                "--skip",
                "rig_",
                "--test-threads=1",
            ]);
        }
        let unit = status(&mut tests);
        // pos-nfc's hermetic build: libnfc compiled from source and linked statically, run
        // against the same emulator as the system-libnfc build above.
        let vendored = if has_nextest {
            status(cargo().args([
                "nextest",
                "run",
                "-p",
                "pos-nfc",
                "--features",
                "vendored",
                "--run-ignored",
                "all",
            ]))
        } else {
            status(cargo().args(["test", "-p", "pos-nfc", "--features", "vendored", "--tests"]))
        };
        let unit = unit.and(vendored);
        // The bench runner's whole simulator matrix, beside the USB rig (they share no
        // device; one runs on pcscd and the simulators, the other in a QEMU guest).
        let bench = start_sim_bench();
        // The USB rig: printer transport (pos-escpos) and the magstripe gadgets (pos-sim).
        let rig = usb_hil_test("pos-escpos");
        let rig = rig.and(usb_hil_test("pos-sim"));
        let rig = rig.and(usb_hil_test("pos-examples"));
        let rig = rig.and(finish_sim_bench(bench));
        let mut doc = cargo();
        doc.args(["test", "--workspace", "--doc", "--quiet"]);
        let docs = status(&mut doc);
        unit.and(rig).and(docs)
    })
}

/// The simulator bench's report directory under `target/`.
fn sim_bench_out() -> std::path::PathBuf {
    crate::workspace_root()
        .join("target")
        .join("hil")
        .join("simulators")
}

/// Builds and starts `pos-hil` on `hil-tests/benches/sim.toml` in the background, its output
/// to `target/hil/simulators.log`.
fn start_sim_bench() -> Result<std::process::Child, XtaskError> {
    status(cargo().args([
        "build",
        "--quiet",
        "-p",
        "pos-hil",
        "--bin",
        "pos-hil",
        "-p",
        "pos-examples",
        "--bin",
        "pos",
    ]))?;
    let root = crate::workspace_root();
    let log = root.join("target").join("hil").join("simulators.log");
    let _ = std::fs::create_dir_all(log.parent().unwrap_or(&root));
    let file = std::fs::File::create(&log).map_err(|source| XtaskError::Spawn {
        command: format!("create {}", log.display()),
        source,
    })?;
    let err = file.try_clone().map_err(|source| XtaskError::Spawn {
        command: "log".into(),
        source,
    })?;
    println!(
        "\n== bench runner: the simulator matrix in the background (log: {}) ==",
        log.display()
    );
    Command::new(root.join("target").join("debug").join("pos-hil"))
        .current_dir(&root)
        .args(["--bench", "hil-tests/benches/sim.toml", "--out"])
        .arg(sim_bench_out())
        .stdout(file)
        .stderr(err)
        .spawn()
        .map_err(|source| XtaskError::Spawn {
            command: "pos-hil".into(),
            source,
        })
}

/// Waits for the background bench; prints its summary (its failures in full).
fn finish_sim_bench(bench: Result<std::process::Child, XtaskError>) -> Result<(), XtaskError> {
    let mut child = bench?;
    let started = std::time::Instant::now();
    let done = child.wait().map_err(|source| XtaskError::Spawn {
        command: "pos-hil".into(),
        source,
    })?;
    let log = crate::workspace_root()
        .join("target")
        .join("hil")
        .join("simulators.log");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    println!("\n== bench runner: the simulator matrix ==");
    for line in text.lines() {
        if line.contains("FAILED") || line.starts_with("        ") || line.contains("scenarios:") {
            println!("{line}");
        }
    }
    println!(
        "bench runner: waited {:.1} s after the USB rig; reports in {}",
        started.elapsed().as_secs_f64(),
        sim_bench_out().display()
    );
    if done.success() {
        Ok(())
    } else {
        Err(XtaskError::Failed {
            command: "pos-hil --bench hil-tests/benches/sim.toml".into(),
            status: done,
        })
    }
}

fn hil_dir() -> std::path::PathBuf {
    crate::workspace_root().join("hil-tests").join("usb")
}

/// Boots the USB rig with a job that shows what the guest sees.
pub fn usb_hil_run() -> Result<(), XtaskError> {
    let job = crate::workspace_root()
        .join("target")
        .join("hil-default-job.sh");
    std::fs::write(
        &job,
        "#!/bin/sh\nlsusb\nls -l /dev/usb /dev/g_printer* /dev/hidg* 2>/dev/null\n\
         for d in /sys/bus/usb/devices/*:*; do echo \"$d -> $(basename \"$(readlink $d/driver)\")\"; done\n",
    )
    .map_err(|source| XtaskError::Spawn { command: "write job".into(), source })?;
    status(
        Command::new(hil_dir().join("hil.sh"))
            .arg("--job")
            .arg(&job),
    )
}

/// Binaries copied into the guest beside the test binary: the printer gadget's device side
/// (every package: the gadget is always plugged) and the programs a package's rig tests run.
fn rig_binaries(package: &str) -> Vec<(&'static str, &'static str)> {
    let mut bins = vec![("pos-sim", "sim-printer")];
    if package == "pos-examples" {
        bins.push(("pos-examples", "swipe"));
    }
    bins
}

/// Runs `cargo test -p PACKAGE --test usb_rig` with every test binary inside a fresh guest.
pub fn usb_hil_test(package: &str) -> Result<(), XtaskError> {
    println!("\n== USB rig: {package} tests in a QEMU guest (dummy_hcd + configfs gadgets) ==");
    let mut helpers = Vec::new();
    for (crate_name, bin) in rig_binaries(package) {
        status(cargo().args(["build", "--quiet", "-p", crate_name, "--bin", bin]))?;
        let path = crate::workspace_root()
            .join("target")
            .join("debug")
            .join(bin);
        helpers.push(path.display().to_string());
    }
    let helper = helpers.join(" ");
    let started = std::time::Instant::now();
    let result = status(
        cargo()
            .args([
                "test",
                "-p",
                package,
                "--test",
                "usb_rig",
                "--",
                "--include-ignored",
            ])
            .env(
                "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER",
                hil_dir().join("runner.sh"),
            )
            .env("HIL_HELPERS", helper)
            .env("HIL_TIMEOUT", "180"),
    );
    println!("USB rig: {:.1} s", started.elapsed().as_secs_f64());
    result
}

/// The cargo-fuzz targets: every `[[bin]]` of `fuzz/Cargo.toml`, so a new target is run
/// without being listed twice.
fn fuzz_targets() -> Result<Vec<String>, XtaskError> {
    let manifest = crate::workspace_root().join("fuzz").join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).map_err(|source| XtaskError::Spawn {
        command: format!("read {}", manifest.display()),
        source,
    })?;
    Ok(bin_names(&text))
}

/// The `name`s of the `[[bin]]` tables of a Cargo manifest.
fn bin_names(manifest: &str) -> Vec<String> {
    let mut in_bin = false;
    let mut names = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if in_bin
            && let Some(value) = line.strip_prefix("name").map(str::trim_start)
            && let Some(value) = value.strip_prefix('=')
        {
            names.push(value.trim().trim_matches('"').to_string());
        }
    }
    names
}

/// Runs one or all fuzz targets for `seconds` each, starting from the seed corpus kept in
/// `fuzz/seeds/<target>` (new finds go to the ignored `fuzz/corpus/<target>`). With
/// `if_nightly`, a machine without a nightly toolchain skips with a message instead of failing.
pub fn fuzz(target: &str, seconds: u64, if_nightly: bool) -> Result<(), XtaskError> {
    let has_nightly = Command::new("cargo")
        .args(["+nightly", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_nightly && if_nightly {
        println!(
            "xtask fuzz: SKIPPED: no nightly toolchain here (rustup toolchain install nightly)"
        );
        return Ok(());
    }
    let has_cargo_fuzz = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_cargo_fuzz {
        let mut install = Command::new("cargo");
        install.args(["install", "cargo-fuzz", "--locked"]);
        status(&mut install)?;
    }
    let targets: Vec<String> = if target == "all" {
        fuzz_targets()?
    } else {
        vec![target.to_string()]
    };
    let fuzz_dir = crate::workspace_root().join("fuzz");
    if targets.len() > 1 {
        // One build of every target (cargo links them in parallel); each run below then finds
        // its binary up to date instead of compiling it alone.
        let mut build = Command::new("cargo");
        build
            .current_dir(&fuzz_dir)
            .args(["+nightly", "fuzz", "build"]);
        status(&mut build)?;
    }
    for t in targets {
        println!("== fuzz {t} for {seconds} s ==");
        let corpus = fuzz_dir.join("corpus").join(&t);
        let seeds = fuzz_dir.join("seeds").join(&t);
        std::fs::create_dir_all(&corpus).map_err(|source| XtaskError::Spawn {
            command: format!("mkdir {}", corpus.display()),
            source,
        })?;
        let mut run = Command::new("cargo");
        run.current_dir(&fuzz_dir)
            .args(["+nightly", "fuzz", "run", &t])
            .arg(&corpus)
            .arg(&seeds)
            .args(["--", &format!("-max_total_time={seconds}")]);
        status(&mut run)?;
    }
    Ok(())
}

/// setup + up + cargo bench + down.
pub fn bench(extra: &[String]) -> Result<(), XtaskError> {
    packages::setup()?;
    with_daemons(|| {
        let mut bench = cargo();
        bench.arg("bench");
        if extra.is_empty() {
            bench.arg("--workspace");
        }
        bench.args(extra);
        status(&mut bench)
    })
}

/// setup + up + the examples against a simulated card + down.
pub fn demo() -> Result<(), XtaskError> {
    packages::setup()?;
    let mut build = cargo();
    build.args([
        "build",
        "--quiet",
        "-p",
        "pos-examples",
        "-p",
        "pos-sim",
        "--bins",
    ]);
    status(&mut build)?;
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        return with_daemons(|| {
            let bin = crate::workspace_root().join("target").join("debug");
            demo_tui(
                &bin,
                &crate::workspace_root().join("target").join("demo-pos"),
            )
        });
    }
    println!(
        "xtask demo: not on a terminal, so the POS runs its scripts instead of its screen \
         (run `cargo xtask demo` in a terminal to use the POS yourself)"
    );
    with_daemons(|| {
        let bin = crate::workspace_root().join("target").join("debug");
        println!("\n== devices (no card yet) ==");
        status(&mut Command::new(bin.join("devices")))?;
        let profile = crate::workspace_root()
            .join("sim")
            .join("profiles")
            .join("unionpay-debit.toml");
        let mut card = Command::new(bin.join("sim-card"));
        card.arg("--port")
            .arg(daemons::VPCD_PORT.to_string())
            .arg("--profile")
            .arg(&profile);
        let mut card = card.spawn().map_err(|source| XtaskError::Spawn {
            command: "sim-card".into(),
            source,
        })?;
        println!(
            "\n== read-card (UnionPay debit card inserted into '{}') ==",
            daemons::READERS[0]
        );
        let read = status(Command::new(bin.join("read-card")).args([
            "--reader",
            daemons::READERS[0],
            "--timeout",
            "5",
        ]));
        println!("\n== devices (card present) ==");
        let list = status(&mut Command::new(bin.join("devices")));
        let out = crate::workspace_root().join("target").join("demo-pos");
        let pos = demo_pos(&bin, &out);
        let _ = card.kill();
        let _ = card.wait();

        let out = crate::workspace_root().join("target").join("demo-receipts");
        let print = demo_print(&bin, &out);
        read.and(list).and(pos).and(print)
    })
}

/// A simulator started as its own process (xtask itself links nothing but std and clap), with
/// the lines it prints.
struct SimProcess {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    endpoint: String,
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `command`, reads its output (stdout or stderr) until a line starting with `ready`
/// names the endpoint (the first word after it).
fn start_sim(
    mut command: Command,
    name: &str,
    from_stderr: bool,
    ready: &'static str,
) -> Result<SimProcess, XtaskError> {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;
    use std::time::Duration;

    let spawn_err = |source| XtaskError::Spawn {
        command: name.into(),
        source,
    };
    command.stdin(Stdio::piped());
    if from_stderr {
        command.stderr(Stdio::piped());
    } else {
        command.stdout(Stdio::piped());
    }
    let mut child = command.spawn().map_err(spawn_err)?;
    let out: Option<Box<dyn Read + Send>> = if from_stderr {
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>)
    } else {
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>)
    };
    let Some(out) = out else {
        let _ = child.kill();
        return Err(spawn_err(std::io::Error::other("no output")));
    };
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let endpoint = rx.recv_timeout(Duration::from_secs(10)).ok().and_then(|l| {
        l.strip_prefix(ready)
            .and_then(|r| r.split_whitespace().next())
            .map(str::to_string)
    });
    match endpoint {
        Some(endpoint) => Ok(SimProcess {
            child,
            lines: rx,
            endpoint,
        }),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            Err(spawn_err(std::io::Error::other(format!(
                "{name} did not start"
            ))))
        }
    }
}

fn start_printer(bin: &std::path::Path, out: &std::path::Path) -> Result<SimProcess, XtaskError> {
    let mut command = Command::new(bin.join("sim-printer"));
    command.args(["--tcp", "0", "--out"]).arg(out);
    start_sim(command, "sim-printer", false, "sim-printer: ready on ")
}

/// Setup, up, `pos-hil --bench FILE`, down.
pub fn hil(bench: &std::path::Path) -> Result<(), XtaskError> {
    packages::setup()?;
    let bench = if bench.is_absolute() {
        bench.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(bench))
            .unwrap_or_else(|_| bench.to_path_buf())
    };
    with_daemons(|| {
        let mut run = cargo();
        run.current_dir(crate::workspace_root())
            .args(["run", "--quiet", "-p", "pos-hil", "--", "--bench"])
            .arg(&bench);
        status(&mut run)
    })
}

/// The POS on screen: host-sim, the virtual printer (receipts saved as PNG), a UnionPay
/// debit card in the first virtual contact reader and another on the emulated PN532, all
/// started here and stopped when the POS closes.
fn demo_tui(bin: &std::path::Path, out: &std::path::Path) -> Result<(), XtaskError> {
    let _ = std::fs::create_dir_all(out);
    let ledger = out.join("host-sim.sqlite");
    let journal = out.join("pos-journal.sqlite");
    for f in [&ledger, &journal] {
        let _ = std::fs::remove_file(f);
    }
    let mut host = Command::new(bin.join("host-sim"));
    // Simulated customers pay the POS's QR orders after a few seconds.
    host.args(["--port", "0", "--customer-pays-after", "4", "--db"])
        .arg(&ledger);
    let host = start_sim(host, "host-sim", true, "host-sim: listening on ")?;
    let printer = start_printer(bin, out)?;
    let mut card = Command::new(bin.join("sim-card"));
    card.args([
        "--port",
        &daemons::VPCD_PORT.to_string(),
        "--profile",
        "unionpay-debit",
    ]);
    // Ready once it says the card is in the reader.
    let card = start_sim(card, "sim-card", true, "sim-card: ")?;
    let pn532 = start_sim(
        Command::new(bin.join("sim-pn532")),
        "sim-pn532",
        false,
        "sim-pn532: ready on ",
    )?;
    // The magstripe reader and the scanner the swipe and scan keys drive, on ptys.
    let serial = start_sim(
        Command::new(bin.join("sim-devices")),
        "sim-devices",
        false,
        "sim-devices: ready on ",
    )?;
    // msr=PATH,scanner=PATH,control=HOST:PORT
    let part = |key: &str| {
        serial
            .endpoint
            .split(',')
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
            .unwrap_or_default()
            .to_string()
    };
    let (msr, scanner, control) = (part("msr"), part("scanner"), part("control"));
    let log = out.join("pos-tui.log");
    let result = status(
        Command::new(bin.join("pos-tui"))
            .args(["--magstripe", &format!("msr:serial:{msr}")])
            .args(["--scanner", &format!("scanner:serial:{scanner}")])
            .args(["--sim-control", &control])
            .args(["--host", &host.endpoint])
            .args(["--printer", &format!("escpos:tcp:{}", printer.endpoint)])
            .args(["--reader", &format!("pcsc:{}", daemons::READERS[0])])
            .args(["--contactless-reader", &format!("pn532:{}", pn532.endpoint)])
            .arg("--journal")
            .arg(&journal)
            .arg("--log")
            .arg(&log)
            .arg("--receipt-images")
            .arg(out),
    );
    drop(card);
    println!("receipts (PNG) and the POS log are in {}", out.display());
    while let Ok(line) = printer
        .lines
        .recv_timeout(std::time::Duration::from_millis(300))
    {
        if line.contains(".png") {
            println!("{line}");
        }
    }
    result
}

/// The POS itself, headless: a chip sale with online PIN by `examples/scripts/sale-chip.txt`
/// against host-sim, the virtual printer and the card in the first virtual reader.
fn demo_pos(bin: &std::path::Path, out: &std::path::Path) -> Result<(), XtaskError> {
    let _ = std::fs::create_dir_all(out);
    let ledger = out.join("host-sim.sqlite");
    let journal = out.join("pos-journal.sqlite");
    for f in [&ledger, &journal] {
        let _ = std::fs::remove_file(f);
    }
    let mut host = Command::new(bin.join("host-sim"));
    host.args(["--port", "0", "--db"]).arg(&ledger);
    let host = start_sim(host, "host-sim", true, "host-sim: listening on ")?;
    let printer = start_printer(bin, out)?;
    let script = crate::workspace_root()
        .join("examples")
        .join("scripts")
        .join("sale-chip.txt");
    println!(
        "\n== pos: a chip sale, host-sim on {}, printer on {} ==",
        host.endpoint, printer.endpoint
    );
    let result = status(
        Command::new(bin.join("pos"))
            .args(["--host", &host.endpoint])
            .args(["--printer", &format!("escpos:tcp:{}", printer.endpoint)])
            .args(["--reader", &format!("pcsc:{}", daemons::READERS[0])])
            .arg("--journal")
            .arg(&journal)
            .arg("--script")
            .arg(&script),
    );
    while let Ok(line) = printer
        .lines
        .recv_timeout(std::time::Duration::from_millis(300))
    {
        if line.starts_with("--- job") || line.contains(".png") {
            println!("{line}");
        }
    }
    result
}

/// Starts `sim-printer` on a free port, prints both slips to it with `print-receipt`, shows
/// the transcripts and PNG paths it reports, and stops it.
fn demo_print(bin: &std::path::Path, out: &std::path::Path) -> Result<(), XtaskError> {
    use std::time::{Duration, Instant};

    let printer = start_printer(bin, out)?;
    let (rx, endpoint) = (&printer.lines, printer.endpoint.clone());
    println!("\n== print-receipt (virtual 58 mm printer on {endpoint}) ==");
    let print = status(
        Command::new(bin.join("print-receipt"))
            .args(["--printer", &format!("escpos:tcp:{endpoint}")]),
    );
    // Show what the printer reports until both slips are there (or a short grace period).
    let until = Instant::now() + Duration::from_secs(10);
    let mut jobs = 0;
    while jobs < 2 && Instant::now() < until {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                if line.starts_with("--- job") {
                    jobs += 1;
                }
                println!("{line}");
            }
            Err(_) if print.is_err() => break,
            Err(_) => {}
        }
    }
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(300)) {
        println!("{line}");
    }
    print
}

#[cfg(test)]
mod tests {
    #[test]
    fn fuzz_targets_are_the_bin_tables_of_the_manifest() {
        let manifest = r#"
[package]
name = "pos-fuzz"

[dependencies]
libfuzzer-sys = "0.4"

[[bin]]
name = "atr"
path = "fuzz_targets/atr.rs"

[[bin]]
test = false
name  =  "pn532_emulator"
"#;
        assert_eq!(super::bin_names(manifest), ["atr", "pn532_emulator"]);
    }
}
