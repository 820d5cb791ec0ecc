//! What the fuzz targets share: how each splits its input, and the seeds of the corpora under
//! `corpus/` (written by `examples/seed_corpus.rs`), so both agree on the layouts.
//!
//! Layouts:
//! - `client_message`: one frame, as a WebSocket message carries it.
//! - `delta_apply`: a game byte (bit 0: arena or cycles); a section (`u16` little-endian length,
//!   then bytes) holding a keyframe that builds the older baseline; a section holding a delta
//!   from it to the baseline; then an encoded `Snapshot` to apply over them.
//! - `assets`: a mode byte (bits 0–1: [`AssetsMode`]; bit 2: renumber a shipped file), a byte
//!   choosing the seed and the ticks played, then the TOML text; or, to renumber, a byte choosing
//!   the shipped file and the bytes [`renumber`] draws numbers from.
//! - `tokens`: a mode byte ([`TokenMode`]), then the mode's bytes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use shared::codec;
use shared::games::arena::{ArenaEntity, ArenaInput, ArenaKind};
use shared::games::cycles::{CyclesEntity, CyclesInput, CyclesKind, Heading, Turn};
use shared::protocol::*;
use shared::schema::InputValues;
use shared::{GameProtocol, NetId, Prediction, Tick, World, diff, diff_predicted, keyframe};

/// The shipped games, by the low bit of the `delta_apply` game byte.
pub fn game(selector: u8) -> &'static GameProtocol {
    shared::games::shipped()[usize::from(selector & 1)]
}

/// Splits off a `u16`-length-prefixed section; a short input gives what is left.
pub fn section(data: &[u8]) -> (&[u8], &[u8]) {
    match data {
        [a, b, rest @ ..] => {
            let len = usize::from(u16::from_le_bytes([*a, *b])).min(rest.len());
            rest.split_at(len)
        }
        _ => (&[], &[]),
    }
}

fn push_section(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u16::try_from(bytes.len()).expect("seed sections are small");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(bytes);
}

/// What the `assets` target parses, by the low two bits of its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssetsMode {
    /// The text is the arena's `game.toml`, played on the shipped default map.
    ArenaConfig,
    /// The text is an arena map, under the shipped `game.toml`.
    ArenaMap,
    CyclesConfig,
    CyclesMap,
}

impl AssetsMode {
    pub const ALL: [AssetsMode; 4] = [
        AssetsMode::ArenaConfig,
        AssetsMode::ArenaMap,
        AssetsMode::CyclesConfig,
        AssetsMode::CyclesMap,
    ];

    pub fn from_byte(b: u8) -> AssetsMode {
        AssetsMode::ALL[usize::from(b % 4)]
    }

    pub fn byte(self) -> u8 {
        self as u8
    }

    fn name(self) -> &'static str {
        match self {
            AssetsMode::ArenaConfig => "arena-game",
            AssetsMode::ArenaMap => "arena-map",
            AssetsMode::CyclesConfig => "cycles-game",
            AssetsMode::CyclesMap => "cycles-map",
        }
    }

    pub fn game(self) -> &'static str {
        match self {
            AssetsMode::ArenaConfig | AssetsMode::ArenaMap => "arena",
            AssetsMode::CyclesConfig | AssetsMode::CyclesMap => "cycles",
        }
    }

    /// Whether the text is a map (else the game's config).
    pub fn is_map(self) -> bool {
        matches!(self, AssetsMode::ArenaMap | AssetsMode::CyclesMap)
    }

    /// The shipped config and default map, which the fuzzed text stands in for one of.
    pub fn shipped(self) -> (&'static str, &'static str) {
        match self.game() {
            "arena" => (ARENA_GAME, ARENA_MAP),
            _ => (CYCLES_GAME, CYCLES_MAP),
        }
    }

    /// The `pick`-th (wrapping) shipped file of this mode's kind.
    pub fn template(self, pick: u8) -> &'static str {
        let files: Vec<&str> = SHIPPED_ASSETS
            .iter()
            .filter(|(mode, _, _)| *mode == self)
            .map(|(_, _, text)| *text)
            .collect();
        files[usize::from(pick) % files.len()]
    }
}

