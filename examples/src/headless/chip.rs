//! The chip side of the runner: application selection, the contact kernel up to the PIN,
//! offline PIN, qPBOC taps, electronic cash offline, the second GENERATE AC with issuer
//! scripts and their advice.

#[allow(clippy::wildcard_imports)]
use super::*;

impl Terminal {
    pub(super) fn read_chip(&mut self, transaction: Transaction, amount: Amount) -> Event {
        if self.card.tapped {
            return self.read_tap(transaction, amount);
        }
        let Some(reader) = self.reader.as_mut() else {
            return Event::ChipRead(Err(pos_hal::ErrorKind::NoDevice));
        };
        if let Err(e) = reader.power_on() {
            return Event::ChipRead(Err(e.kind()));
        }
        self.card.chip = None;
        let kind = match transaction {
            Transaction::Sale | Transaction::ElectronicCash => 0x00,
            Transaction::Balance => 0x31,
            Transaction::PreAuth => 0x03,
            // A void, refund, completion or cancel needs the card number only (CUP terminals
            // run no cryptogram for them).
            _ => return self.read_card_number(),
        };
        let Ok(txn) =
            self.transaction_data(kind, amount, transaction == Transaction::ElectronicCash)
        else {
            return Event::ChipRead(Err(pos_hal::ErrorKind::Other));
        };
        let Some(reader) = self.reader.as_mut() else {
            return Event::ChipRead(Err(pos_hal::ErrorKind::NoDevice));
        };
        let list = match pos_emv::candidates(reader.as_mut(), &self.emv.terminal) {
            Ok((list, _)) => list,
            Err(e) => {
                eprintln!("pos: chip: {e}");
                return Event::ChipRead(Err(e.kind()));
            }
        };
        self.card.candidates = list;
        self.card.pending_txn = Some(txn);
        // Read again for a new PIN: the application chosen the first time.
        let chosen = self.card.chosen_aid.clone();
        if let Some(i) =
            chosen.and_then(|aid| self.card.candidates.iter().position(|c| c.aid == aid))
        {
            return self.select_application(i);
        }
        match self.card.candidates.as_slice() {
            [only] if !only.needs_confirmation => self.select_application(0),
            _ => Event::Applications(self.application_labels()),
        }
    }

    /// The candidates as the cardholder reads them (a label from the card is shown without
    /// control characters; none: the AID).
    pub(super) fn application_labels(&self) -> Vec<String> {
        self.card
            .candidates
            .iter()
            .map(|c| {
                let label: String = c.label.chars().filter(|ch| !ch.is_control()).collect();
                if label.trim().is_empty() {
                    hex::encode_upper(&c.aid)
                } else {
                    label
                }
            })
            .collect()
    }

    /// Starts the transaction on candidate `index`; a card that refuses it (blocked) has it
    /// taken off the list, and the rest offered again (Book 1 §12.4).
    pub(super) fn select_application(&mut self, index: usize) -> Event {
        let (Some(txn), Some(candidate)) = (
            self.card.pending_txn,
            self.card.candidates.get(index).cloned(),
        ) else {
            return Event::ChipRead(Err(pos_hal::ErrorKind::InvalidInput));
        };
        let Some(reader) = self.reader.as_mut() else {
            return Event::ChipRead(Err(pos_hal::ErrorKind::NoDevice));
        };
        let setup = self.emv;
        let mut kernel = match Contact::start(
            reader.as_mut(),
            &setup.terminal,
            &setup.capks,
            &candidate,
            &txn,
        ) {
            Ok(k) => k,
            Err(e @ pos_emv::EmvError::Refused { .. }) if self.card.candidates.len() > 1 => {
                eprintln!("pos: chip: {e}; offering the other applications");
                self.card.candidates.remove(index);
                return Event::Applications(self.application_labels());
            }
            Err(e) => {
                eprintln!("pos: chip: {e}");
                return Event::ChipRead(Err(e.kind()));
            }
        };
        self.card.chosen_aid = Some(candidate.aid);
        let step = match kernel.cardholder_verification(reader.as_mut()) {
            Ok(step) => step,
            Err(e) => return Event::ChipRead(Err(e.kind())),
        };
        let Some(pan) = kernel.pan() else {
            return Event::ChipRead(Err(pos_hal::ErrorKind::Protocol));
        };
        self.card.pan = Some(pan.clone());
        self.card.track2 = None;
        self.card.sequence = kernel.pan_sequence().map(|b| (b >> 4) * 10 + (b & 0x0F));
        self.card.chip = Some(kernel);
        self.card.chip_wants_pin = step == CvmStep::OnlinePin;
        self.card.chip_checks_pin = matches!(step, CvmStep::OfflinePin { .. });
        Event::ChipRead(Ok(ChipCard {
            pan,
            online_pin: step == CvmStep::OnlinePin,
            offline_pin: self.card.chip_checks_pin,
        }))
    }

