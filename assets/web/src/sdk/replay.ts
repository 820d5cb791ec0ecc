// Plays an ended match back. The server re-simulates the match into the stream a spectator would
// have read (`Api.replay`): records of a little-endian u32 length and one encoded server message,
// first a Welcome, then a snapshot per tick (a delta against the tick before, the first a
// keyframe), then the MatchEnd. Those are the bytes a WebSocket frame carries, so the wasm core
// applies them exactly as it applies a live session's frames, checksums included.
//
// `ReplayPlayer` feeds them to the core at the match's tick rate times a speed (1×, 2×, 4× or
// 8×, changeable while playing, and a pause), and hands each snapshot to the same callback a live
// `Session` does, so the same view draws it. It keeps its own clock, the match time played
// (`clock()`): each snapshot "arrives" when its tick is due on it, and a view that draws at
// `clock()` interpolates a replay at any speed as it does a live match.
//
// Call order: `ReplayPlayer.open` (splits the stream, applies the Welcome), then it plays by
// itself (a timer calls `pump`), or call `pump()` yourself with `intervalMs: 0`; `dispose()`
// when done.

import { Core, CoreClient, Frame, type PlayerResult, type Welcome } from './core.js';
import type { SnapshotInfo } from './session.js';

/** The speeds a replay plays at: multiples of the match's own tick rate. */
export const REPLAY_SPEEDS = [1, 2, 4, 8] as const;
export type ReplaySpeed = (typeof REPLAY_SPEEDS)[number];

/**
 * Splits a playback stream into its records (each a little-endian u32 length, then that many
 * bytes): views into `bytes`, in order. Throws if the last record is cut short.
 */
export function splitRecords(bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: Uint8Array[] = [];
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

export interface ReplayOptions {
  /** The game the stream plays; if absent, each game this core knows tries the Welcome. */
  game?: string;
  /** 1 by default. */
  speed?: ReplaySpeed;
  /** Start paused. */
  paused?: boolean;
  /** A snapshot was applied: the same as a live session's. */
  onSnapshot?: (snapshot: SnapshotInfo) => void;
  /** The stream reached the MatchEnd: the match's results. */
  onEnd?: (results: PlayerResult[]) => void;
  /** A record did not apply (the player stops there). */
  onError?: (error: Error) => void;
  /** A clock in milliseconds; `performance.now` by default. */
  now?: () => number;
  /** How often the player feeds what is due, in ms; 16 by default. 0: never by itself, call `pump`. */
  intervalMs?: number;
}

export class ReplayPlayer {
  readonly client: CoreClient;
  readonly welcome: Welcome;
  readonly tickRate: number;
  /** The steps after the Welcome: one per record (a snapshot per tick, then the MatchEnd). */
  readonly length: number;

  private readonly core: Core;
  private readonly game: string;
  private readonly bytes: Uint8Array;
  private readonly records: Uint8Array[];
  private readonly options: ReplayOptions;
  private readonly now: () => number;
  private timer: ReturnType<typeof setInterval> | null = null;
  /** The index of the next record to apply (0 is the Welcome). */
  private next = 1;
  /** Match time played (ms) when the clock was last settled, and when on the real clock. */
  private media = 0;
  private settledAt: number;
  private rate: ReplaySpeed;
  private stopped: boolean;
  private over = false;
  private failure: Error | null = null;
  private disposed = false;

  /** Splits `bytes` and applies its Welcome; throws if it is not a replay of a known game. */
  static open(core: Core, bytes: Uint8Array, options: ReplayOptions = {}): ReplayPlayer {
    const records = splitRecords(bytes);
    if (records.length === 0) throw new Error('the replay stream is empty');
    const games = options.game ? [options.game] : core.games();
    let refusal = 0;
    for (const game of games) {
      const client = core.client(game);
      const code = client.receive(records[0]);
      if (code === Frame.WELCOME) return new ReplayPlayer(core, game, client, bytes, records, options);
      client.free();
      refusal = code;
    }
    throw new Error(
      refusal === Frame.WRONG_GAME
        ? `the replay is of a game ${options.game ? `other than ${options.game}` : 'this SDK does not know'}`
        : `the replay does not start with a Welcome (code ${refusal})`,
    );
  }

  private constructor(core: Core, game: string, client: CoreClient, bytes: Uint8Array, records: Uint8Array[], options: ReplayOptions) {
    this.core = core;
    this.game = game;
    this.client = client;
    this.bytes = bytes;
    this.records = records;
    this.options = options;
    this.now = options.now ?? (() => performance.now());
    this.settledAt = this.now();
    const welcome = client.welcome();
    if (welcome === null) throw new Error('the core lost the Welcome');
    this.welcome = welcome;
    this.tickRate = welcome.tick_rate || 30;
    this.length = records.length - 1;
    this.rate = ReplayPlayer.checked(options.speed ?? 1);
    this.stopped = options.paused ?? false;
    const interval = options.intervalMs ?? 16;
    if (interval > 0) this.timer = setInterval(() => this.pump(), interval);
  }

  /** The speed: 1, 2, 4 or 8 times the match's tick rate. */
  get speed(): ReplaySpeed {
    return this.rate;
  }

  set speed(speed: ReplaySpeed) {
    const checked = ReplayPlayer.checked(speed);
    this.settle();
    this.rate = checked;
  }

  get paused(): boolean {
    return this.stopped;
  }

  /** The MatchEnd was applied. */
  get ended(): boolean {
    return this.over;
  }

  /** Why the stream stopped early, if it did. */
  get error(): Error | null {
    return this.failure;
  }

  /** Steps applied so far (of `length`). */
  get played(): number {
    return this.next - 1;
  }

  /** The newest applied snapshot's tick. */
  get tick(): number {
    return this.client.tick;
  }

  /** Stops the clock, after applying what was due until now. */
  pause(): void {
    this.pump();
    this.settle();
    this.stopped = true;
  }

  play(): void {
    this.settle();
    this.stopped = false;
  }

  /** The match time played, in ms: what a view draws at (it stands still while paused). */
  clock(): number {
    return this.stopped || this.over ? this.media : this.media + (this.now() - this.settledAt) * this.rate;
  }

  /** Applies every step due on the clock; how many (none while paused). The timer calls it; so may you. */
  pump(): number {
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
          arrivedMs: this.due(step),
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
  restart(): ReplayPlayer {
    const again = ReplayPlayer.open(this.core, this.bytes, {
      ...this.options,
      game: this.game,
      speed: this.rate,
      paused: this.stopped,
    });
    this.dispose();
    return again;
  }

  /** Stops the timer and frees the core's state for this replay. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.stopTimer();
    this.client.free();
  }

  /** When step `step` (1 is the first snapshot) is due, in match time (ms). */
  private due(step: number): number {
    return ((step - 1) * 1000) / this.tickRate;
  }

  /** Folds the time played so far into `media`, before the speed or the pause changes. */
  private settle(): void {
    this.media = this.clock();
    this.settledAt = this.now();
  }

  private stopTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private static checked(speed: number): ReplaySpeed {
    if (!(REPLAY_SPEEDS as readonly number[]).includes(speed)) {
      throw new RangeError(`a replay plays at ${REPLAY_SPEEDS.join('×, ')}×, not ${speed}×`);
    }
    return speed as ReplaySpeed;
  }
}
