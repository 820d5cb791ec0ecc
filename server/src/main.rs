use clap::Parser;
use server::config::{Cli, Config};

fn main() -> anyhow::Result<()> {
    let config = Config::resolve(Cli::parse())?;
    println!("{config:#?}");
    Ok(())
}
