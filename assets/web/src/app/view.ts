// What a game's page supplies to the generic play screen.

import type { SnapshotInfo } from '../sdk/index.js';

/** How a view is used: played, or only watched (a spectator's session, a replay). */
export interface ViewOptions {
  /** Watched only: no keys or pointer are read, nothing is predicted. */
  readOnly?: boolean;
  /** The player drawn as "ours" (a followed player when watching); the session's by default. */
  focus?: number;
}

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
