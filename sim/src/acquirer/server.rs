//! The TCP side: framing, one connection's request loop with the fault switches.

#[allow(clippy::wildcard_imports)]
use super::*;

pub(super) fn read_frame<S: std::io::Read>(s: &mut S) -> Result<Option<Vec<u8>>, HostError> {
    Ok(frame::read(s, frame::MAX_PAYLOAD)?)
}

/// An answer too long for its 2-byte length is refused (an error), never sent with a
/// clamped length.
pub(super) fn write_frame<S: std::io::Write>(s: &mut S, body: &[u8]) -> Result<(), HostError> {
    Ok(frame::write(s, body)?)
}

/// One connection (plain TCP or TLS): requests in, answers out, with the fault switches.
pub(super) fn serve<S: std::io::Read + std::io::Write>(
    mut stream: S,
    jobs: &mpsc::Sender<Job>,
    faults: &Faults,
) -> Result<(), HostError> {
    while let Some(request) = read_frame(&mut stream)? {
        let (tx, rx) = mpsc::channel();
        let forget = faults.forget_reversals.load(Ordering::Relaxed)
            && Frame::decode_payload(&request).is_ok_and(|(_, m)| m.mti() == Mti::REVERSAL);
        if jobs
            .send(Job {
                request,
                answer: tx,
                keep: !forget,
            })
            .is_err()
        {
            return Ok(());
        }
        let answer = rx.recv().unwrap_or(None);
        let delay = faults.delay_ms.load(Ordering::Relaxed);
        if delay > 0 {
            std::thread::sleep(Duration::from_millis(delay));
        }
        if faults.drop.load(Ordering::Relaxed) {
            return Ok(());
        }
        if faults.garbage.load(Ordering::Relaxed) {
            write_frame(&mut stream, &random_bytes(40))?;
            continue;
        }
        let Some(mut answer) = answer else {
            return Ok(());
        };
        if faults.wrong_mac.load(Ordering::Relaxed) && answer.len() > 8 {
            let n = answer.len();
            answer[n - 1] ^= 0x01;
        }
        if faults.other_terminal.load(Ordering::Relaxed) {
            answer = retarget(&answer).unwrap_or(answer);
        }
        write_frame(&mut stream, &answer)?;
    }
    Ok(())
}

/// The same answer, addressed to another terminal id (anti code-jumping tests).
pub(super) fn retarget(answer: &[u8]) -> Option<Vec<u8>> {
    let (frame, msg) = Frame::decode_payload(answer).ok()?;
    let mut msg = msg.into_owned();
    msg.set_text(41, "87654321").ok()?;
    frame.encode_payload(&msg).ok()
}