/// `template` (TOML) with its numbers, one after another, replaced by numbers drawn from `data`
/// (each from a selector byte and what that selector reads; the rest keep their value once the
/// bytes run out). The file stays well-formed, so the fuzzer spends its time on the values that
/// validation has to bound rather than on the syntax.
pub fn renumber(template: &str, data: &[u8]) -> String {
    let mut data = data.iter().copied();
    let mut out = String::with_capacity(template.len() + 64);
    for line in template.split_inclusive('\n') {
        // No string in the shipped files holds a `#`: all after it is a comment.
        let (code, comment) = line.split_at(line.find('#').unwrap_or(line.len()));
        let mut rest = code;
        while let Some(start) = number_start(rest) {
            let len = rest[start..]
                .find(|c: char| !(c.is_ascii_digit() || "._eE+-".contains(c)))
                .unwrap_or(rest.len() - start);
            out.push_str(&rest[..start]);
            out.push_str(&new_number(&rest[start..start + len], &mut data));
            rest = &rest[start + len..];
        }
        out.push_str(rest);
        out.push_str(comment);
    }
    out
}

/// Where the next number of a line of TOML starts: a digit (or a sign before one) that does not
/// continue a name, outside strings.
fn number_start(code: &str) -> Option<usize> {
    let bytes = code.as_bytes();
    let mut in_string = false;
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'"' => in_string = !in_string,
            _ if in_string => {}
            b'0'..=b'9' | b'-' | b'+' => {
                let after_name =
                    i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
                let digit = b.is_ascii_digit() || bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
                if digit && !after_name {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

fn new_number(original: &str, data: &mut impl Iterator<Item = u8>) -> String {
    let float = original.contains(['.', 'e', 'E']);
    let Some(selector) = data.next() else {
        return original.to_string();
    };
    let mut next = || data.next().unwrap_or(0);
    match selector % 8 {
        0 => original.to_string(),
        1 => if float { "0.0" } else { "0" }.to_string(),
        2 => format!("-{}", original.trim_start_matches(['-', '+'])),
        3 => {
            let specials: [&str; 8] = if float {
                [
                    "inf", "-inf", "nan", "1e30", "3.4e38", "1e-30", "-0.0", "1e300",
                ]
            } else {
                [
                    "65535",
                    "65536",
                    "4294967295",
                    "2147483647",
                    "-1",
                    "9223372036854775807",
                    "256",
                    "-2147483648",
                ]
            };
            specials[usize::from(next() % 8)].to_string()
        }
        4 => next().to_string(),
        5 => u16::from_le_bytes([next(), next()]).to_string(),
        6 if float => {
            let v = f32::from_bits(u32::from_le_bytes([next(), next(), next(), next()]));
            toml_float(f64::from(v))
        }
        6 => i32::from_le_bytes([next(), next(), next(), next()]).to_string(),
        _ => {
            // The original scaled by a power of ten: the values just past a bound.
            let scale = 10f64.powi(i32::from(next() % 40) - 8);
            let v = original.replace('_', "").parse::<f64>().unwrap_or(1.0) * scale;
            if float {
                toml_float(v)
            } else {
                format!("{}", v.round() as i64)
            }
        }
    }
}

fn toml_float(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        // `{:?}` always writes a `.` or an exponent, as TOML wants of a float.
        format!("{v:?}")
    }
}

pub const ARENA_GAME: &str = include_str!("../../assets/arena/game.toml");
pub const ARENA_MAP: &str = include_str!("../../assets/arena/maps/arena.toml");
pub const CYCLES_GAME: &str = include_str!("../../assets/cycles/game.toml");
pub const CYCLES_MAP: &str = include_str!("../../assets/cycles/maps/grid.toml");

/// The shipped asset files, for the seeds: (mode, file name, text).
pub const SHIPPED_ASSETS: &[(AssetsMode, &str, &str)] = &[
    (AssetsMode::ArenaConfig, "arena-game", ARENA_GAME),
    (AssetsMode::ArenaMap, "arena-arena", ARENA_MAP),
    (
        AssetsMode::ArenaMap,
        "arena-bench",
        include_str!("../../assets/arena/maps/bench.toml"),
    ),
    (
        AssetsMode::ArenaMap,
        "arena-corridors",
        include_str!("../../assets/arena/maps/corridors.toml"),
    ),
    (AssetsMode::CyclesConfig, "cycles-game", CYCLES_GAME),
    (AssetsMode::CyclesMap, "cycles-grid", CYCLES_MAP),
    (
        AssetsMode::CyclesMap,
        "cycles-duel",
        include_str!("../../assets/cycles/maps/duel.toml"),
    ),
];

/// What the `tokens` target does with its bytes, by the first byte (modulo 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenMode {
    /// The bytes are a token, verified as an access and as a refresh token.
    Verify,
    /// The bytes are a JWT header and claims (JSON, split at the first NUL), signed with the
    /// server's key: this gets past the signature to the claims.
    SignedClaims,
    /// The bytes are an `Authorization` header; its bearer token is verified.
    Header,
    /// An account id (8 bytes), a kind byte and a role: issued, then verified back.
    Issue,
    /// A purpose, a message and a tag, NUL-separated: the tag is checked.
    Tag,
}

impl TokenMode {
    pub fn from_byte(b: u8) -> TokenMode {
        [
            TokenMode::Verify,
            TokenMode::SignedClaims,
            TokenMode::Header,
            TokenMode::Issue,
            TokenMode::Tag,
        ][usize::from(b % 5)]
    }

    pub fn byte(self) -> u8 {
        self as u8
    }
}

/// The signing key the `tokens` target's server holds.
pub const TOKEN_SECRET: &[u8] = b"fuzzing signing key, 32 bytes ok";

/// A token over `header` and `claims` (JSON text), signed with [`TOKEN_SECRET`] as the server
/// signs (HS256), whatever the header says.
pub fn sign(header: &[u8], claims: &[u8]) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let key = jsonwebtoken::EncodingKey::from_secret(TOKEN_SECRET);
    // HMAC over any bytes succeeds.
    let signature =
        jsonwebtoken::crypto::sign(message.as_bytes(), &key, jsonwebtoken::Algorithm::HS256)
            .expect("HS256 signs any message");
    format!("{message}.{signature}")
}

