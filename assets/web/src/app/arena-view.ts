// The arena on a canvas: the map's walls, orbs, drones, projectiles and players. Remote
// entities are drawn through the interpolation buffer; the local player at its predicted
// position. Keys move (WASD or arrows), the pointer aims, a mouse button or F fires, Space or
// Shift dashes. Read-only (watching, a replay): every entity interpolated, no keys read, the
// followed player (if any) drawn as ours.

import {
  ArenaButtons,
  ArenaFlags,
  ArenaKind,
  ArenaMotion,
  Interpolator,
  POS_SCALE,
  Predictor,
  aimToward,
  arenaInput,
  arenaInterpolation,
  arenaPrediction,
  moveDir,
  type ArenaMotionState,
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

export class ArenaView implements GameView {
  readonly keys: string;
  private readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly client: CoreClient;
  private readonly interp: Interpolator;
  private readonly predictor: Predictor<ArenaMotionState, ArrayLike<number>>;
  private readonly f: Record<string, number> = {};
  private readonly width: number;
  private readonly height: number;
  private readonly walls: Wall[];
  private readonly scale: number;
  private readonly held = new Set<string>();
  private firing = false;
  private pointer: { x: number; y: number } | null = null;
  private aim = 0;
  private meOnScreen: { x: number; y: number } | null = null;
  private drawn = { entities: 0, players: 0, otherPlayers: 0 };
  private scores = new Map<number, { score: number; alive: boolean }>();
  private corrections = 0;
  private readonly readOnly: boolean;
  /** The player drawn as ours (0: none). */
  private readonly me: number;
  private readonly detach: () => void;

  constructor(canvas: HTMLCanvasElement, client: CoreClient, game: GameSummary, map: MapLayout, options: ViewOptions = {}) {
    this.canvas = canvas;
    this.readOnly = options.readOnly ?? false;
    this.me = options.focus ?? client.playerId;
    this.keys = this.readOnly ? '' : 'Move: WASD or arrows · Aim: mouse · Fire: click or F · Dash: Space or Shift';
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2D canvas');
    this.ctx = ctx;
    this.client = client;
    const decl = client.game();
    decl.entity.forEach((field, i) => (this.f[field.name] = i));
    this.interp = new Interpolator(arenaInterpolation(decl, game.tick_rate));
    this.predictor = new Predictor(arenaPrediction(new ArenaMotion(game.tuning, map.layout, game.tick_rate)));
    const layout = map.layout as { width?: number; height?: number; walls?: Wall[] };
    this.width = Number(layout.width ?? 2000);
    this.height = Number(layout.height ?? 2000);
    this.walls = layout.walls ?? [];
    const fit = Math.min(960 / this.width, 720 / this.height);
    this.scale = fit;
    canvas.width = Math.round(this.width * fit);
    canvas.height = Math.round(this.height * fit);
    if (this.readOnly) {
      this.detach = () => undefined;
      return;
    }

    const key = (down: boolean) => (e: KeyboardEvent) => {
      const k = e.key.length === 1 ? e.key.toLowerCase() : e.key;
      if (['w', 'a', 's', 'd', 'f', ' ', 'Shift', 'ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight'].includes(k)) {
        e.preventDefault();
        if (down) this.held.add(k);
        else this.held.delete(k);
      }
    };
    const keydown = key(true);
    const keyup = key(false);
    const move = (e: PointerEvent) => {
      const r = canvas.getBoundingClientRect();
      this.pointer = { x: ((e.clientX - r.left) * canvas.width) / r.width, y: ((e.clientY - r.top) * canvas.height) / r.height };
    };
    const down = () => (this.firing = true);
    const up = () => (this.firing = false);
    const blur = () => {
      this.held.clear();
      this.firing = false;
    };
    window.addEventListener('keydown', keydown);
    window.addEventListener('keyup', keyup);
    window.addEventListener('blur', blur);
    canvas.addEventListener('pointermove', move);
    canvas.addEventListener('pointerdown', down);
    window.addEventListener('pointerup', up);
    this.detach = () => {
      window.removeEventListener('keydown', keydown);
      window.removeEventListener('keyup', keyup);
      window.removeEventListener('blur', blur);
      canvas.removeEventListener('pointermove', move);
      canvas.removeEventListener('pointerdown', down);
      window.removeEventListener('pointerup', up);
    };
  }

  input(): number[] {
    const h = (k: string) => this.held.has(k);
    const dir = moveDir(h('w') || h('ArrowUp'), h('s') || h('ArrowDown'), h('a') || h('ArrowLeft'), h('d') || h('ArrowRight'));
    if (this.pointer && this.meOnScreen) {
      this.aim = aimToward(this.pointer.x - this.meOnScreen.x, this.pointer.y - this.meOnScreen.y);
    }
    const buttons = (this.firing || h('f') ? ArenaButtons.FIRE : 0) | (h(' ') || h('Shift') ? ArenaButtons.DASH : 0);
    return arenaInput({ buttons, move_dir: dir, aim: this.aim });
  }

  onInput(seq: number, values: ArrayLike<number>): void {
    this.predictor.apply(seq, values);
  }

  onSnapshot(s: SnapshotInfo): void {
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
      const { state } = this.predictor.reconcile(
        { x: rows[row + f.x], y: rows[row + f.y], dashLeft: 0, dashCooldown: 0, dashVx: 0, dashVy: 0 },
        s.lastInputSeq,
      );
      if (before && (before.x !== state.x || before.y !== state.y)) this.corrections++;
    }
  }

  players(): { id: number; score: number; alive: boolean }[] {
    return [...this.scores].map(([id, p]) => ({ id, ...p }));
  }

  draw(nowMs: number): void {
    const { ctx, scale } = this;
    const f = this.f;
    const px = (v: number) => (v / POS_SCALE) * scale;
    ctx.fillStyle = '#0a0d12';
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.strokeStyle = '#1b2230';
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
    ctx.fillStyle = '#3a4458';
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
        this.circle(x, y, 12 * scale, '#f5c542');
      } else if (kind === ArenaKind.PROJECTILE) {
        this.circle(x, y, Math.max(2, 4 * scale), owner === me ? '#bff5d9' : '#ffd1d1');
      } else if (kind === ArenaKind.DRONE) {
        this.circle(x, y, 10 * scale, '#8e6bd8');
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
        this.player(x, y, v[f.aim], owner === me ? '#4cc38a' : playerColour(owner), dead, (v[f.flags] & ArenaFlags.DASHING) !== 0, owner);
      }
    }
    this.drawn = drawn;
  }

  private circle(x: number, y: number, r: number, colour: string): void {
    const { ctx } = this;
    ctx.fillStyle = colour;
    ctx.beginPath();
    ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.fill();
  }

  private player(x: number, y: number, aim: number, colour: string, dead: boolean, dashing: boolean, id: number): void {
    const { ctx, scale } = this;
    const r = Math.max(5, 16 * scale);
    ctx.globalAlpha = dead ? 0.25 : 1;
    if (dashing) this.circle(x, y, r * 1.5, 'rgba(255,255,255,0.15)');
    this.circle(x, y, r, colour);
    const a = (aim / 65536) * 2 * Math.PI;
    ctx.strokeStyle = colour;
    ctx.lineWidth = 3;
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x + Math.cos(a) * r * 1.9, y + Math.sin(a) * r * 1.9);
    ctx.stroke();
    ctx.fillStyle = '#e6e9ef';
    ctx.font = '11px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.fillText(this.client.playerName(id) || `#${id}`, x, y - r - 4);
    ctx.globalAlpha = 1;
  }

  debug(): Record<string, unknown> {
    const p = this.predictor.state;
    return {
      me: p ? { x: p.x / POS_SCALE, y: p.y / POS_SCALE } : null,
      meOnScreen: this.meOnScreen,
      drawn: this.drawn,
      unacknowledged: this.predictor.unacknowledged,
      corrections: this.corrections,
    };
  }

  dispose(): void {
    this.detach();
  }
}
