// The realtime session: one WebSocket to a match. Sends `Hello` with the join ticket, then an
// input every tick (each acknowledging the newest applied snapshot, so the server's next delta
// is against it), pings for the round-trip time, answers the server's pings, resumes the same
// player with the reconnect token when the connection drops, and turns close codes into errors
// a person can read.
//
// A spectator (`Session.watch`, with a ticket from `Api.spectate`) holds a read-only seat: it
// never sends an input (the server would close it with `read_only`), acknowledges each applied
// snapshot with an `Ack` instead, and cannot resume (it has no seat to take back).

import { Core, CoreClient, Frame, type GameEvent, type PlayerResult, type Welcome, type WorldView } from './core.js';
import type { JoinTicket } from './rest.js';

/** Close codes after which the session tries to resume: the connection broke, not the seat. */
const RESUMABLE = new Set([1006, 1011, 4009, 4010]);

/** Why a session ended (or could not start): the close code, its name and the server's reason. */
export class SessionError extends Error {
  readonly code: number;
  readonly codeName: string;
  readonly reason: string;

  constructor(code: number, codeName: string, reason: string, message?: string) {
    super(message ?? `${codeName} (${code})${reason ? `: ${reason}` : ''}`);
    this.name = 'SessionError';
    this.code = code;
    this.codeName = codeName;
    this.reason = reason;
  }
}

/** What a snapshot brought. */
export interface SnapshotInfo {
  tick: number;
  /** The newest input the server had applied at this tick. */
  lastInputSeq: number;
  /** -1: no checksum in this snapshot; 0: it did not match (a desync); 1: it matched. */
  checksum: number;
  world: WorldView;
  events: GameEvent[];
  /** When it arrived, on the session's clock (ms). */
  arrivedMs: number;
}

/** A WebSocket constructor (the browser's, or one a test passes). */
export type SocketFactory = (url: string) => WebSocket;

export interface SessionOptions {
  /** The values of this tick's input, in the game's declared order; called once per tick. */
  input: () => ArrayLike<number>;
  /** An input went out with this sequence number (prediction applies it). */
  onInput?: (seq: number, values: ArrayLike<number>) => void;
  onSnapshot?: (snapshot: SnapshotInfo) => void;
  /** The match ended: its results. */
  onEnd?: (results: PlayerResult[]) => void;
  /** The connection dropped and the session is resuming (attempt 1, 2, ...). */
  onResuming?: (attempt: number) => void;
  onResumed?: () => void;
  /** The session is over: null after a normal end, else why. */
  onClose?: (error: SessionError | null) => void;
  pingIntervalMs?: number;
  /** A clock in milliseconds; `performance.now` by default. */
  now?: () => number;
  socket?: SocketFactory;
}

/** A spectator's options: a session's, less the inputs it never sends. */
export type WatchOptions = Omit<SessionOptions, 'input' | 'onInput'>;

/** Either: a player's options, or a spectator's. */
type AnyOptions = WatchOptions & Partial<Pick<SessionOptions, 'input' | 'onInput'>>;

export class Session {
  readonly client: CoreClient;
  readonly url: string;
  /** A read-only seat: acks instead of inputs, no resume. */
  readonly spectating: boolean;
  welcome: Welcome | null = null;
  /** The last measured round trip, in ms (null before the first pong). */
  rttMs: number | null = null;
  /** Snapshots whose checksum was verified, and those that did not match. */
  get checksumsVerified(): number {
    return this.client.checksumsVerified;
  }
  get desyncs(): number {
    return this.client.desyncs;
  }
  /** Inputs sent so far (a spectator's stays 0). */
  get inputsSent(): number {
    return this.inputs;
  }
  /** Acks sent so far (a spectator's, one per snapshot that moved its world forward). */
  get acksSent(): number {
    return this.acks;
  }

  private readonly core: Core;
  private readonly options: AnyOptions;
  private readonly now: () => number;
  private readonly socketFactory: SocketFactory;
  private socket: WebSocket | null = null;
  private tickTimer: ReturnType<typeof setInterval> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private pings = new Map<number, number>();
  private nextPing = 1;
  private ended = false;
  private closed = false;
  private resumeAttempt = 0;
  private resumeUntil = 0;
  private inputs = 0;
  private acks = 0;
  /** The tick the last ack named: a snapshot that does not move past it is not acked again. */
  private ackedTick = -1;
  /** Rejects `connect` while the first Welcome has not come. */
  private refuse: ((e: SessionError) => void) | null = null;

  private constructor(core: Core, game: string, url: string, options: AnyOptions, spectating: boolean) {
    this.core = core;
    this.client = core.client(game);
    this.url = url;
    this.spectating = spectating;
    this.options = options;
    this.now = options.now ?? (() => performance.now());
    this.socketFactory = options.socket ?? ((u) => new WebSocket(u));
  }

  /** Opens a session with a join ticket; resolves once the server welcomed the player. */
  static connect(core: Core, game: string, ticket: JoinTicket, options: SessionOptions): Promise<Session> {
    return Session.handshake(new Session(core, game, ticket.url, options, false), ticket);
  }

  /**
   * Watches a match with a spectator ticket (`Api.spectate`); resolves once the server welcomed
   * the spectator (`welcome.player_id` is 0). No inputs: each applied snapshot is acknowledged.
   */
  static watch(core: Core, game: string, ticket: JoinTicket, options: WatchOptions): Promise<Session> {
    return Session.handshake(new Session(core, game, ticket.url, options, true), ticket);
  }

