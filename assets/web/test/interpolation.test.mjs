// The interpolation buffer with scripted snapshots: remote entities are drawn about 100 ms
// behind the newest snapshot, move smoothly through a skipped snapshot, turn the short way
// round, snap on a respawn, and appear and disappear at their snapshot's tick.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { Interpolator, entityKey } from '../public/sdk.js';

const fields = [
  { name: 'kind', type: 'u8', encoding: 'value', min: 0, max: 3 },
  { name: 'x', type: 'i32', encoding: 'predicted', min: -2147483648, max: 2147483647 },
  { name: 'y', type: 'i32', encoding: 'predicted', min: -2147483648, max: 2147483647 },
  { name: 'aim', type: 'u16', encoding: 'diff', min: 0, max: 65535 },
];
const TICK_MS = 1000 / 30;

/** A world view of entities given as [index, version, kind, x, y, aim]. */
function world(entities) {
  return {
    len: entities.length,
    fields: fields.length,
    ids: Uint32Array.from(entities.flatMap((e) => [e[0], e[1]])),
    rows: Int32Array.from(entities.flatMap((e) => e.slice(2))),
  };
}

function make(options = {}) {
  return new Interpolator({ tickRate: 30, fields, angles: { aim: 65536 }, snap: 1000, ...options });
}

test('draws about 100 ms behind, between the bracketing snapshots', () => {
  const buffer = make();
  // One entity moving +30 in x per tick; snapshots arrive exactly on time.
  for (let tick = 1; tick <= 10; tick++) buffer.push(tick, tick * TICK_MS, world([[1, 1, 0, tick * 30, 0, 0]]));
  const now = 10 * TICK_MS;
  assert.ok(Math.abs(buffer.renderTick(now) - (10 - 3)) < 1e-9, 'three ticks (100 ms) behind the newest');
  const [e] = buffer.sample(now);
  assert.equal(e.key, entityKey(1, 1));
  assert.ok(Math.abs(e.values[1] - 7 * 30) < 1e-6, `x at tick 7: ${e.values[1]}`);
  const [half] = buffer.sample(now + TICK_MS / 2);
  assert.ok(Math.abs(half.values[1] - 7.5 * 30) < 1e-6, `half way to tick 8: ${half.values[1]}`);
  assert.equal(half.values[0], 0, 'value fields are not blended');
});

test('moves smoothly through a skipped snapshot', () => {
  const buffer = make();
  for (const tick of [1, 2, 3, 4, 6, 7, 8, 9, 10]) buffer.push(tick, tick * TICK_MS, world([[1, 1, 0, tick * 30, 0, 0]]));
  const xs = [];
  for (let t = 6 * TICK_MS; t <= 9 * TICK_MS; t += TICK_MS / 4) xs.push(buffer.sample(t)[0].values[1]);
  const steps = xs.slice(1).map((x, i) => x - xs[i]);
  for (const step of steps) assert.ok(Math.abs(step - 7.5) < 1e-6, `an even step through tick 5's gap: ${steps}`);
});

test('arrival jitter does not shake the render time', () => {
  const buffer = make();
  const jitter = [0, 12, 3, 25, 0, 7, 18, 2, 0, 30, 5, 1];
  jitter.forEach((late, i) => buffer.push(i + 1, (i + 1) * TICK_MS + late, world([[1, 1, 0, (i + 1) * 30, 0, 0]])));
  const now = 12 * TICK_MS;
  // The clock follows the earliest arrivals: late snapshots barely move it.
  assert.ok(Math.abs(buffer.renderTick(now) - 9) < 0.2, `render tick ${buffer.renderTick(now)}`);
});

test('angles turn the short way round and respawns snap', () => {
  const buffer = make();
  buffer.push(1, 1 * TICK_MS, world([[1, 1, 0, 0, 0, 65000], [2, 1, 0, 0, 0, 0]]));
  buffer.push(2, 2 * TICK_MS, world([[1, 1, 0, 20, 0, 500], [2, 1, 0, 5000, 0, 0]]));
  const [turning, respawned] = buffer.sample(1 * TICK_MS + 100 + TICK_MS / 2);
  // 65000 -> 500 is a step of +1036 across zero: half way is 65518, not ~32750.
  assert.ok(Math.abs(turning.values[3] - 65518) < 1e-6, `aim ${turning.values[3]}`);
  assert.equal(turning.values[1], 10, 'positions still blend');
  assert.equal(respawned.values[1], 5000, 'a jump longer than `snap` is drawn at its new place');
});

test('entities appear and disappear at their own tick', () => {
  const buffer = make();
  buffer.push(1, 1 * TICK_MS, world([[1, 1, 0, 0, 0, 0]]));
  buffer.push(2, 2 * TICK_MS, world([[1, 1, 0, 30, 0, 0], [2, 1, 1, 500, 500, 0]]));
  buffer.push(3, 3 * TICK_MS, world([[2, 1, 1, 530, 500, 0]]));
  const at = (tick) => buffer.sample(tick * TICK_MS + 100).map((e) => e.index);
  assert.deepEqual(at(1.5), [1], 'before tick 2 only entity 1');
  assert.deepEqual(at(2.5), [1, 2], 'from tick 2 both');
  assert.deepEqual(at(3), [2], 'from tick 3 entity 1 is gone');
});

test('nothing to draw before the first snapshot; the newest as is past it', () => {
  const buffer = make();
  assert.deepEqual(buffer.sample(1000), []);
  buffer.push(5, 0, world([[3, 2, 0, 90, 60, 0]]));
  const [e] = buffer.sample(10_000);
  assert.equal(e.values[1], 90, 'no guessing ahead');
  assert.equal(e.version, 2);
});
