//! The wire codec: bincode 2 with varint integers, behind `encode`/`decode`. Decoding refuses
//! oversized input before reading it and caps what a length prefix may allocate, so hostile bytes
//! get an error, never a panic or a huge allocation.

use bincode::config::{self, Configuration, Limit, LittleEndian, Varint};
use bincode::{Decode, Encode};

use crate::protocol::{ClientMessage, ServerMessage, SnapshotBody, SnapshotHeader};

/// Largest client → server message (as Nakama and Colyseus use).
pub const MAX_CLIENT_MESSAGE: usize = 4 * 1024;
/// Largest server → client message: a keyframe of a crowded match fits with room to spare.
pub const MAX_SERVER_MESSAGE: usize = 1024 * 1024;

/// Index of [`ServerMessage::Snapshot`] in the enum: bincode writes it as the variant tag.
const SNAPSHOT_VARIANT: u32 = 1;

fn standard() -> Configuration<LittleEndian, Varint> {
    config::standard()
}

fn limited<const N: usize>() -> Configuration<LittleEndian, Varint, Limit<N>> {
    config::standard().with_limit::<N>()
}

/// Why bytes could not be decoded. Small and `Copy`: it is made on the hot path for every bad
/// frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("message of {len} bytes exceeds the limit of {limit}")]
    TooLarge { len: usize, limit: usize },
    #[error("malformed message")]
    Malformed,
    #[error("{0} unexpected bytes after the message")]
    TrailingBytes(usize),
}

/// Encodes any protocol value. Encoding into a `Vec` cannot fail for these types.
pub fn encode_value<T: Encode>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(value, &mut out);
    out
}

/// Appends the encoding of `value` to `out`.
pub fn encode_into<T: Encode>(value: &T, out: &mut Vec<u8>) {
    // Writing to a Vec has no I/O error, and the only fallible encoder (a `Delta` refuses lists
    // not sorted by index) never sees one: `diff` and `keyframe` make them sorted.
    bincode::encode_into_std_write(value, out, standard()).expect("encoding into a Vec");
}

/// Decodes one value that must span all of `bytes`, with `limit` bounding both the input length
/// and what the decoder may allocate.
pub fn decode_value<T: Decode<()>>(bytes: &[u8], limit: usize) -> Result<T, CodecError> {
    if bytes.len() > limit {
        return Err(CodecError::TooLarge {
            len: bytes.len(),
            limit,
        });
    }
    // The allocation cap must be a constant; pick the smaller of the two we use.
    let decoded = if limit <= MAX_CLIENT_MESSAGE {
        bincode::decode_from_slice(bytes, limited::<MAX_CLIENT_MESSAGE>())
    } else {
        bincode::decode_from_slice(bytes, limited::<MAX_SERVER_MESSAGE>())
    };
    let (value, used) = decoded.map_err(|_| CodecError::Malformed)?;
    if used != bytes.len() {
        return Err(CodecError::TrailingBytes(bytes.len() - used));
    }
    Ok(value)
}

pub fn encode_client(msg: &ClientMessage) -> Vec<u8> {
    encode_value(msg)
}

pub fn decode_client(bytes: &[u8]) -> Result<ClientMessage, CodecError> {
    decode_value(bytes, MAX_CLIENT_MESSAGE)
}

pub fn encode_server(msg: &ServerMessage) -> Vec<u8> {
    encode_value(msg)
}

pub fn decode_server(bytes: &[u8]) -> Result<ServerMessage, CodecError> {
    decode_value(bytes, MAX_SERVER_MESSAGE)
}

/// Encodes a snapshot body once, to be shared by every client on the same baseline.
pub fn encode_snapshot_body(body: &SnapshotBody) -> Vec<u8> {
    // Field by field, as the derived encoding writes them, with the delta through its own fast
    // writer: the bytes equal `encode_value(body)` (a test pins that).
    let mut out = Vec::new();
    // Only an unsorted delta fails to encode, and `diff` and `keyframe` make them sorted.
    body.delta
        .write_to(&mut out)
        .expect("a delta from diff or keyframe");
    encode_into(&body.events, &mut out);
    encode_into(&body.checksum, &mut out);
    out
}