  /** Sends the Hello; resolves with the session once welcomed. */
  private static handshake(session: Session, ticket: JoinTicket): Promise<Session> {
    return new Promise((resolve, reject) => {
      session.refuse = reject;
      session.open(session.client.hello(ticket.ticket), (s) => {
        session.refuse = null;
        resolve(s);
      }, reject);
    });
  }

  /** Leaves the match (the seat is freed; no results for this player). */
  leave(): void {
    this.send(this.client.leave());
    this.shutdown(null);
  }

  private open(hello: Uint8Array, welcomed: (s: Session) => void, failed: (e: SessionError) => void): void {
    const socket = this.socketFactory(this.url);
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    let answered = false;
    socket.onopen = () => socket.send(hello);
    socket.onmessage = (m: MessageEvent) => {
      if (!(m.data instanceof ArrayBuffer)) return;
      const code = this.receive(new Uint8Array(m.data));
      if (code === Frame.WELCOME && !answered) {
        answered = true;
        welcomed(this);
      }
    };
    socket.onclose = (e: CloseEvent) => {
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
  private receive(bytes: Uint8Array): number {
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
        // Acked before the world is read: encoding may grow the wasm memory under its views.
        if (this.spectating) this.ack();
        this.options.onSnapshot?.({
          tick: this.client.tick,
          lastInputSeq: this.client.lastInputSeq,
          checksum: this.client.checksum,
          world: this.client.world(),
          events: this.client.events(),
          arrivedMs: this.now(),
        });
        break;
      case Frame.PING:
        this.send(this.client.pong());
        break;
      case Frame.PONG: {
        const id = this.client.lastPong;
        const sent = this.pings.get(id);
        if (sent !== undefined) {
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
          // The SDK could not apply what the server sent: nothing sensible can follow.
          const what = code === Frame.WRONG_GAME ? 'the server plays another game' : `frame error ${code}`;
          this.socket?.close(1002, what);
          this.shutdown(new SessionError(code, 'client_error', what));
        }
    }
    return code;
  }

  private startTimers(): void {
    this.stopTimers();
    const rate = this.client.tickRate || 30;
    if (!this.spectating) this.tickTimer = setInterval(() => this.sendInput(), 1000 / rate);
    this.pingTimer = setInterval(() => this.ping(), this.options.pingIntervalMs ?? 1000);
    this.ping();
  }

  private stopTimers(): void {
    if (this.tickTimer !== null) clearInterval(this.tickTimer);
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.tickTimer = null;
    this.pingTimer = null;
  }

  private sendInput(): void {
    if (this.socket?.readyState !== 1 || !this.options.input) return;
    const values = this.options.input();
    const seq = this.client.nextSeq;
    const bytes = this.client.input(values);
    if (bytes === null) {
      this.shutdown(new SessionError(0, 'invalid_input', `input ${Array.from(values)} is outside the game's declaration`));
      return;
    }
    this.send(bytes);
    this.inputs++;
    this.options.onInput?.(seq, values);
  }

  /** A spectator's answer to a snapshot: the newest applied tick, once per tick. */
  private ack(): void {
    const tick = this.client.tick;
    if (tick === this.ackedTick || this.socket?.readyState !== 1) return;
    this.ackedTick = tick;
    this.send(this.client.ack());
    this.acks++;
  }

  private ping(): void {
    const id = this.nextPing++;
    const now = this.now();
    this.pings.set(id, now);
    // Unanswered pings from long ago say nothing: keep the map small.
    for (const [old] of this.pings) if (old < id - 16) this.pings.delete(old);
    this.send(this.client.ping(id, Math.round(now * 1000)));
  }

  private send(bytes: Uint8Array): void {
    if (this.socket?.readyState === 1 && bytes.length > 0) this.socket.send(bytes);
  }

  /** Reopens the connection with the reconnect token, until the server's grace runs out. */
  private resume(): void {
    this.stopTimers();
    if (this.resumeAttempt === 0) {
      this.resumeUntil = this.now() + (this.welcome?.reconnect_grace_s ?? 10) * 1000;
    }
    this.resumeAttempt++;
    if (this.now() > this.resumeUntil) {
      this.shutdown(new SessionError(1006, 'connection_lost', 'could not resume within the grace period'));
      return;
    }
    this.options.onResuming?.(this.resumeAttempt);
    const delay = Math.min(2000, 100 * 2 ** (this.resumeAttempt - 1));
    setTimeout(() => {
      if (this.closed) return;
      this.open(this.client.resume(), () => undefined, (e) => this.shutdown(e));
    }, delay);
  }

  /** The error a close code stands for (null for a normal end). */
  private error(code: number, reason: string): SessionError | null {
    const name = this.core.closeName(code);
    if (code === 1000 || (this.ended && code === 4012)) return null;
    if (code === 4011) {
      const why = this.client.kicked() || reason;
      return new SessionError(code, name, why, `removed from the match by an admin${why ? `: ${why}` : ''}`);
    }
    return new SessionError(code, name, reason);
  }

  /** Stops for good (idempotent): timers off, socket closed, `onClose` once. */
  close(): void {
    this.shutdown(null);
  }

  /** Frees the core's state for this session (after it closed; its counters read 0 after). */
  dispose(): void {
    this.shutdown(null);
    this.client.free();
  }

  private shutdown(error: SessionError | null): void {
    if (this.closed) return;
    this.closed = true;
    this.stopTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket && socket.readyState <= 1) socket.close(1000, 'bye');
    this.refuse?.(error ?? new SessionError(1000, 'normal', '', 'closed before the server welcomed the player'));
    this.refuse = null;
    this.options.onClose?.(error);
  }
}
