//! What the SDK reads rarely (once per game, per connection or per match) crosses to JavaScript
//! as JSON: a game's declaration, the handshake's answer and the results. Per-tick data never
//! does; it is read as typed arrays over the wasm memory.

use serde::Serialize;
use shared::protocol::{PlayerResult, Welcome};
use shared::schema::{Field, GameProtocol, Schema};

#[derive(Serialize)]
struct FieldJson {
    name: &'static str,
    /// `bool`, `u8` ... `i32`.
    #[serde(rename = "type")]
    ty: &'static str,
    /// `value`, `diff` or `predicted`.
    encoding: &'static str,
    min: i64,
    max: i64,
}

#[derive(Serialize)]
struct EventJson {
    name: &'static str,
    kind: u16,
    fields: Vec<FieldJson>,
}

#[derive(Serialize)]
struct GameJson {
    name: &'static str,
    hash: String,
    entity: Vec<FieldJson>,
    input: Vec<FieldJson>,
    events: Vec<EventJson>,
    stats: &'static [&'static str],
}

fn fields(fields: &'static [Field]) -> Vec<FieldJson> {
    fields
        .iter()
        .map(|f| FieldJson {
            name: f.name,
            ty: f.ty.name(),
            encoding: f.encoding.name(),
            min: f.min,
            max: f.max,
        })
        .collect()
}

fn schema(schema: &'static Schema) -> Vec<FieldJson> {
    fields(schema.fields)
}

/// A game's declaration: its entity's and input's fields in row order, its events and stats.
pub fn game(game: &'static GameProtocol) -> String {
    let json = GameJson {
        name: game.name,
        hash: format!("{:016x}", game.hash()),
        entity: schema(game.entity),
        input: schema(game.input),
        events: game
            .events
            .variants
            .iter()
            .map(|v| EventJson {
                name: v.name,
                kind: v.kind,
                fields: fields(v.fields),
            })
            .collect(),
        stats: game.stats,
    };
    to_string(&json)
}

#[derive(Serialize)]
struct WelcomeJson<'a> {
    player_id: u32,
    match_id: &'a str,
    game: &'a str,
    map: &'a str,
    tick_rate: u16,
    tick: u32,
    ticks_remaining: u32,
    reconnect_grace_s: u16,
}

/// The handshake's answer (the reconnect token stays inside the core).
pub fn welcome(w: &Welcome) -> String {
    to_string(&WelcomeJson {
        player_id: w.player_id,
        match_id: &w.match_id,
        game: &w.game,
        map: &w.map,
        tick_rate: w.tick_rate,
        tick: w.tick.0,
        ticks_remaining: w.ticks_remaining,
        reconnect_grace_s: w.reconnect_grace_s,
    })
}

#[derive(Serialize)]
struct ResultJson<'a> {
    player_id: u32,
    account_id: i64,
    username: &'a str,
    score: i64,
    stats: serde_json::Map<String, serde_json::Value>,
}

/// A match's results, best score first as the server sent them.
pub fn results(results: &[PlayerResult]) -> String {
    let rows: Vec<ResultJson<'_>> = results
        .iter()
        .map(|r| ResultJson {
            player_id: r.player_id,
            account_id: r.account_id,
            username: &r.username,
            score: r.score,
            stats: r
                .stats
                .iter()
                .map(|(name, v)| (name.clone(), serde_json::Value::from(*v)))
                .collect(),
        })
        .collect();
    to_string(&rows)
}

fn to_string(value: &impl Serialize) -> String {
    // Serialising these plain structs cannot fail; an empty string tells JavaScript otherwise.
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_game_lists_its_fields_in_row_order() {
        let json: serde_json::Value =
            serde_json::from_str(&game(&shared::games::arena::PROTOCOL)).expect("json");
        let names: Vec<&str> = json["entity"]
            .as_array()
            .expect("entity")
            .iter()
            .map(|f| f["name"].as_str().expect("name"))
            .collect();
        assert_eq!(
            names,
            ["kind", "owner", "x", "y", "aim", "health", "score", "flags"]
        );
        assert_eq!(json["input"][1]["name"], "move_dir");
        assert_eq!(json["input"][1]["max"], 8);
        assert_eq!(json["input"][2]["type"], "u16");
        assert_eq!(json["entity"][2]["encoding"], "predicted");
        assert_eq!(
            json["hash"],
            format!("{:016x}", shared::games::arena::PROTOCOL.hash())
        );
    }
}
