use bot_client::args::Args;
use clap::Parser;

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    println!("{args:#?}");
    Ok(())
}
