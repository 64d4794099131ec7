//! The `iso8583` debugging tool, end to end through stdin/stdout.

use std::io::Write;
use std::process::{Command, Stdio};

const GOLDEN: &str = "003C6000030000603100310000080000200000 00C00012000001313233343536373831323334353637383930313233343500110000000100300003303120";

fn run(args: &[&str], stdin: &str) -> (bool, String, String) {
    run_env(args, stdin, &[])
}

fn run_env(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_iso8583"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    // A tool that refuses its arguments exits without reading stdin: the pipe may be closed
    // before the input is written, which is not a failure of the test.
    match child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.expect("write"),
    }
    let out = child.wait_with_output().expect("output");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn encode_produces_the_golden_sign_in() {
    let json = r#"{"tpdu":"6000030000","header":"603100310000","mti":"0800",
        "fields":{"11":"000001","41":"12345678","42":"123456789012345","60":"00000001003","63":"01 "}}"#;
    let (ok, out, err) = run(&["encode"], json);
    assert!(ok, "{err}");
    assert_eq!(out.trim(), GOLDEN.replace(' ', ""));
}

#[test]
fn decode_masks_card_data_unless_revealed() {
    let json = r#"{"tpdu":"6000030000","header":"603103310000","mti":"0200",
        "fields":{"2":"6212345678901232","3":"000000","4":"000000005000","11":"000002",
                  "35":"6212345678901232=30122200000000000","41":"12345678","42":"123456789012345",
                  "52":"1122334455667788","60":"22000001000"}}"#;
    let (ok, hex, err) = run(&["encode"], json);
    assert!(ok, "{err}");
    let (ok, out, err) = run(&["decode"], &hex);
    assert!(ok, "{err}");
    assert!(out.contains("621234******1232"), "{out}");
    assert!(!out.contains("6212345678901232"), "PAN leaked: {out}");
    assert!(out.contains("<track, 34 chars>"), "{out}");
    assert!(out.contains("<8 bytes>"), "{out}");
    assert!(out.contains("SignInAgain"), "header nibble 3: {out}");
    assert!(out.contains("  4 amount"), "{out}");
    let (ok, out, _) = run(&["decode", "--reveal"], &hex);
    assert!(ok && out.contains("6212345678901232=3012"), "{out}");
}

#[test]
fn mac_prints_and_checks_field_64() {
    let (ok, out, err) = run(&["mac", "--key", "C24A8FB57AA20123"], GOLDEN);
    assert!(ok, "{err}");
    assert!(out.starts_with("MAC ") && out.contains("bit 64"), "{out}");
}

#[test]
fn bad_input_is_reported_not_panicked() {
    let (ok, _, err) = run(&["decode"], "003C60000300");
    assert!(!ok && err.contains("iso8583:"), "{err}");
    let (ok, _, err) = run(&["decode"], "zz");
    assert!(!ok && err.contains("not hex"), "{err}");
    let (ok, _, err) = run(
        &["encode"],
        r#"{"tpdu":"60","header":"603100310000","mti":"0800","fields":{}}"#,
    );
    assert!(!ok && err.contains("tpdu"), "{err}");
    let (ok, _, err) = run(
        &["encode"],
        r#"{"tpdu":"6000030000","header":"603100310000","mti":"0800","fields":{"3":"12"}}"#,
    );
    assert!(!ok && err.contains("field 3"), "{err}");
}

#[test]
fn batch_upload_data_is_masked_and_control_bytes_never_reach_the_terminal() {
    let json = "{\"tpdu\":\"6000030000\",\"header\":\"603100310000\",\"mti\":\"0320\",
        \"fields\":{\"11\":\"000003\",\"41\":\"12345678\",\"42\":\"123456789012345\",
                  \"48\":\"0016212345678901232000000005000\",\"63\":\"01 \"}}";
    let (ok, hex, err) = run(&["encode"], json);
    assert!(ok, "{err}");
    let (ok, out, err) = run(&["decode"], &hex);
    assert!(ok, "{err}");
    assert!(
        !out.contains("6212345678901232"),
        "PAN in field 48 leaked: {out}"
    );
    let (ok, out, _) = run(&["decode", "--reveal"], &hex);
    assert!(ok && out.contains("6212345678901232"), "{out}");
    // Control characters: refused when encoding, refused when decoding, and the messages
    // that say so carry none of them raw.
    let evil = json.replace("\"01 \"", "\"\\u001b[2J\\u0007 \"");
    let (ok, out, err) = run(&["encode"], &evil);
    assert!(!ok, "{out}");
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
    let at = hex.rfind("303120").expect("field 63 value at the end");
    let patched = format!("{}1B0720{}", &hex[..at], &hex[at + 6..]);
    let (ok, out, err) = run(&["decode"], &patched);
    assert!(!ok, "{out}");
    assert!(err.contains("field 63"), "{err}");
    assert!(!(out + &err).contains('\u{1b}'), "raw ESC written");
}

#[test]
fn the_mak_can_come_from_a_file_or_the_environment() {
    let (ok, by_arg, err) = run(&["mac", "--key", "C24A8FB57AA20123"], GOLDEN);
    assert!(ok, "{err}");
    let dir = std::env::temp_dir().join(format!("iso8583-mak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("mak.hex");
    std::fs::write(&file, "C24A8FB57AA20123\n").expect("write");
    let path = file.to_string_lossy().into_owned();
    let (ok, by_file, err) = run(&["mac", "--key-file", &path], GOLDEN);
    assert!(ok, "{err}");
    assert_eq!(by_file, by_arg);
    let (ok, by_env, err) = run_env(&["mac"], GOLDEN, &[("ISO8583_MAK", "C24A8FB57AA20123")]);
    assert!(ok, "{err}");
    assert_eq!(by_env, by_arg);
    let (ok, _, err) = run(&["mac"], GOLDEN);
    assert!(!ok && err.contains("no MAK"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
