//! Every device trait must be usable as a trait object with a fixed error type, because
//! integrators and the HIL runner pick drivers at run time (`Box<dyn IccReader<Error = …>>`).

use std::time::Duration;

use pos_hal::indicators::BeepKind;
use pos_hal::*;
use pos_hal_mock::*;

type E = MockError;

/// One of every device, each as a trait object: a terminal assembled at run time.
struct Terminal {
    icc: Box<dyn IccReader<Error = E>>,
    picc: Box<dyn PiccReader<Error = E>>,
    msr: Box<dyn MagstripeReader<Error = E>>,
    printer: Box<dyn ReceiptPrinter<Error = E>>,
    pinpad: Box<dyn PinPad<Error = E>>,
    display: Box<dyn Display<Error = E>>,
    keypad: Box<dyn Keypad<Error = E>>,
    indicators: Box<dyn Indicators<Error = E>>,
    clock: Box<dyn Clock<Error = core::convert::Infallible>>,
    entry: Box<dyn CardEntry<Error = E>>,
}

fn boxed_devices() -> Terminal {
    let now = DateTime::new(2026, 11, 23, 12, 0, 0).expect("valid");
    Terminal {
        icc: Box::new(MockIccReader::new([])),
        picc: Box::new(MockPiccReader::new([])),
        msr: Box::new(MockMagstripeReader::new([])),
        printer: Box::new(MockPrinter::new([])),
        pinpad: Box::new(MockPinPad::new([])),
        display: Box::new(MockDisplay::default()),
        keypad: Box::new(MockKeypad::new([])),
        indicators: Box::new(MockIndicators::default()),
        clock: Box::new(MockClock::new(now)),
        entry: Box::new(MockCardEntry::new([])),
    }
}

#[test]
fn every_trait_is_dyn_compatible() {
    let mut t = boxed_devices();
    assert!(t.icc.caps().t1);
    assert!(t.picc.caps().types.contains(TargetTypes::AB));
    assert_eq!(t.icc.info().kind, DeviceKind::ContactReader);
    assert!(t.msr.caps().tracks[1]);
    assert_eq!(t.printer.caps().width_dots, 384);
    assert_eq!(t.clock.now().map(|t| t.year()), Ok(2026));
    assert_eq!(t.display.caps().rows, 8);
    t.display
        .show_amount("AMOUNT", Amount::from_minor(5000).expect("fits"))
        .expect("shown");
    t.indicators.beep(BeepKind::Success).expect("beeps");
    let cancelled = CancelToken::new();
    cancelled.cancel();
    let key = t
        .keypad
        .read_key(Duration::ZERO, &cancelled)
        .map_err(|e| e.kind());
    assert_eq!(key, Err(ErrorKind::Cancelled));
    let pan = Pan::parse("6212345678901232").expect("pan");
    let request = PinRequest::online(&pan).with_lengths(4, 6);
    let pin = t.pinpad.get_pin(&request, &cancelled).map_err(|e| e.kind());
    assert_eq!(pin, Err(ErrorKind::Cancelled));
    let detect = t
        .entry
        .detect(EntryModes::ALL, Duration::ZERO, &cancelled)
        .map_err(|e| e.kind());
    assert_eq!(detect, Err(ErrorKind::Cancelled));
}

/// What a terminal core does: generic over any reader, with the error kind as the contract.
fn read_first_record(reader: &mut dyn IccReader<Error = E>) -> Result<Vec<u8>, ErrorKind> {
    reader
        .wait_for_card(Duration::from_secs(1), &CancelToken::new())
        .map_err(|e| e.kind())?;
    reader.power_on().map_err(|e| e.kind())?;
    let mut buf = [0u8; 258];
    let rsp = reader
        .transmit(&Apdu::new(0x00, 0xB2, 0x01, 0x0C).with_le(256), &mut buf)
        .map_err(|e| e.kind())?;
    if !rsp.sw.is_success() {
        return Err(ErrorKind::Protocol);
    }
    Ok(rsp.data.to_vec())
}

