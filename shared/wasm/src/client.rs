//! One connection's protocol state, safe and platform-free: what the JavaScript SDK drives
//! through [`crate::ffi`], and what the Rust tests drive directly.
//!
//! Call order: [`Client::hello`] to open; then for every binary frame from the server
//! [`Client::receive`], and after a snapshot read [`Client::world`] and [`Client::events`];
//! once per tick [`Client::input`] (it acknowledges the newest applied snapshot), or, for a
//! spectator (whose seat takes no inputs), [`Client::ack`] after each applied snapshot; answer a
//! server ping with [`Client::pong`].

use std::collections::BTreeMap;

use shared::codec;
use shared::events::EventFeed;
use shared::protocol::{
    ClientMessage, Event, Hello, Input, PROTOCOL_VERSION, Ping, PlayerResult, Resume,
    ServerMessage, Welcome,
};
use shared::replica::{Replica, ReplicaError};
use shared::{GameProtocol, InputValues, Tick, World};

/// What a frame from the server was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// The handshake succeeded: [`Client::player_id`] and [`Client::tick_rate`] are set.
    Welcome,
    /// A snapshot was applied (or was stale and ignored): read the world and the events.
    Snapshot,
    /// The server pings: answer with [`Client::pong`].
    Ping,
    /// The answer to a ping of ours.
    Pong,
    /// The match ended (results follow in the close).
    MatchEnd,
    /// An admin removed this player.
    Kicked,
}

