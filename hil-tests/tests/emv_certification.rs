//! The EMV scenario suite (`pos_hil::emv_cases`), each case over each transport it can run
//! on: in process, through pcscd and vpcd (contact reader slot 0, contactless reader slot 1),
//! and — contactless cases — through the PN532 emulator on a pty with the pos-pn532 driver.
//! A test is named after its case: `pcscd::emv_cvm_003` is case EMV.CVM.003 through pcscd.

use std::time::Duration;

use pos_hal::{CancelToken, IccReader, PiccReader, PollOutcome, TargetTypes};
use pos_hil::emv_cases::{EmvCase, Erased, Interface};
use pos_sim::card::InHand;
use pos_sim::emv::EmvCard;
use pos_sim::vpcd::Faults;
use pos_sim::{require_stack, slots};

fn case(id: &str) -> &'static EmvCase {
    EmvCase::find(id).unwrap_or_else(|| panic!("no case {id}"))
}

fn verdict(case: &EmvCase, result: Result<(), String>) {
    if let Err(e) = result {
        panic!("{} ({}): {e}", case.id, case.checks);
    }
}

fn in_process(id: &str) {
    let case = case(id);
    let mut card = InHand::new(EmvCard::new((case.card)()));
    verdict(case, (case.run)(&mut Erased(&mut card)));
}

fn through_pcscd(id: &str) {
    require_stack();
    let case = case(id);
    let slot = match case.interface {
        Interface::Contact => 0,
        Interface::Contactless => 1,
    };
    let inserted =
        slots::insert(slot, EmvCard::new((case.card)()), Faults::default()).expect("insert");
    let result = match case.interface {
        Interface::Contact => pos_devices::open_icc("pcsc:Virtual PCD 00 00")
            .map_err(|e| e.to_string())
            .and_then(|mut reader| {
                reader.power_on().map_err(|e| e.to_string())?;
                (case.run)(&mut Erased(reader.as_mut()))
            }),
        Interface::Contactless => pos_devices::open_picc("pcsc:Virtual PCD 00 01")
            .map_err(|e| e.to_string())
            .and_then(|mut reader| {
                activate(reader.as_mut())?;
                (case.run)(&mut Erased(reader.as_mut()))
            }),
    };
    slots::remove(inserted, slot).expect("remove");
    verdict(case, result);
}

fn through_pn532(id: &str) {
    let case = case(id);
    assert_eq!(case.interface, Interface::Contactless);
    let pn532 = pos_sim::pn532::Pn532Emulator::start().expect("PN532 emulator");
    pn532.insert(pos_sim::pn532::Presented::iso_dep_a(
        EmvCard::new((case.card)()),
        &[0x04, 0xA1, 0xB2, 0xC3],
    ));
    let result = pos_devices::open_picc(&format!("pn532:{}", pn532.path()))
        .map_err(|e| e.to_string())
        .and_then(|mut reader| {
            activate(reader.as_mut())?;
            (case.run)(&mut Erased(reader.as_mut()))
        });
    verdict(case, result);
}

fn activate<R: PiccReader + ?Sized>(reader: &mut R) -> Result<(), String> {
    match reader.poll(TargetTypes::AB, Duration::from_secs(5), &CancelToken::new()) {
        Ok(PollOutcome::Card(_)) => Ok(()),
        Ok(other) => Err(format!("no card activated: {other:?}")),
        Err(e) => Err(format!("poll: {:?}", pos_hal::Error::kind(&e))),
    }
}

/// One test per case and transport.
macro_rules! cases {
    (contact: $($name:ident = $id:literal),* ; contactless: $($cl_name:ident = $cl_id:literal),* $(,)?) => {
        mod in_process {
            $( #[test] fn $name() { super::in_process($id) } )*
            $( #[test] fn $cl_name() { super::in_process($cl_id) } )*
        }
        mod pcscd {
            $(
                #[test]
                #[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
                fn $name() { super::through_pcscd($id) }
            )*
            $(
                #[test]
                #[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
                fn $cl_name() { super::through_pcscd($cl_id) }
            )*
        }
        mod pn532 {
            $( #[test] fn $cl_name() { super::through_pn532($cl_id) } )*
        }

        /// The suite here is the whole of `CASES`: a case added there without a test here
        /// fails this.
        #[test]
        fn every_case_has_its_tests() {
            let here = [$($id,)* $($cl_id,)*];
            for case in pos_hil::emv_cases::CASES {
                assert!(here.contains(&case.id), "{} has no test", case.id);
            }
            assert_eq!(here.len(), pos_hil::emv_cases::CASES.len());
        }
    };
}

cases! {
    contact:
        emv_sel_001 = "EMV.SEL.001",
        emv_sel_002 = "EMV.SEL.002",
        emv_sel_003 = "EMV.SEL.003",
        emv_oda_001 = "EMV.ODA.001",
        emv_oda_002 = "EMV.ODA.002",
        emv_oda_003 = "EMV.ODA.003",
        emv_oda_004 = "EMV.ODA.004",
        emv_oda_005 = "EMV.ODA.005",
        emv_cvm_001 = "EMV.CVM.001",
        emv_cvm_002 = "EMV.CVM.002",
        emv_cvm_003 = "EMV.CVM.003",
        emv_cvm_004 = "EMV.CVM.004",
        emv_cvm_005 = "EMV.CVM.005",
        emv_cvm_006 = "EMV.CVM.006",
        emv_taa_001 = "EMV.TAA.001",
        emv_taa_002 = "EMV.TAA.002",
        emv_taa_003 = "EMV.TAA.003",
        emv_taa_004 = "EMV.TAA.004",
        emv_taa_005 = "EMV.TAA.005",
        emv_iss_001 = "EMV.ISS.001",
        emv_scr_001 = "EMV.SCR.001",
        emv_scr_002 = "EMV.SCR.002";
    contactless:
        emv_qp_001 = "EMV.QP.001",
        emv_qp_002 = "EMV.QP.002",
        emv_qp_003 = "EMV.QP.003",
        emv_qp_004 = "EMV.QP.004",
        emv_qp_005 = "EMV.QP.005",
        emv_qp_006 = "EMV.QP.006",
}