#[test]
fn core_code_runs_against_a_boxed_scripted_reader() {
    let atr = Atr::parse(&[0x3B, 0x80, 0x80, 0x01, 0x01]).expect("atr");
    let mut reader: Box<dyn IccReader<Error = E>> = Box::new(MockIccReader::new([
        IccCall::WaitForCard(Ok(())),
        IccCall::PowerOn(Ok(atr)),
        IccCall::transmit(
            &[0x00, 0xB2, 0x01, 0x0C, 0x00],
            &[0x70, 0x02, 0x5A, 0x00, 0x90, 0x00],
        ),
    ]));
    assert_eq!(
        read_first_record(reader.as_mut()),
        Ok(vec![0x70, 0x02, 0x5A, 0x00])
    );

    let mut pulled: Box<dyn IccReader<Error = E>> = Box::new(MockIccReader::new([
        IccCall::WaitForCard(Ok(())),
        IccCall::PowerOn(Ok(atr)),
        IccCall::Transmit(Exchange {
            command: vec![0x00, 0xB2, 0x01, 0x0C, 0x00],
            response: Err(MockError(ErrorKind::CardRemoved)),
        }),
    ]));
    assert_eq!(
        read_first_record(pulled.as_mut()),
        Err(ErrorKind::CardRemoved)
    );
}

#[test]
fn cancelled_token_stops_waits() {
    let token = CancelToken::new();
    token.cancel();
    let mut entry = MockCardEntry::new([]);
    let err = entry
        .detect(EntryModes::ALL, Duration::from_secs(30), &token)
        .err();
    assert_eq!(err.map(|e| e.kind()), Some(ErrorKind::Cancelled));
}

#[test]
fn claimed_device_is_released_on_drop() {
    use std::cell::Cell;
    use std::rc::Rc;
    struct Dev(Rc<Cell<u32>>);
    impl ErrorType for Dev {
        type Error = ErrorKind;
    }
    impl Claim for Dev {
        fn acquire(&mut self) -> Result<(), ErrorKind> {
            self.0.set(self.0.get() + 1);
            Ok(())
        }
        fn release(&mut self) {
            self.0.set(self.0.get() - 1);
        }
    }
    let holders = Rc::new(Cell::new(0));
    {
        let _claimed = Claimed::claim(Dev(holders.clone()))
            .map_err(|(_, e)| e)
            .expect("claims");
        assert_eq!(holders.get(), 1);
    }
    assert_eq!(holders.get(), 0);
}

/// The EMV kernel is written once over `CardChannel`: the same function runs over a contact and
/// a contactless reader, through `&mut` and through `Box`.
fn select_ppse<C: CardChannel + ?Sized>(card: &mut C) -> Result<usize, ErrorKind> {
    let mut buf = [0u8; 258];
    let select = Apdu::new(0x00, 0xA4, 0x04, 0x00)
        .with_data(b"2PAY.SYS.DDF01")
        .with_le(256);
    let rsp = card.transmit(&select, &mut buf).map_err(|e| e.kind())?;
    Ok(rsp.data.len())
}

#[test]
fn one_card_function_serves_contact_and_contactless() {
    let mut select = vec![0x00, 0xA4, 0x04, 0x00, 14];
    select.extend_from_slice(b"2PAY.SYS.DDF01");
    select.push(0);
    let mut icc = MockIccReader::new([IccCall::transmit(&select, &[0x6F, 0x00, 0x90, 0x00])]);
    assert_eq!(select_ppse(&mut &mut icc), Ok(2));
    let mut picc: Box<dyn PiccReader<Error = E>> =
        Box::new(MockPiccReader::new([PiccCall::transmit(
            &select,
            &[0x6F, 0x01, 0x00, 0x90, 0x00],
        )]));
    assert_eq!(select_ppse(&mut picc), Ok(3));
}

#[test]
fn collision_is_an_outcome_not_an_error() {
    let mut picc =
        MockPiccReader::new([PiccCall::Poll(TargetTypes::AB, Ok(PollOutcome::Collision))]);
    let outcome = picc.poll(TargetTypes::AB, Duration::from_secs(1), &CancelToken::new());
    assert_eq!(outcome, Ok(PollOutcome::Collision));
}

#[test]
fn infallible_is_an_error_type() {
    fn kind_of<E: Error>(_: Option<E>) {}
    kind_of::<core::convert::Infallible>(None);
}
