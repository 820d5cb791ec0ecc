// The SDK core: Tickwire's protocol crate compiled to WebAssembly (`tickwire.wasm`, built from
// `shared/wasm` by `scripts/build-web.sh`), wrapped for TypeScript. The same Rust that encodes
// a frame on the server decodes and applies it here: replicas, delta prediction, checksums and
// the exactly-once event feed all run inside the wasm. This file only moves bytes in and out.
//
// Nothing here assumes a browser: it runs in node (the SDK's tests) as well.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What `CoreClient.receive` answers (below zero: an error). */
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

/** One declared field of an entity, an input or an event. */
export interface FieldDecl {
  name: string;
  type: 'bool' | 'u8' | 'u16' | 'u32' | 'i8' | 'i16' | 'i32';
  encoding: 'value' | 'diff' | 'predicted';
  min: number;
  max: number;
}

/** A game's declaration, as the server's `shared/` crate has it. */
export interface GameDecl {
  name: string;
  hash: string;
  entity: FieldDecl[];
  input: FieldDecl[];
  events: { name: string; kind: number; fields: FieldDecl[] }[];
  stats: string[];
}

export interface Welcome {
  player_id: number;
  match_id: string;
  game: string;
  map: string;
  tick_rate: number;
  tick: number;
  ticks_remaining: number;
  reconnect_grace_s: number;
}

export interface PlayerResult {
  player_id: number;
  account_id: number;
  username: string;
  score: number;
  stats: Record<string, number>;
}

/** One event: the tick it happened on, its tag (a game event's kind, or an `EventTag`). */
export interface GameEvent {
  tick: number;
  tag: number;
  values: number[];
}

/**
 * The world after a snapshot: `len` entities of `fields` values each (the game's declared
 * fields, in order). `ids` holds (index, version) pairs. Views over the wasm memory: valid
 * until the next call into the core; copy what must outlive it.
 */
export interface WorldView {
  len: number;
  fields: number;
  ids: Uint32Array;
  rows: Int32Array;
}

interface Exports {
  memory: WebAssembly.Memory;
  [name: string]: unknown;
}

type Fn = (...args: number[]) => number;

export class Core {
  private readonly x: Exports;

  /** Instantiates the wasm from its bytes. */
  static async load(bytes: BufferSource): Promise<Core> {
    const { instance } = await WebAssembly.instantiate(bytes, {});
    return new Core(instance.exports as unknown as Exports);
  }

  /** Fetches and instantiates the wasm (a browser, or anything with `fetch`). */
  static async fetch(url: string | URL): Promise<Core> {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`could not load ${url}: HTTP ${response.status}`);
    return Core.load(await response.arrayBuffer());
  }

  constructor(exports: Exports) {
    this.x = exports;
  }

  /** Calls the export `tw_<name>`. */
  call(name: string, ...args: number[]): number {
    return (this.x[`tw_${name}`] as Fn)(...args);
  }

  get memory(): ArrayBuffer {
    return this.x.memory.buffer;
  }

  /** The games this core was built with, by name. */
  games(): string[] {
    const names = [];
    for (let i = 0; i < this.call('games'); i++) {
      names.push(this.text(this.call('game_name', i)));
    }
    return names;
  }

  /** A client of the game `name`: one per connection. */
  client(name: string): CoreClient {
    const index = this.games().indexOf(name);
    if (index < 0) throw new Error(`this SDK does not know the game ${name}`);
    return new CoreClient(this, this.call('client_new', index));
  }

  /** The short name of a WebSocket close code, as the server's `shared::close` has it. */
  closeName(code: number): string {
    return this.text(this.call('close_name', code));
  }

  /** Copies `bytes` into the wasm's input buffer. */
  input(bytes: Uint8Array): void {
    const at = this.call('buffer', bytes.length);
    new Uint8Array(this.memory, at, bytes.length).set(bytes);
  }

  /** A copy of the last encoded message. */
  output(len: number): Uint8Array {
    return new Uint8Array(this.memory, this.call('output'), len).slice();
  }

  text(len: number): string {
    return decoder.decode(this.output(len));
  }

  json<T>(len: number): T | null {
    return len === 0 ? null : (JSON.parse(this.text(len)) as T);
  }
}

/** One connection's protocol state inside the wasm. */
export class CoreClient {
  private readonly core: Core;
  private readonly h: number;
  private decl: GameDecl | null = null;

