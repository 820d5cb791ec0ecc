// src/sdk/core.ts
var encoder = new TextEncoder();
var decoder = new TextDecoder();
var Frame = Object.freeze({
  WELCOME: 1,
  SNAPSHOT: 2,
  PING: 3,
  PONG: 4,
  MATCH_END: 5,
  KICKED: 6,
  MALFORMED: -1,
  REPLICA_ERROR: -2,
  WRONG_GAME: -3,
  INVALID_INPUT: -4
});
var EventTag = Object.freeze({ PLAYER_JOINED: -1, PLAYER_LEFT: -2 });
var Core = class _Core {
  x;
  /** Instantiates the wasm from its bytes. */
  static async load(bytes) {
    const { instance } = await WebAssembly.instantiate(bytes, {});
    return new _Core(instance.exports);
  }
  /** Fetches and instantiates the wasm (a browser, or anything with `fetch`). */
  static async fetch(url) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`could not load ${url}: HTTP ${response.status}`);
    return _Core.load(await response.arrayBuffer());
  }
  constructor(exports) {
    this.x = exports;
  }
  /** Calls the export `tw_<name>`. */
  call(name, ...args) {
    return this.x[`tw_${name}`](...args);
  }
  get memory() {
    return this.x.memory.buffer;
  }
  /** The games this core was built with, by name. */
  games() {
    const names = [];
    for (let i = 0; i < this.call("games"); i++) {
      names.push(this.text(this.call("game_name", i)));
    }
    return names;
  }
  /** A client of the game `name`: one per connection. */
  client(name) {
    const index = this.games().indexOf(name);
    if (index < 0) throw new Error(`this SDK does not know the game ${name}`);
    return new CoreClient(this, this.call("client_new", index));
  }
  /** The short name of a WebSocket close code, as the server's `shared::close` has it. */
  closeName(code) {
    return this.text(this.call("close_name", code));
  }
  /** Copies `bytes` into the wasm's input buffer. */
  input(bytes) {
    const at = this.call("buffer", bytes.length);
    new Uint8Array(this.memory, at, bytes.length).set(bytes);
  }
  /** A copy of the last encoded message. */
  output(len) {
    return new Uint8Array(this.memory, this.call("output"), len).slice();
  }
  text(len) {
    return decoder.decode(this.output(len));
  }
  json(len) {
    return len === 0 ? null : JSON.parse(this.text(len));
  }
};
var CoreClient = class {
  core;
  h;
  decl = null;
  constructor(core, handle) {
    this.core = core;
    this.h = handle;
  }
  call(name, ...args) {
    return this.core.call(name, this.h, ...args);
  }
  /** The game's protocol hash (16 hex digits), as `GET /v1/games` lists it. */
  gameHash() {
    return this.core.text(this.call("game_hash"));
  }
  /** The game's declaration: field names in row order, events, stats. */
  game() {
    this.decl ??= this.core.json(this.call("game_json"));
    if (this.decl === null) throw new Error("the core lost this client");
    return this.decl;
  }
  /** `Hello` with a join ticket. */
  hello(ticket) {
    const bytes = encoder.encode(ticket);
    this.core.input(bytes);
    return this.core.output(this.call("hello", bytes.length));
  }
  /** `Hello` resuming this client's player after a dropped connection. */
  resume() {
    return this.core.output(this.call("resume"));
  }
  /** This tick's `Input` (one value per declared input field), or null if out of range. */
  input(values) {
    const ints = Int32Array.from(values);
    this.core.input(new Uint8Array(ints.buffer));
    const len = this.call("input", ints.length);
    return len === 0 ? null : this.core.output(len);
  }
  ping(id, sentUs) {
    const low = sentUs % 2 ** 32;
    const high = Math.floor(sentUs / 2 ** 32);
    return this.core.output(this.call("ping", id, low, high));
  }
  pong() {
    return this.core.output(this.call("pong"));
  }
  leave() {
    return this.core.output(this.call("leave"));
  }
  /** `Ack` of the newest applied snapshot: a spectator's answer to a snapshot (it sends no inputs). */
  ack() {
    return this.core.output(this.call("ack"));
  }
  /** Handles one binary frame from the server; a `Frame` code. */
  receive(bytes) {
    this.core.input(bytes);
    return this.call("receive", bytes.length);
  }
  get playerId() {
    return this.call("player_id");
  }
  get tickRate() {
    return this.call("tick_rate");
  }
  /** The newest applied snapshot's tick. */
  get tick() {
    return this.call("tick");
  }
  /** The newest input the newest applied snapshot includes. */
  get lastInputSeq() {
    return this.call("last_input_seq");
  }
  /** The sequence number the next `input` gets. */
  get nextSeq() {
    return this.call("next_seq");
  }
  /** The id of the last ping of ours the server answered (0: none). */
  get lastPong() {
    return this.call("last_pong");
  }
  /** -1: the last snapshot carried no checksum; 0: it did not match; 1: it matched. */
  get checksum() {
    return this.call("checksum");
  }
  get desyncs() {
    return this.call("desyncs");
  }
  get checksumsVerified() {
    return this.call("checksums_verified");
  }
  welcome() {
    return this.core.json(this.call("welcome_json"));
  }
  results() {
    return this.core.json(this.call("results_json")) ?? [];
  }
  /** Why an admin removed this player ('' if none did). */
  kicked() {
    return this.core.text(this.call("kicked"));
  }
  world() {
    const len = this.call("world_len");
    const fields = this.call("world_fields");
    const memory = this.core.memory;
    return {
      len,
      fields,
      ids: new Uint32Array(memory, this.call("world_ids"), len * 2),
      rows: new Int32Array(memory, this.call("world_rows"), len * fields)
    };
  }
  /** The last snapshot's new events, each delivered once. */
  events() {
    const n = this.call("events_len");
    const raw = new Int32Array(this.core.memory, this.call("events"), n).slice();
    const out = [];
    for (let i = 0; i < raw.length; ) {
      const count = raw[i + 2];
      out.push({ tick: raw[i], tag: raw[i + 1], values: Array.from(raw.subarray(i + 3, i + 3 + count)) });
      i += 3 + count;
    }
    return out;
  }
  /** The name a player joined with ('' if this client did not see it join). */
  playerName(player) {
    return this.core.text(this.call("player_name", player));
  }
  free() {
    this.call("client_free");
  }
};

