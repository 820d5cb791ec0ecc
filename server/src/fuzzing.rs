//! Entry points for the fuzz targets in `fuzz/` (a crate outside the workspace). The games and
//! the API's header parsing are crate-private; these thin wrappers let the targets drive that
//! real code instead of a copy of it. Not an API: it may change at any time.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use shared::World;
use shared::assets::AssetError;
use shared::schema::{Replicated, Schema};

use crate::game::{Events, Game, GameConfig, JoinInfo, WorldWriter};
use crate::games::arena::Arena;
use crate::games::cycles::Cycles;

/// Players seated at most: enough for collisions and kills, few enough to keep runs fast.
const MAX_PLAYERS: u16 = 8;

/// Parses `config` as `<game>/game.toml` and `map` as one of its maps, as loading the assets
/// does; then, as a match on that map would, seats players and plays up to `ticks` ticks, each
/// player sending inputs picked by `seed` from the declared ranges. Whatever validation accepts
/// must play. Answers the world shown after every tick, for the caller to check what clients
/// would be sent; `None` for a game that is not shipped.
pub fn load_and_play(
    game: &str,
    config: &str,
    map: &str,
    seed: u64,
    ticks: u32,
) -> Option<Result<Vec<World>, AssetError>> {
    match game {
        "arena" => Some(play::<Arena>(config, map, seed, ticks)),
        "cycles" => Some(play::<Cycles>(config, map, seed, ticks)),
        _ => None,
    }
}

fn play<G: Game>(config: &str, map: &str, seed: u64, ticks: u32) -> Result<Vec<World>, AssetError> {
    let config = G::Config::parse("game.toml", config)?;
    let parsed = config.parse_map("maps/fuzz.toml", map)?;
    // Loading also keeps both files as JSON for clients.
    let _ = crate::assets::as_json(map);
    let seats = config.seats(&parsed).min(MAX_PLAYERS);
    let _ = (config.tick_rate(), config.default_map());
    let mut game = G::new(&config, &parsed, seed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // One more than the seats: the arena seats everyone (the lobby counts seats), cycles refuses.
    let players = u32::from(seats) + 1;
    for player in 1..=players {
        let who = JoinInfo {
            account_id: i64::from(player),
            username: "fuzz",
        };
        let _ = game.join(player, &who);
    }
    let mut events = Events::new();
    let mut worlds = Vec::new();
    for tick in 0..ticks {
        if game.is_over() {
            break;
        }
        for player in 1..=players {
            let row = random_row(G::Input::SCHEMA, &mut rng);
            // The tick driver hands a game only what the declaration admits.
            if let Some(input) = G::Input::read_row(&row) {
                game.input(player, input);
            }
        }
        // A player leaving and coming back mid-match, as a reconnect after the grace does.
        if tick == ticks / 3 {
            game.leave(1);
        }
        if tick == ticks / 2 {
            let who = JoinInfo {
                account_id: 1,
                username: "fuzz",
            };
            let _ = game.join(1, &who);
        }
        game.step(&mut events);
        events.drain().for_each(drop);
        let mut out = WorldWriter::new();
        game.world(&mut out);
        worlds.push(out.finish());
        let _ = game.state_hash();
    }
    let _ = (game.ticks_remaining(), game.results());
    Ok(worlds)
}

/// A value in each field's declared range, in canonical wire form.
fn random_row(schema: &Schema, rng: &mut ChaCha8Rng) -> Vec<i32> {
    schema
        .fields
        .iter()
        .map(|f| f.ty.wrap(rng.random_range(f.min..=f.max)))
        .collect()
}

/// The token of an `Authorization` header, as the API's extractors read it; `None` where they
/// refuse the header.
pub fn bearer_token(header: &[u8]) -> Option<String> {
    let value = axum::http::HeaderValue::from_bytes(header).ok()?;
    let (parts, ()) = axum::http::Request::builder()
        .header(axum::http::header::AUTHORIZATION, value)
        .body(())
        .ok()?
        .into_parts();
    crate::api::auth::bearer(&parts).ok().map(str::to_string)
}
