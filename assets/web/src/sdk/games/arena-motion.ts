// The arena's player movement, ported from the server (`server/src/games/arena/`: `step_players`
// in `mod.rs`, `walls.rs`, `tuning.rs`, `trig.rs`) so a client can predict its own player. A
// prediction that is off by one fixed-point step is corrected by the next snapshot, visibly, so
// this must compute the very integers the server does: every operation below mirrors a Rust one,
// with Rust's rounding (`/` truncates, `.round()` goes half away from zero, `as` saturates) and
// Rust's f32 arithmetic (through `Math.fround`) where the server converts the config. The golden
// test (`test/arena-motion.test.mjs`, against frames the server's simulation recorded in
// `golden/arena-motion.json`) keeps the two from drifting apart.
//
// Positions are fixed point (16 steps per world unit) on a screen whose y axis points down.

/** The local player's movement state; positions and velocities in fixed point. */
export interface ArenaMotionState {
  x: number;
  y: number;
  /** Dash ticks left. */
  dashLeft: number;
  /** Ticks until the player may dash again. */
  dashCooldown: number;
  dashVx: number;
  dashVy: number;
}

/** An arena input, as declared: `buttons` bits (1 fire, 2 dash), `move_dir` 0..=8, `aim` 0..=65535. */
export interface ArenaInputValues {
  buttons: number;
  move_dir: number;
  aim: number;
}

const POS_SCALE = 16;
const DASH_BUTTON = 2;
/** `1/sqrt(2)` as a 16-bit fraction (`tuning.rs`). */
const INV_SQRT2_Q16 = 46_341;
/** `move_dir` 0..=8: still, then clockwise from east with y down (`tuning.rs`). */
const COMPASS: readonly (readonly [number, number])[] = [
  [0, 0],
  [1, 0],
  [1, 1],
  [0, 1],
  [-1, 1],
  [-1, 0],
  [-1, -1],
  [0, -1],
  [1, -1],
];
/** Wall push-out passes per substep (`walls.rs`). */
const RESOLVE_PASSES = 4;
const I32_MIN = -2_147_483_648;
const I32_MAX = 2_147_483_647;
const U32_MAX = 4_294_967_295;

type Vec2 = [number, number];

interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

// ---------------------------------------------------------------------------------------------
// Rust's numeric semantics

/** `f32::round` / `f64::round`: half away from zero (`Math.round` goes half towards +inf). */
function roundHalfAway(x: number): number {
  const t = Math.trunc(x);
  // `x - t` is exact for every double, so this decides the tie the way Rust does.
  return Math.abs(x - t) >= 0.5 ? t + Math.sign(x) : t;
}

/** `x as i32` for a float: truncates, saturates, NaN is 0. */
function floatToI32(x: number): number {
  if (Number.isNaN(x)) return 0;
  return Math.trunc(Math.min(Math.max(x, I32_MIN), I32_MAX));
}

/** `x as u32` for a float: truncates, saturates (negative is 0), NaN is 0. */
function floatToU32(x: number): number {
  if (Number.isNaN(x)) return 0;
  return Math.trunc(Math.min(Math.max(x, 0), U32_MAX));
}

/** Above this an integer product may not be exact as a double; the server's i64 maths is. */
const SAFE = Number.MAX_SAFE_INTEGER;

/** `a * b` as an exact i64, for comparisons (a bigint only when doubles would round). */
function mulExact(a: number, b: number): number | bigint {
  const p = a * b;
  return Math.abs(p) <= SAFE ? p : BigInt(a) * BigInt(b);
}

/** `a < b` between exact integers, either representation. */
function lessThan(a: number | bigint, b: number | bigint): boolean {
  return typeof a === typeof b ? a < b : BigInt(a) < BigInt(b);
}

/** `(a * b / d) as i32` in i64, `/` truncating; `d > 0`. */
function mulDivTrunc(a: number, b: number, d: number): number {
  const p = a * b;
  if (Math.abs(p) <= SAFE) {
    // Exact integers below 2^53: the quotient's rounding cannot reach the next integer.
    return Math.trunc(p / d) | 0;
  }
  return Number(BigInt.asIntN(32, (BigInt(a) * BigInt(b)) / BigInt(d)));
}

/** `i64::isqrt` of a non-negative integer. */
function isqrt(n: number | bigint): number | bigint {
  if (typeof n === 'number') {
    let s = Math.floor(Math.sqrt(n));
    while (s * s > n) s -= 1;
    while ((s + 1) * (s + 1) <= n) s += 1;
    return s;
  }
  let s = BigInt(Math.floor(Math.sqrt(Number(n))));
  while (s * s > n) s -= 1n;
  while ((s + 1n) * (s + 1n) <= n) s += 1n;
  return s;
}