/// The seeds of one target: (file name, bytes).
pub type Seeds = Vec<(String, Vec<u8>)>;

pub fn client_message_seeds() -> Seeds {
    let mut seeds: Seeds = Vec::new();
    let mut add = |name: &str, bytes: Vec<u8>| seeds.push((name.to_string(), bytes));
    let hello = |ticket: &str, resume: Option<Resume>, game_hash| {
        ClientMessage::Hello(Hello {
            protocol_version: PROTOCOL_VERSION,
            ticket: ticket.to_string(),
            resume,
            game_hash,
        })
    };
    add(
        "hello",
        codec::encode_client(&hello(
            "Qm9vbXMtdGlja2V0LWJ5dGVz",
            None,
            Some(shared::games::arena::PROTOCOL.hash()),
        )),
    );
    add(
        "hello-resume",
        codec::encode_client(&hello(
            "",
            Some(Resume {
                reconnect_token: "m_a1B2c3D4e.ZmFrZS1yZWNvbm5lY3QtdG9rZW4tYnl0ZXM".into(),
                ack_tick: Tick(1234),
            }),
            None,
        )),
    );
    let arena = ArenaInput {
        buttons: 3,
        move_dir: 8,
        aim: 40_000,
    };
    add(
        "input-arena",
        codec::encode_client(&ClientMessage::Input(Input {
            seq: 77,
            ack_tick: Tick(1000),
            values: InputValues::of(&arena),
        })),
    );
    add(
        "input-cycles",
        codec::encode_client(&ClientMessage::Input(Input {
            seq: 1,
            ack_tick: Tick(0),
            values: InputValues::of(&CyclesInput { turn: Turn::Left }),
        })),
    );
    let ping = Ping {
        id: 9,
        sent_us: 1_700_000_000_000_000,
    };
    add("ping", codec::encode_client(&ClientMessage::Ping(ping)));
    add("pong", codec::encode_client(&ClientMessage::Pong(ping)));
    add("leave", codec::encode_client(&ClientMessage::Leave));
    // Server frames too: the target decodes every input both ways.
    let welcome = ServerMessage::Welcome(Welcome {
        player_id: 3,
        match_id: "m_a1B2c3D4e".into(),
        game: "arena".into(),
        game_hash: shared::games::arena::PROTOCOL.hash(),
        tick_rate: 30,
        map: "arena".into(),
        reconnect_token: "m_a1B2c3D4e.ZmFrZS1yZWNvbm5lY3Q".into(),
        reconnect_grace_s: 20,
        tick: Tick(500),
        ticks_remaining: 4900,
        players: vec![(1, "ada".into()), (3, "bo".into())],
    });
    add("server-welcome", codec::encode_server(&welcome));
    let (older, base, current) = arena_worlds();
    let snapshot = |delta, baseline_tick| {
        ServerMessage::Snapshot(Snapshot {
            header: SnapshotHeader {
                tick: Tick(12),
                baseline_tick: Tick(baseline_tick),
                last_input_seq: 40,
            },
            body: SnapshotBody {
                delta,
                events: vec![
                    TimedEvent {
                        ago: 1,
                        event: Event::Game {
                            kind: 0,
                            values: vec![1, 2],
                        },
                    },
                    TimedEvent {
                        ago: 0,
                        event: Event::PlayerJoined {
                            player: 4,
                            name: "cy".into(),
                        },
                    },
                ],
                checksum: Some(shared::checksum(&current)),
            },
        })
    };
    add(
        "server-keyframe",
        codec::encode_server(&snapshot(keyframe(&current), 0)),
    );
    let p = Prediction::new(1, 1).expect("in range");
    add(
        "server-predicted",
        codec::encode_server(&snapshot(diff_predicted(&older, &base, &current, p), 11)),
    );
    add(
        "server-event",
        codec::encode_server(&ServerMessage::Event(Event::PlayerLeft { player: 2 })),
    );
    add(
        "server-match-end",
        codec::encode_server(&ServerMessage::MatchEnd(MatchEnd {
            results: vec![PlayerResult {
                player_id: 1,
                account_id: 17,
                username: "ada".into(),
                score: 30,
                stats: vec![("kills".into(), 3), ("deaths".into(), 1)],
            }],
        })),
    );
    add(
        "server-kicked",
        codec::encode_server(&ServerMessage::Kicked {
            reason: "cheating".into(),
        }),
    );
    seeds
}

