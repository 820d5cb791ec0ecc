// Remote entities are drawn a little in the past (about 100 ms), between the two snapshots that
// bracket that moment, so they move smoothly although snapshots arrive in steps and sometimes
// not at all (a skipped snapshot only widens the bracket). Generic over any game: which fields
// blend comes from the game's declaration.

import type { FieldDecl, WorldView } from './core.js';

export interface InterpolationOptions {
  tickRate: number;
  /** The entity's declared fields, in row order. */
  fields: FieldDecl[];
  /** How far behind the newest snapshot to draw, in milliseconds. */
  delayMs?: number;
  /** Fields blended linearly; by default those the game declares `predicted` (positions). */
  lerp?: string[];
  /** Angle fields blended the short way round: the number of steps in a full turn. */
  angles?: Record<string, number>;
  /** A blended field jumping further than this between two snapshots snaps instead (a respawn). */
  snap?: number;
  /** Snapshots kept, at most. */
  capacity?: number;
}

/** An entity as drawn: its id (index, version), a key for maps, and its blended values. */
export interface Drawn {
  key: number;
  index: number;
  version: number;
  values: Float64Array;
}

interface Stored {
  tick: number;
  ids: Uint32Array;
  rows: Int32Array;
  /** Entity key to row index. */
  rowOf: Map<number, number>;
}

/** One number per entity id; exact while versions stay below 2^21. */
export function entityKey(index: number, version: number): number {
  return version * 2 ** 32 + index;
}

export class Interpolator {
  readonly delayMs: number;
  private readonly msPerTick: number;
  private readonly fieldCount: number;
  private readonly lerp: number[];
  private readonly angles: [number, number][];
  private readonly snap: number;
  private readonly capacity: number;
  private readonly buffer: Stored[] = [];
  /** Arrival time minus tick time: where tick 0 lies on the local clock. */
  private offset: number | null = null;

  constructor(options: InterpolationOptions) {
    this.msPerTick = 1000 / options.tickRate;
    this.delayMs = options.delayMs ?? 100;
    this.fieldCount = options.fields.length;
    const index = (name: string): number => {
      const i = options.fields.findIndex((f) => f.name === name);
      if (i < 0) throw new Error(`no entity field ${name}`);
      return i;
    };
    const angles = options.angles ?? {};
    this.angles = Object.entries(angles).map(([name, turn]) => [index(name), turn]);
    const lerp = options.lerp ?? options.fields.filter((f) => f.encoding === 'predicted').map((f) => f.name);
    this.lerp = lerp.filter((name) => !(name in angles)).map(index);
    this.snap = options.snap ?? Infinity;
    this.capacity = options.capacity ?? 64;
  }

  /** Keeps a copy of the world at `tick`, which arrived at `arrivalMs` on the local clock. */
  push(tick: number, arrivalMs: number, world: WorldView): void {
    const newest = this.buffer[this.buffer.length - 1];
    if (newest && tick <= newest.tick) return;
    const ids = world.ids.slice(0, world.len * 2);
    const rows = world.rows.slice(0, world.len * this.fieldCount);
    const rowOf = new Map<number, number>();
    for (let i = 0; i < world.len; i++) rowOf.set(entityKey(ids[2 * i], ids[2 * i + 1]), i);
    this.buffer.push({ tick, ids, rows, rowOf });
    if (this.buffer.length > this.capacity) this.buffer.shift();

    // A late snapshot says little about the clock, an early one a lot: follow earlier arrivals at
    // once and later ones slowly, so network jitter does not shake the render time.
    const offset = arrivalMs - tick * this.msPerTick;
    if (this.offset === null || offset < this.offset) this.offset = offset;
    else this.offset += (offset - this.offset) * 0.02;
  }

  /** The (fractional) tick drawn at `nowMs`. */
  renderTick(nowMs: number): number {
    if (this.offset === null) return 0;
    return (nowMs - this.delayMs - this.offset) / this.msPerTick;
  }

  /** The newest snapshot's tick (0 before any). */
  get newestTick(): number {
    return this.buffer[this.buffer.length - 1]?.tick ?? 0;
  }

  /**
   * The entities as drawn at `nowMs`: those alive at the render tick, their blended fields
   * between the bracketing snapshots. Before the first snapshot, nothing; past the newest, the
   * newest as it is (no guessing ahead).
   */
  sample(nowMs: number): Drawn[] {
    const n = this.buffer.length;
    if (n === 0) return [];
    const at = this.renderTick(nowMs);
    let a = 0;
    while (a + 1 < n && this.buffer[a + 1].tick <= at) a++;
    // Snapshots older than the bracket are not needed again.
    if (a > 0) {
      this.buffer.splice(0, a);
      a = 0;
    }
    const older = this.buffer[0];
    const newer = this.buffer.length > 1 ? this.buffer[1] : null;
    const t = newer && at > older.tick ? Math.min(1, (at - older.tick) / (newer.tick - older.tick)) : 0;
    const out: Drawn[] = [];
    const f = this.fieldCount;
    for (let i = 0; i < older.ids.length / 2; i++) {
      const index = older.ids[2 * i];
      const version = older.ids[2 * i + 1];
      const key = entityKey(index, version);
      const values = new Float64Array(f);
      for (let k = 0; k < f; k++) values[k] = older.rows[i * f + k];
      const j = newer?.rowOf.get(key);
      if (newer && j !== undefined && t > 0) {
        const blend = (k: number): number => newer.rows[j * f + k] - older.rows[i * f + k];
        const snaps = this.lerp.some((k) => Math.abs(blend(k)) > this.snap);
        if (snaps) {
          for (let k = 0; k < f; k++) values[k] = newer.rows[j * f + k];
        } else {
          for (const k of this.lerp) values[k] += blend(k) * t;
          for (const [k, turn] of this.angles) {
            // The short way round: a step across 0 is small, not a full turn backwards.
            let d = blend(k) % turn;
            if (d > turn / 2) d -= turn;
            if (d < -turn / 2) d += turn;
            values[k] = (((values[k] + d * t) % turn) + turn) % turn;
          }
        }
      }
      out.push({ key, index, version, values });
    }
    return out;
  }
}