  constructor(core: Core, handle: number) {
    this.core = core;
    this.h = handle;
  }

  private call(name: string, ...args: number[]): number {
    return this.core.call(name, this.h, ...args);
  }

  /** The game's protocol hash (16 hex digits), as `GET /v1/games` lists it. */
  gameHash(): string {
    return this.core.text(this.call('game_hash'));
  }

  /** The game's declaration: field names in row order, events, stats. */
  game(): GameDecl {
    this.decl ??= this.core.json<GameDecl>(this.call('game_json'));
    if (this.decl === null) throw new Error('the core lost this client');
    return this.decl;
  }

  /** `Hello` with a join ticket. */
  hello(ticket: string): Uint8Array {
    const bytes = encoder.encode(ticket);
    this.core.input(bytes);
    return this.core.output(this.call('hello', bytes.length));
  }

  /** `Hello` resuming this client's player after a dropped connection. */
  resume(): Uint8Array {
    return this.core.output(this.call('resume'));
  }

  /** This tick's `Input` (one value per declared input field), or null if out of range. */
  input(values: ArrayLike<number>): Uint8Array | null {
    const ints = Int32Array.from(values as ArrayLike<number>);
    this.core.input(new Uint8Array(ints.buffer));
    const len = this.call('input', ints.length);
    return len === 0 ? null : this.core.output(len);
  }

  ping(id: number, sentUs: number): Uint8Array {
    const low = sentUs % 2 ** 32;
    const high = Math.floor(sentUs / 2 ** 32);
    return this.core.output(this.call('ping', id, low, high));
  }

  pong(): Uint8Array {
    return this.core.output(this.call('pong'));
  }

  leave(): Uint8Array {
    return this.core.output(this.call('leave'));
  }

  /** `Ack` of the newest applied snapshot: a spectator's answer to a snapshot (it sends no inputs). */
  ack(): Uint8Array {
    return this.core.output(this.call('ack'));
  }

  /** Handles one binary frame from the server; a `Frame` code. */
  receive(bytes: Uint8Array): number {
    this.core.input(bytes);
    return this.call('receive', bytes.length);
  }

  get playerId(): number {
    return this.call('player_id');
  }
  get tickRate(): number {
    return this.call('tick_rate');
  }
  /** The newest applied snapshot's tick. */
  get tick(): number {
    return this.call('tick');
  }
  /** The newest input the newest applied snapshot includes. */
  get lastInputSeq(): number {
    return this.call('last_input_seq');
  }
  /** The sequence number the next `input` gets. */
  get nextSeq(): number {
    return this.call('next_seq');
  }
  /** The id of the last ping of ours the server answered (0: none). */
  get lastPong(): number {
    return this.call('last_pong');
  }
  /** -1: the last snapshot carried no checksum; 0: it did not match; 1: it matched. */
  get checksum(): number {
    return this.call('checksum');
  }
  get desyncs(): number {
    return this.call('desyncs');
  }
  get checksumsVerified(): number {
    return this.call('checksums_verified');
  }

  welcome(): Welcome | null {
    return this.core.json<Welcome>(this.call('welcome_json'));
  }

  results(): PlayerResult[] {
    return this.core.json<PlayerResult[]>(this.call('results_json')) ?? [];
  }

  /** Why an admin removed this player ('' if none did). */
  kicked(): string {
    return this.core.text(this.call('kicked'));
  }

  world(): WorldView {
    const len = this.call('world_len');
    const fields = this.call('world_fields');
    const memory = this.core.memory;
    return {
      len,
      fields,
      ids: new Uint32Array(memory, this.call('world_ids'), len * 2),
      rows: new Int32Array(memory, this.call('world_rows'), len * fields),
    };
  }

  /** The last snapshot's new events, each delivered once. */
  events(): GameEvent[] {
    const n = this.call('events_len');
    const raw = new Int32Array(this.core.memory, this.call('events'), n).slice();
    const out: GameEvent[] = [];
    for (let i = 0; i < raw.length; ) {
      const count = raw[i + 2];
      out.push({ tick: raw[i], tag: raw[i + 1], values: Array.from(raw.subarray(i + 3, i + 3 + count)) });
      i += 3 + count;
    }
    return out;
  }

  /** The name a player joined with ('' if this client did not see it join). */
  playerName(player: number): string {
    return this.core.text(this.call('player_name', player));
  }

  free(): void {
    this.call('client_free');
  }
}
