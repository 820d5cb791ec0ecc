// What the SDK knows about the arena beyond its declaration: how an input moves the local
// player (for prediction, through `ArenaMotion`, a port of the server's movement checked
// against frames the server's simulation recorded), how its entities blend when drawn, and how
// keys and a pointer become an input. Everything generic lives outside `games/`.

import type { GameDecl } from '../core.js';
import type { InterpolationOptions } from '../interpolation.js';
import type { PredictionModel } from '../prediction.js';
import { ArenaMotion, type ArenaInputValues, type ArenaMotionState } from './arena-motion.js';

/** Fixed-point steps per world unit (`shared::quant::POS_SCALE`). */
export const POS_SCALE = 16;
/** Aim steps per turn. */
export const AIM_TURN = 65536;

export const ArenaKind = Object.freeze({ PLAYER: 0, PROJECTILE: 1, ORB: 2, DRONE: 3 });
export const ArenaFlags = Object.freeze({ DEAD: 1, DASHING: 2, FIRING: 4 });
export const ArenaButtons = Object.freeze({ FIRE: 1, DASH: 2 });
export const ArenaEvents = Object.freeze({ KILL: 'Kill', PICKUP: 'Pickup', RESPAWN: 'Respawn' });

/** Input values in the declared order: buttons, move_dir, aim. */
export function arenaInput(input: ArenaInputValues): number[] {
  return [input.buttons, input.move_dir, input.aim];
}

function arenaInputOf(values: ArrayLike<number>): ArenaInputValues {
  return { buttons: values[0], move_dir: values[1], aim: values[2] };
}

/**
 * `move_dir` from held direction keys: 0 still, 1..=8 the compass clockwise from east on a
 * screen whose y axis points down (1 east, 3 south, 5 west, 7 north).
 */
export function moveDir(up: boolean, down: boolean, left: boolean, right: boolean): number {
  const dx = (right ? 1 : 0) - (left ? 1 : 0);
  const dy = (down ? 1 : 0) - (up ? 1 : 0);
  if (dx === 0 && dy === 0) return 0;
  const octant = Math.round(Math.atan2(dy, dx) / (Math.PI / 4));
  return ((octant + 8) % 8) + 1;
}

/** `aim` toward a point `(dx, dy)` away on screen (y down): 0 east, clockwise. */
export function aimToward(dx: number, dy: number): number {
  const turns = Math.atan2(dy, dx) / (2 * Math.PI);
  return ((Math.round(turns * AIM_TURN) % AIM_TURN) + AIM_TURN) % AIM_TURN;
}

/** Remote entities blend their positions and their aim (the short way round); respawns snap. */
export function arenaInterpolation(decl: GameDecl, tickRate: number): InterpolationOptions {
  return {
    tickRate,
    fields: decl.entity,
    angles: { aim: AIM_TURN },
    snap: 200 * POS_SCALE,
  };
}

/**
 * The prediction model of the local arena player: the server's movement, with the dash timers
 * (which the server does not replicate) carried over from the client's own prediction.
 */
export function arenaPrediction(motion: ArenaMotion): PredictionModel<ArenaMotionState, ArrayLike<number>> {
  return {
    step: (state, values) => motion.step(state, arenaInputOf(values)),
    authoritative: (server, local) => ({
      x: server.x,
      y: server.y,
      dashLeft: local?.dashLeft ?? 0,
      dashCooldown: local?.dashCooldown ?? 0,
      dashVx: local?.dashVx ?? 0,
      dashVy: local?.dashVy ?? 0,
    }),
  };
}