impl Frame {
    /// The number the JavaScript side sees.
    pub fn code(self) -> i32 {
        match self {
            Frame::Welcome => 1,
            Frame::Snapshot => 2,
            Frame::Ping => 3,
            Frame::Pong => 4,
            Frame::MatchEnd => 5,
            Frame::Kicked => 6,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("the frame does not decode: {0}")]
    Malformed(#[from] shared::CodecError),
    #[error("{0}")]
    Replica(#[from] ReplicaError),
    #[error("the server plays another game (hash {0:016x})")]
    WrongGame(u64),
    #[error("the input does not fit the game's declared input")]
    InvalidInput,
}

impl ClientError {
    /// The (negative) number the JavaScript side sees.
    pub fn code(self) -> i32 {
        match self {
            ClientError::Malformed(_) => -1,
            ClientError::Replica(_) => -2,
            ClientError::WrongGame(_) => -3,
            ClientError::InvalidInput => -4,
        }
    }
}

/// One connection to a match of `game`.
#[derive(Debug)]
pub struct Client {
    game: &'static GameProtocol,
    replica: Replica,
    feed: EventFeed,
    next_seq: u32,
    player_id: u32,
    tick_rate: u16,
    reconnect_token: String,
    welcome: Option<Welcome>,
    /// The newest applied snapshot's `last_input_seq`: inputs up to it are in the world.
    last_input_seq: u32,
    last_ping: Option<Ping>,
    /// The id of the last ping of ours the server answered.
    last_pong: Option<u32>,
    results: Vec<PlayerResult>,
    kicked: Option<String>,
    /// -1: the last snapshot had no checksum; 0: it did not match; 1: it matched.
    last_checksum: i32,
    /// The world's ids flattened as (index, version) pairs, for a typed array.
    ids: Vec<u32>,
    /// The last snapshot's new events, flattened: tick, tag, value count, values. The tag is
    /// the game's event kind (0 and up), -1 for a player joining, -2 for one leaving.
    events: Vec<i32>,
    names: BTreeMap<u32, String>,
    /// The last message encoded.
    out: Vec<u8>,
}

impl Client {
    pub fn new(game: &'static GameProtocol) -> Client {
        let mut replica = Replica::new(game);
        // Acknowledgements only go forward, so worlds older than a delta's baseline are never
        // needed again.
        replica.set_pruning(true);
        Client {
            game,
            replica,
            feed: EventFeed::new(),
            next_seq: 1,
            player_id: 0,
            tick_rate: 0,
            reconnect_token: String::new(),
            welcome: None,
            last_input_seq: 0,
            last_ping: None,
            last_pong: None,
            results: Vec::new(),
            kicked: None,
            last_checksum: -1,
            ids: Vec::new(),
            events: Vec::new(),
            names: BTreeMap::new(),
            out: Vec::new(),
        }
    }

    pub fn game(&self) -> &'static GameProtocol {
        self.game
    }

    /// `Hello` with a join ticket, carrying this client's game hash.
    pub fn hello(&mut self, ticket: &str) -> &[u8] {
        self.encode(&ClientMessage::Hello(Hello {
            protocol_version: PROTOCOL_VERSION,
            ticket: ticket.to_string(),
            resume: None,
            game_hash: Some(self.game.hash()),
        }))
    }

    /// `Hello` resuming this player after a dropped connection, from the newest world held.
    pub fn resume(&mut self) -> &[u8] {
        let resume = Resume {
            reconnect_token: self.reconnect_token.clone(),
            ack_tick: self.replica.ack_tick(),
        };
        self.encode(&ClientMessage::Hello(Hello {
            protocol_version: PROTOCOL_VERSION,
            ticket: String::new(),
            resume: Some(resume),
            game_hash: Some(self.game.hash()),
        }))
    }

    /// This tick's `Input`, acknowledging the newest applied snapshot.
    pub fn input(&mut self, values: &[i32]) -> Result<&[u8], ClientError> {
        if !self.game.input.admits(values) {
            return Err(ClientError::InvalidInput);
        }
        let values = InputValues::new(values).ok_or(ClientError::InvalidInput)?;
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        let ack_tick = self.replica.ack_tick();
        Ok(self.encode(&ClientMessage::Input(Input {
            seq,
            ack_tick,
            values,
        })))
    }

    pub fn ping(&mut self, id: u32, sent_us: u64) -> &[u8] {
        self.encode(&ClientMessage::Ping(Ping { id, sent_us }))
    }

    /// The answer to the server's last ping (an empty message if there was none).
    pub fn pong(&mut self) -> &[u8] {
        match self.last_ping {
            Some(ping) => self.encode(&ClientMessage::Pong(ping)),
            None => {
                self.out.clear();
                &self.out
            }
        }
    }

    pub fn leave(&mut self) -> &[u8] {
        self.encode(&ClientMessage::Leave)
    }

    /// `Ack` of the newest applied snapshot: what a spectator sends instead of inputs, so the
    /// server's next delta is against it.
    pub fn ack(&mut self) -> &[u8] {
        let tick = self.replica.ack_tick();
        self.encode(&ClientMessage::Ack(tick))
    }

    /// Handles one binary frame from the server.
    pub fn receive(&mut self, bytes: &[u8]) -> Result<Frame, ClientError> {
        self.events.clear();
        match codec::decode_server(bytes)? {
            ServerMessage::Welcome(w) => {
                if w.game_hash != self.game.hash() {
                    return Err(ClientError::WrongGame(w.game_hash));
                }
                self.player_id = w.player_id;
                self.tick_rate = w.tick_rate;
                self.reconnect_token = w.reconnect_token.clone();
                for (player, name) in &w.players {
                    self.names.insert(*player, name.clone());
                }
                self.welcome = Some(w);
                Ok(Frame::Welcome)
            }
            ServerMessage::Snapshot(snapshot) => {
                let applied = self.replica.apply(&snapshot)?;
                self.last_checksum = match applied.checksum {
                    None => -1,
                    Some(ok) => i32::from(ok),
                };
                if !applied.stale {
                    self.last_input_seq = snapshot.header.last_input_seq;
                    let fresh = self.feed.fresh(
                        snapshot.header.tick,
                        snapshot.header.baseline_tick,
                        snapshot.body.events,
                    );
                    for e in fresh {
                        self.push_event(e.tick, e.event);
                    }
                }
                self.ids.clear();
                for id in self.replica.world().ids() {
                    self.ids.extend([id.index, id.version]);
                }
                Ok(Frame::Snapshot)
            }
            ServerMessage::Event(event) => {
                self.push_event(self.replica.ack_tick(), event);
                Ok(Frame::Snapshot)
            }
            ServerMessage::Ping(ping) => {
                self.last_ping = Some(ping);
                Ok(Frame::Ping)
            }
            ServerMessage::Pong(pong) => {
                self.last_pong = Some(pong.id);
                Ok(Frame::Pong)
            }
            ServerMessage::MatchEnd(end) => {
                self.results = end.results;
                Ok(Frame::MatchEnd)
            }
            ServerMessage::Kicked { reason } => {
                self.kicked = Some(reason);
                Ok(Frame::Kicked)
            }
        }
    }

    fn push_event(&mut self, tick: Tick, event: Event) {
        let (tag, values) = match event {
            Event::Game { kind, values } => (i32::from(kind), values),
            Event::PlayerJoined { player, name } => {
                self.names.insert(player, name);
                (-1, vec![player as i32])
            }
            Event::PlayerLeft { player } => (-2, vec![player as i32]),
        };
        self.events
            .extend([tick.0 as i32, tag, values.len() as i32]);
        self.events.extend(values);
    }

    fn encode(&mut self, msg: &ClientMessage) -> &[u8] {
        self.out.clear();
        codec::encode_into(msg, &mut self.out);
        &self.out
    }

    pub fn world(&self) -> &World {
        self.replica.world()
    }

    /// The world's ids as (index, version) pairs.
    pub fn ids(&self) -> &[u32] {
        &self.ids
    }

    /// The last snapshot's new events, flattened (see the field's doc).
    pub fn events(&self) -> &[i32] {
        &self.events
    }

    pub fn player_id(&self) -> u32 {
        self.player_id
    }

    pub fn tick_rate(&self) -> u16 {
        self.tick_rate
    }

    /// The handshake's answer, once it came.
    pub fn welcome(&self) -> Option<&Welcome> {
        self.welcome.as_ref()
    }

    /// The sequence number of the newest input the newest applied snapshot includes; the
    /// SDK's prediction replays the inputs after it.
    pub fn last_input_seq(&self) -> u32 {
        self.last_input_seq
    }

    /// The sequence number the next [`Client::input`] gets.
    pub fn next_seq(&self) -> u32 {
        self.next_seq
    }

    /// The id of the last ping of ours the server answered.
    pub fn last_pong(&self) -> Option<u32> {
        self.last_pong
    }

    /// The match's results, once it ended.
    pub fn results(&self) -> &[PlayerResult] {
        &self.results
    }

    /// Why an admin removed this player, if one did.
    pub fn kicked(&self) -> Option<&str> {
        self.kicked.as_deref()
    }

    /// The newest applied snapshot's tick.
    pub fn tick(&self) -> Tick {
        self.replica.ack_tick()
    }

    /// -1: the last snapshot had no checksum; 0: it did not match (a desync); 1: it matched.
    pub fn last_checksum(&self) -> i32 {
        self.last_checksum
    }

    pub fn desyncs(&self) -> u64 {
        self.replica.counters().desyncs
    }

    pub fn checksums_verified(&self) -> u64 {
        self.replica.counters().checksums_verified
    }

    /// The name a player joined with, if this client saw it join.
    pub fn player_name(&self, player: u32) -> Option<&str> {
        self.names.get(&player).map(String::as_str)
    }
}
