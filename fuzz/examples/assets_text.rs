//! Prints what an `assets` fuzz input stands for: the game, which file the text replaces, the
//! seed and ticks, and the TOML text. For turning a crash into a regression test:
//! `cargo run --example assets_text -- artifacts/assets/crash-...`.

use tickwire_fuzz::{AssetsMode, RENUMBER, renumber};

fn main() -> std::io::Result<()> {
    for path in std::env::args().skip(1) {
        let data = std::fs::read(&path)?;
        let [mode_byte, knob, rest @ ..] = &data[..] else {
            eprintln!("{path}: too short");
            continue;
        };
        let mode = AssetsMode::from_byte(*mode_byte);
        let text = if mode_byte & RENUMBER != 0 {
            match rest.split_first() {
                Some((pick, numbers)) => renumber(mode.template(*pick), numbers),
                None => String::new(),
            }
        } else {
            String::from_utf8_lossy(rest).into_owned()
        };
        let file = if mode.is_map() { "a map" } else { "game.toml" };
        println!(
            "== {path}: {} {file}, seed {knob}, {} ticks\n{text}",
            mode.game(),
            knob % 16
        );
    }
    Ok(())
}
