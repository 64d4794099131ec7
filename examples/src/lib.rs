//! Shared code of the example programs.
//!
//! * [`card_info`]: what `read-card` does, generic over any [`pos_hal::IccReader`]: find the
//!   payment applications (PSE, then PPSE), select the first, run GET PROCESSING OPTIONS and
//!   read the records its AFL names until the PAN turns up.

#![warn(missing_docs)]

pub mod card_info;
pub mod device_file;
pub mod headless;
pub mod soft_pinpad;
pub mod terminal_args;
pub mod tui;

/// Installs the `tracing` subscriber every example binary uses: logs go to stderr, filtered by
/// `RUST_LOG` (default `warn`), so driver logs are visible without a code change.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