/// Three arena worlds a tick apart (older, baseline, current): players moving, a projectile
/// gone, an orb new.
fn arena_worlds() -> (World, World, World) {
    let player = |owner: u32, x: i32, y: i32| ArenaEntity {
        owner,
        health: 100,
        aim: 1000,
        ..ArenaEntity::new(ArenaKind::Player, x, y)
    };
    let older = World::from_entities(vec![
        (NetId::new(0, 1), player(1, 1600, 1600)),
        (NetId::new(1, 1), player(2, 30_000, 2_000)),
        (
            NetId::new(2, 1),
            ArenaEntity::new(ArenaKind::Projectile, 5_000, 5_000),
        ),
        (
            NetId::new(3, 1),
            ArenaEntity::new(ArenaKind::Drone, 16_000, 16_000),
        ),
    ]);
    let base = World::from_entities(vec![
        (NetId::new(0, 1), player(1, 1717, 1600)),
        (NetId::new(1, 1), player(2, 29_900, 2_083)),
        (
            NetId::new(2, 1),
            ArenaEntity::new(ArenaKind::Projectile, 5_373, 5_000),
        ),
        (
            NetId::new(3, 1),
            ArenaEntity::new(ArenaKind::Drone, 16_040, 15_990),
        ),
    ]);
    let current = World::from_entities(vec![
        (NetId::new(0, 1), player(1, 1834, 1600)),
        (
            NetId::new(1, 1),
            ArenaEntity {
                flags: 1,
                health: 0,
                ..player(2, 29_800, 2_166)
            },
        ),
        (
            NetId::new(2, 2),
            ArenaEntity::new(ArenaKind::Orb, 9_600, 9_600),
        ),
        (
            NetId::new(3, 1),
            ArenaEntity::new(ArenaKind::Drone, 16_079, 15_978),
        ),
    ]);
    (older, base, current)
}