/// Writes a whole `ServerMessage::Snapshot` frame into `out` from a per-client header and a
/// pre-encoded body. The bytes equal `encode_server(&ServerMessage::Snapshot(..))`.
pub fn snapshot_frame(header: &SnapshotHeader, body: &[u8], out: &mut Vec<u8>) {
    out.reserve(16 + body.len());
    encode_into(&SNAPSHOT_VARIANT, out);
    encode_into(header, out);
    out.extend_from_slice(body);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delta::{diff, diff_predicted};
    use crate::protocol::*;
    use crate::schema::InputValues;
    use crate::testing::{arb_world_pair, arb_world_triple, world_with};
    use crate::tick::Tick;
    use crate::world::World;
    use proptest::collection::vec;
    use proptest::prelude::*;

    fn arb_tick() -> impl Strategy<Value = Tick> {
        any::<u32>().prop_map(Tick)
    }

    fn arb_client_message() -> impl Strategy<Value = ClientMessage> {
        prop_oneof![
            (
                any::<u16>(),
                ".{0,40}",
                proptest::option::of((".{0,40}", arb_tick())),
                any::<Option<u64>>(),
            )
                .prop_map(|(v, t, r, game_hash)| ClientMessage::Hello(Hello {
                    protocol_version: v,
                    ticket: t,
                    resume: r.map(|(reconnect_token, ack_tick)| Resume {
                        reconnect_token,
                        ack_tick
                    }),
                    game_hash,
                })),
            (
                any::<u32>(),
                arb_tick(),
                vec(any::<i32>(), 0..=crate::schema::MAX_INPUT_FIELDS),
            )
                .prop_map(|(seq, ack_tick, values)| {
                    ClientMessage::Input(Input {
                        seq,
                        ack_tick,
                        values: InputValues::new(&values).expect("at most the maximum"),
                    })
                }),
            (any::<u32>(), any::<u64>())
                .prop_map(|(id, sent_us)| ClientMessage::Ping(Ping { id, sent_us })),
            (any::<u32>(), any::<u64>())
                .prop_map(|(id, sent_us)| ClientMessage::Pong(Ping { id, sent_us })),
            Just(ClientMessage::Leave),
        ]
    }

    fn arb_event() -> impl Strategy<Value = Event> {
        prop_oneof![
            (any::<u16>(), vec(any::<i32>(), 0..6))
                .prop_map(|(kind, values)| Event::Game { kind, values }),
            (any::<u32>(), ".{0,20}")
                .prop_map(|(player, name)| Event::PlayerJoined { player, name }),
            any::<u32>().prop_map(|player| Event::PlayerLeft { player }),
        ]
    }

    fn arb_result() -> impl Strategy<Value = PlayerResult> {
        (
            any::<u32>(),
            any::<i64>(),
            ".{0,16}",
            any::<i64>(),
            vec((".{0,8}", any::<i64>()), 0..4),
        )
            .prop_map(
                |(player_id, account_id, username, score, stats)| PlayerResult {
                    player_id,
                    account_id,
                    username,
                    score,
                    stats,
                },
            )
    }

    fn arb_server_message() -> impl Strategy<Value = ServerMessage> {
        prop_oneof![
            (
                (any::<u32>(), ".{0,12}", ".{0,8}", any::<u64>()),
                any::<u16>(),
                ".{0,12}",
                ".{0,30}",
                any::<u16>(),
                arb_tick(),
                any::<u32>(),
                vec((any::<u32>(), ".{0,12}"), 0..4)
            )
                .prop_map(
                    |(
                        (player_id, match_id, game, game_hash),
                        tick_rate,
                        map,
                        reconnect_token,
                        reconnect_grace_s,
                        tick,
                        ticks_remaining,
                        players,
                    )| {
                        ServerMessage::Welcome(Welcome {
                            player_id,
                            match_id,
                            game,
                            game_hash,
                            tick_rate,
                            map,
                            reconnect_token,
                            reconnect_grace_s,
                            tick,
                            ticks_remaining,
                            players,
                        })
                    }
                ),
            (
                prop_oneof![
                    arb_world_pair().prop_map(|(base, cur)| diff(&base, &cur)),
                    arb_world_triple().prop_map(|(older, base, cur, prediction)| {
                        diff_predicted(&older, &base, &cur, prediction)
                    }),
                ],
                arb_tick(),
                arb_tick(),
                any::<u32>(),
                vec(
                    (any::<u16>(), arb_event()).prop_map(|(ago, event)| TimedEvent { ago, event }),
                    0..4
                ),
                any::<Option<u64>>()
            )
                .prop_map(
                    |(delta, tick, baseline_tick, last_input_seq, events, checksum)| {
                        ServerMessage::Snapshot(Snapshot {
                            header: SnapshotHeader {
                                tick,
                                baseline_tick,
                                last_input_seq,
                            },
                            body: SnapshotBody {
                                delta,
                                events,
                                checksum,
                            },
                        })
                    }
                ),
            arb_event().prop_map(ServerMessage::Event),
            (any::<u32>(), any::<u64>())
                .prop_map(|(id, sent_us)| ServerMessage::Ping(Ping { id, sent_us })),
            (any::<u32>(), any::<u64>())
                .prop_map(|(id, sent_us)| ServerMessage::Pong(Ping { id, sent_us })),
            vec(arb_result(), 0..8)
                .prop_map(|results| ServerMessage::MatchEnd(MatchEnd { results })),
            ".{0,40}".prop_map(|reason| ServerMessage::Kicked { reason }),
        ]
    }

    proptest! {
        #[test]
        fn every_client_message_round_trips(msg in arb_client_message()) {
            prop_assert_eq!(decode_client(&encode_client(&msg)), Ok(msg));
        }

        #[test]
        fn every_server_message_round_trips(msg in arb_server_message()) {
            prop_assert_eq!(decode_server(&encode_server(&msg)), Ok(msg));
        }

        #[test]
        fn random_bytes_never_panic(bytes in vec(any::<u8>(), 0..6000)) {
            let _ = decode_client(&bytes);
            let _ = decode_server(&bytes);
        }

        #[test]
        fn mutated_messages_never_panic(
            msg in arb_server_message(),
            edits in vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut bytes = encode_server(&msg);
            for (at, byte) in edits {
                if !bytes.is_empty() {
                    let i = at.index(bytes.len());
                    bytes[i] = byte;
                }
            }
            let _ = decode_server(&bytes);
            let _ = decode_client(&bytes);
            if !bytes.is_empty() {
                let _ = decode_server(&bytes[..cut.index(bytes.len())]);
            }
        }

        #[test]
        fn assembled_frame_equals_whole_message((base, cur) in arb_world_pair(), tick in arb_tick(), seq in any::<u32>()) {
            let header = SnapshotHeader { tick, baseline_tick: Tick(1), last_input_seq: seq };
            let body = SnapshotBody { delta: diff(&base, &cur), events: vec![], checksum: Some(7) };
            let mut frame = Vec::new();
            snapshot_frame(&header, &encode_snapshot_body(&body), &mut frame);
            prop_assert_eq!(frame, encode_server(&ServerMessage::Snapshot(Snapshot { header, body })));
        }
    }

    #[test]
    fn oversized_client_message_is_refused_before_decoding() {
        let huge = vec![0u8; MAX_CLIENT_MESSAGE + 1];
        assert_eq!(
            decode_client(&huge),
            Err(CodecError::TooLarge {
                len: MAX_CLIENT_MESSAGE + 1,
                limit: MAX_CLIENT_MESSAGE
            }),
            "size checked first"
        );
    }

    #[test]
    fn a_length_prefix_cannot_claim_a_huge_allocation() {
        // Hello with a ticket whose length prefix claims ~4 GiB.
        let mut bytes = vec![0u8, 1, 0xfc, 0xff, 0xff, 0xff, 0xff];
        bytes.extend_from_slice(b"abc");
        assert_eq!(
            decode_client(&bytes),
            Err(CodecError::Malformed),
            "claim beyond the limit"
        );
    }

    proptest! {
        #[test]
        fn the_fast_body_encoding_equals_the_derived_one(
            (older, base, current, prediction) in arb_world_triple(),
            checksum in any::<Option<u64>>(),
        ) {
            let body = SnapshotBody {
                delta: diff_predicted(&older, &base, &current, prediction),
                events: vec![TimedEvent {
                    ago: 3,
                    event: Event::PlayerLeft { player: 9 },
                }],
                checksum,
            };
            prop_assert_eq!(encode_snapshot_body(&body), encode_value(&body));
        }
    }

    #[test]
    fn trailing_bytes_are_refused() {
        let mut bytes = encode_client(&ClientMessage::Leave);
        bytes.push(0);
        assert_eq!(
            decode_client(&bytes),
            Err(CodecError::TrailingBytes(1)),
            "one extra byte"
        );
    }

    #[test]
    fn keyframe_of_a_full_match_fits_the_server_limit() {
        let world = world_with(2000, 0);
        let bytes = encode_value(&diff(&World::new(world.schema()), &world));
        assert!(
            bytes.len() < MAX_SERVER_MESSAGE,
            "2000-entity keyframe is {} B",
            bytes.len()
        );
    }
}
