// The SDK core: Tickwire's protocol crate compiled to WebAssembly (`tickwire.wasm`, built from
// `shared/wasm` by `scripts/build-web.sh`), wrapped for JavaScript. The same Rust that encodes
// a frame on the server decodes and applies it here: replicas, prediction, checksums and the
// exactly-once event feed all run inside the wasm. This file only moves bytes in and out.
//
// Nothing here assumes a browser: it runs in node (the SDK's tests) as well.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What `Client.receive` answers (below zero: an error). */
export const Frame = Object.freeze({
  WELCOME: 1,
  SNAPSHOT: 2,
  PING: 3,
  PONG: 4,
  MATCH_END: 5,
  KICKED: 6,
  MALFORMED: -1,
  REPLICA_ERROR: -2,
  WRONG_GAME: -3,
  INVALID_INPUT: -4,
});

/** Event tags besides a game's own kinds (0 and up). */
export const EventTag = Object.freeze({ PLAYER_JOINED: -1, PLAYER_LEFT: -2 });

export class Core {
  /** Instantiates the wasm from its bytes (an ArrayBuffer or typed array). */
  static async load(bytes) {
    const { instance } = await WebAssembly.instantiate(bytes, {});
    return new Core(instance.exports);
  }

  constructor(exports) {
    this.x = exports;
  }

  /** The shipped games this core knows, by name, in their index order. */
  games() {
    const names = [];
    for (let i = 0; i < this.x.tw_games(); i++) {
      names.push(this.output(this.x.tw_game_name(i), true));
    }
    return names;
  }

  /** A client of the shipped game `name` (one per connection). */
  client(name) {
    const index = this.games().indexOf(name);
    if (index < 0) throw new Error(`this SDK does not know the game ${name}`);
    return new Client(this, this.x.tw_client_new(index));
  }

  /** Copies `bytes` into the wasm's input buffer. */
  input(bytes) {
    const at = this.x.tw_buffer(bytes.length);
    new Uint8Array(this.x.memory.buffer, at, bytes.length).set(bytes);
  }

  /** The last encoded message (a copy), or its text. */
  output(len, asText = false) {
    const bytes = new Uint8Array(this.x.memory.buffer, this.x.tw_output(), len).slice();
    return asText ? decoder.decode(bytes) : bytes;
  }
}

export class Client {
  constructor(core, handle) {
    this.core = core;
    this.x = core.x;
    this.h = handle;
  }

  /** The game's protocol hash (16 hex digits), as `GET /v1/games` lists it. */
  gameHash() {
    return this.core.output(this.x.tw_game_hash(this.h), true);
  }

  /** `Hello` with a join ticket. */
  hello(ticket) {
    this.core.input(encoder.encode(ticket));
    return this.core.output(this.x.tw_hello(this.h, encoder.encode(ticket).length));
  }

  /** `Hello` resuming this client's player after a dropped connection. */
  resume() {
    return this.core.output(this.x.tw_resume(this.h));
  }

  /** This tick's `Input` (one value per declared input field), or null if out of range. */
  input(values) {
    const ints = Int32Array.from(values);
    this.core.input(new Uint8Array(ints.buffer));
    const len = this.x.tw_input(this.h, ints.length);
    return len === 0 ? null : this.core.output(len);
  }

  ping(id, sentUs) {
    const low = sentUs % 2 ** 32;
    const high = Math.floor(sentUs / 2 ** 32);
    return this.core.output(this.x.tw_ping(this.h, id, low, high));
  }

  pong() {
    return this.core.output(this.x.tw_pong(this.h));
  }

  leave() {
    return this.core.output(this.x.tw_leave(this.h));
  }

  /** Handles one binary frame from the server; a `Frame` code. */
  receive(bytes) {
    this.core.input(bytes);
    return this.x.tw_receive(this.h, bytes.length);
  }

  get playerId() { return this.x.tw_player_id(this.h); }
  get tickRate() { return this.x.tw_tick_rate(this.h); }
  /** The newest applied snapshot's tick. */
  get tick() { return this.x.tw_tick(this.h); }
  /** -1: the last snapshot carried no checksum; 0: it did not match; 1: it matched. */
  get checksum() { return this.x.tw_checksum(this.h); }
  get desyncs() { return this.x.tw_desyncs(this.h); }
  get checksumsVerified() { return this.x.tw_checksums_verified(this.h); }

  /**
   * The world: `len` entities of `fields` values each (the game's declaration, in order), as
   * views over the wasm memory, valid until the next call into the core.
   */
  world() {
    const len = this.x.tw_world_len(this.h);
    const fields = this.x.tw_world_fields(this.h);
    const buffer = this.x.memory.buffer;
    return {
      len,
      fields,
      ids: new Uint32Array(buffer, this.x.tw_world_ids(this.h), len * 2),
      rows: new Int32Array(buffer, this.x.tw_world_rows(this.h), len * fields),
    };
  }

  /** The last snapshot's new events: [{tick, tag, values}], each delivered once. */
  events() {
    const n = this.x.tw_events_len(this.h);
    const raw = new Int32Array(this.x.memory.buffer, this.x.tw_events(this.h), n).slice();
    const out = [];
    for (let i = 0; i < raw.length; ) {
      const count = raw[i + 2];
      out.push({ tick: raw[i], tag: raw[i + 1], values: Array.from(raw.slice(i + 3, i + 3 + count)) });
      i += 3 + count;
    }
    return out;
  }

  /** The name a player joined with ('' if this client did not see it join). */
  playerName(player) {
    return this.core.output(this.x.tw_player_name(this.h, player), true);
  }

  free() {
    this.x.tw_client_free(this.h);
  }
}