/// Three cycles worlds a move apart: two cycles leaving trails.
fn cycles_worlds() -> (World, World, World) {
    let cycle = |owner, x, y, heading| CyclesEntity {
        kind: CyclesKind::Cycle,
        owner,
        x,
        y,
        heading,
        alive: true,
    };
    let trail = |owner, x, y| CyclesEntity {
        kind: CyclesKind::Trail,
        owner,
        x,
        y,
        heading: Heading::East,
        alive: true,
    };
    let older = World::from_entities(vec![
        (NetId::new(0, 1), cycle(1, 4, 8, Heading::East)),
        (NetId::new(1, 1), cycle(2, 59, 39, Heading::West)),
    ]);
    let base = World::from_entities(vec![
        (NetId::new(0, 1), cycle(1, 5, 8, Heading::East)),
        (NetId::new(1, 1), cycle(2, 58, 39, Heading::West)),
        (NetId::new(2, 1), trail(1, 4, 8)),
        (NetId::new(3, 1), trail(2, 59, 39)),
    ]);
    let current = World::from_entities(vec![
        (NetId::new(0, 1), cycle(1, 5, 9, Heading::South)),
        (
            NetId::new(1, 1),
            CyclesEntity {
                alive: false,
                ..cycle(2, 58, 39, Heading::West)
            },
        ),
        (NetId::new(2, 1), trail(1, 4, 8)),
        (NetId::new(4, 1), trail(1, 5, 8)),
    ]);
    (older, base, current)
}

/// One `delta_apply` input: the game, the older baseline and the baseline (as a keyframe and a
/// delta), and a snapshot to apply.
fn delta_input(game: u8, older: &World, base: &World, snapshot: &Snapshot) -> Vec<u8> {
    let mut out = vec![game];
    push_section(&mut out, &codec::encode_value(&keyframe(older)));
    push_section(&mut out, &codec::encode_value(&diff(older, base)));
    out.extend(codec::encode_value(snapshot));
    out
}

pub fn delta_apply_seeds() -> Seeds {
    let mut seeds = Vec::new();
    for (game, name, (older, base, current)) in [
        (0u8, "arena", arena_worlds()),
        (1u8, "cycles", cycles_worlds()),
    ] {
        let snapshot = |delta, tick, baseline| Snapshot {
            header: SnapshotHeader {
                tick: Tick(tick),
                baseline_tick: Tick(baseline),
                last_input_seq: 5,
            },
            body: SnapshotBody {
                delta,
                events: vec![TimedEvent {
                    ago: 0,
                    event: Event::PlayerLeft { player: 2 },
                }],
                checksum: Some(shared::checksum(&current)),
            },
        };
        let p = Prediction::new(1, 1).expect("in range");
        let predicted = diff_predicted(&older, &base, &current, p);
        let p2 = Prediction::new(1, 2).expect("in range");
        let ahead = diff_predicted(&older, &base, &current, p2);
        for (kind, snap) in [
            ("delta", snapshot(diff(&base, &current), 21, 20)),
            ("predicted", snapshot(predicted, 21, 20)),
            ("predicted-ahead", snapshot(ahead, 22, 20)),
            ("keyframe", snapshot(keyframe(&current), 21, 0)),
            ("removal", snapshot(diff(&base, &older), 21, 20)),
        ] {
            seeds.push((
                format!("{name}-{kind}"),
                delta_input(game, &older, &base, &snap),
            ));
        }
    }
    seeds
}