// ---------------------------------------------------------------------------------------------
// Config to simulation units (`tuning.rs`, `shared::quant`)

/** `shared::quant::pos_to_fixed`: world units (an f32) to fixed point, in f32 arithmetic. */
function posToFixed(units: number): number {
  return floatToI32(roundHalfAway(Math.fround(Math.fround(units) * POS_SCALE)));
}

/** `seconds_to_ticks`: the f32 widened to f64, times the rate, rounded. */
function secondsToTicks(seconds: number, rate: number): number {
  return floatToU32(roundHalfAway(Math.fround(seconds) * rate));
}

/** `speed_per_tick`: the f32 widened to f64, in fixed-point units per tick, rounded. */
function speedPerTick(unitsPerS: number, rate: number): number {
  return floatToI32(roundHalfAway((Math.fround(unitsPerS) * POS_SCALE) / rate));
}

/** `compass_velocities`: diagonals are `speed / sqrt(2)`, rounded in 16-bit fixed point. */
function compassVelocities(speed: number): Vec2[] {
  // `(speed * INV_SQRT2_Q16 + 2^15) >> 16` in i64: below 2^53, and `>>` floors.
  const diagonal = Math.floor((speed * INV_SQRT2_Q16 + 32768) / 65536) | 0;
  return COMPASS.map(([x, y]) => {
    const c = x !== 0 && y !== 0 ? diagonal : speed;
    // `+ 0` turns the -0 of `0 * -c` into 0.
    return [x * c + 0, y * c + 0];
  });
}

// ---------------------------------------------------------------------------------------------
// Aims (`trig.rs`): the server's cosine table, rebuilt with the same IEEE operations

const UNIT_BITS = 16;
const TABLE_BITS = 12;
const TABLE_LEN = 1 << TABLE_BITS;
const TAU = 6.283185307179586;

