// What the SDK knows about light cycles beyond their declaration: the turn input (a press,
// sent once; `Straight` on every other tick leaves a pending turn alone) and how cycles blend
// when drawn. Cycles are not predicted: a turn takes effect at the next move, every few ticks,
// and mispredicting a crash would be worse than the delay.

import type { GameDecl } from '../core.js';
import type { InterpolationOptions } from '../interpolation.js';

export const CyclesKind = Object.freeze({ CYCLE: 0, TRAIL: 1 });
export const Turn = Object.freeze({ STRAIGHT: 0, LEFT: 1, RIGHT: 2 });
/** Headings clockwise on screen (y down). */
export const Heading = Object.freeze({ EAST: 0, SOUTH: 1, WEST: 2, NORTH: 3 });

/** The turn that brings a cycle heading `heading` toward `wanted` (null: none does in one turn). */
export function turnToward(heading: number, wanted: number): number | null {
  const d = (wanted - heading + 4) % 4;
  if (d === 1) return Turn.RIGHT;
  if (d === 3) return Turn.LEFT;
  return null;
}

/** Cycles glide between cells; a respawn (a jump of more than a cell) snaps. */
export function cyclesInterpolation(decl: GameDecl, tickRate: number): InterpolationOptions {
  return { tickRate, fields: decl.entity, snap: 1 };
}
