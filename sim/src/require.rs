//! The one helper for tests that need a real stack.
//!
//! Such a test is marked `#[ignore = "…"]`, so that a plain `cargo test` (or `cargo nextest
//! run`) reports it as *ignored* — visibly skipped, never passed — and calls one of these
//! first. `cargo xtask test` starts the stack and runs the ignored tests too
//! (`--run-ignored all`): there a missing stack is a failure with a clear message.

use std::path::Path;

/// Panics with `what` and how to get it unless `present`.
pub fn require(present: bool, what: &str, how: &str) {
    assert!(present, "{what} is not available: {how}");
}

/// The pcscd + vpcd stack of `cargo xtask up`.
pub fn require_stack() {
    require(
        crate::slots::stack_available(),
        "pcscd with the vpcd readers",
        "start it with `cargo xtask up`, or run `cargo xtask test`",
    );
}

/// A device node of the QEMU USB rig (`/dev/hidg0`, `/dev/g_printer0`).
pub fn require_usb_rig(node: &str) {
    require(
        Path::new(node).exists(),
        node,
        "this test runs inside the USB rig: `cargo xtask usb-hil test -p <crate>`",
    );
}
