// Light cycles on a canvas: the grid, its walls, every trail cell and the cycles gliding
// between cells. Arrow keys or WASD steer toward a compass direction; Q and E turn left and
// right. A press is sent once (the server keeps it until the cycle's next move). Read-only
// (watching, a replay): no keys read, the followed player (if any) drawn as ours.

import {
  CyclesKind,
  Heading,
  Interpolator,
  Turn,
  cyclesInterpolation,
  turnToward,
  type CoreClient,
  type GameSummary,
  type MapLayout,
  type SnapshotInfo,
} from '../sdk/index.js';
import { playerColour } from './dom.js';
import type { GameView, ViewOptions } from './view.js';

interface Wall {
  x: number;
  y: number;
  w: number;
  h: number;
}

const DIRECTIONS: Record<string, number> = {
  ArrowRight: Heading.EAST, d: Heading.EAST,
  ArrowDown: Heading.SOUTH, s: Heading.SOUTH,
  ArrowLeft: Heading.WEST, a: Heading.WEST,
  ArrowUp: Heading.NORTH, w: Heading.NORTH,
};

export class CyclesView implements GameView {
  readonly keys: string;
  private readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly client: CoreClient;
  private readonly interp: Interpolator;
  private readonly f: Record<string, number> = {};
  private readonly width: number;
  private readonly height: number;
  private readonly walls: Wall[];
  private readonly cell: number;
  private pending: number = Turn.STRAIGHT;
  private heading: number | null = null;
  private mine: { x: number; y: number; alive: boolean } | null = null;
  private meOnScreen: { x: number; y: number } | null = null;
  private drawn = { cycles: 0, trails: 0, otherCycles: 0 };
  private scores = new Map<number, { score: number; alive: boolean }>();
  private readonly detach: () => void;
  private readonly cutPoints: number;
  private readonly crashKind: number;
  /** The player drawn as ours (0: none). */
  private readonly me: number;

  constructor(canvas: HTMLCanvasElement, client: CoreClient, game: GameSummary, map: MapLayout, options: ViewOptions = {}) {
    this.canvas = canvas;
    this.me = options.focus ?? client.playerId;
    this.keys = options.readOnly ? '' : 'Steer: arrows or WASD · Turn left/right: Q / E';
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2D canvas');
    this.ctx = ctx;
    this.client = client;
    const decl = client.game();
    decl.entity.forEach((field, i) => (this.f[field.name] = i));
    this.interp = new Interpolator(cyclesInterpolation(decl, game.tick_rate));
    this.cutPoints = Number(game.tuning.cut_points ?? 0);
    this.crashKind = decl.events.find((e) => e.name === 'Crash')?.kind ?? -100;
    const layout = map.layout as { width?: number; height?: number; walls?: Wall[] };
    this.width = Number(layout.width ?? 64);
    this.height = Number(layout.height ?? 48);
    this.walls = layout.walls ?? [];
    this.cell = Math.max(4, Math.floor(Math.min(960 / this.width, 720 / this.height)));
    canvas.width = this.width * this.cell;
    canvas.height = this.height * this.cell;
    if (options.readOnly) {
      this.detach = () => undefined;
      return;
    }

    const keydown = (e: KeyboardEvent) => {
      const k = e.key.length === 1 ? e.key.toLowerCase() : e.key;
      let turn: number | null = null;
      if (k === 'q') turn = Turn.LEFT;
      else if (k === 'e') turn = Turn.RIGHT;
      else if (k in DIRECTIONS && this.heading !== null) turn = turnToward(this.heading, DIRECTIONS[k]);
      else if (!(k in DIRECTIONS)) return;
      e.preventDefault();
      if (turn !== null) this.pending = turn;
    };
    window.addEventListener('keydown', keydown);
    this.detach = () => window.removeEventListener('keydown', keydown);
  }

  input(): number[] {
    const turn = this.pending;
    this.pending = Turn.STRAIGHT;
    return [turn];
  }

  onInput(): void {
    // Cycles are not predicted (see the SDK's games/cycles.ts).
  }

  onSnapshot(s: SnapshotInfo): void {
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
  players(): { id: number; score: number; alive: boolean }[] {
    return [...this.scores].map(([id, p]) => ({ id, ...p }));
  }

  draw(nowMs: number): void {
    const { ctx, cell } = this;
    const f = this.f;
    ctx.fillStyle = '#0a0d12';
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.strokeStyle = '#151b26';
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
    ctx.fillStyle = '#3a4458';
    for (const w of this.walls) ctx.fillRect(w.x * cell, w.y * cell, w.w * cell, w.h * cell);

    const me = this.me;
    const drawn = { cycles: 0, trails: 0, otherCycles: 0 };
    this.meOnScreen = null;
    const cycles: { x: number; y: number; owner: number; alive: boolean }[] = [];
    for (const e of this.interp.sample(nowMs)) {
      const v = e.values;
      const owner = v[f.owner] >>> 0;
      if (v[f.kind] === CyclesKind.TRAIL) {
        drawn.trails++;
        ctx.fillStyle = owner === me ? 'rgba(76, 195, 138, 0.55)' : playerColour(owner, 35);
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
      ctx.fillStyle = c.owner === me ? '#4cc38a' : playerColour(c.owner);
      ctx.fillRect(x - cell * 0.6, y - cell * 0.6, cell * 1.2, cell * 1.2);
      ctx.fillStyle = '#e6e9ef';
      ctx.font = '11px system-ui, sans-serif';
      ctx.textAlign = 'center';
      ctx.fillText(this.client.playerName(c.owner) || `#${c.owner}`, x, y - cell);
      ctx.globalAlpha = 1;
    }
    this.drawn = drawn;
  }

  debug(): Record<string, unknown> {
    return { me: this.mine, heading: this.heading, meOnScreen: this.meOnScreen, drawn: this.drawn };
  }

  dispose(): void {
    this.detach();
  }
}