/// The bit of the `assets` mode byte that renumbers a shipped file.
pub const RENUMBER: u8 = 4;

pub fn assets_seeds() -> Seeds {
    let mut seeds: Seeds = SHIPPED_ASSETS
        .iter()
        .map(|(mode, name, text)| {
            let mut bytes = vec![mode.byte(), 20];
            bytes.extend_from_slice(text.as_bytes());
            (name.to_string(), bytes)
        })
        .collect();
    for mode in AssetsMode::ALL {
        // Every number kept, then one of each kind of replacement.
        let kept = vec![mode.byte() | RENUMBER, 20, 0, 0, 0];
        let varied = vec![
            mode.byte() | RENUMBER,
            7,
            1,
            0,
            1,
            2,
            3,
            3,
            4,
            9,
            5,
            1,
            1,
            7,
            9,
        ];
        seeds.push((format!("renumber-{}-kept", mode.name()), kept));
        seeds.push((format!("renumber-{}-varied", mode.name()), varied));
    }
    seeds
}

pub fn tokens_seeds() -> Seeds {
    let keys = server::auth::TokenKeys::new(TOKEN_SECRET, 3600, 30 * 24 * 3600);
    // A fixed issue time keeps the corpus the same on every regeneration (the token is
    // expired by now, which is a path worth having too).
    let now = 1_760_000_000;
    let access = keys.issue(42, "player", server::auth::TokenKind::Access, now);
    let refresh = keys.issue(7, "admin", server::auth::TokenKind::Refresh, now);
    let with = |mode: TokenMode, bytes: &[u8]| {
        let mut out = vec![mode.byte()];
        out.extend_from_slice(bytes);
        out
    };
    let header = br#"{"alg":"HS256","typ":"JWT"}"#;
    let claims =
        br#"{"sub":"42","kind":"access","role":"player","iat":1760000000,"exp":4102444800}"#;
    let mut signed = header.to_vec();
    signed.push(0);
    signed.extend_from_slice(claims);
    let mut issue = 42i64.to_le_bytes().to_vec();
    issue.push(0);
    issue.extend_from_slice(b"admin");
    // A leaderboard cursor's tag, as the API makes them.
    let payload = URL_SAFE_NO_PAD.encode(br#"{"board":"arena-score","season":0,"rank":20}"#);
    let mut tag = b"leaderboard cursor\0".to_vec();
    tag.extend_from_slice(payload.as_bytes());
    tag.push(0);
    tag.extend_from_slice(
        keys.tag("leaderboard cursor", payload.as_bytes())
            .as_bytes(),
    );
    vec![
        (
            "verify-access".into(),
            with(TokenMode::Verify, access.as_bytes()),
        ),
        (
            "verify-refresh".into(),
            with(TokenMode::Verify, refresh.as_bytes()),
        ),
        (
            "signed-claims".into(),
            with(TokenMode::SignedClaims, &signed),
        ),
        (
            "header".into(),
            with(TokenMode::Header, format!("Bearer {access}").as_bytes()),
        ),
        ("issue".into(), with(TokenMode::Issue, &issue)),
        ("tag".into(), with(TokenMode::Tag, &tag)),
    ]
}
