//! Writes the seed corpora, `corpus/<target>/<name>`, from the real encoders and the shipped
//! assets: `cargo run --example seed_corpus` in `fuzz/` (after a protocol change, then commit).

use std::path::Path;

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for (target, seeds) in [
        ("client_message", tickwire_fuzz::client_message_seeds()),
        ("delta_apply", tickwire_fuzz::delta_apply_seeds()),
        ("assets", tickwire_fuzz::assets_seeds()),
        ("tokens", tickwire_fuzz::tokens_seeds()),
    ] {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir)?;
        for (name, bytes) in seeds {
            std::fs::write(dir.join(name), bytes)?;
        }
    }
    Ok(())
}
