// Prediction and reconciliation with scripted snapshots: inputs move the local player at once;
// a snapshot replaces the prediction with the server's state and replays only the inputs the
// server had not applied (`last_input_seq`), so a correct prediction never jumps and a wrong
// one is corrected.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { Predictor, arenaPrediction, ArenaMotion } from '../public/sdk.js';

// A toy model: x moves by the input's value each tick; `charge` is state only the client keeps.
const toy = {
  step: (s, input) => ({ x: s.x + input, charge: s.charge + 1 }),
  authoritative: (server, local) => ({ x: server.x, charge: local?.charge ?? 0 }),
};

test('inputs apply at once, and only once the player is known', () => {
  const p = new Predictor(toy);
  assert.equal(p.apply(1, 5), null, 'nothing to predict before a snapshot');
  p.reconcile({ x: 100, charge: 0 }, 1);
  assert.deepEqual(p.apply(2, 5), { x: 105, charge: 1 });
  assert.deepEqual(p.apply(3, -2), { x: 103, charge: 2 });
  assert.equal(p.unacknowledged, 2);
});

test('a server that agrees causes no jump; acknowledged inputs are dropped', () => {
  const p = new Predictor(toy);
  p.reconcile({ x: 0, charge: 0 }, 0);
  for (let seq = 1; seq <= 6; seq++) p.apply(seq, 10);
  assert.equal(p.state.x, 60);
  // The server applied inputs 1..4 (x = 40); 5 and 6 are still in flight.
  const r = p.reconcile({ x: 40, charge: 0 }, 4);
  assert.equal(r.replayed, 2, 'inputs 5 and 6 replayed');
  assert.equal(r.state.x, 60, 'the same position: no correction');
  assert.equal(r.state.charge, 6, "the client's own state after input 4, plus two");
  assert.equal(p.unacknowledged, 2);
});

test('a server that disagrees corrects the prediction', () => {
  const p = new Predictor(toy);
  p.reconcile({ x: 0, charge: 0 }, 0);
  for (let seq = 1; seq <= 5; seq++) p.apply(seq, 10);
  // Something pushed the player back: the server has x = 15 after input 3.
  const r = p.reconcile({ x: 15, charge: 0 }, 3);
  assert.equal(r.state.x, 35, 'server state plus inputs 4 and 5');
  // A later snapshot that acknowledges everything leaves nothing to replay.
  const done = p.reconcile({ x: 35, charge: 0 }, 5);
  assert.equal(done.replayed, 0);
  assert.equal(done.state.x, 35);
});

test('a stale snapshot (older last_input_seq) replays from the server state it shows', () => {
  const p = new Predictor(toy);
  p.reconcile({ x: 0, charge: 0 }, 0);
  for (let seq = 1; seq <= 3; seq++) p.apply(seq, 1);
  p.reconcile({ x: 2, charge: 0 }, 2);
  const r = p.reconcile({ x: 2, charge: 0 }, 2);
  assert.equal(r.state.x, 3, 'input 3 replayed once, not twice');
});

test('the arena model moves the player as its tuning says and keeps dash timers across snapshots', () => {
  const tuning = { tick_rate: 30, player: { speed: 300, radius: 16, max_health: 100, dash_speed: 900, dash_duration_s: 0.1, dash_cooldown_s: 1 } };
  const layout = { width: 2000, height: 2000 };
  const motion = new ArenaMotion(tuning, layout, 30);
  const p = new Predictor(arenaPrediction(motion));
  const start = { x: 1000 * 16, y: 1000 * 16, dashLeft: 0, dashCooldown: 0, dashVx: 0, dashVy: 0 };
  p.reconcile(start, 0);
  // East (move_dir 1) for three ticks: 300 units/s at 30 Hz is 10 units = 160 steps a tick.
  for (let seq = 1; seq <= 3; seq++) p.apply(seq, [0, 1, 0]);
  assert.equal(p.state.x, start.x + 3 * 160);
  assert.equal(p.state.y, start.y);
  // Dash (button 2) east, then a snapshot acknowledging it: the cooldown is the client's own.
  p.apply(4, [2, 1, 0]);
  const dashed = p.state;
  assert.ok(dashed.dashCooldown > 0 && dashed.x - start.x > 3 * 160 + 160, 'a dash moves further than a step');
  const r = p.reconcile({ ...dashed, dashLeft: 0, dashCooldown: 0, dashVx: 0, dashVy: 0 }, 4);
  assert.equal(r.state.dashCooldown, dashed.dashCooldown, 'the dash cooldown survives the snapshot');
});
