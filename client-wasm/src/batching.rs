//! What goes on the socket for the frames one task of the page produced: as few WebSocket
//! messages as the server takes. Each message costs the page's main thread about a tenth of a
//! millisecond in the browser's socket code, more than encoding most frames, and one task often
//! yields several (a keystroke: its form value, the selection, the framework's DOM update).
//! A server whose `Welcome` says it takes `Batch` frames gets them together; an older one gets
//! each alone, as before.
//!
//! A page that changes in many short tasks (a framework rendering in chunks, a typing burst)
//! would still cost one message per task, so sends are paced too ([`when_to_flush`]): the first
//! frames after a quiet spell leave at the end of their task, frames that follow within
//! [`PACE_MS`] of a send wait for that much time to pass and leave together. A change is never
//! held longer than that, far inside the latency the agent notices.

use cobrowse_protocol::{MAX_BATCH_FRAMES, encode_batch};

/// Largest batch this client sends, in frame bytes. Far below any frame limit a server is
/// configured with (a page's snapshot is larger), so a batch is never refused for its size; a
/// frame that does not fit goes alone.
pub const BATCH_BYTES: usize = 64 * 1024;

/// The frames, in order, grouped into the WebSocket messages to send: a lone frame as it is,
/// consecutive frames as one `Batch` of at most [`MAX_BATCH_FRAMES`] frames and
/// [`BATCH_BYTES`]; every frame alone when the server does not take batches (`batch` false).
pub fn group(frames: Vec<Vec<u8>>, batch: bool) -> Vec<Vec<u8>> {
    if !batch || frames.len() < 2 {
        return frames;
    }
    let mut out = Vec::new();
    let mut run: Vec<Vec<u8>> = Vec::new();
    let mut run_bytes = 0;
    for f in frames {
        let full = run.len() == MAX_BATCH_FRAMES || run_bytes + f.len() > BATCH_BYTES;
        if full && !run.is_empty() {
            out.push(close(std::mem::take(&mut run)));
            run_bytes = 0;
        }
        run_bytes += f.len();
        run.push(f);
    }
    if !run.is_empty() {
        out.push(close(run));
    }
    out
}

/// One run of frames as one message: a single frame needs no batch around it.
fn close(mut run: Vec<Vec<u8>>) -> Vec<u8> {
    if run.len() == 1 {
        run.pop().unwrap_or_default()
    } else {
        encode_batch(&run)
    }
}

/// Shortest time between two sends while frames keep coming. Below the 16.7 ms between two
/// frames of a 60 Hz display, so a page changing once a frame is never held.
pub const PACE_MS: f64 = 8.0;

/// When waiting frames should leave.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Flush {
    /// At the end of the current task (a microtask).
    Now,
    /// After this many milliseconds (a timer).
    After(f64),
}

/// When to send what is waiting at `now` (ms), the last send having been at `last` (`None`:
/// nothing sent yet). Pacing only pays when the waiting frames can leave as one batch, and a
/// hidden page's timers are throttled to a second or more by the browser, so without `batch`
/// or while `hidden()` every task sends at its end, as without pacing. `hidden` is asked only
/// when the frames would otherwise wait.
pub fn when_to_flush(
    now: f64,
    last: Option<f64>,
    batch: bool,
    hidden: impl FnOnce() -> bool,
) -> Flush {
    match last {
        Some(last) if batch && now - last < PACE_MS && now >= last && !hidden() => {
            Flush::After(PACE_MS - (now - last))
        }
        _ => Flush::Now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cobrowse_protocol::{Message, decode, encode, encode_seq};

    fn frame(n: u64, pad: usize) -> Vec<u8> {
        encode_seq(n, &encode(&Message::Ping(pad as u64)))
            .into_iter()
            .chain(std::iter::repeat_n(0, pad))
            .collect()
    }

    /// The frames the messages carry, in order (a batch unpacked).
    fn unpack(messages: &[Vec<u8>]) -> Vec<Vec<u8>> {
        messages
            .iter()
            .flat_map(|m| match decode(m) {
                Ok(Message::Batch(frames)) => frames,
                _ => vec![m.clone()],
            })
            .collect()
    }

    #[test]
    fn frames_after_a_quiet_spell_leave_now_and_close_followers_wait_out_the_pace() {
        assert_eq!(when_to_flush(100.0, None, true, || false), Flush::Now);
        assert_eq!(
            when_to_flush(100.0, Some(100.0 - PACE_MS), true, || false),
            Flush::Now
        );
        assert_eq!(when_to_flush(100.0, Some(50.0), true, || false), Flush::Now);
        assert_eq!(
            when_to_flush(100.0, Some(97.0), true, || false),
            Flush::After(PACE_MS - 3.0)
        );
        assert_eq!(
            when_to_flush(100.0, Some(100.0), true, || false),
            Flush::After(PACE_MS)
        );
        // No batches to gain, a throttled hidden page, or a clock that went back: no waiting.
        assert_eq!(
            when_to_flush(100.0, Some(97.0), false, || false),
            Flush::Now
        );
        assert_eq!(when_to_flush(100.0, Some(97.0), true, || true), Flush::Now);
        assert_eq!(
            when_to_flush(100.0, Some(120.0), true, || false),
            Flush::Now
        );
        // Whether the page is hidden is asked only when the frames would wait.
        let unasked = || panic!("asked whether the page is hidden");
        assert_eq!(when_to_flush(100.0, None, true, unasked), Flush::Now);
        assert_eq!(when_to_flush(100.0, Some(50.0), true, unasked), Flush::Now);
        assert_eq!(when_to_flush(100.0, Some(97.0), false, unasked), Flush::Now);
    }

    #[test]
    fn one_frame_goes_as_it_is_and_several_go_as_one_batch() {
        assert_eq!(group(vec![frame(1, 0)], true), [frame(1, 0)]);
        assert!(group(Vec::new(), true).is_empty());
        let frames: Vec<_> = (1..=5).map(|n| frame(n, 3)).collect();
        let out = group(frames.clone(), true);
        assert_eq!(out.len(), 1);
        assert!(matches!(decode(&out[0]), Ok(Message::Batch(f)) if f == frames));
    }

    #[test]
    fn a_server_without_batches_gets_every_frame_alone() {
        let frames: Vec<_> = (1..=5).map(|n| frame(n, 3)).collect();
        assert_eq!(group(frames.clone(), false), frames);
    }

    #[test]
    fn batches_stay_within_the_frame_count_and_bytes_in_order() {
        let many: Vec<_> = (1..=(2 * MAX_BATCH_FRAMES as u64 + 3))
            .map(|n| frame(n, 0))
            .collect();
        let out = group(many.clone(), true);
        assert_eq!(out.len(), 3);
        assert_eq!(unpack(&out), many);
        // A frame larger than a batch may hold goes alone, between the batches around it.
        let big = frame(3, BATCH_BYTES);
        let mixed = vec![frame(1, 10), frame(2, 10), big.clone(), frame(4, 10)];
        let out = group(mixed.clone(), true);
        assert_eq!(out.len(), 3);
        assert_eq!(out[1], big);
        assert_eq!(unpack(&out), mixed);
        for m in &out {
            if let Ok(Message::Batch(f)) = decode(m) {
                assert!(f.iter().map(Vec::len).sum::<usize>() <= BATCH_BYTES);
                assert!(f.len() <= MAX_BATCH_FRAMES);
            }
        }
    }
}
