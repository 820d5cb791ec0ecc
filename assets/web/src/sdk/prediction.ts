// Client-side prediction of the local player: each input is applied locally the moment it is
// sent, so the player's own movement does not wait a round trip. When a snapshot arrives, the
// server's state for the player (which includes every input up to `last_input_seq`) replaces
// the prediction and the inputs the server has not applied yet are replayed on top of it.
// Generic: a game supplies the model (how one input moves its player).

export interface PredictionModel<S, I> {
  /** One tick of the local player under `input`, exactly as the server computes it. */
  step(state: S, input: I): S;
  /**
   * The server's state for the player, completed with what only the client tracks (timers the
   * server does not replicate): `local` is the prediction right after the same input, or null.
   */
  authoritative(server: S, local: S | null): S;
}

interface Pending<S, I> {
  seq: number;
  input: I;
  /** The prediction right after this input. */
  after: S;
}

export interface Reconciled<S> {
  state: S;
  /** Inputs replayed on top of the server's state. */
  replayed: number;
}

export class Predictor<S, I> {
  private readonly model: PredictionModel<S, I>;
  private pending: Pending<S, I>[] = [];
  private current: S | null = null;
  /** Inputs kept unacknowledged, at most (a stalled connection must not grow this forever). */
  private readonly capacity: number;

  constructor(model: PredictionModel<S, I>, capacity = 256) {
    this.model = model;
    this.capacity = capacity;
  }

  /** The predicted state (null before the first snapshot showed the player). */
  get state(): S | null {
    return this.current;
  }

  /** Inputs sent that the server has not yet applied. */
  get unacknowledged(): number {
    return this.pending.length;
  }

  /** An input sent with `seq`: applies it to the prediction at once. */
  apply(seq: number, input: I): S | null {
    if (this.current === null) return null;
    this.current = this.model.step(this.current, input);
    this.pending.push({ seq, input, after: this.current });
    if (this.pending.length > this.capacity) this.pending.shift();
    return this.current;
  }

  /**
   * A snapshot showed the player as `server`, with every input up to `lastInputSeq` applied:
   * drops those, and replays the rest on the server's state.
   */
  reconcile(server: S, lastInputSeq: number): Reconciled<S> {
    let local: S | null = null;
    while (this.pending.length > 0 && this.pending[0].seq <= lastInputSeq) {
      local = this.pending.shift()!.after;
    }
    let state = this.model.authoritative(server, local);
    for (const p of this.pending) {
      state = this.model.step(state, p.input);
      p.after = state;
    }
    this.current = state;
    return { state, replayed: this.pending.length };
  }

  /** Forgets everything (the player died, or the connection was replaced). */
  reset(): void {
    this.pending = [];
    this.current = null;
  }
}