// src/sdk/rest.ts
var ApiError = class extends Error {
  status;
  code;
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
};
var MemoryStore = class {
  tokens = null;
  load() {
    return this.tokens;
  }
  save(tokens) {
    this.tokens = tokens;
  }
};
var Api = class {
  base;
  store;
  /** `base` is the server's origin (`location.origin` in a page served by Tickwire). */
  constructor(base, store = new MemoryStore()) {
    this.base = base.replace(/\/+$/, "");
    this.store = store;
  }
  get tokens() {
    return this.store.load();
  }
  get signedIn() {
    return this.tokens !== null;
  }
  signOut() {
    this.store.save(null);
  }
  async register(username, password) {
    return this.request("POST", "/v1/accounts", { username, password }, false);
  }
  async login(username, password) {
    return this.session(await this.request("POST", "/v1/sessions", { username, password }, false));
  }
  /** Signs in as the guest of `deviceId` (the same device gets the same guest account). */
  async guest(deviceId2) {
    return this.session(await this.request("POST", "/v1/sessions/guest", { device_id: deviceId2 }, false));
  }
  /** Trades the refresh token for new tokens. */
  async refresh() {
    const refresh_token = this.tokens?.refresh_token;
    if (!refresh_token) throw new ApiError(401, "unauthorized", "not signed in");
    return this.session(await this.request("POST", "/v1/sessions/refresh", { refresh_token }, false));
  }
  async me() {
    return this.request("GET", "/v1/accounts/me");
  }
  async games() {
    return (await this.request("GET", "/v1/games", void 0, false)).games;
  }
  async map(game, map) {
    return this.request("GET", `/v1/games/${enc(game)}/maps/${enc(map)}`, void 0, false);
  }
  async matches() {
    return (await this.request("GET", "/v1/matches")).matches;
  }
  async createMatch(options = {}) {
    return this.request("POST", "/v1/matches", options);
  }
  async join(matchId) {
    return this.request("POST", `/v1/matches/${enc(matchId)}/join`, {});
  }
  async quickJoin(options = {}) {
    return this.request("POST", "/v1/matchmaking/quick-join", options);
  }
  /**
   * A ticket for a read-only seat in a running match (`Session.watch` opens it): the whole world,
   * or the view of the player `follow` (its id in the match). A full match can be watched.
   */
  async spectate(matchId, options = {}) {
    const body = options.follow === void 0 ? {} : { follow: options.follow };
    return this.request("POST", `/v1/matches/${enc(matchId)}/spectate`, body);
  }
  /**
   * An ended match's playback stream (`?format=snapshots`): length-prefixed server messages, a
   * Welcome, a snapshot per tick, the MatchEnd; `ReplayPlayer` plays it. A 404
   * (`replay_not_found`) for a match still running, unknown, or not recorded.
   */
  async replay(matchId) {
    const response = await this.call("GET", `/v1/matches/${enc(matchId)}/replay?format=snapshots`, void 0, false, "application/octet-stream, application/json");
    if (!response.ok) return this.parse(response);
    return new Uint8Array(await response.arrayBuffer());
  }
  async leaderboards() {
    return (await this.request("GET", "/v1/leaderboards", void 0, false)).leaderboards;
  }
  /** A page of a leaderboard, best first; pass the previous page's `next_cursor` for the next. */
  async leaderboard(id, options = {}) {
    return this.request("GET", `/v1/leaderboards/${enc(id)}${query(options)}`, void 0, false);
  }
  /** The records around an account (`'me'`: the signed-in one). */
  async around(id, account2 = "me", options = {}) {
    return this.request("GET", `/v1/leaderboards/${enc(id)}/around/${account2}${query(options)}`, void 0, account2 === "me");
  }
  session(tokens) {
    this.store.save(tokens);
    return tokens;
  }
  /** One JSON call; with `auth`, the bearer token, refreshed and retried once on a 401. */
  async request(method, path, body, auth = true) {
    return this.parse(await this.call(method, path, body, auth));
  }
  /** One call, its response as it came (after a refresh and a retry on a 401, with `auth`). */
  async call(method, path, body, auth, accept = "application/json") {
    const response = await this.send(method, path, body, auth, accept);
    if (response.status === 401 && auth && this.tokens?.refresh_token) {
      try {
        await this.refresh();
      } catch (e) {
        this.signOut();
        throw e;
      }
      return this.send(method, path, body, auth, accept);
    }
    return response;
  }
  send(method, path, body, auth, accept) {
    const headers = { accept };
    if (body !== void 0) headers["content-type"] = "application/json";
    const token = this.tokens?.access_token;
    if (auth && token) headers.authorization = `Bearer ${token}`;
    return fetch(this.base + path, {
      method,
      headers,
      body: body === void 0 ? void 0 : JSON.stringify(body)
    });
  }
  async parse(response) {
    const text = await response.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
    }
    if (!response.ok) {
      const error = json?.error;
      throw new ApiError(
        response.status,
        error?.code ?? `http_${response.status}`,
        error?.message ?? (text || response.statusText)
      );
    }
    return json;
  }
};
function enc(part) {
  return encodeURIComponent(part);
}
function query(options) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(options)) {
    if (v !== void 0) params.set(k, String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : "";
}

// src/sdk/session.ts
var RESUMABLE = /* @__PURE__ */ new Set([1006, 1011, 4009, 4010]);
var SessionError = class extends Error {
  code;
  codeName;
  reason;
  constructor(code, codeName, reason, message) {
    super(message ?? `${codeName} (${code})${reason ? `: ${reason}` : ""}`);
    this.name = "SessionError";
    this.code = code;
    this.codeName = codeName;
    this.reason = reason;
  }
};
var Session = class _Session {
  client;
  url;
  /** A read-only seat: acks instead of inputs, no resume. */
  spectating;
  welcome = null;
  /** The last measured round trip, in ms (null before the first pong). */
  rttMs = null;
  /** Snapshots whose checksum was verified, and those that did not match. */
  get checksumsVerified() {
    return this.client.checksumsVerified;
  }
  get desyncs() {
    return this.client.desyncs;
  }
  /** Inputs sent so far (a spectator's stays 0). */
  get inputsSent() {
    return this.inputs;
  }
  /** Acks sent so far (a spectator's, one per snapshot that moved its world forward). */
  get acksSent() {
    return this.acks;
  }
  core;
  options;
  now;
  socketFactory;
  socket = null;
  tickTimer = null;
  pingTimer = null;
  pings = /* @__PURE__ */ new Map();
  nextPing = 1;
  ended = false;
  closed = false;
  resumeAttempt = 0;
  resumeUntil = 0;
  inputs = 0;
  acks = 0;
  /** The tick the last ack named: a snapshot that does not move past it is not acked again. */
  ackedTick = -1;
  /** Rejects `connect` while the first Welcome has not come. */
  refuse = null;
  constructor(core, game, url, options, spectating) {
    this.core = core;
    this.client = core.client(game);
    this.url = url;
    this.spectating = spectating;
    this.options = options;
    this.now = options.now ?? (() => performance.now());
    this.socketFactory = options.socket ?? ((u) => new WebSocket(u));
  }
  /** Opens a session with a join ticket; resolves once the server welcomed the player. */
  static connect(core, game, ticket, options) {
    return _Session.handshake(new _Session(core, game, ticket.url, options, false), ticket);
  }
  /**
   * Watches a match with a spectator ticket (`Api.spectate`); resolves once the server welcomed
   * the spectator (`welcome.player_id` is 0). No inputs: each applied snapshot is acknowledged.
   */
  static watch(core, game, ticket, options) {
    return _Session.handshake(new _Session(core, game, ticket.url, options, true), ticket);
  }
  /** Sends the Hello; resolves with the session once welcomed. */
  static handshake(session, ticket) {
    return new Promise((resolve, reject) => {
      session.refuse = reject;
      session.open(session.client.hello(ticket.ticket), (s) => {
        session.refuse = null;
        resolve(s);
      }, reject);
    });
  }
  /** Leaves the match (the seat is freed; no results for this player). */
  leave() {
    this.send(this.client.leave());
    this.shutdown(null);
  }
  open(hello, welcomed, failed) {
    const socket = this.socketFactory(this.url);
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    let answered = false;
    socket.onopen = () => socket.send(hello);
    socket.onmessage = (m) => {
      if (!(m.data instanceof ArrayBuffer)) return;
      const code = this.receive(new Uint8Array(m.data));
      if (code === Frame.WELCOME && !answered) {
        answered = true;
        welcomed(this);
      }
    };
    socket.onclose = (e) => {
      if (this.socket !== socket) return;
      this.socket = null;
      const error = this.error(e.code, e.reason);
      if (!answered && this.welcome === null) {
        this.shutdown(error);
        failed(error ?? new SessionError(e.code, this.core.closeName(e.code), e.reason));
        return;
      }
      if (error && RESUMABLE.has(error.code) && !this.ended && !this.closed && !this.spectating) this.resume();
      else this.shutdown(error);
    };
  }
  /** Handles one frame; its `Frame` code. */
  receive(bytes) {
    const code = this.client.receive(bytes);
    switch (code) {
      case Frame.WELCOME: {
        this.welcome = this.client.welcome();
        if (this.resumeAttempt > 0) {
          this.resumeAttempt = 0;
          this.options.onResumed?.();
        }
        this.startTimers();
        break;
      }
      case Frame.SNAPSHOT:
        if (this.spectating) this.ack();
        this.options.onSnapshot?.({
          tick: this.client.tick,
          lastInputSeq: this.client.lastInputSeq,
          checksum: this.client.checksum,
          world: this.client.world(),
          events: this.client.events(),
          arrivedMs: this.now()
        });
        break;
      case Frame.PING:
        this.send(this.client.pong());
        break;
      case Frame.PONG: {
        const id = this.client.lastPong;
        const sent = this.pings.get(id);
        if (sent !== void 0) {
          this.rttMs = this.now() - sent;
          this.pings.delete(id);
        }
        break;
      }
      case Frame.MATCH_END:
        this.ended = true;
        this.options.onEnd?.(this.client.results());
        break;
      case Frame.KICKED:
        this.ended = true;
        break;
      default:
        if (code < 0) {
          const what = code === Frame.WRONG_GAME ? "the server plays another game" : `frame error ${code}`;
          this.socket?.close(1002, what);
          this.shutdown(new SessionError(code, "client_error", what));
        }
    }
    return code;
  }
  startTimers() {
    this.stopTimers();
    const rate = this.client.tickRate || 30;
    if (!this.spectating) this.tickTimer = setInterval(() => this.sendInput(), 1e3 / rate);
    this.pingTimer = setInterval(() => this.ping(), this.options.pingIntervalMs ?? 1e3);
    this.ping();
  }
  stopTimers() {
    if (this.tickTimer !== null) clearInterval(this.tickTimer);
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.tickTimer = null;
    this.pingTimer = null;
  }
  sendInput() {
    if (this.socket?.readyState !== 1 || !this.options.input) return;
    const values = this.options.input();
    const seq = this.client.nextSeq;
    const bytes = this.client.input(values);
    if (bytes === null) {
      this.shutdown(new SessionError(0, "invalid_input", `input ${Array.from(values)} is outside the game's declaration`));
      return;
    }
    this.send(bytes);
    this.inputs++;
    this.options.onInput?.(seq, values);
  }
  /** A spectator's answer to a snapshot: the newest applied tick, once per tick. */
  ack() {
    const tick = this.client.tick;
    if (tick === this.ackedTick || this.socket?.readyState !== 1) return;
    this.ackedTick = tick;
    this.send(this.client.ack());
    this.acks++;
  }
  ping() {
    const id = this.nextPing++;
    const now = this.now();
    this.pings.set(id, now);
    for (const [old] of this.pings) if (old < id - 16) this.pings.delete(old);
    this.send(this.client.ping(id, Math.round(now * 1e3)));
  }
  send(bytes) {
    if (this.socket?.readyState === 1 && bytes.length > 0) this.socket.send(bytes);
  }
  /** Reopens the connection with the reconnect token, until the server's grace runs out. */
  resume() {
    this.stopTimers();
    if (this.resumeAttempt === 0) {
      this.resumeUntil = this.now() + (this.welcome?.reconnect_grace_s ?? 10) * 1e3;
    }
    this.resumeAttempt++;
    if (this.now() > this.resumeUntil) {
      this.shutdown(new SessionError(1006, "connection_lost", "could not resume within the grace period"));
      return;
    }
    this.options.onResuming?.(this.resumeAttempt);
    const delay = Math.min(2e3, 100 * 2 ** (this.resumeAttempt - 1));
    setTimeout(() => {
      if (this.closed) return;
      this.open(this.client.resume(), () => void 0, (e) => this.shutdown(e));
    }, delay);
  }
  /** The error a close code stands for (null for a normal end). */
  error(code, reason) {
    const name = this.core.closeName(code);
    if (code === 1e3 || this.ended && code === 4012) return null;
    if (code === 4011) {
      const why = this.client.kicked() || reason;
      return new SessionError(code, name, why, `removed from the match by an admin${why ? `: ${why}` : ""}`);
    }
    return new SessionError(code, name, reason);
  }
  /** Stops for good (idempotent): timers off, socket closed, `onClose` once. */
  close() {
    this.shutdown(null);
  }
  /** Frees the core's state for this session (after it closed; its counters read 0 after). */
  dispose() {
    this.shutdown(null);
    this.client.free();
  }
  shutdown(error) {
    if (this.closed) return;
    this.closed = true;
    this.stopTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket && socket.readyState <= 1) socket.close(1e3, "bye");
    this.refuse?.(error ?? new SessionError(1e3, "normal", "", "closed before the server welcomed the player"));
    this.refuse = null;
    this.options.onClose?.(error);
  }
};

