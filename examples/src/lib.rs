//! Shared code of the example programs.
//!
//! * [`card_info`]: what `read-card` does, generic over any [`pos_hal::IccReader`]: find the
//!   payment applications (PSE, then PPSE), select the first, run GET PROCESSING OPTIONS and
//!   read the records its AFL names until the PAN turns up.

#![warn(missing_docs)]

pub mod card_info;
