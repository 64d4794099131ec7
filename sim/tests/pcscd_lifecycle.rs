//! `cargo xtask up`'s pcscd handling: after `kill -9` the socket and PID files stay behind; the
//! next `up` must clean them and start a working pcscd. Runs only with the stack up (it is in
//! the serialised `pcscd` test group, see .config/nextest.toml).

use std::path::Path;
use std::time::{Duration, Instant};

use pos_sim::{pcscd, slots};

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn up_recovers_from_a_killed_pcscd() {
    pos_sim::require_stack();
    let pid = pcscd::our_pcscd().expect("xtask's pcscd runs");
    let killed = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let start = Instant::now();
    while pcscd::our_pcscd().is_some() && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        pcscd::our_pcscd().is_none(),
        "pcscd {pid} is gone (a zombie counts as gone)"
    );
    assert!(
        Path::new("/run/pcscd/pcscd.comm").exists(),
        "kill -9 leaves the socket behind"
    );
    assert!(
        !slots::stack_available(),
        "nobody answers on the stale socket"
    );

    let new_pid = pcscd::up().expect("up cleans the stale files and starts pcscd");
    assert_ne!(new_pid, pid);
    assert!(slots::stack_available(), "both vpcd readers are back");
    // Idempotent: a second `up` finds it running.
    assert_eq!(pcscd::up().expect("second up"), new_pid);
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn a_pcscd_that_never_becomes_ready_is_not_left_running() {
    pos_sim::require_stack();
    pcscd::down().expect("stop the shared pcscd");
    let err = pcscd::up_within(Duration::ZERO).expect_err("no time to become ready");
    assert!(matches!(err, pcscd::PcscdError::NotReady { .. }), "{err}");
    assert_eq!(
        pcscd::our_pcscd(),
        None,
        "the half-started pcscd was stopped"
    );
    pcscd::up().expect("the shared pcscd comes back for the other tests");
    assert!(slots::stack_available());
}