// src/sdk/replay.ts
var REPLAY_SPEEDS = [1, 2, 4, 8];
function splitRecords(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records = [];
  for (let at = 0; at < bytes.length; ) {
    if (at + 4 > bytes.length) throw new Error(`the replay stream is cut short: ${bytes.length - at} bytes of a record length`);
    const len = view.getUint32(at, true);
    if (at + 4 + len > bytes.length) {
      throw new Error(`the replay stream is cut short: a record of ${len} bytes at byte ${at} has ${bytes.length - at - 4}`);
    }
    records.push(bytes.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return records;
}
var ReplayPlayer = class _ReplayPlayer {
  client;
  welcome;
  tickRate;
  /** The steps after the Welcome: one per record (a snapshot per tick, then the MatchEnd). */
  length;
  core;
  game;
  bytes;
  records;
  options;
  now;
  timer = null;
  /** The index of the next record to apply (0 is the Welcome). */
  next = 1;
  /** Match time played (ms) when the clock was last settled, and when on the real clock. */
  media = 0;
  settledAt;
  rate;
  stopped;
  over = false;
  failure = null;
  disposed = false;
  /** Splits `bytes` and applies its Welcome; throws if it is not a replay of a known game. */
  static open(core, bytes, options = {}) {
    const records = splitRecords(bytes);
    if (records.length === 0) throw new Error("the replay stream is empty");
    const games = options.game ? [options.game] : core.games();
    let refusal = 0;
    for (const game of games) {
      const client = core.client(game);
      const code = client.receive(records[0]);
      if (code === Frame.WELCOME) return new _ReplayPlayer(core, game, client, bytes, records, options);
      client.free();
      refusal = code;
    }
    throw new Error(
      refusal === Frame.WRONG_GAME ? `the replay is of a game ${options.game ? `other than ${options.game}` : "this SDK does not know"}` : `the replay does not start with a Welcome (code ${refusal})`
    );
  }
  constructor(core, game, client, bytes, records, options) {
    this.core = core;
    this.game = game;
    this.client = client;
    this.bytes = bytes;
    this.records = records;
    this.options = options;
    this.now = options.now ?? (() => performance.now());
    this.settledAt = this.now();
    const welcome = client.welcome();
    if (welcome === null) throw new Error("the core lost the Welcome");
    this.welcome = welcome;
    this.tickRate = welcome.tick_rate || 30;
    this.length = records.length - 1;
    this.rate = _ReplayPlayer.checked(options.speed ?? 1);
    this.stopped = options.paused ?? false;
    const interval = options.intervalMs ?? 16;
    if (interval > 0) this.timer = setInterval(() => this.pump(), interval);
  }
  /** The speed: 1, 2, 4 or 8 times the match's tick rate. */
  get speed() {
    return this.rate;
  }
  set speed(speed) {
    const checked = _ReplayPlayer.checked(speed);
    this.settle();
    this.rate = checked;
  }
  get paused() {
    return this.stopped;
  }
  /** The MatchEnd was applied. */
  get ended() {
    return this.over;
  }
  /** Why the stream stopped early, if it did. */
  get error() {
    return this.failure;
  }
  /** Steps applied so far (of `length`). */
  get played() {
    return this.next - 1;
  }
  /** The newest applied snapshot's tick. */
  get tick() {
    return this.client.tick;
  }
  /** Stops the clock, after applying what was due until now. */
  pause() {
    this.pump();
    this.settle();
    this.stopped = true;
  }
  play() {
    this.settle();
    this.stopped = false;
  }
  /** The match time played, in ms: what a view draws at (it stands still while paused). */
  clock() {
    return this.stopped || this.over ? this.media : this.media + (this.now() - this.settledAt) * this.rate;
  }
  /** Applies every step due on the clock; how many (none while paused). The timer calls it; so may you. */
  pump() {
    if (this.stopped || this.over || this.failure || this.disposed) return 0;
    const at = this.clock();
    let applied = 0;
    while (this.next < this.records.length && this.due(this.next) <= at) {
      const step = this.next;
      this.next++;
      applied++;
      const code = this.client.receive(this.records[step]);
      if (code === Frame.SNAPSHOT) {
        this.options.onSnapshot?.({
          tick: this.client.tick,
          lastInputSeq: this.client.lastInputSeq,
          checksum: this.client.checksum,
          world: this.client.world(),
          events: this.client.events(),
          arrivedMs: this.due(step)
        });
      } else if (code === Frame.MATCH_END) {
        this.media = this.clock();
        this.over = true;
        this.stopTimer();
        this.options.onEnd?.(this.client.results());
        break;
      } else if (code < 0) {
        this.failure = new Error(`record ${step} of the replay does not apply (code ${code})`);
        this.stopTimer();
        this.options.onError?.(this.failure);
        break;
      }
    }
    return applied;
  }
  /** Plays again from the start, with a fresh replica (the speed and pause stay as they are). */
  restart() {
    const again = _ReplayPlayer.open(this.core, this.bytes, {
      ...this.options,
      game: this.game,
      speed: this.rate,
      paused: this.stopped
    });
    this.dispose();
    return again;
  }
  /** Stops the timer and frees the core's state for this replay. */
  dispose() {
    if (this.disposed) return;
    this.disposed = true;
    this.stopTimer();
    this.client.free();
  }
  /** When step `step` (1 is the first snapshot) is due, in match time (ms). */
  due(step) {
    return (step - 1) * 1e3 / this.tickRate;
  }
  /** Folds the time played so far into `media`, before the speed or the pause changes. */
  settle() {
    this.media = this.clock();
    this.settledAt = this.now();
  }
  stopTimer() {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
  static checked(speed) {
    if (!REPLAY_SPEEDS.includes(speed)) {
      throw new RangeError(`a replay plays at ${REPLAY_SPEEDS.join("×, ")}×, not ${speed}×`);
    }
    return speed;
  }
};

// src/sdk/interpolation.ts
function entityKey(index, version) {
  return version * 2 ** 32 + index;
}
var Interpolator = class {
  delayMs;
  msPerTick;
  fieldCount;
  lerp;
  angles;
  snap;
  capacity;
  buffer = [];
  /** Arrival time minus tick time: where tick 0 lies on the local clock. */
  offset = null;
  constructor(options) {
    this.msPerTick = 1e3 / options.tickRate;
    this.delayMs = options.delayMs ?? 100;
    this.fieldCount = options.fields.length;
    const index = (name) => {
      const i = options.fields.findIndex((f) => f.name === name);
      if (i < 0) throw new Error(`no entity field ${name}`);
      return i;
    };
    const angles = options.angles ?? {};
    this.angles = Object.entries(angles).map(([name, turn]) => [index(name), turn]);
    const lerp = options.lerp ?? options.fields.filter((f) => f.encoding === "predicted").map((f) => f.name);
    this.lerp = lerp.filter((name) => !(name in angles)).map(index);
    this.snap = options.snap ?? Infinity;
    this.capacity = options.capacity ?? 64;
  }
  /** Keeps a copy of the world at `tick`, which arrived at `arrivalMs` on the local clock. */
  push(tick, arrivalMs, world) {
    const newest = this.buffer[this.buffer.length - 1];
    if (newest && tick <= newest.tick) return;
    const ids = world.ids.slice(0, world.len * 2);
    const rows = world.rows.slice(0, world.len * this.fieldCount);
    const rowOf = /* @__PURE__ */ new Map();
    for (let i = 0; i < world.len; i++) rowOf.set(entityKey(ids[2 * i], ids[2 * i + 1]), i);
    this.buffer.push({ tick, ids, rows, rowOf });
    if (this.buffer.length > this.capacity) this.buffer.shift();
    const offset = arrivalMs - tick * this.msPerTick;
    if (this.offset === null || offset < this.offset) this.offset = offset;
    else this.offset += (offset - this.offset) * 0.02;
  }
  /** The (fractional) tick drawn at `nowMs`. */
  renderTick(nowMs) {
    if (this.offset === null) return 0;
    return (nowMs - this.delayMs - this.offset) / this.msPerTick;
  }
  /** The newest snapshot's tick (0 before any). */
  get newestTick() {
    return this.buffer[this.buffer.length - 1]?.tick ?? 0;
  }
  /**
   * The entities as drawn at `nowMs`: those alive at the render tick, their blended fields
   * between the bracketing snapshots. Before the first snapshot, nothing; past the newest, the
   * newest as it is (no guessing ahead).
   */
  sample(nowMs) {
    const n = this.buffer.length;
    if (n === 0) return [];
    const at = this.renderTick(nowMs);
    let a = 0;
    while (a + 1 < n && this.buffer[a + 1].tick <= at) a++;
    if (a > 0) {
      this.buffer.splice(0, a);
      a = 0;
    }
    const older = this.buffer[0];
    const newer = this.buffer.length > 1 ? this.buffer[1] : null;
    const t = newer && at > older.tick ? Math.min(1, (at - older.tick) / (newer.tick - older.tick)) : 0;
    const out = [];
    const f = this.fieldCount;
    for (let i = 0; i < older.ids.length / 2; i++) {
      const index = older.ids[2 * i];
      const version = older.ids[2 * i + 1];
      const key = entityKey(index, version);
      const values = new Float64Array(f);
      for (let k = 0; k < f; k++) values[k] = older.rows[i * f + k];
      const j = newer?.rowOf.get(key);
      if (newer && j !== void 0 && t > 0) {
        const blend = (k) => newer.rows[j * f + k] - older.rows[i * f + k];
        const snaps = this.lerp.some((k) => Math.abs(blend(k)) > this.snap);
        if (snaps) {
          for (let k = 0; k < f; k++) values[k] = newer.rows[j * f + k];
        } else {
          for (const k of this.lerp) values[k] += blend(k) * t;
          for (const [k, turn] of this.angles) {
            let d = blend(k) % turn;
            if (d > turn / 2) d -= turn;
            if (d < -turn / 2) d += turn;
            values[k] = ((values[k] + d * t) % turn + turn) % turn;
          }
        }
      }
      out.push({ key, index, version, values });
    }
    return out;
  }
};

// src/sdk/prediction.ts
var Predictor = class {
  model;
  pending = [];
  current = null;
  /** Inputs kept unacknowledged, at most (a stalled connection must not grow this forever). */
  capacity;
  constructor(model, capacity = 256) {
    this.model = model;
    this.capacity = capacity;
  }
  /** The predicted state (null before the first snapshot showed the player). */
  get state() {
    return this.current;
  }
  /** Inputs sent that the server has not yet applied. */
  get unacknowledged() {
    return this.pending.length;
  }
  /** An input sent with `seq`: applies it to the prediction at once. */
  apply(seq, input) {
    if (this.current === null) return null;
    this.current = this.model.step(this.current, input);
    this.pending.push({ seq, input, after: this.current });
    if (this.pending.length > this.capacity) this.pending.shift();
    return this.current;
  }
  /**
   * A snapshot showed the player as `server`, with every input up to `lastInputSeq` applied:
   * drops those, and replays the rest on the server's state.
   */
  reconcile(server, lastInputSeq) {
    let local = null;
    while (this.pending.length > 0 && this.pending[0].seq <= lastInputSeq) {
      local = this.pending.shift().after;
    }
    let state2 = this.model.authoritative(server, local);
    for (const p of this.pending) {
      state2 = this.model.step(state2, p.input);
      p.after = state2;
    }
    this.current = state2;
    return { state: state2, replayed: this.pending.length };
  }
  /** Forgets everything (the player died, or the connection was replaced). */
  reset() {
    this.pending = [];
    this.current = null;
  }
};

// src/sdk/games/arena.ts
var POS_SCALE = 16;
var AIM_TURN = 65536;
var ArenaKind = Object.freeze({ PLAYER: 0, PROJECTILE: 1, ORB: 2, DRONE: 3 });
var ArenaFlags = Object.freeze({ DEAD: 1, DASHING: 2, FIRING: 4 });
var ArenaButtons = Object.freeze({ FIRE: 1, DASH: 2 });
var ArenaEvents = Object.freeze({ KILL: "Kill", PICKUP: "Pickup", RESPAWN: "Respawn" });
function arenaInput(input) {
  return [input.buttons, input.move_dir, input.aim];
}
function arenaInputOf(values) {
  return { buttons: values[0], move_dir: values[1], aim: values[2] };
}
function moveDir(up, down, left, right) {
  const dx = (right ? 1 : 0) - (left ? 1 : 0);
  const dy = (down ? 1 : 0) - (up ? 1 : 0);
  if (dx === 0 && dy === 0) return 0;
  const octant = Math.round(Math.atan2(dy, dx) / (Math.PI / 4));
  return (octant + 8) % 8 + 1;
}
function aimToward(dx, dy) {
  const turns = Math.atan2(dy, dx) / (2 * Math.PI);
  return (Math.round(turns * AIM_TURN) % AIM_TURN + AIM_TURN) % AIM_TURN;
}
function arenaInterpolation(decl, tickRate) {
  return {
    tickRate,
    fields: decl.entity,
    angles: { aim: AIM_TURN },
    snap: 200 * POS_SCALE
  };
}
function arenaPrediction(motion) {
  return {
    step: (state2, values) => motion.step(state2, arenaInputOf(values)),
    authoritative: (server, local) => ({
      x: server.x,
      y: server.y,
      dashLeft: local?.dashLeft ?? 0,
      dashCooldown: local?.dashCooldown ?? 0,
      dashVx: local?.dashVx ?? 0,
      dashVy: local?.dashVy ?? 0
    })
  };
}

// src/sdk/games/arena-motion.ts
var POS_SCALE2 = 16;
var DASH_BUTTON = 2;
var INV_SQRT2_Q16 = 46341;
var COMPASS = [
  [0, 0],
  [1, 0],
  [1, 1],
  [0, 1],
  [-1, 1],
  [-1, 0],
  [-1, -1],
  [0, -1],
  [1, -1]
];
var RESOLVE_PASSES = 4;
var I32_MIN = -2147483648;
var I32_MAX = 2147483647;
var U32_MAX = 4294967295;
function roundHalfAway(x) {
  const t = Math.trunc(x);
  return Math.abs(x - t) >= 0.5 ? t + Math.sign(x) : t;
}
function floatToI32(x) {
  if (Number.isNaN(x)) return 0;
  return Math.trunc(Math.min(Math.max(x, I32_MIN), I32_MAX));
}
function floatToU32(x) {
  if (Number.isNaN(x)) return 0;
  return Math.trunc(Math.min(Math.max(x, 0), U32_MAX));
}
var SAFE = Number.MAX_SAFE_INTEGER;
function mulExact(a, b) {
  const p = a * b;
  return Math.abs(p) <= SAFE ? p : BigInt(a) * BigInt(b);
}
function lessThan(a, b) {
  return typeof a === typeof b ? a < b : BigInt(a) < BigInt(b);
}
function mulDivTrunc(a, b, d) {
  const p = a * b;
  if (Math.abs(p) <= SAFE) {
    return Math.trunc(p / d) | 0;
  }
  return Number(BigInt.asIntN(32, BigInt(a) * BigInt(b) / BigInt(d)));
}
function isqrt(n) {
  if (typeof n === "number") {
    let s2 = Math.floor(Math.sqrt(n));
    while (s2 * s2 > n) s2 -= 1;
    while ((s2 + 1) * (s2 + 1) <= n) s2 += 1;
    return s2;
  }
  let s = BigInt(Math.floor(Math.sqrt(Number(n))));
  while (s * s > n) s -= 1n;
  while ((s + 1n) * (s + 1n) <= n) s += 1n;
  return s;
}
function posToFixed(units) {
  return floatToI32(roundHalfAway(Math.fround(Math.fround(units) * POS_SCALE2)));
}
function secondsToTicks(seconds, rate) {
  return floatToU32(roundHalfAway(Math.fround(seconds) * rate));
}
function speedPerTick(unitsPerS, rate) {
  return floatToI32(roundHalfAway(Math.fround(unitsPerS) * POS_SCALE2 / rate));
}
function compassVelocities(speed) {
  const diagonal = Math.floor((speed * INV_SQRT2_Q16 + 32768) / 65536) | 0;
  return COMPASS.map(([x, y]) => {
    const c = x !== 0 && y !== 0 ? diagonal : speed;
    return [x * c + 0, y * c + 0];
  });
}
var UNIT_BITS = 16;
var TABLE_BITS = 12;
var TABLE_LEN = 1 << TABLE_BITS;
var TAU = 6.283185307179586;
function sinCosUnitTurn(t) {
  const quarter = Math.trunc(t * 4 + 0.5);
  const r = (t - quarter * 0.25) * TAU;
  const r2 = r * r;
  const sin = r * (1 - r2 / 6 * (1 - r2 / 20 * (1 - r2 / 42 * (1 - r2 / 72 * (1 - r2 / 110 * (1 - r2 / 156 * (1 - r2 / 210)))))));
  const cos = 1 - r2 / 2 * (1 - r2 / 12 * (1 - r2 / 30 * (1 - r2 / 56 * (1 - r2 / 90 * (1 - r2 / 132 * (1 - r2 / 182))))));
  switch (quarter % 4) {
    case 0:
      return [sin, cos];
    case 1:
      return [cos, -sin];
    case 2:
      return [-sin, -cos];
    default:
      return [-cos, sin];
  }
}
function constRoundToI32(x) {
  return floatToI32(x < 0 ? x - 0.5 : x + 0.5);
}
var cosTable = null;
function cosTableOnce() {
  if (cosTable === null) {
    cosTable = new Int32Array(TABLE_LEN);
    for (let i = 0; i < TABLE_LEN; i++) {
      cosTable[i] = constRoundToI32(sinCosUnitTurn(i / TABLE_LEN)[1] * (1 << UNIT_BITS));
    }
  }
  return cosTable;
}
function scaleBy(length, unit) {
  const product = length * unit;
  const magnitude = Math.min(Math.floor((Math.abs(product) + (1 << UNIT_BITS - 1)) / (1 << UNIT_BITS)), I32_MAX);
  return product < 0 ? 0 - magnitude : magnitude;
}
function aimVector(aim, length) {
  const table3 = cosTableOnce();
  const shift = 16 - TABLE_BITS;
  const index = (aim + (1 << shift - 1) >>> shift) % TABLE_LEN;
  const cos = table3[index];
  const sin = table3[(index + TABLE_LEN - TABLE_LEN / 4) % TABLE_LEN];
  return [scaleBy(length, cos), scaleBy(length, sin)];
}
function field(obj, key, path) {
  if (!(key in obj)) throw new Error(`arena motion: ${path}${key} is missing`);
  return obj[key];
}
function num(obj, key, path = "") {
  const v = field(obj, key, path);
  if (typeof v !== "number") throw new Error(`arena motion: ${path}${key} must be a number`);
  return v;
}
function table(obj, key, path = "") {
  const v = field(obj, key, path);
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new Error(`arena motion: ${path}${key} must be a table`);
  }
  return v;
}
var ArenaMotion = class {
  radius;
  walk;
  dash;
  dashSpeed;
  dashTicks;
  dashCooldownTicks;
  width;
  height;
  walls;
  /** `move_circle`'s longest substep. */
  maxStep;
  constructor(tuning, layout2, tickRate) {
    if (!Number.isInteger(tickRate) || tickRate < 0 || tickRate > 65535) {
      throw new RangeError(`arena motion: tick rate ${tickRate} is not a u16`);
    }
    const rate = Math.max(tickRate, 1);
    const player = table(tuning, "player");
    const p = "player.";
    const walkSpeed = speedPerTick(num(player, "speed", p), rate);
    this.dashSpeed = speedPerTick(num(player, "dash_speed", p), rate);
    this.radius = Math.max(posToFixed(num(player, "radius", p)), 1);
    this.walk = compassVelocities(walkSpeed);
    this.dash = compassVelocities(this.dashSpeed);
    const dashDuration = num(player, "dash_duration_s", p);
    this.dashTicks = Math.fround(dashDuration) > 0 ? Math.max(secondsToTicks(dashDuration, rate), 1) : 0;
    this.dashCooldownTicks = secondsToTicks(num(player, "dash_cooldown_s", p), rate);
    this.width = posToFixed(num(layout2, "width"));
    this.height = posToFixed(num(layout2, "height"));
    const walls = layout2.walls ?? [];
    if (!Array.isArray(walls)) throw new Error("arena motion: walls must be an array");
    this.walls = walls.map((w, i) => {
      if (typeof w !== "object" || w === null) throw new Error(`arena motion: walls[${i}] must be a table`);
      const r = w;
      const at = `walls[${i}].`;
      const [x, y, ww, h] = [num(r, "x", at), num(r, "y", at), num(r, "w", at), num(r, "h", at)];
      return {
        x0: posToFixed(x),
        y0: posToFixed(y),
        x1: posToFixed(Math.fround(Math.fround(x) + Math.fround(ww))),
        y1: posToFixed(Math.fround(Math.fround(y) + Math.fround(h)))
      };
    });
    let thinnest = I32_MAX;
    for (const w of this.walls) thinnest = Math.min(thinnest, Math.min(w.x1 - w.x0, w.y1 - w.y0));
    this.maxStep = Math.max(Math.trunc(Math.min(this.radius, thinnest) / 2), 1);
  }
  /** One tick of a living player's movement, exactly as the server computes it (positions in fixed point). */
  step(s, input) {
    const dir = input.move_dir;
    if (!Number.isInteger(dir) || dir < 0 || dir >= COMPASS.length) {
      throw new RangeError(`arena motion: move_dir ${dir} is outside 0..=8`);
    }
    let { x, y, dashLeft, dashVx, dashVy } = s;
    let dashCooldown = Math.max(s.dashCooldown - 1, 0);
    if ((input.buttons & DASH_BUTTON) !== 0 && dashCooldown === 0 && dashLeft === 0 && this.dashTicks > 0) {
      [dashVx, dashVy] = dir === 0 ? aimVector(input.aim & 65535, this.dashSpeed) : this.dash[dir];
      dashLeft = this.dashTicks;
      dashCooldown = this.dashCooldownTicks;
    }
    let velocity;
    if (dashLeft > 0) {
      dashLeft -= 1;
      velocity = [dashVx, dashVy];
    } else {
      velocity = this.walk[dir];
    }
    if (velocity[0] !== 0 || velocity[1] !== 0) {
      [x, y] = this.moveCircle([x, y], velocity);
    }
    return { x, y, dashLeft, dashCooldown, dashVx, dashVy };
  }
  /** Pushes a position out of walls/bounds as the server's Walls::resolve does. */
  resolve(x, y) {
    return this.resolveCircle([x, y], this.radius);
  }
  /** `Walls::move_circle`: substeps short enough that the centre never passes a wall. */
  moveCircle(from, delta) {
    const longest = Math.max(Math.abs(delta[0]), Math.abs(delta[1]));
    const steps = Math.max(Math.ceil(longest / this.maxStep), 1);
    let pos = from;
    let done = [0, 0];
    for (let k = 1; k <= steps; k++) {
      const target = [mulDivTrunc(delta[0], k, steps), mulDivTrunc(delta[1], k, steps)];
      pos = [pos[0] + target[0] - done[0], pos[1] + target[1] - done[1]];
      done = target;
      pos = this.resolveCircle(pos, this.radius);
    }
    return pos;
  }
  /** `Walls::resolve`. */
  resolveCircle(at, radius) {
    let pos = this.clamp(at, radius);
    for (let pass = 0; pass < RESOLVE_PASSES; pass++) {
      let pushed = false;
      for (const wall of this.walls) {
        const push = pushOut(wall, pos, radius);
        if (push !== null) {
          pos = [pos[0] + push[0], pos[1] + push[1]];
          pushed = true;
        }
      }
      pos = this.clamp(pos, radius);
      if (!pushed) break;
    }
    return pos;
  }
  /** `Walls::clamp`: `max` last, so an arena narrower than the circle keeps it top-left. */
  clamp(pos, radius) {
    return [
      Math.max(Math.min(pos[0], this.width - radius), radius),
      Math.max(Math.min(pos[1], this.height - radius), radius)
    ];
  }
};
function pushOut(w, pos, radius) {
  const nx = Math.min(Math.max(pos[0], w.x0), w.x1);
  const ny = Math.min(Math.max(pos[1], w.y0), w.y1);
  const dx = pos[0] - nx;
  const dy = pos[1] - ny;
  const d2 = addExact(mulExact(dx, dx), mulExact(dy, dy));
  if (!lessThan(d2, mulExact(radius, radius))) return null;
  if (dx === 0 && dy === 0) {
    const exits = [
      [w.x0 - radius - pos[0], 0],
      [w.x1 + radius - pos[0], 0],
      [0, w.y0 - radius - pos[1]],
      [0, w.y1 + radius - pos[1]]
    ];
    let best = exits[0];
    for (const e of exits) {
      if (Math.abs(e[0]) + Math.abs(e[1]) < Math.abs(best[0]) + Math.abs(best[1])) best = e;
    }
    return best;
  }
  if (dx === 0) return [0, Math.sign(dy) * (radius - Math.abs(dy))];
  if (dy === 0) return [Math.sign(dx) * (radius - Math.abs(dx)), 0];
  const root = isqrt(d2);
  const out = (c) => {
    if (typeof root === "number") {
      const d3 = Math.max(root, 1);
      const num2 = Math.abs(c) * radius + d3 - 1;
      if (num2 <= SAFE) return Math.sign(c) * Math.floor(num2 / d3) | 0;
    }
    const d = BigInt(root) > 1n ? BigInt(root) : 1n;
    const q = (BigInt(Math.abs(c)) * BigInt(radius) + d - 1n) / d;
    return Number(BigInt.asIntN(32, c < 0 ? -q : q));
  };
  return [nx + out(dx) - pos[0], ny + out(dy) - pos[1]];
}
function addExact(a, b) {
  if (typeof a === "number" && typeof b === "number" && Math.abs(a + b) <= SAFE) return a + b;
  return BigInt(a) + BigInt(b);
}

// src/sdk/games/cycles.ts
var CyclesKind = Object.freeze({ CYCLE: 0, TRAIL: 1 });
var Turn = Object.freeze({ STRAIGHT: 0, LEFT: 1, RIGHT: 2 });
var Heading = Object.freeze({ EAST: 0, SOUTH: 1, WEST: 2, NORTH: 3 });
function turnToward(heading, wanted) {
  const d = (wanted - heading + 4) % 4;
  if (d === 1) return Turn.RIGHT;
  if (d === 3) return Turn.LEFT;
  return null;
}
function cyclesInterpolation(decl, tickRate) {
  return { tickRate, fields: decl.entity, snap: 1 };
}

// src/app/dom.ts
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (typeof value === "function") node.addEventListener(key.replace(/^on/, ""), value);
    else if (value === true) node.setAttribute(key, "");
    else if (value !== false) node.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === null || child === void 0 || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}
function show(parent, ...children) {
  parent.replaceChildren();
  for (const child of children) {
    if (child === null || child === void 0 || child === false) continue;
    parent.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
}
function errorText(e) {
  return e instanceof Error ? e.message : String(e);
}
function playerColour(id, light = 55) {
  return `hsl(${(170 + id * 137.508 % 280) % 360}, 70%, ${light}%)`;
}

// src/app/leaderboards.ts
function table2(records, me) {
  return el(
    "table",
    {},
    el("thead", {}, el("tr", {}, el("th", {}, "Rank"), el("th", {}, "Player"), el("th", {}, "Score"))),
    el("tbody", {}, ...records.length === 0 ? [el("tr", {}, el("td", { colspan: 3, class: "muted" }, "No records yet."))] : records.map((r) => el(
      "tr",
      { class: r.account_id === me ? "me" : "" },
      el("td", {}, String(r.rank)),
      el("td", {}, r.username),
      el("td", {}, String(r.score))
    )))
  );
}
async function leaderboards(root, api2) {
  let boards;
  try {
    boards = await api2.leaderboards();
  } catch (e) {
    show(root, el("p", { class: "error" }, errorText(e)));
    return;
  }
  if (boards.length === 0) {
    show(root, el("p", { class: "muted" }, "This server keeps no leaderboards."));
    return;
  }
  const select = el("select", {}, ...boards.map((b) => el("option", { value: b.id }, `${b.id} (${b.game}, ${b.metric}, ${b.reset})`)));
  const top = el("div");
  const around = el("div");
  const more = el("button", {}, "Next page");
  let cursor = null;
  const me = api2.tokens?.account_id ?? null;
  const load = async (reset) => {
    if (reset) cursor = null;
    try {
      const page = await api2.leaderboard(select.value, { limit: 10, cursor: cursor ?? void 0 });
      cursor = page.next_cursor ?? null;
      more.hidden = cursor === null;
      show(top, el("p", { class: "muted" }, `Season ${page.season}`), table2(page.records, me));
    } catch (e) {
      show(top, el("p", { class: "error" }, errorText(e)));
    }
    if (!api2.signedIn) {
      show(around, el("p", { class: "muted" }, "Sign in to see where you stand."));
      return;
    }
    try {
      show(around, table2((await api2.around(select.value, "me", { limit: 5 })).records, me));
    } catch (e) {
      show(around, el("p", { class: "muted" }, errorText(e)));
    }
  };
  select.addEventListener("change", () => void load(true));
  more.addEventListener("click", () => void load(false));
  show(
    root,
    el("section", {}, el("h2", {}, "Leaderboard "), select, top, more),
    el("section", {}, el("h2", {}, "Around me"), around)
  );
  await load(true);
}

// src/app/arena-view.ts
var ArenaView = class {
  keys;
  canvas;
  ctx;
  client;
  interp;
  predictor;
  f = {};
  width;
  height;
  walls;
  scale;
  held = /* @__PURE__ */ new Set();
  firing = false;
  pointer = null;
  aim = 0;
  meOnScreen = null;
  drawn = { entities: 0, players: 0, otherPlayers: 0 };
  scores = /* @__PURE__ */ new Map();
  corrections = 0;
  readOnly;
  /** The player drawn as ours (0: none). */
  me;
  detach;
  constructor(canvas, client, game, map, options = {}) {
    this.canvas = canvas;
    this.readOnly = options.readOnly ?? false;
    this.me = options.focus ?? client.playerId;
    this.keys = this.readOnly ? "" : "Move: WASD or arrows · Aim: mouse · Fire: click or F · Dash: Space or Shift";
    const ctx = canvas.getContext("2d");
    if (!ctx) throw new Error("no 2D canvas");
    this.ctx = ctx;
    this.client = client;
    const decl = client.game();
    decl.entity.forEach((field2, i) => this.f[field2.name] = i);
    this.interp = new Interpolator(arenaInterpolation(decl, game.tick_rate));
    this.predictor = new Predictor(arenaPrediction(new ArenaMotion(game.tuning, map.layout, game.tick_rate)));
    const layout2 = map.layout;
    this.width = Number(layout2.width ?? 2e3);
    this.height = Number(layout2.height ?? 2e3);
    this.walls = layout2.walls ?? [];
    const fit = Math.min(960 / this.width, 720 / this.height);
    this.scale = fit;
    canvas.width = Math.round(this.width * fit);
    canvas.height = Math.round(this.height * fit);
    if (this.readOnly) {
      this.detach = () => void 0;
      return;
    }
    const key = (down2) => (e) => {
      const k = e.key.length === 1 ? e.key.toLowerCase() : e.key;
      if (["w", "a", "s", "d", "f", " ", "Shift", "ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"].includes(k)) {
        e.preventDefault();
        if (down2) this.held.add(k);
        else this.held.delete(k);
      }
    };
    const keydown = key(true);
    const keyup = key(false);
    const move = (e) => {
      const r = canvas.getBoundingClientRect();
      this.pointer = { x: (e.clientX - r.left) * canvas.width / r.width, y: (e.clientY - r.top) * canvas.height / r.height };
    };
    const down = () => this.firing = true;
    const up = () => this.firing = false;
    const blur = () => {
      this.held.clear();
      this.firing = false;
    };
    window.addEventListener("keydown", keydown);
    window.addEventListener("keyup", keyup);
    window.addEventListener("blur", blur);
    canvas.addEventListener("pointermove", move);
    canvas.addEventListener("pointerdown", down);
    window.addEventListener("pointerup", up);
    this.detach = () => {
      window.removeEventListener("keydown", keydown);
      window.removeEventListener("keyup", keyup);
      window.removeEventListener("blur", blur);
      canvas.removeEventListener("pointermove", move);
      canvas.removeEventListener("pointerdown", down);
      window.removeEventListener("pointerup", up);
    };
  }
  input() {
    const h = (k) => this.held.has(k);
    const dir = moveDir(h("w") || h("ArrowUp"), h("s") || h("ArrowDown"), h("a") || h("ArrowLeft"), h("d") || h("ArrowRight"));
    if (this.pointer && this.meOnScreen) {
      this.aim = aimToward(this.pointer.x - this.meOnScreen.x, this.pointer.y - this.meOnScreen.y);
    }
    const buttons = (this.firing || h("f") ? ArenaButtons.FIRE : 0) | (h(" ") || h("Shift") ? ArenaButtons.DASH : 0);
    return arenaInput({ buttons, move_dir: dir, aim: this.aim });
  }
  onInput(seq, values) {
    this.predictor.apply(seq, values);
  }
  onSnapshot(s) {
    this.interp.push(s.tick, s.arrivedMs, s.world);
    const { rows, fields, len } = s.world;
    const f = this.f;
    const me = this.me;
    this.scores.clear();
    for (let i = 0; i < len; i++) {
      const row = i * fields;
      if (rows[row + f.kind] !== ArenaKind.PLAYER) continue;
      const owner = rows[row + f.owner] >>> 0;
      const alive = (rows[row + f.flags] & ArenaFlags.DEAD) === 0;
      this.scores.set(owner, { score: rows[row + f.score], alive });
      if (owner !== me || this.readOnly) continue;
      if (!alive) {
        this.predictor.reset();
        continue;
      }
      const before = this.predictor.state;
      const { state: state2 } = this.predictor.reconcile(
        { x: rows[row + f.x], y: rows[row + f.y], dashLeft: 0, dashCooldown: 0, dashVx: 0, dashVy: 0 },
        s.lastInputSeq
      );
      if (before && (before.x !== state2.x || before.y !== state2.y)) this.corrections++;
    }
  }
  players() {
    return [...this.scores].map(([id, p]) => ({ id, ...p }));
  }
  draw(nowMs) {
    const { ctx, scale } = this;
    const f = this.f;
    const px = (v) => v / POS_SCALE * scale;
    ctx.fillStyle = "#0a0d12";
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.strokeStyle = "#1b2230";
    ctx.lineWidth = 1;
    for (let g = 0; g <= this.width; g += 200) {
      ctx.beginPath();
      ctx.moveTo(g * scale, 0);
      ctx.lineTo(g * scale, this.canvas.height);
      ctx.stroke();
    }
    for (let g = 0; g <= this.height; g += 200) {
      ctx.beginPath();
      ctx.moveTo(0, g * scale);
      ctx.lineTo(this.canvas.width, g * scale);
      ctx.stroke();
    }
    ctx.fillStyle = "#3a4458";
    for (const w of this.walls) ctx.fillRect(w.x * scale, w.y * scale, w.w * scale, w.h * scale);
    const me = this.me;
    const predicted = this.predictor.state;
    const drawn = { entities: 0, players: 0, otherPlayers: 0 };
    this.meOnScreen = null;
    for (const e of this.interp.sample(nowMs)) {
      const v = e.values;
      const kind = v[f.kind];
      const owner = v[f.owner] >>> 0;
      let x = px(v[f.x]);
      let y = px(v[f.y]);
      drawn.entities++;
      if (kind === ArenaKind.ORB) {
        this.circle(x, y, 12 * scale, "#f5c542");
      } else if (kind === ArenaKind.PROJECTILE) {
        this.circle(x, y, Math.max(2, 4 * scale), owner === me ? "#bff5d9" : "#ffd1d1");
      } else if (kind === ArenaKind.DRONE) {
        this.circle(x, y, 10 * scale, "#8e6bd8");
      } else if (kind === ArenaKind.PLAYER) {
        const dead = (v[f.flags] & ArenaFlags.DEAD) !== 0;
        if (owner === me && !dead) {
          if (predicted) {
            x = px(predicted.x);
            y = px(predicted.y);
          }
          if (predicted || this.readOnly) this.meOnScreen = { x, y };
        }
        drawn.players++;
        if (owner !== me) drawn.otherPlayers++;
        this.player(x, y, v[f.aim], owner === me ? "#4cc38a" : playerColour(owner), dead, (v[f.flags] & ArenaFlags.DASHING) !== 0, owner);
      }
    }
    this.drawn = drawn;
  }
  circle(x, y, r, colour) {
    const { ctx } = this;
    ctx.fillStyle = colour;
    ctx.beginPath();
    ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.fill();
  }
  player(x, y, aim, colour, dead, dashing, id) {
    const { ctx, scale } = this;
    const r = Math.max(5, 16 * scale);
    ctx.globalAlpha = dead ? 0.25 : 1;
    if (dashing) this.circle(x, y, r * 1.5, "rgba(255,255,255,0.15)");
    this.circle(x, y, r, colour);
    const a = aim / 65536 * 2 * Math.PI;
    ctx.strokeStyle = colour;
    ctx.lineWidth = 3;
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x + Math.cos(a) * r * 1.9, y + Math.sin(a) * r * 1.9);
    ctx.stroke();
    ctx.fillStyle = "#e6e9ef";
    ctx.font = "11px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.fillText(this.client.playerName(id) || `#${id}`, x, y - r - 4);
    ctx.globalAlpha = 1;
  }
  debug() {
    const p = this.predictor.state;
    return {
      me: p ? { x: p.x / POS_SCALE, y: p.y / POS_SCALE } : null,
      meOnScreen: this.meOnScreen,
      drawn: this.drawn,
      unacknowledged: this.predictor.unacknowledged,
      corrections: this.corrections
    };
  }
  dispose() {
    this.detach();
  }
};

// src/app/cycles-view.ts
var DIRECTIONS = {
  ArrowRight: Heading.EAST,
  d: Heading.EAST,
  ArrowDown: Heading.SOUTH,
  s: Heading.SOUTH,
  ArrowLeft: Heading.WEST,
  a: Heading.WEST,
  ArrowUp: Heading.NORTH,
  w: Heading.NORTH
};
var CyclesView = class {
  keys;
  canvas;
  ctx;
  client;
  interp;
  f = {};
  width;
  height;
  walls;
  cell;
  pending = Turn.STRAIGHT;
  heading = null;
  mine = null;
  meOnScreen = null;
  drawn = { cycles: 0, trails: 0, otherCycles: 0 };
  scores = /* @__PURE__ */ new Map();
  detach;
  cutPoints;
  crashKind;
  /** The player drawn as ours (0: none). */
  me;
  constructor(canvas, client, game, map, options = {}) {
    this.canvas = canvas;
    this.me = options.focus ?? client.playerId;
    this.keys = options.readOnly ? "" : "Steer: arrows or WASD · Turn left/right: Q / E";
    const ctx = canvas.getContext("2d");
    if (!ctx) throw new Error("no 2D canvas");
    this.ctx = ctx;
    this.client = client;
    const decl = client.game();
    decl.entity.forEach((field2, i) => this.f[field2.name] = i);
    this.interp = new Interpolator(cyclesInterpolation(decl, game.tick_rate));
    this.cutPoints = Number(game.tuning.cut_points ?? 0);
    this.crashKind = decl.events.find((e) => e.name === "Crash")?.kind ?? -100;
    const layout2 = map.layout;
    this.width = Number(layout2.width ?? 64);
    this.height = Number(layout2.height ?? 48);
    this.walls = layout2.walls ?? [];
    this.cell = Math.max(4, Math.floor(Math.min(960 / this.width, 720 / this.height)));
    canvas.width = this.width * this.cell;
    canvas.height = this.height * this.cell;
    if (options.readOnly) {
      this.detach = () => void 0;
      return;
    }
    const keydown = (e) => {
      const k = e.key.length === 1 ? e.key.toLowerCase() : e.key;
      let turn = null;
      if (k === "q") turn = Turn.LEFT;
      else if (k === "e") turn = Turn.RIGHT;
      else if (k in DIRECTIONS && this.heading !== null) turn = turnToward(this.heading, DIRECTIONS[k]);
      else if (!(k in DIRECTIONS)) return;
      e.preventDefault();
      if (turn !== null) this.pending = turn;
    };
    window.addEventListener("keydown", keydown);
    this.detach = () => window.removeEventListener("keydown", keydown);
  }
  input() {
    const turn = this.pending;
    this.pending = Turn.STRAIGHT;
    return [turn];
  }
  onInput() {
  }
  onSnapshot(s) {
    this.interp.push(s.tick, s.arrivedMs, s.world);
    for (const e of s.events) {
      const [player, by] = e.values;
      if (e.tag === this.crashKind && by !== 0 && by !== player) {
        const p = this.scores.get(by) ?? { score: 0, alive: true };
        p.score += this.cutPoints;
        this.scores.set(by, p);
      }
    }
    const { rows, fields, len } = s.world;
    const f = this.f;
    const me = this.me;
    this.mine = null;
    for (let i = 0; i < len; i++) {
      const row = i * fields;
      if (rows[row + f.kind] !== CyclesKind.CYCLE) continue;
      const owner = rows[row + f.owner] >>> 0;
      const alive = rows[row + f.alive] !== 0;
      this.scores.set(owner, { score: this.scores.get(owner)?.score ?? 0, alive });
      if (owner === me) {
        this.heading = rows[row + f.heading];
        this.mine = { x: rows[row + f.x], y: rows[row + f.y], alive };
      }
    }
  }
  /** Cuts seen in this session (the results carry the full score, with cells travelled). */
  players() {
    return [...this.scores].map(([id, p]) => ({ id, ...p }));
  }
  draw(nowMs) {
    const { ctx, cell } = this;
    const f = this.f;
    ctx.fillStyle = "#0a0d12";
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.strokeStyle = "#151b26";
    ctx.lineWidth = 1;
    for (let x = 0; x <= this.width; x++) {
      ctx.beginPath();
      ctx.moveTo(x * cell + 0.5, 0);
      ctx.lineTo(x * cell + 0.5, this.canvas.height);
      ctx.stroke();
    }
    for (let y = 0; y <= this.height; y++) {
      ctx.beginPath();
      ctx.moveTo(0, y * cell + 0.5);
      ctx.lineTo(this.canvas.width, y * cell + 0.5);
      ctx.stroke();
    }
    ctx.fillStyle = "#3a4458";
    for (const w of this.walls) ctx.fillRect(w.x * cell, w.y * cell, w.w * cell, w.h * cell);
    const me = this.me;
    const drawn = { cycles: 0, trails: 0, otherCycles: 0 };
    this.meOnScreen = null;
    const cycles = [];
    for (const e of this.interp.sample(nowMs)) {
      const v = e.values;
      const owner = v[f.owner] >>> 0;
      if (v[f.kind] === CyclesKind.TRAIL) {
        drawn.trails++;
        ctx.fillStyle = owner === me ? "rgba(76, 195, 138, 0.55)" : playerColour(owner, 35);
        ctx.fillRect(v[f.x] * cell + 1, v[f.y] * cell + 1, cell - 2, cell - 2);
      } else {
        cycles.push({ x: v[f.x], y: v[f.y], owner, alive: v[f.alive] !== 0 });
      }
    }
    for (const c of cycles) {
      drawn.cycles++;
      if (c.owner !== me) drawn.otherCycles++;
      const x = c.x * cell + cell / 2;
      const y = c.y * cell + cell / 2;
      if (c.owner === me) this.meOnScreen = { x, y };
      ctx.globalAlpha = c.alive ? 1 : 0.3;
      ctx.fillStyle = c.owner === me ? "#4cc38a" : playerColour(c.owner);
      ctx.fillRect(x - cell * 0.6, y - cell * 0.6, cell * 1.2, cell * 1.2);
      ctx.fillStyle = "#e6e9ef";
      ctx.font = "11px system-ui, sans-serif";
      ctx.textAlign = "center";
      ctx.fillText(this.client.playerName(c.owner) || `#${c.owner}`, x, y - cell);
      ctx.globalAlpha = 1;
    }
    this.drawn = drawn;
  }
  debug() {
    return { me: this.mine, heading: this.heading, meOnScreen: this.meOnScreen, drawn: this.drawn };
  }
  dispose() {
    this.detach();
  }
};

// src/app/recent.ts
var KEY = "tickwire.recent";
var KEEP = 10;
function recentMatches() {
  try {
    const list = JSON.parse(localStorage.getItem(KEY) ?? "[]");
    return Array.isArray(list) ? list.filter((m) => typeof m?.match_id === "string") : [];
  } catch {
    return [];
  }
}
function rememberMatch(match) {
  const list = [match, ...recentMatches().filter((m) => m.match_id !== match.match_id)].slice(0, KEEP);
  try {
    localStorage.setItem(KEY, JSON.stringify(list));
  } catch {
  }
}

// src/app/play.ts
async function play(root, api2, core, game, ticket, state2) {
  state2.mode = "play";
  await live(root, api2, game, state2, ticket.match_id, 0, (options) => Session.connect(core, game.id, ticket, {
    ...options,
    input: () => options.view()?.input() ?? new Array(options.inputLength()).fill(0),
    onInput: (seq, values) => options.view()?.onInput(seq, values)
  }));
}
async function watch(root, api2, core, game, matchId, follow, state2) {
  state2.mode = "watch";
  state2.follow = follow;
  state2.matchId = matchId;
  await live(root, api2, game, state2, matchId, follow, async (options) => {
    const ticket = await api2.spectate(matchId, follow ? { follow } : {});
    return Session.watch(core, game.id, ticket, options);
  });
}
async function replay(root, api2, core, games, matchId, speed, state2) {
  state2.mode = "replay";
  state2.matchId = matchId;
  const screen = layout(root, "replay", "Back to the lobby");
  screen.phase.textContent = "loading the replay";
  let player;
  let game;
  let map;
  let view = null;
  try {
    const bytes = await api2.replay(matchId);
    player = ReplayPlayer.open(core, bytes, {
      paused: true,
      speed: REPLAY_SPEEDS.includes(speed) ? speed : 1,
      onSnapshot: (s) => {
        state2.snapshots++;
        state2.tick = s.tick;
        view?.onSnapshot(s);
      },
      onEnd: (results) => {
        state2.results = results;
        progress();
        state2.phase = "ended";
        screen.phase.textContent = "ended";
        endOverlay(screen, results, game.stats, null, () => {
          screen.overlay.hidden = true;
          restart();
        });
      },
      onError: (e) => fail(screen, state2, e.message)
    });
    const welcome = player.welcome;
    const found = games.find((g) => g.id === welcome.game);
    if (!found) throw new Error(`this server no longer serves ${welcome.game}`);
    game = found;
    map = await api2.map(game.id, welcome.map);
  } catch (e) {
    fail(screen, state2, `Could not load the replay: ${errorText(e)}`);
    return;
  }
  state2.game = game.id;
  state2.playerId = 0;
  view = makeView(screen.canvas, player.client, game, map, { readOnly: true, focus: 0 });
  const progress = () => {
    state2.replay = { speed: player.speed, paused: player.paused, played: player.played, length: player.length, ended: player.ended };
    pause.textContent = player.paused && !player.ended ? "Play" : "Pause";
    pause.disabled = player.ended;
    for (const b of speeds) b.classList.toggle("active", Number(b.dataset.speed) === player.speed);
  };
  const pause = el("button", { class: "pause", onclick: () => {
    if (player.paused) player.play();
    else player.pause();
    progress();
  } }, "Pause");
  const speeds = REPLAY_SPEEDS.map((s) => el("button", { class: "speed", "data-speed": s, onclick: () => {
    player.speed = s;
    progress();
  } }, `${s}×`));
  const where = el("span", { class: "muted" });
  show(screen.controls, pause, ...speeds, where);
  const restart = () => {
    view?.dispose();
    player = player.restart();
    state2.snapshots = 0;
    state2.results = null;
    view = makeView(screen.canvas, player.client, game, map, { readOnly: true, focus: 0 });
    state2.phase = "replaying";
    screen.phase.textContent = "replaying";
    player.play();
    progress();
  };
  screen.leave.addEventListener("click", () => location.href = "/");
  state2.phase = "replaying";
  screen.phase.textContent = "replaying";
  player.play();
  progress();
  drawLoop(screen, state2, () => view, {
    client: () => player.client,
    welcome: () => player.welcome,
    now: () => {
      player.pump();
      return player.clock();
    },
    rttMs: () => null,
    me: 0,
    frame: () => {
      progress();
      where.textContent = `tick ${player.tick} · ${player.played}/${player.length}`;
    }
  });
}
async function live(root, api2, game, state2, matchId, follow, connect) {
  const mode = state2.mode;
  const screen = layout(root, mode, mode === "watch" ? "Stop watching" : "Leave");
  screen.canvas.focus();
  let view = null;
  let session = null;
  let stop = () => void 0;
  const running = mode === "watch" ? "watching" : "playing";
  const finish = (error) => {
    stop();
    if (session) {
      state2.inputsSent = session.inputsSent;
      state2.acksSent = session.acksSent;
    }
    if (error) fail(screen, state2, error);
    else {
      state2.phase = "ended";
      state2.error = null;
      screen.phase.textContent = "ended";
    }
    view?.dispose();
  };
  try {
    session = await connect({
      view: () => view,
      inputLength: () => session?.client.game().input.length ?? 0,
      onSnapshot: (s2) => {
        state2.snapshots++;
        state2.tick = s2.tick;
        view?.onSnapshot(s2);
      },
      onResuming: (attempt) => {
        state2.phase = "resuming";
        screen.phase.textContent = `resuming (attempt ${attempt})`;
      },
      onResumed: () => {
        state2.phase = running;
        screen.phase.textContent = running;
      },
      onEnd: (results) => {
        state2.results = results;
        const welcome = session?.welcome;
        rememberMatch({ match_id: matchId, game: game.id, map: welcome?.map ?? "", ended_at: Date.now(), seen: mode === "watch" ? "watched" : "played" });
        endOverlay(screen, results, game.stats, matchId, null);
      },
      onClose: (error) => finish(error ? error.message : null)
    });
  } catch (e) {
    finish(errorText(e));
    return;
  }
  const s = session;
  let map;
  try {
    map = await api2.map(game.id, s.welcome?.map ?? game.default_map);
  } catch (e) {
    s.close();
    finish(errorText(e));
    return;
  }
  state2.phase = running;
  state2.playerId = s.client.playerId;
  state2.matchId = matchId;
  screen.phase.textContent = running;
  const options = mode === "watch" ? { readOnly: true, focus: follow } : {};
  view = makeView(screen.canvas, s.client, game, map, options);
  screen.keys.textContent = view.keys;
  screen.leave.addEventListener("click", () => {
    s.leave();
    location.href = "/";
  });
  if (mode === "watch") {
    const base = `/?watch=${encodeURIComponent(matchId)}&game=${encodeURIComponent(game.id)}`;
    show(
      screen.controls,
      follow ? el("span", {}, `following ${s.client.playerName(follow) || `#${follow}`} · `) : el("span", {}, "the whole world · "),
      follow ? el("a", { href: base }, "watch everything") : el("span", { class: "muted" }, "follow a player from the scoreboard")
    );
  }
  stop = drawLoop(screen, state2, () => view, {
    client: () => s.client,
    welcome: () => s.welcome,
    now: () => performance.now(),
    rttMs: () => s.rttMs,
    me: mode === "watch" ? follow : s.client.playerId,
    frame: () => {
      state2.inputsSent = s.inputsSent;
      state2.acksSent = s.acksSent;
    },
    follow: mode === "watch" ? (player) => el("a", { href: `/?watch=${encodeURIComponent(matchId)}&game=${encodeURIComponent(game.id)}&follow=${player}` }, "follow") : void 0
  });
}
function layout(root, mode, leaveLabel) {
  const screen = {
    canvas: el("canvas", { id: "canvas", width: 960, height: 720, tabindex: 0 }),
    overlay: el("div", { class: "overlay", hidden: true }),
    phase: el("span", {}, "connecting"),
    timer: el("span", {}, "–"),
    ping: el("span", {}, "–"),
    sums: el("span", {}, "0"),
    desyncs: el("span", {}, "0"),
    board: el("tbody"),
    keys: el("p", { class: "keys" }),
    controls: el("div", { class: "controls" }),
    leave: el("button", {}, leaveLabel)
  };
  const badge = mode === "watch" ? el("span", { class: "badge spectating" }, "spectating") : mode === "replay" ? el("span", { class: "badge replay" }, "replay") : null;
  const hud = el(
    "div",
    { class: "hud" },
    badge,
    el("div", { class: "stat" }, "Status", screen.phase),
    el("div", { class: "stat" }, "Time left", screen.timer),
    mode === "replay" ? null : el("div", { class: "stat" }, "Ping", screen.ping),
    el("div", { class: "stat" }, "Checksums verified", screen.sums),
    el("div", { class: "stat" }, "Desyncs", screen.desyncs),
    screen.controls,
    el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Player"), el("th", {}, "Score"), mode === "watch" ? el("th", {}) : null)), screen.board),
    screen.keys,
    screen.leave
  );
  show(root, el("div", { class: `play ${mode}` }, el("div", {}, screen.canvas), hud, screen.overlay));
  return screen;
}
function drawLoop(screen, state2, view, source) {
  let frame = 0;
  let lastHud = 0;
  const draw = (wall) => {
    const v = view();
    if (!v) return;
    const client = source.client();
    v.draw(source.now());
    state2.view = v.debug();
    state2.checksumsVerified = client.checksumsVerified;
    state2.desyncs = client.desyncs;
    state2.rttMs = source.rttMs();
    source.frame?.();
    if (wall - lastHud > 250) {
      lastHud = wall;
      const welcome = source.welcome();
      if (welcome) {
        const left = Math.max(0, welcome.ticks_remaining - (state2.tick - welcome.tick)) / welcome.tick_rate;
        screen.timer.textContent = `${Math.floor(left / 60)}:${String(Math.floor(left % 60)).padStart(2, "0")}`;
      }
      const rtt = source.rttMs();
      screen.ping.textContent = rtt === null ? "–" : `${Math.round(rtt)} ms`;
      screen.sums.textContent = String(client.checksumsVerified);
      screen.desyncs.textContent = String(client.desyncs);
      screen.desyncs.className = client.desyncs > 0 ? "bad" : "";
      const rows = v.players().sort((a, b) => b.score - a.score);
      show(screen.board, ...rows.map((p) => el(
        "tr",
        { class: p.id === source.me && p.id !== 0 ? "me" : "" },
        el("td", {}, `${client.playerName(p.id) || `#${p.id}`}${p.alive ? "" : " ✝"}`),
        el("td", {}, String(p.score)),
        source.follow ? el("td", {}, p.id === source.me ? "following" : source.follow(p.id)) : null
      )));
    }
    frame = requestAnimationFrame(draw);
  };
  frame = requestAnimationFrame(draw);
  return () => cancelAnimationFrame(frame);
}
function makeView(canvas, client, game, map, options) {
  return game.id === "cycles" ? new CyclesView(canvas, client, game, map, options) : new ArenaView(canvas, client, game, map, options);
}
function fail(screen, state2, error) {
  state2.phase = "error";
  state2.error = error;
  screen.phase.textContent = "error";
  screen.overlay.hidden = false;
  show(screen.overlay, el(
    "div",
    {},
    el("h2", {}, state2.mode === "replay" ? "Replay failed" : "Disconnected"),
    el("p", { class: "error" }, error),
    el("a", { href: "/" }, "Back to the lobby")
  ));
}
function endOverlay(screen, results, stats, matchId, again) {
  screen.overlay.hidden = false;
  show(screen.overlay, el(
    "div",
    {},
    el("h2", {}, "Match over"),
    resultsTable(results, stats),
    el(
      "p",
      { class: "actions" },
      matchId ? el("button", { class: "primary watch-replay", onclick: () => location.href = `/?replay=${encodeURIComponent(matchId)}` }, "Watch replay") : null,
      again ? el("button", { class: "primary replay-again", onclick: again }, "Play it again") : null,
      " ",
      el("a", { href: "/" }, "Back to the lobby")
    )
  ));
}
function resultsTable(results, stats) {
  return el(
    "table",
    { class: "results" },
    el("thead", {}, el("tr", {}, el("th", {}, "Player"), el("th", {}, "Score"), ...stats.map((s) => el("th", {}, s)))),
    el("tbody", {}, ...results.map((r) => el(
      "tr",
      {},
      el("td", {}, r.username),
      el("td", {}, String(r.score)),
      ...stats.map((s) => el("td", {}, String(r.stats[s] ?? 0)))
    )))
  );
}

// src/app/main.ts
var LocalStore = class {
  load() {
    try {
      return JSON.parse(localStorage.getItem("tickwire.tokens") ?? "null");
    } catch {
      return null;
    }
  }
  save(tokens) {
    if (tokens) localStorage.setItem("tickwire.tokens", JSON.stringify(tokens));
    else localStorage.removeItem("tickwire.tokens");
  }
};
function deviceId() {
  let id = localStorage.getItem("tickwire.device");
  if (!id) {
    id = `web-${crypto.randomUUID()}`;
    localStorage.setItem("tickwire.device", id);
  }
  return id;
}
var state = {
  phase: "connecting",
  mode: "play",
  game: "",
  matchId: "",
  playerId: 0,
  follow: 0,
  tick: 0,
  snapshots: 0,
  checksumsVerified: 0,
  desyncs: 0,
  rttMs: null,
  inputsSent: 0,
  acksSent: 0,
  replay: null,
  error: null,
  results: null,
  view: {}
};
window.tickwire = state;
var api = new Api(location.origin, new LocalStore());
var main = document.getElementById("main");
var account = document.getElementById("account");
async function renderAccount() {
  if (!api.signedIn) {
    const user = el("input", { placeholder: "username", autocomplete: "username", required: true });
    const pass = el("input", { type: "password", placeholder: "password", autocomplete: "current-password", required: true });
    const message = el("span", { class: "error" });
    const form = el(
      "form",
      { class: "inline" },
      user,
      pass,
      el("button", { type: "submit" }, "Log in"),
      el("button", { type: "button", onclick: () => void guest() }, "Play as guest"),
      message
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      api.login(user.value, pass.value).then(() => location.reload(), (err) => message.textContent = errorText(err));
    });
    show(account, form);
    return;
  }
  try {
    const me = await api.me();
    show(
      account,
      el("span", {}, `${me.username}${me.guest ? " (guest)" : ""} `),
      el("button", { onclick: () => {
        api.signOut();
        location.reload();
      } }, "Sign out")
    );
  } catch {
    api.signOut();
    show(account, el("span", { class: "muted" }, "session expired"));
  }
}
async function guest() {
  await api.guest(deviceId());
  location.reload();
}
var LIST_REFRESH_MS = 3e3;
async function lobby(games, core) {
  const playable = games.filter((g) => core.games().includes(g.id));
  const matches = el("tbody");
  const gamesSection = el(
    "section",
    {},
    el("h2", {}, "Games"),
    el("div", { class: "games" }, ...playable.map((g) => {
      const mapSelect = el("select", {}, ...g.maps.map((m) => el("option", { value: m.name, selected: m.name === g.default_map }, `${m.name} (${m.seats} seats)`)));
      return el(
        "div",
        { class: "game" },
        el("strong", {}, g.id),
        el("span", { class: "muted" }, `${g.tick_rate} Hz · stats: ${g.stats.join(", ")}`),
        mapSelect,
        el(
          "div",
          {},
          el("button", { class: "primary", onclick: () => void start(g, core, () => api.quickJoin({ game: g.id, map: mapSelect.value })) }, "Quick join"),
          " ",
          el("button", { onclick: () => void start(g, core, async () => api.join((await api.createMatch({ game: g.id, map: mapSelect.value })).match_id)) }, "New match")
        )
      );
    }))
  );
  const matchSection = el(
    "section",
    {},
    el("h2", {}, "Open matches"),
    el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Game"), el("th", {}, "Map"), el("th", {}, "Players"), el("th", {}, "State"), el("th", {}))), matches)
  );
  show(main, api.signedIn ? null : el("p", { class: "muted" }, "Sign in or play as a guest to join or watch a match."), gamesSection, matchSection, replaySection());
  if (!api.signedIn) return;
  const list = async () => {
    try {
      const list2 = await api.matches();
      show(matches, ...list2.map((m) => {
        const g = playable.find((x) => x.id === m.game);
        const join = g && m.players < m.capacity ? el("button", { class: "join", onclick: () => void start(g, core, () => api.join(m.match_id)) }, "Join") : null;
        const watching2 = g && m.state === "running" ? el("button", { class: "watch", onclick: () => location.href = watchUrl(m.match_id, m.game) }, "Watch") : null;
        return el(
          "tr",
          { "data-match": m.match_id, "data-game": m.game, "data-state": m.state, "data-players": m.players },
          el("td", {}, m.game),
          el("td", {}, m.map),
          el("td", {}, `${m.players}/${m.capacity}`),
          el("td", {}, m.state),
          el("td", {}, join, join && watching2 ? " " : null, watching2)
        );
      }));
      if (list2.length === 0) show(matches, el("tr", {}, el("td", { colspan: 5, class: "muted" }, "No open matches: quick join starts one.")));
    } catch (e) {
      show(matches, el("tr", {}, el("td", { colspan: 5, class: "error" }, errorText(e))));
    }
  };
  await list();
  const timer = setInterval(() => {
    if (!matches.isConnected) clearInterval(timer);
    else void list();
  }, LIST_REFRESH_MS);
}
function replaySection() {
  const recent = recentMatches();
  const id = el("input", { placeholder: "match id", size: 28, class: "replay-id" });
  const form = el("form", { class: "inline" }, id, el("button", { type: "submit" }, "Watch replay"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const matchId = id.value.trim();
    if (matchId) location.href = `/?replay=${encodeURIComponent(matchId)}`;
  });
  return el(
    "section",
    {},
    el("h2", {}, "Replays"),
    recent.length === 0 ? el("p", { class: "muted" }, "Matches you play or watch to the end are listed here to replay.") : el(
      "table",
      {},
      el("thead", {}, el("tr", {}, el("th", {}, "Game"), el("th", {}, "Map"), el("th", {}, "Ended"), el("th", {}))),
      el("tbody", {}, ...recent.map((m) => el(
        "tr",
        { "data-match": m.match_id },
        el("td", {}, m.game),
        el("td", {}, m.map),
        el("td", {}, `${new Date(m.ended_at).toLocaleString()} (${m.seen})`),
        el("td", {}, el("a", { href: `/?replay=${encodeURIComponent(m.match_id)}` }, "Replay"))
      )))
    ),
    form
  );
}
function watchUrl(matchId, game, follow) {
  return `/?watch=${encodeURIComponent(matchId)}&game=${encodeURIComponent(game)}${follow ? `&follow=${follow}` : ""}`;
}
async function start(game, core, ticket) {
  state.game = game.id;
  try {
    if (!api.signedIn) await api.guest(deviceId());
    void renderAccount();
    await play(main, api, core, game, await ticket(), state);
  } catch (e) {
    state.phase = "error";
    state.error = errorText(e);
    show(main, el("p", { class: "error" }, `Could not join: ${errorText(e)}`), el("a", { href: "/" }, "Back"));
  }
}
async function watching(matchId, gameId, follow, games, core) {
  state.mode = "watch";
  try {
    if (!api.signedIn) await api.guest(deviceId());
    void renderAccount();
    const id = gameId ?? (await api.matches()).find((m) => m.match_id === matchId)?.game;
    const game = games.find((g) => g.id === id && core.games().includes(g.id));
    if (!game) throw new Error(id ? `this client cannot draw ${id}` : "the match is not in the list of running matches");
    state.game = game.id;
    await watch(main, api, core, game, matchId, follow, state);
  } catch (e) {
    state.phase = "error";
    state.error = errorText(e);
    show(main, el("p", { class: "error" }, `Could not watch: ${errorText(e)}`), el("a", { href: "/" }, "Back"));
  }
}
async function boot() {
  const params = new URLSearchParams(location.search);
  void renderAccount();
  if (params.get("page") === "leaderboards") {
    await leaderboards(main, api);
    return;
  }
  const [core, games] = await Promise.all([Core.fetch("/tickwire.wasm"), api.games()]);
  const replayOf = params.get("replay");
  if (replayOf) {
    await replay(main, api, core, games, replayOf, Number(params.get("speed") ?? 1), state);
    return;
  }
  const watchOf = params.get("watch");
  if (watchOf) {
    await watching(watchOf, params.get("game"), Number(params.get("follow") ?? 0), games, core);
    return;
  }
  if (params.get("play") === "guest") {
    const wanted = params.get("game");
    const game = (wanted ? games.find((g) => g.id === wanted) : games[0]) ?? games[0];
    if (!game) throw new Error("this server serves no games");
    await api.guest(deviceId());
    await start(game, core, () => api.quickJoin({ game: game.id, map: params.get("map") ?? void 0 }));
    return;
  }
  await lobby(games, core);
}
boot().catch((e) => {
  state.phase = "error";
  state.error = errorText(e);
  show(main, el("p", { class: "error" }, errorText(e)));
});
