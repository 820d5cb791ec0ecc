//! Each shipped game's `game.toml` and maps from arbitrary text: parsing and validation never
//! panic, and whatever they accept starts a match that plays a few ticks, showing worlds that
//! every client can rebuild from the server's deltas.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::{World, apply, codec, diff};
use tickwire_fuzz::{AssetsMode, RENUMBER, renumber};

fuzz_target!(|data: &[u8]| {
    let [mode_byte, knob, rest @ ..] = data else {
        return;
    };
    let mode = AssetsMode::from_byte(*mode_byte);
    let renumbered;
    let text = if mode_byte & RENUMBER != 0 {
        let Some((pick, numbers)) = rest.split_first() else {
            return;
        };
        renumbered = renumber(mode.template(*pick), numbers);
        &renumbered
    } else {
        let Ok(text) = std::str::from_utf8(rest) else {
            return;
        };
        text
    };
    let (config, map) = mode.shipped();
    let (config, map) = if mode.is_map() {
        (config, text)
    } else {
        (text, map)
    };
    let ticks = u32::from(knob % 16);
    let played = server::fuzzing::load_and_play(mode.game(), config, map, u64::from(*knob), ticks)
        .expect("a shipped game");
    let Ok(worlds) = played else {
        return;
    };
    let mut client = worlds
        .first()
        .map(|w| World::new(w.schema()))
        .unwrap_or_else(|| {
            World::new(shared::games::by_name(mode.game()).expect("shipped").entity)
        });
    for world in &worlds {
        for (id, row) in world.iter() {
            assert!(
                world.schema().admits(row),
                "{id:?}: row {row:?} out of its declared ranges"
            );
        }
        let delta = diff(&client, world);
        let bytes = codec::encode_value(&delta);
        assert!(
            bytes.len() <= codec::MAX_SERVER_MESSAGE,
            "a frame the client accepts"
        );
        let delta = codec::decode_value(&bytes, codec::MAX_SERVER_MESSAGE).expect("decodes");
        client = apply(&client, &delta).expect("the client rebuilds the world");
        assert_eq!(&client, world, "rebuilt exactly");
    }
});
