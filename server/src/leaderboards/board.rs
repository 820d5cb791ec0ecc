//! Leaderboard definitions and their seasons.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::store::ResultRow;

/// What a board ranks, taken from each player's line of a match's results: the score, or one of
/// the stats its game declares. Written as a string in config and JSON (`"score"`, `"kills"`,
/// `"cuts"`); which stat names exist depends on the board's game (see
/// `config::validate_boards`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Metric {
    Score,
    /// A stat, by the name its game declares.
    Stat(String),
}

impl Metric {
    /// The metric's name, as written in config and JSON.
    pub fn name(&self) -> &str {
        match self {
            Metric::Score => "score",
            Metric::Stat(name) => name,
        }
    }
}

impl From<String> for Metric {
    fn from(name: String) -> Metric {
        if name == "score" {
            Metric::Score
        } else {
            Metric::Stat(name)
        }
    }
}

impl From<Metric> for String {
    fn from(metric: Metric) -> String {
        match metric {
            Metric::Score => "score".to_string(),
            Metric::Stat(name) => name,
        }
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

// By hand: the derive cannot see through `serde(from, into)`, and the schema is a plain string.
impl utoipa::PartialSchema for Metric {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "`score`, or the name of one of the board's game's stats",
            ))
            .examples(["score", "kills", "cuts"])
            .into()
    }
}

impl ToSchema for Metric {}

/// How a new value combines with the record already on the board (as Nakama's operators).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Operator {
    /// Keep the better of the two.
    Best,
    /// Add them up.
    Sum,
    /// Keep the newest.
    Latest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// Higher is better.
    Desc,
    /// Lower is better.
    Asc,
}

/// When a board starts a new season; old seasons stay readable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Reset {
    Never,
    /// Mondays 00:00 UTC.
    Weekly,
    /// Every day 00:00 UTC.
    Daily,
}

/// One board, as configured (`[[leaderboards]]` in the config file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BoardDef {
    pub id: String,
    /// The game whose matches feed the board.
    #[serde(default = "default_game")]
    pub game: String,
    pub metric: Metric,
    pub operator: Operator,
    #[serde(default = "default_order")]
    pub order: Order,
    #[serde(default = "default_reset")]
    pub reset: Reset,
}

fn default_game() -> String {
    // The only game there was before boards named theirs.
    "arena".to_string()
}

fn default_order() -> Order {
    Order::Desc
}

fn default_reset() -> Reset {
    Reset::Never
}

/// The boards a server has when its config names none. The arena boards keep the ids they had
/// when arena was the only game, so their stored records stay theirs.
pub fn default_boards() -> Vec<BoardDef> {
    let board = |id: &str, game: &str, metric, operator, reset| BoardDef {
        id: id.to_string(),
        game: game.to_string(),
        metric,
        operator,
        order: Order::Desc,
        reset,
    };
    let kills = Metric::Stat("kills".to_string());
    let cuts = Metric::Stat("cuts".to_string());
    vec![
        board("score", "arena", Metric::Score, Operator::Sum, Reset::Never),
        board(
            "score_weekly",
            "arena",
            Metric::Score,
            Operator::Sum,
            Reset::Weekly,
        ),
        board("kills", "arena", kills, Operator::Sum, Reset::Never),
        board(
            "best_match",
            "arena",
            Metric::Score,
            Operator::Best,
            Reset::Never,
        ),
        board(
            "cycles_score",
            "cycles",
            Metric::Score,
            Operator::Sum,
            Reset::Never,
        ),
        board("cycles_cuts", "cycles", cuts, Operator::Sum, Reset::Never),
    ]
}

const DAY_MS: i64 = 86_400_000;
const WEEK_MS: i64 = 7 * DAY_MS;
/// 1970-01-05, the first Monday after the Unix epoch (a Thursday).
const FIRST_MONDAY_MS: i64 = 4 * DAY_MS;

impl BoardDef {
    /// The season `now_ms` falls in: its start in Unix ms (0 for boards that never reset).
    pub fn season_at(&self, now_ms: i64) -> i64 {
        match self.reset {
            Reset::Never => 0,
            Reset::Daily => now_ms - now_ms.rem_euclid(DAY_MS),
            Reset::Weekly => now_ms - (now_ms - FIRST_MONDAY_MS).rem_euclid(WEEK_MS),
        }
    }

    /// When the season containing `now_ms` ends, if the board resets.
    pub fn next_reset(&self, now_ms: i64) -> Option<i64> {
        let start = self.season_at(now_ms);
        match self.reset {
            Reset::Never => None,
            Reset::Daily => Some(start + DAY_MS),
            Reset::Weekly => Some(start + WEEK_MS),
        }
    }

    /// When the season containing `now_ms` began, if the board resets.
    pub fn prev_reset(&self, now_ms: i64) -> Option<i64> {
        (self.reset != Reset::Never).then(|| self.season_at(now_ms))
    }

    /// A season's public name: `all` for boards that never reset, else its first day
    /// (`2026-11-23`).
    pub fn season_name(&self, season: i64) -> String {
        match self.reset {
            Reset::Never => "all".to_string(),
            _ => crate::clock::rfc3339(season)[..10].to_string(),
        }
    }