    /// The PIN block format of this acquirer's keys.
    pub(super) fn pin_format(&self) -> PinBlockFormat {
        if self.host.acquirer.mac == MacAlgorithm::Sm4Cbc {
            PinBlockFormat::Iso0Sm4
        } else {
            PinBlockFormat::Iso0Tdes
        }
    }

    /// The PIN to the card (VERIFY, enciphered when the card's CVM says so).
    pub(super) fn offline_pin(&mut self, pin: &pos_hal::PinDigits) -> Event {
        let (Some(kernel), Some(reader)) = (self.card.chip.as_mut(), self.reader.as_mut()) else {
            return Event::Pin(Err(pos_hal::ErrorKind::NoDevice));
        };
        // Through the PIN pad port: the kernel says what the card needs (a key and a
        // challenge for an enciphered PIN), the PIN pad makes the VERIFY data.
        let step = match kernel.prepare_offline_pin(reader.as_mut()) {
            Ok(pos_emv::OfflinePinPrep::Unavailable(next)) => Ok(next),
            Ok(prep) => {
                let request = match &prep {
                    pos_emv::OfflinePinPrep::Enciphered(how) => {
                        pos_hal::OfflinePinRequest::enciphered(how.card_key())
                    }
                    _ => pos_hal::OfflinePinRequest::plaintext(),
                };
                match pos_hal::PinPad::get_offline_pin(
                    &mut crate::soft_pinpad::SoftPinPad::typed(&mut self.host.keys, Some(pin)),
                    &request,
                    &self.cancel,
                ) {
                    Ok(pos_hal::OfflinePinEntry::Entered(data)) => {
                        kernel.verify_offline_pin_data(reader.as_mut(), Some(&data))
                    }
                    Ok(_) => kernel.verify_offline_pin_data(reader.as_mut(), None),
                    Err(kind) => return Event::Pin(Err(kind)),
                }
            }
            Err(e) => Err(e),
        };
        match step {
            Ok(CvmStep::OfflinePin { tries_left }) => Event::PinRejected {
                tries_left: tries_left.unwrap_or(0),
            },
            Ok(CvmStep::OnlinePin) => {
                // The card's next method is an online PIN: the PIN just typed goes to the host.
                self.card.chip_checks_pin = false;
                self.card.chip_wants_pin = true;
                let Some(pan) = self.card.pan.clone() else {
                    return Event::Pin(Err(pos_hal::ErrorKind::Protocol));
                };
                self.online_pin(&pan, pin)
            }
            // Verified — or the tries ran out and the card's list goes on (signature): the
            // kernel has noted it in the TVR; the transaction goes on to the cryptogram.
            Ok(CvmStep::Done) => {
                self.card.chip_checks_pin = false;
                Event::Pin(Ok(true))
            }
            Err(e) => {
                eprintln!("pos: chip: {e}");
                Event::Pin(Err(e.kind()))
            }
        }
    }

