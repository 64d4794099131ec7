//! The bench runner: a matrix of scenarios run against whatever plays each role on a bench —
//! the simulators (started and stopped here, pcscd/vpcd included) or real devices named by
//! pos-devices selectors — reported as JUnit XML and an HTML summary.
//!
//! A scenario a bench cannot run (a role absent, a fault only a simulator can make, a PIN
//! only the simulated card knows) is *skipped with its reason*, never passed.

pub mod bench;
pub mod emv_cases;
pub mod matrix;
mod report;
mod rig;
mod scenarios;

pub use bench::{Bench, BenchError, Role};
pub use report::{Outcome, Report, ScenarioResult};
pub use rig::{Fault, Rig, RigError};
pub use scenarios::{SCENARIOS, Scenario, run_all};
