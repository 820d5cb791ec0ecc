//! The JavaScript SDK's own tests (`node --test assets/web/test`), run from the workspace's
//! test command: they load the committed `tickwire.wasm` and play the golden frames the Rust
//! encoder recorded through it.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn the_sdk_tests_pass_in_node() -> anyhow::Result<()> {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let node = match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => "node",
        _ if std::env::var_os("CI").is_some() => anyhow::bail!("node is required under CI"),
        _ => {
            eprintln!("skipped: node is not installed");
            return Ok(());
        }
    };
    let out = Command::new(node)
        .arg("--test")
        .arg(root.join("assets/web/test/"))
        .current_dir(&root)
        .output()?;
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "node --test failed:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        report.contains("# fail 0") && !report.contains("# pass 0"),
        "the SDK tests ran and passed:\n{report}"
    );
    Ok(())
}
