// What a game's page supplies to the generic play screen.

import type { SnapshotInfo } from '../sdk/index.js';

export interface GameView {
  /** This tick's input values, in the game's declared order. */
  input(): number[];
  /** An input went out (prediction applies it). */
  onInput(seq: number, values: ArrayLike<number>): void;
  onSnapshot(snapshot: SnapshotInfo): void;
  /** Draws the frame at `nowMs`. */
  draw(nowMs: number): void;
  /** Players for the scoreboard: id, score, alive. */
  players(): { id: number; score: number; alive: boolean }[];
  /** How to play, in one line. */
  readonly keys: string;
  /** What a test reads: the game's own figures. */
  debug(): Record<string, unknown>;
  dispose(): void;
}