    pub(super) fn transaction_data(
        &mut self,
        kind: u8,
        amount: Amount,
        electronic_cash: bool,
    ) -> Result<TransactionData, pos_platform::NoRandomSource> {
        let now = now();
        let bcd = |v: u8| ((v / 10 % 10) << 4) | (v % 10);
        self.sequence = self.sequence.wrapping_add(1);
        Ok(TransactionData {
            amount: amount.minor(),
            other_amount: 0,
            kind,
            date: [
                bcd((now.year() % 100) as u8),
                bcd(now.month()),
                bcd(now.day()),
            ],
            time: [bcd(now.hour()), bcd(now.minute()), bcd(now.second())],
            // From the OS's random source: without one no cryptogram can be trusted.
            unpredictable: pos_platform::random().inspect_err(|e| eprintln!("pos: {e}"))?,
            sequence: self.sequence,
            force_online: false,
            electronic_cash,
        })
    }

    /// A qPBOC tap: the card's cryptogram comes with the GPO; the card may leave at once.
    pub(super) fn read_tap(&mut self, transaction: Transaction, amount: Amount) -> Event {
        let kind = match transaction {
            Transaction::Sale => 0x00,
            Transaction::Balance => 0x31,
            Transaction::PreAuth => 0x03,
            _ => return Event::ChipRead(Err(pos_hal::ErrorKind::NotSupported)),
        };
        let Ok(txn) = self.transaction_data(kind, amount, false) else {
            return Event::ChipRead(Err(pos_hal::ErrorKind::Other));
        };
        let setup = self.emv;
        let Some(picc) = self.contactless.as_mut() else {
            return Event::ChipRead(Err(pos_hal::ErrorKind::NoDevice));
        };
        let limits = setup.terminal.contactless;
        let mut lights = LoggedLights;
        let tap = match pos_emv::tap(
            picc.as_mut(),
            &mut lights,
            &setup.terminal,
            &limits,
            &setup.capks,
            &txn,
        ) {
            Ok(tap) => tap,
            Err(e) => {
                eprintln!("pos: tap: {e}");
                return Event::ChipRead(Err(e.kind()));
            }
        };
        self.card.tap_offline = None;
        let (cvm, icc) = match tap.outcome() {
            pos_emv::TapOutcome::Online { cvm, icc_data } => (*cvm, icc_data.clone()),
            pos_emv::TapOutcome::ApprovedOffline { icc_data }
                if transaction == Transaction::Sale =>
            {
                self.card.tap_offline = Some(icc_data.clone());
                (pos_emv::ContactlessCvm::None, Vec::new())
            }
            pos_emv::TapOutcome::UseContact => {
                eprintln!("pos: the card asks to be inserted");
                return Event::ChipRead(Err(pos_hal::ErrorKind::NotSupported));
            }
            other => {
                // The POS goes online for every tap (floor limit 0): an offline answer here
                // is a card the terminal does not accept.
                eprintln!("pos: tap ended {other:?}");
                return Event::ChipRead(Err(pos_hal::ErrorKind::Protocol));
            }
        };
        let Some(pan) = tap.pan() else {
            return Event::ChipRead(Err(pos_hal::ErrorKind::Protocol));
        };
        self.card.pan = Some(pan.clone());
        self.card.track2 = None;
        self.card.chip = None;
        self.card.chip_wants_pin = false;
        self.card.chip_checks_pin = false;
        self.card.sequence = tap.pan_sequence().map(|b| (b >> 4) * 10 + (b & 0x0F));
        self.card.tap_icc = (self.card.tap_offline.is_none()).then_some(icc);
        Event::ChipRead(Ok(ChipCard {
            pan,
            online_pin: cvm == pos_emv::ContactlessCvm::OnlinePin,
            offline_pin: false,
        }))
    }

    pub(super) fn read_card_number(&mut self) -> Event {
        let Some(reader) = self.reader.as_mut() else {
            return Event::ChipRead(Err(pos_hal::ErrorKind::NoDevice));
        };
        Event::ChipRead(match crate::card_info::read(reader.as_mut()) {
            Ok(info) => match info.pan {
                Some(pan) => {
                    self.card.pan = Some(pan.clone());
                    self.card.track2 = None;
                    Ok(ChipCard {
                        pan,
                        online_pin: true,
                        offline_pin: false,
                    })
                }
                None => Err(pos_hal::ErrorKind::Protocol),
            },
            Err(kind) => Err(kind.kind()),
        })
    }

