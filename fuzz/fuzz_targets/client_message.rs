//! Every frame a client can send (and, as it is cheap, every frame a server can): decoding never
//! panics, and whatever decodes survives a round trip through the codec.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::codec;
use shared::games::arena::ArenaInput;
use shared::games::cycles::CyclesInput;
use shared::protocol::{ClientMessage, ServerMessage};

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = codec::decode_client(data) {
        let bytes = codec::encode_client(&msg);
        assert!(bytes.len() <= data.len(), "re-encoding is never longer");
        assert_eq!(codec::decode_client(&bytes), Ok(msg.clone()), "round trip");
        // The session hands a game only the inputs its declaration admits.
        if let ClientMessage::Input(input) = &msg {
            let _ = input.values.read::<ArenaInput>();
            let _ = input.values.read::<CyclesInput>();
        }
    }
    if let Ok(msg) = codec::decode_server(data) {
        let bytes = codec::encode_server(&msg);
        assert!(bytes.len() <= data.len(), "re-encoding is never longer");
        assert_eq!(codec::decode_server(&bytes), Ok(msg.clone()), "round trip");
        // The server assembles snapshot frames from a header and a shared body; they must be
        // the bytes of the whole message.
        if let ServerMessage::Snapshot(snapshot) = &msg {
            let mut frame = Vec::new();
            codec::snapshot_frame(
                &snapshot.header,
                &codec::encode_snapshot_body(&snapshot.body),
                &mut frame,
            );
            assert_eq!(frame, bytes, "assembled frame");
        }
    }
});
