//! A client frame's header (RFC 6455 §5.2), parsed from the bytes read so far, and everything
//! the header alone decides: reserved bits, unknown opcodes, fragmented or oversized control
//! frames, a missing mask, a payload over the limit. Refusing those here means a hostile frame
//! is never buffered.

use fastwebsockets::OpCode;

use super::inbound::InboundError;

/// The parts of a header the reader uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FrameHead {
    pub(super) fin: bool,
    pub(super) opcode: OpCode,
    pub(super) mask: [u8; 4],
    /// Header bytes, mask included.
    pub(super) size: usize,
    pub(super) payload: usize,
}

impl FrameHead {
    /// The whole frame's length, header and payload.
    pub(super) fn frame_len(&self) -> usize {
        self.size + self.payload
    }
}

fn opcode(bits: u8) -> Option<OpCode> {
    Some(match bits {
        0x0 => OpCode::Continuation,
        0x1 => OpCode::Text,
        0x2 => OpCode::Binary,
        0x8 => OpCode::Close,
        0x9 => OpCode::Ping,
        0xA => OpCode::Pong,
        _ => return None,
    })
}

fn is_control(opcode: OpCode) -> bool {
    matches!(opcode, OpCode::Close | OpCode::Ping | OpCode::Pong)
}

/// The header at the start of `bytes`: `Ok(None)` while it is not all there, an error as soon as
/// what is there is refused. `max_payload` bounds one frame's payload.
pub(super) fn parse(bytes: &[u8], max_payload: usize) -> Result<Option<FrameHead>, InboundError> {
    let Some(&[first, second]) = bytes.get(..2) else {
        return Ok(None);
    };
    if first & 0x70 != 0 {
        // No extension is negotiated, so no reserved bit may be set.
        return Err(InboundError::Protocol("reserved bits are set".into()));
    }
    let opcode = opcode(first & 0x0f)
        .ok_or_else(|| InboundError::Protocol(format!("unknown opcode {:#x}", first & 0x0f)))?;
    let fin = first & 0x80 != 0;
    if is_control(opcode) && !fin {
        return Err(InboundError::Protocol("fragmented control frame".into()));
    }
    let code = second & 0x7f;
    if is_control(opcode) && code > 125 {
        return Err(InboundError::Protocol(
            "control frame payload over 125 bytes".into(),
        ));
    }
    if second & 0x80 == 0 {
        return Err(InboundError::Unmasked);
    }
    let extra = match code {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let size = 2 + extra + 4;
    let Some(rest) = bytes.get(2..size) else {
        return Ok(None);
    };
    let (length, mask) = rest.split_at(extra);
    let declared = match extra {
        0 => u64::from(code),
        _ => length.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b)),
    };
    let payload = match usize::try_from(declared) {
        Ok(n) if n <= max_payload => n,
        _ => return Err(InboundError::TooLarge(max_payload)),
    };
    Ok(Some(FrameHead {
        fin,
        opcode,
        mask: [mask[0], mask[1], mask[2], mask[3]],
        size,
        payload,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A masked client frame's header: `first` byte, then the length in its shortest form.
    fn head(first: u8, len: usize) -> Vec<u8> {
        let mut h = vec![first];
        match len {
            0..=125 => h.push(0x80 | len as u8),
            126..=65535 => {
                h.push(0x80 | 126);
                h.extend_from_slice(&(len as u16).to_be_bytes());
            }
            _ => {
                h.push(0x80 | 127);
                h.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        h.extend_from_slice(&[1, 2, 3, 4]);
        h
    }

    #[test]
    fn reads_the_three_length_forms() {
        for (len, size) in [(0, 6), (125, 6), (126, 8), (65535, 8), (65536, 14)] {
            let parsed = parse(&head(0x82, len), 1 << 20)
                .expect("valid")
                .expect("whole");
            assert_eq!(
                parsed,
                FrameHead {
                    fin: true,
                    opcode: OpCode::Binary,
                    mask: [1, 2, 3, 4],
                    size,
                    payload: len,
                }
            );
        }
    }

    #[test]
    fn waits_for_a_torn_header() {
        let whole = head(0x02, 70_000);
        for cut in 0..whole.len() {
            assert_eq!(parse(&whole[..cut], 1 << 20).expect("valid so far"), None);
        }
    }

    #[test]
    fn refuses_from_the_header_alone() {
        let refused = |bytes: &[u8]| parse(bytes, 4096).err().map(|e| e.to_string());
        assert!(refused(&head(0xC2, 3)).is_some_and(|e| e.contains("reserved")));
        assert!(refused(&head(0x83, 3)).is_some_and(|e| e.contains("opcode")));
        assert!(refused(&head(0x09, 3)).is_some_and(|e| e.contains("fragmented")));
        assert!(refused(&head(0x89, 126)).is_some_and(|e| e.contains("125")));
        assert!(refused(&[0x82, 0x03]).is_some_and(|e| e.contains("masked")));
        assert!(refused(&head(0x82, 4097)).is_some_and(|e| e.contains("4096")));
        // A declared length past what a u64 leaves for usize, or simply absurd: too large, at
        // once, before any of it is read.
        let mut absurd = vec![0x82, 0x80 | 127];
        absurd.extend_from_slice(&u64::MAX.to_be_bytes());
        absurd.extend_from_slice(&[0; 4]);
        assert!(matches!(
            parse(&absurd, 4096),
            Err(InboundError::TooLarge(4096))
        ));
    }

    proptest! {
        /// Whatever the bytes, parsing never panics and a parsed header lies within them.
        #[test]
        fn any_bytes_parse_or_are_refused(bytes in proptest::collection::vec(any::<u8>(), 0..32)) {
            if let Ok(Some(h)) = parse(&bytes, 64) {
                prop_assert!(h.size <= bytes.len());
                prop_assert!(h.payload <= 64);
            }
        }
    }
}