    /// For a chip card: the PIN answer, terminal action analysis and the first GENERATE AC.
    /// `Ok(Some(field 55))` to go online with, `Ok(None)` for a card without a kernel
    /// transaction, `Err` when the chip ended it (declined, or pulled).
    /// The inserted card's electronic cash balance, when it offers electronic cash (its PDOL
    /// asks whether the terminal chose it, 9F7A) and the balance and the terminal's EC limit
    /// cover `amount`.
    pub(super) fn electronic_cash_offered(&mut self, amount: Amount) -> Option<Amount> {
        let setup = self.emv;
        let reader = self.reader.as_mut()?;
        reader.power_on().ok()?;
        let (list, _) = pos_emv::candidates(reader.as_mut(), &setup.terminal).ok()?;
        let aid = list.first()?.aid.clone();
        let select = pos_hal::Apdu::new(0x00, 0xA4, 0x04, 0x00)
            .with_data(&aid)
            .with_le(256);
        let mut buf = [0u8; 258];
        let fci = reader.transmit(&select, &mut buf).ok()?;
        let pdol = pos_hal::tlv::find(fci.data, 0x9F38).ok()??;
        let list = pos_emv::dol::parse(pdol.value).ok()?;
        if !list.iter().any(|e| e.tag == 0x9F7A) {
            return None;
        }
        let get = pos_hal::Apdu::new(0x80, 0xCA, 0x9F, 0x79).with_le(256);
        let mut buf = [0u8; 258];
        let answer = reader.transmit(&get, &mut buf).ok()?;
        let value = pos_hal::tlv::find(answer.data, 0x9F79).ok()??;
        let cents = pos_emv::dol::bcd_value(value.value);
        let fits = amount.minor() <= cents && amount.minor() <= setup.terminal.ec_terminal_limit;
        fits.then(|| Amount::from_minor(cents).ok()).flatten()
    }

    /// An electronic cash sale: the card approves it offline (a TC) and it is journaled for
    /// the settlement's upload; `None` when the card wants to go online after all (its ARQC
    /// is kept for the online sale that follows).
    pub(super) fn electronic_cash_sale(&mut self, amount: Amount) -> Option<Event> {
        let declined = || Event::Online(OnlineOutcome::Declined { rc: "Z1".into() });
        let (Some(kernel), Some(reader)) = (self.card.chip.as_mut(), self.reader.as_mut()) else {
            return None;
        };
        if !kernel.electronic_cash() {
            return None;
        }
        let icc = match kernel.first_generate_ac(reader.as_mut()) {
            Ok(pos_emv::Cryptogram::Tc) => {
                let mut tags = ONLINE_TAGS.to_vec();
                tags.extend([0x9F74, 0x9F79]);
                kernel.icc_data(&tags)
            }
            Ok(pos_emv::Cryptogram::Arqc) => {
                // The card wants its issuer after all: the sale goes online with this ARQC.
                self.card.tap_icc = Some(kernel.icc_data(ONLINE_TAGS));
                return None;
            }
            Ok(_) | Err(_) => {
                self.card.chip = None;
                return Some(declined());
            }
        };
        self.card.chip = None;
        Some(self.record_offline_sale(amount, &icc, Entry::Inserted))
    }

    /// A sale the card approved offline from its electronic cash (contact EC or a qPBOC
    /// tap): journaled as approved with its TC, for the settlement's upload.
    pub(super) fn record_offline_sale(
        &mut self,
        amount: Amount,
        icc: &[u8],
        entry: Entry,
    ) -> Event {
        let declined = || Event::Online(OnlineOutcome::Declined { rc: "Z1".into() });
        let (Some(pan), Ok(batch)) = (self.card.pan.clone(), self.host.journal.batch()) else {
            return declined();
        };
        let card = Card::new(&pan, entry).with_icc(icc, self.card.sequence);
        let Ok(request) = requests::ec_sale(&card, amount, batch) else {
            return declined();
        };
        let recorded = self.host.online().record_offline(request, icc);
        match recorded {
            Ok(record) => {
                self.label = "电子现金消费 EC SALE";
                self.approved_record = Some(record.id);
                self.last_approval = Some((
                    record.batch,
                    record.voucher,
                    String::new(),
                    String::new(),
                    String::new(),
                ));
                Event::Online(OnlineOutcome::Approved {
                    auth: String::new(),
                })
            }
            Err(e) => {
                // The card paid but the terminal cannot keep it: it must not hand out slips.
                eprintln!("pos: journal: {e}");
                declined()
            }
        }
    }