    /// Parses a season name back to its start; `None` if it is not one of this board's seasons.
    pub fn parse_season(&self, name: &str) -> Option<i64> {
        match self.reset {
            Reset::Never => (name == "all").then_some(0),
            _ => {
                let t = humantime::parse_rfc3339(&format!("{name}T00:00:00Z")).ok()?;
                let ms = t.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64;
                (self.season_at(ms) == ms).then_some(ms)
            }
        }
    }

    /// The stored sort key: lower sorts first, whatever the board's order.
    pub fn sort_key(&self, score: i64) -> i64 {
        match self.order {
            Order::Desc => -score,
            Order::Asc => score,
        }
    }

    /// The metric's value in one result line; `None` if the line lacks the board's stat.
    pub fn value(&self, row: &ResultRow) -> Option<i64> {
        match &self.metric {
            Metric::Score => Some(row.score),
            Metric::Stat(name) => row.stat(name),
        }
    }

    /// The new stored value when `incoming` arrives for a record holding `current`; `None` when
    /// the record keeps its value (a `best` board and no improvement).
    pub fn combine(&self, current: Option<i64>, incoming: i64) -> Option<i64> {
        let Some(current) = current else {
            return Some(incoming);
        };
        match self.operator {
            Operator::Sum => Some(current.saturating_add(incoming)),
            Operator::Latest => Some(incoming),
            Operator::Best => {
                (self.sort_key(incoming) < self.sort_key(current)).then_some(incoming)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weekly() -> BoardDef {
        BoardDef {
            id: "w".into(),
            game: "arena".into(),
            metric: Metric::Score,
            operator: Operator::Sum,
            order: Order::Desc,
            reset: Reset::Weekly,
        }
    }

    fn ms(rfc: &str) -> i64 {
        humantime::parse_rfc3339(rfc)
            .expect("timestamp")
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after epoch")
            .as_millis() as i64
    }

    #[test]
    fn metric_is_score_or_a_stat_name_in_config_and_json() {
        let board: BoardDef =
            toml::from_str("id = \"k\"\nmetric = \"kills\"\noperator = \"sum\"\n")
                .expect("a board without a game parses");
        assert_eq!(board.game, "arena", "game defaults to arena");
        assert_eq!(
            board.metric,
            Metric::Stat("kills".into()),
            "a non-score metric names a stat"
        );
        let json = serde_json::to_value(&board).expect("serialises");
        assert_eq!(json["metric"], "kills", "written back as the stat name");
        let board: BoardDef = toml::from_str(
            "id = \"s\"\ngame = \"cycles\"\nmetric = \"score\"\noperator = \"best\"\n",
        )
        .expect("parses");
        assert_eq!(board.metric, Metric::Score, "score is the score");
        assert_eq!(board.game, "cycles", "game as given");
    }

    #[test]
    fn a_line_lacking_the_stat_gives_no_value() {
        let mut board = weekly();
        let row = ResultRow {
            account_id: 1,
            player_id: 1,
            username: "a".into(),
            score: 7,
            stats: vec![("cuts".into(), 3), ("crashes".into(), 1)],
        };
        assert_eq!(board.value(&row), Some(7), "score board reads the score");
        board.metric = Metric::Stat("crashes".into());
        assert_eq!(board.value(&row), Some(1), "stat board reads its stat");
        board.metric = Metric::Stat("kills".into());
        assert_eq!(board.value(&row), None, "no kills in a cycles line");
    }

    #[test]
    fn weekly_seasons_start_on_monday_midnight_utc() {
        let board = weekly();
        // 2026-11-27 is a Friday; its week began Monday 2026-11-23.
        let friday = ms("2026-11-27T13:45:00Z");
        assert_eq!(
            board.season_at(friday),
            ms("2026-11-23T00:00:00Z"),
            "Monday of that week"
        );
        assert_eq!(
            board.next_reset(friday),
            Some(ms("2026-11-30T00:00:00Z")),
            "next Monday"
        );
        let last_moment = ms("2026-11-29T23:59:59Z") + 999;
        assert_eq!(
            board.season_at(last_moment),
            ms("2026-11-23T00:00:00Z"),
            "Sunday night"
        );
        assert_eq!(
            board.season_at(last_moment + 1),
            ms("2026-11-30T00:00:00Z"),
            "rolls over"
        );
        assert_eq!(
            board.season_name(board.season_at(friday)),
            "2026-11-23",
            "season name"
        );
        assert_eq!(
            board.parse_season("2026-11-23"),
            Some(ms("2026-11-23T00:00:00Z")),
            "parses"
        );
        assert_eq!(
            board.parse_season("2026-11-24"),
            None,
            "a Tuesday is no season start"
        );
    }

    #[test]
    fn operators_combine_as_named() {
        let mut board = weekly();
        assert_eq!(board.combine(Some(10), 5), Some(15), "sum adds");
        board.operator = Operator::Best;
        assert_eq!(board.combine(Some(10), 5), None, "best keeps the higher");
        assert_eq!(
            board.combine(Some(10), 12),
            Some(12),
            "best takes an improvement"
        );
        board.order = Order::Asc;
        assert_eq!(
            board.combine(Some(10), 5),
            Some(5),
            "best on an ascending board is lower"
        );
        board.operator = Operator::Latest;
        assert_eq!(board.combine(Some(10), 3), Some(3), "latest replaces");
        assert_eq!(board.combine(None, 7), Some(7), "first value");
    }
}
