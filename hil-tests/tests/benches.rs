//! The bench runner itself: the simulator bench passes every scenario, a simulator made to
//! misbehave makes the run fail loudly, and a bench without a role skips (never passes) the
//! scenarios that need it.

use std::process::Command;

fn run(bench: &str, out: &std::path::Path, extra: &[&str]) -> (bool, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_pos-hil"))
        .arg("--bench")
        .arg(bench)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .expect("pos-hil runs");
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap_or_default();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        junit,
    )
}

fn out_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("pos-hil-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn the_simulator_bench_passes_the_pos_scenarios_and_a_paper_out_printer_fails_it() {
    // The whole matrix runs in `cargo xtask test` beside the USB rig (`pos-hil --bench
    // hil-tests/benches/sim.toml`); here the POS scenarios and the report.
    pos_sim::require_stack();
    let bench = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/sim.toml");
    let out = out_dir("sim");
    let (ok, stdout, junit) = run(bench, &out, &["--only", "pos/"]);
    assert!(ok, "{stdout}");
    let pos = pos_hil::SCENARIOS
        .iter()
        .filter(|s| s.name.starts_with("pos/"))
        .count();
    assert!(
        junit.contains(&format!("tests=\"{pos}\" failures=\"0\" skipped=\"0\"")),
        "{junit}"
    );
    let html = std::fs::read_to_string(out.join("report.html")).expect("html");
    assert!(html.contains(&format!("{pos} passed")), "{html}");
    assert!(
        html.contains("<img src="),
        "receipt images in the report: {html}"
    );
    let out = out_dir("paper-out");
    let (ok, stdout, junit) = run(
        bench,
        &out,
        &["--fault", "printer-paper-out", "--only", "printer/"],
    );
    assert!(!ok, "a printer out of paper must fail the run: {stdout}");
    assert!(
        junit.contains("name=\"printer/both-slips\"") && junit.contains("<failure"),
        "{junit}"
    );
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn a_host_that_keeps_the_money_of_a_reversal_fails_the_matrix_books() {
    let dir = out_dir("forgets");
    std::fs::create_dir_all(&dir).expect("dir");
    let bench = dir.join("bench.toml");
    std::fs::write(
        &bench,
        "name = \"host-and-printer\"\n[roles]\nprinter = \"sim\"\nhost = \"sim\"\n",
    )
    .expect("bench");
    let bench = bench.to_str().expect("utf-8");
    let only = ["--only", "matrix/sale/swipe/host-wrong-mac"];
    // The case passes on an honest host…
    let (ok, stdout, _) = run(bench, &dir.join("honest"), &only);
    assert!(ok, "{stdout}");
    // …and fails, naming the difference, on one that acknowledges the reversal but keeps it.
    let mut args = only.to_vec();
    args.extend(["--fault", "host-forgets-reversals"]);
    let (ok, stdout, junit) = run(bench, &dir.join("forgets"), &args);
    assert!(!ok, "{stdout}");
    assert!(
        junit.contains("the books differ") && junit.contains("<failure"),
        "{junit}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_bench_without_a_role_skips_its_scenarios_with_the_reason() {
    let dir = out_dir("printer-only");
    std::fs::create_dir_all(&dir).expect("dir");
    let bench = dir.join("bench.toml");
    std::fs::write(
        &bench,
        "name = \"printer-only\"\n[roles]\nprinter = \"sim\"\n",
    )
    .expect("bench");
    let (ok, stdout, junit) = run(bench.to_str().expect("utf-8"), &dir.join("out"), &[]);
    assert!(ok, "{stdout}");
    // Two printer scenarios run; the other scenarios and every matrix case need a host or
    // a card reader.
    let all = pos_hil::SCENARIOS.len() + pos_hil::matrix::cases().len();
    assert!(
        junit.contains(&format!(
            "tests=\"{all}\" failures=\"0\" skipped=\"{}\"",
            all - 2
        )),
        "{junit}"
    );
    assert!(
        junit.contains("<skipped message=\"Contact: not on this bench\"/>"),
        "{junit}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_bad_bench_file_is_a_clear_error() {
    let dir = out_dir("bad");
    std::fs::create_dir_all(&dir).expect("dir");
    let bench = dir.join("bench.toml");
    std::fs::write(&bench, "name = 1\n").expect("bench");
    let o = Command::new(env!("CARGO_BIN_EXE_pos-hil"))
        .arg("--bench")
        .arg(&bench)
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("invalid bench file"));
    let _ = std::fs::remove_dir_all(dir);
}