    pub(super) fn first_cryptogram(&mut self) -> Result<Option<Vec<u8>>, OnlineOutcome> {
        if let Some(icc) = self.card.tap_icc.take() {
            return Ok(Some(icc));
        }
        let (Some(kernel), Some(reader)) = (self.card.chip.as_mut(), self.reader.as_mut()) else {
            return Ok(None);
        };
        let declined = || OnlineOutcome::Declined { rc: "Z1".into() };
        if self.card.chip_wants_pin {
            let entered = self.card.pin.is_some();
            if let Err(e) = kernel.online_pin_entered(reader.as_mut(), entered) {
                eprintln!("pos: chip: {e}");
                return Err(declined());
            }
        }
        match kernel.first_generate_ac(reader.as_mut()) {
            Ok(pos_emv::Cryptogram::Arqc) => Ok(Some(kernel.icc_data(ONLINE_TAGS))),
            Ok(other) => {
                eprintln!(
                    "pos: chip answered {} to the first GENERATE AC",
                    other.name()
                );
                self.card.chip = None;
                Err(declined())
            }
            Err(e) => {
                eprintln!("pos: chip: {e}");
                self.card.chip = None;
                Err(declined())
            }
        }
    }

    /// Completion on the chip after the host's answer: issuer authentication, scripts and
    /// the second GENERATE AC. A card that declines an approval gets the approval reversed
    /// (06) and the sale is declined.
    pub(super) fn complete_chip(
        &mut self,
        host: &HostAnswer,
        original: Option<&Message<'static>>,
    ) -> Option<OnlineOutcome> {
        let mut kernel = self.card.chip.take()?;
        let reader = self.reader.as_mut()?;
        let done = kernel.complete(reader.as_mut(), host);
        if let (Ok(done), Some(original)) = (&done, original)
            && !done.script_results.is_empty()
        {
            self.script_advice(
                original,
                &kernel.icc_data(pos_emv::contact::SCRIPT_ADVICE_TAGS),
            );
        }
        let reverse = match &done {
            Ok(done) => done.reverse,
            Err(e) => {
                eprintln!("pos: chip completion: {e}");
                matches!(host, HostAnswer::Answered { arc, .. } if arc == b"00")
            }
        };
        if reverse {
            eprintln!("pos: the chip declined the host's approval: reversing it (06)");
            self.abandon();
            return Some(OnlineOutcome::Declined { rc: "Z1".into() });
        }
        if let (Ok(done), Some(id)) = (&done, self.approved_record)
            && done.approved
        {
            // The TC and what it covers go up with the settlement's batch upload.
            let icc = kernel.icc_data(ONLINE_TAGS);
            if let Err(e) = self.host.journal.set_icc(id, &icc) {
                eprintln!("pos: journal: {e}");
            }
        }
        None
    }

    /// Tells the host how its scripts ran (0620). Best effort: a host that does not hear of
    /// them sends them again with the card's next online transaction.
    pub(super) fn script_advice(&mut self, original: &Message<'static>, icc: &[u8]) {
        let advice = self
            .host
            .journal
            .batch()
            .map_err(|e| e.to_string())
            .and_then(|batch| {
                requests::script_advice(original, icc, batch).map_err(|e| e.to_string())
            });
        let sent = advice.and_then(|advice| {
            self.host
                .online()
                .script_advice(advice, &self.cancel)
                .map_err(|e| e.to_string())
        });
        if let Err(e) = sent {
            eprintln!("pos: script result advice: {e}");
        }
    }
}