/** `sin_cos_unit_turn`: Taylor series on the nearest quarter turn, operation for operation. */
function sinCosUnitTurn(t: number): [number, number] {
  const quarter = Math.trunc(t * 4.0 + 0.5);
  const r = (t - quarter * 0.25) * TAU;
  const r2 = r * r;
  const sin =
    r *
    (1.0 -
      (r2 / 6.0) *
        (1.0 -
          (r2 / 20.0) *
            (1.0 -
              (r2 / 42.0) *
                (1.0 - (r2 / 72.0) * (1.0 - (r2 / 110.0) * (1.0 - (r2 / 156.0) * (1.0 - r2 / 210.0)))))));
  const cos =
    1.0 -
    (r2 / 2.0) *
      (1.0 -
        (r2 / 12.0) *
          (1.0 - (r2 / 30.0) * (1.0 - (r2 / 56.0) * (1.0 - (r2 / 90.0) * (1.0 - (r2 / 132.0) * (1.0 - r2 / 182.0))))));
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

/** `round_to_i32` of `trig.rs` (its own rounding, kept as is). */
function constRoundToI32(x: number): number {
  return floatToI32(x < 0.0 ? x - 0.5 : x + 0.5);
}

let cosTable: Int32Array | null = null;

function cosTableOnce(): Int32Array {
  if (cosTable === null) {
    cosTable = new Int32Array(TABLE_LEN);
    for (let i = 0; i < TABLE_LEN; i++) {
      cosTable[i] = constRoundToI32(sinCosUnitTurn(i / TABLE_LEN)[1] * (1 << UNIT_BITS));
    }
  }
  return cosTable;
}

/** `scale`: `length * unit / 2^16`, rounded half away from zero. */
function scaleBy(length: number, unit: number): number {
  const product = length * unit; // |length| < 2^31, |unit| <= 2^16: exact.
  const magnitude = Math.min(Math.floor((Math.abs(product) + (1 << (UNIT_BITS - 1))) / (1 << UNIT_BITS)), I32_MAX);
  // `0 - m`, not `-m`: Rust has no negative zero, and a -0 would fail strict comparisons.
  return product < 0 ? 0 - magnitude : magnitude;
}

/** `aim_vector`: `length` along `aim` (65536 per turn, 0 east, clockwise with y down). */
function aimVector(aim: number, length: number): Vec2 {
  const table = cosTableOnce();
  const shift = 16 - TABLE_BITS;
  const index = ((aim + (1 << (shift - 1))) >>> shift) % TABLE_LEN;
  const cos = table[index];
  const sin = table[(index + TABLE_LEN - TABLE_LEN / 4) % TABLE_LEN];
  return [scaleBy(length, cos), scaleBy(length, sin)];
}

// ---------------------------------------------------------------------------------------------
// Config access

function field(obj: Record<string, unknown>, key: string, path: string): unknown {
  if (!(key in obj)) throw new Error(`arena motion: ${path}${key} is missing`);
  return obj[key];
}

function num(obj: Record<string, unknown>, key: string, path = ''): number {
  const v = field(obj, key, path);
  if (typeof v !== 'number') throw new Error(`arena motion: ${path}${key} must be a number`);
  return v;
}

function table(obj: Record<string, unknown>, key: string, path = ''): Record<string, unknown> {
  const v = field(obj, key, path);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new Error(`arena motion: ${path}${key} must be a table`);
  }
  return v as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------

/**
 * The server's movement of a living arena player, for client-side prediction. Built from the
 * game's tuning (`game.toml` as JSON, the `tuning` of `GET /v1/games`), a map's layout (the
 * `layout` of `GET /v1/games/{game}/maps/{map}`) and the game's tick rate.
 */
export class ArenaMotion {
  private readonly radius: number;
  private readonly walk: Vec2[];
  private readonly dash: Vec2[];
  private readonly dashSpeed: number;
  private readonly dashTicks: number;
  private readonly dashCooldownTicks: number;
  private readonly width: number;
  private readonly height: number;
  private readonly walls: Rect[];
  /** `move_circle`'s longest substep. */
  private readonly maxStep: number;

  constructor(tuning: Record<string, unknown>, layout: Record<string, unknown>, tickRate: number) {
    if (!Number.isInteger(tickRate) || tickRate < 0 || tickRate > 0xffff) {
      throw new RangeError(`arena motion: tick rate ${tickRate} is not a u16`);
    }
    const rate = Math.max(tickRate, 1);
    const player = table(tuning, 'player');
    const p = 'player.';
    const walkSpeed = speedPerTick(num(player, 'speed', p), rate);
    this.dashSpeed = speedPerTick(num(player, 'dash_speed', p), rate);
    this.radius = Math.max(posToFixed(num(player, 'radius', p)), 1);
    this.walk = compassVelocities(walkSpeed);
    this.dash = compassVelocities(this.dashSpeed);
    const dashDuration = num(player, 'dash_duration_s', p);
    // A positive duration shorter than a tick still dashes for one tick (as the server does).
    this.dashTicks = Math.fround(dashDuration) > 0 ? Math.max(secondsToTicks(dashDuration, rate), 1) : 0;
    this.dashCooldownTicks = secondsToTicks(num(player, 'dash_cooldown_s', p), rate);

    this.width = posToFixed(num(layout, 'width'));
    this.height = posToFixed(num(layout, 'height'));
    // `walls` defaults to none, as in the server's `MapDef`.
    const walls = layout.walls ?? [];
    if (!Array.isArray(walls)) throw new Error('arena motion: walls must be an array');
    this.walls = walls.map((w: unknown, i) => {
      if (typeof w !== 'object' || w === null) throw new Error(`arena motion: walls[${i}] must be a table`);
      const r = w as Record<string, unknown>;
      const at = `walls[${i}].`;
      const [x, y, ww, h] = [num(r, 'x', at), num(r, 'y', at), num(r, 'w', at), num(r, 'h', at)];
      // The far corner is summed in f32, as the server does, before converting.
      return {
        x0: posToFixed(x),
        y0: posToFixed(y),
        x1: posToFixed(Math.fround(Math.fround(x) + Math.fround(ww))),
        y1: posToFixed(Math.fround(Math.fround(y) + Math.fround(h))),
      };
    });
    let thinnest = I32_MAX;
    for (const w of this.walls) thinnest = Math.min(thinnest, Math.min(w.x1 - w.x0, w.y1 - w.y0));
    this.maxStep = Math.max(Math.trunc(Math.min(this.radius, thinnest) / 2), 1);
  }

  /** One tick of a living player's movement, exactly as the server computes it (positions in fixed point). */
  step(s: ArenaMotionState, input: ArenaInputValues): ArenaMotionState {
    const dir = input.move_dir;
    if (!Number.isInteger(dir) || dir < 0 || dir >= COMPASS.length) {
      throw new RangeError(`arena motion: move_dir ${dir} is outside 0..=8`);
    }
    let { x, y, dashLeft, dashVx, dashVy } = s;
    // The cooldown counts down before the dash is tried, as on the server.
    let dashCooldown = Math.max(s.dashCooldown - 1, 0);
    if ((input.buttons & DASH_BUTTON) !== 0 && dashCooldown === 0 && dashLeft === 0 && this.dashTicks > 0) {
      [dashVx, dashVy] = dir === 0 ? aimVector(input.aim & 0xffff, this.dashSpeed) : this.dash[dir];
      dashLeft = this.dashTicks;
      dashCooldown = this.dashCooldownTicks;
    }
    let velocity: Vec2;
    if (dashLeft > 0) {
      dashLeft -= 1;
      velocity = [dashVx, dashVy];
    } else {
      velocity = this.walk[dir];
    }
    // Standing still does not resolve: a player never moves without a velocity.
    if (velocity[0] !== 0 || velocity[1] !== 0) {
      [x, y] = this.moveCircle([x, y], velocity);
    }
    return { x, y, dashLeft, dashCooldown, dashVx, dashVy };
  }

  /** Pushes a position out of walls/bounds as the server's Walls::resolve does. */
  resolve(x: number, y: number): [number, number] {
    return this.resolveCircle([x, y], this.radius);
  }

  /** `Walls::move_circle`: substeps short enough that the centre never passes a wall. */
  private moveCircle(from: Vec2, delta: Vec2): Vec2 {
    const longest = Math.max(Math.abs(delta[0]), Math.abs(delta[1]));
    const steps = Math.max(Math.ceil(longest / this.maxStep), 1);
    let pos = from;
    let done: Vec2 = [0, 0];
    for (let k = 1; k <= steps; k++) {
      const target: Vec2 = [mulDivTrunc(delta[0], k, steps), mulDivTrunc(delta[1], k, steps)];
      pos = [pos[0] + target[0] - done[0], pos[1] + target[1] - done[1]];
      done = target;
      pos = this.resolveCircle(pos, this.radius);
    }
    return pos;
  }

  /** `Walls::resolve`. */
  private resolveCircle(at: Vec2, radius: number): Vec2 {
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
  private clamp(pos: Vec2, radius: number): Vec2 {
    return [
      Math.max(Math.min(pos[0], this.width - radius), radius),
      Math.max(Math.min(pos[1], this.height - radius), radius),
    ];
  }
}

/** `Rect::push_out`: the smallest push (rounded outwards) out of an overlapped box, or null. */
function pushOut(w: Rect, pos: Vec2, radius: number): Vec2 | null {
  const nx = Math.min(Math.max(pos[0], w.x0), w.x1);
  const ny = Math.min(Math.max(pos[1], w.y0), w.y1);
  const dx = pos[0] - nx;
  const dy = pos[1] - ny;
  const d2 = addExact(mulExact(dx, dx), mulExact(dy, dy));
  if (!lessThan(d2, mulExact(radius, radius))) return null;
  if (dx === 0 && dy === 0) {
    const exits: Vec2[] = [
      [w.x0 - radius - pos[0], 0],
      [w.x1 + radius - pos[0], 0],
      [0, w.y0 - radius - pos[1]],
      [0, w.y1 + radius - pos[1]],
    ];
    // `min_by_key` keeps the first of equal minima.
    let best = exits[0];
    for (const e of exits) {
      if (Math.abs(e[0]) + Math.abs(e[1]) < Math.abs(best[0]) + Math.abs(best[1])) best = e;
    }
    return best;
  }
  if (dx === 0) return [0, Math.sign(dy) * (radius - Math.abs(dy))];
  if (dy === 0) return [Math.sign(dx) * (radius - Math.abs(dx)), 0];
  const root = isqrt(d2);
  const out = (c: number): number => {
    if (typeof root === 'number') {
      const d = Math.max(root, 1);
      const num = Math.abs(c) * radius + d - 1;
      if (num <= SAFE) return (Math.sign(c) * Math.floor(num / d)) | 0;
    }
    const d = BigInt(root) > 1n ? BigInt(root) : 1n;
    const q = (BigInt(Math.abs(c)) * BigInt(radius) + d - 1n) / d;
    return Number(BigInt.asIntN(32, c < 0 ? -q : q));
  };
  return [nx + out(dx) - pos[0], ny + out(dy) - pos[1]];
}

/** `a + b` between exact integers, either representation. */
function addExact(a: number | bigint, b: number | bigint): number | bigint {
  if (typeof a === 'number' && typeof b === 'number' && Math.abs(a + b) <= SAFE) return a + b;
  return BigInt(a) + BigInt(b);
}
