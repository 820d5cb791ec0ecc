//! What goes on a client's wire: the snapshot message for one client (its delta against its
//! acknowledged baseline) and the WebSocket framing around server messages.

use fastwebsockets::{Frame, OpCode, Payload};
use shared::protocol::SnapshotHeader;
use shared::{Tick, codec};

use super::frame::History;
use super::outbox::{Acks, PendingSnapshot};
use crate::metrics::Metrics;

/// The most ticks between a client's two latest acknowledgements for a delta to predict
/// positions from the older one. In steady play they are one tick apart; a wider gap means the
/// client fell behind, and the older world is more likely to have left a client's bounded
/// history (a bot keeps about a second plus its link delay).
const MAX_PREDICTION_SPAN: i32 = 8;

/// The largest WebSocket frame head a server writes (no mask): opcode byte, length byte and a
/// 64-bit extended length.
const MAX_HEAD: usize = 10;

/// Appends the encoded snapshot message for a client whose acknowledgements are `acks` to
/// `out`: a delta against its newest acknowledged tick if the history still holds it (predicted
/// from the older one when recent), else a keyframe. Answers the snapshot's tick.
pub(crate) fn snapshot_message(
    acks: Acks,
    pending: &PendingSnapshot,
    history: &History,
    metrics: &Metrics,
    out: &mut Vec<u8>,
) -> Tick {
    let tick = pending.frame.tick;
    let viewer = pending.viewer;
    // A baseline the client had no view in (it joined after) is no baseline.
    let baseline = if !acks.newest.is_zero() && acks.newest < tick {
        history
            .get(acks.newest)
            .filter(|b| b.seen_by(viewer).is_some())
    } else {
        None
    };
    // Predict from the acknowledgement before, if it is recent: the client applied it and
    // keeps the worlds since its newest delta's older baseline.
    let older = match acks.newest.since(acks.older) {
        1..=MAX_PREDICTION_SPAN if baseline.is_some() && !acks.older.is_zero() => {
            history.get(acks.older)
        }
        _ => None,
    };
    let body = pending
        .frame
        .body(viewer, baseline.as_deref(), older.as_deref(), metrics);
    let header = SnapshotHeader {
        tick,
        baseline_tick: baseline.as_ref().map_or(Tick::ZERO, |b| b.tick),
        last_input_seq: pending.last_input_seq,
    };
    if baseline.is_none() {
        metrics.keyframes_sent.inc();
    } else if older.is_some() {
        metrics.predicted_deltas_sent.inc();
    }
    codec::snapshot_frame(&header, &body, out);
    tick
}

/// Appends one unmasked, final WebSocket frame of `opcode` to `out`, its payload written by
/// `payload` (straight into `out`: the head is fitted in front afterwards, so the payload is
/// never assembled twice).
pub(crate) fn push_frame(out: &mut Vec<u8>, opcode: OpCode, payload: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.resize(start + MAX_HEAD, 0);
    payload(out);
    let mut head = [0u8; MAX_HEAD + 4];
    let head_len = Frame::new(
        true,
        opcode,
        None,
        Payload::Borrowed(&out[start + MAX_HEAD..]),
    )
    .fmt_head(&mut head);
    let gap = MAX_HEAD - head_len;
    out[start + gap..start + MAX_HEAD].copy_from_slice(&head[..head_len]);
    // Close the gap the shorter head left.
    out.copy_within(start + gap.., start);
    out.truncate(out.len() - gap);
}

/// A close frame's payload: the code, then the reason cut to fit a control frame (125 bytes).
pub(crate) fn close_payload(code: u16, reason: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(&code.to_be_bytes());
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    out.extend_from_slice(&reason.as_bytes()[..end]);
}

#[cfg(test)]
/// Parses the frames a server wrote, as a client would (no mask).
pub(crate) fn parse_frames(mut bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        assert_eq!(bytes[0] & 0x80, 0x80, "FIN set");
        let opcode = bytes[0] & 0x0f;
        assert_eq!(bytes[1] & 0x80, 0, "server frames are not masked");
        let (len, head) = match bytes[1] & 0x7f {
            126 => (usize::from(u16::from_be_bytes([bytes[2], bytes[3]])), 4),
            127 => {
                let mut n = [0u8; 8];
                n.copy_from_slice(&bytes[2..10]);
                (
                    usize::try_from(u64::from_be_bytes(n)).unwrap_or(usize::MAX),
                    10,
                )
            }
            n => (usize::from(n), 2),
        };
        frames.push((opcode, bytes[head..head + len].to_vec()));
        bytes = &bytes[head + len..];
    }
    frames
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_of_every_length_class_parse_back_in_order() {
        let mut out = Vec::new();
        let sizes = [0usize, 1, 125, 126, 1000, 65_535, 65_536, 70_000];
        for (i, &n) in sizes.iter().enumerate() {
            push_frame(&mut out, OpCode::Binary, |o| {
                o.extend((0..n).map(|b| (b + i) as u8));
            });
        }
        push_frame(&mut out, OpCode::Close, |o| close_payload(4000, "bye", o));
        let frames = parse_frames(&out);
        assert_eq!(frames.len(), sizes.len() + 1);
        for (i, &n) in sizes.iter().enumerate() {
            assert_eq!(frames[i].0, 0x2);
            let want: Vec<u8> = (0..n).map(|b| (b + i) as u8).collect();
            assert_eq!(frames[i].1, want, "frame {i} of {n} bytes");
        }
        assert_eq!(frames[sizes.len()], (0x8, b"\x0f\xa0bye".to_vec()));
    }

    #[test]
    fn a_close_reason_is_cut_to_a_control_frame_on_a_character_boundary() {
        let mut out = Vec::new();
        close_payload(1000, &"é".repeat(100), &mut out);
        assert!(out.len() <= 125);
        assert!(std::str::from_utf8(&out[2..]).is_ok());
    }
}
