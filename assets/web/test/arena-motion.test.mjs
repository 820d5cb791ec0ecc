// The SDK's port of the arena's movement against the server's: `golden/arena-motion.json` holds
// a lone player driven through scripted inputs by the server's own simulation (written by
// `server/src/games/arena/golden_motion.rs`), its position after every tick. Replayed here from
// the same start with the same tuning and layout, the port must land on the same fixed-point
// position every tick, or client-side prediction would visibly snap back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

import { ArenaMotion } from '../public/sdk.js';

const web = new URL('../', import.meta.url);
const golden = JSON.parse(await readFile(new URL('golden/arena-motion.json', web), 'utf8'));

test('the golden record covers both shipped maps with a few hundred ticks', () => {
  const maps = new Set(golden.cases.map((c) => c.map));
  assert.ok(maps.has('arena') && maps.has('corridors'), `maps: ${[...maps]}`);
  const ticks = golden.cases.reduce((n, c) => n + c.ticks.length, 0);
  assert.ok(ticks >= 300, `${ticks} ticks`);
});

for (const c of golden.cases) {
  test(`${c.name}: every tick lands where the server's simulation did`, () => {
    const layout = golden.layouts[c.map];
    assert.ok(layout, `the layout of ${c.map} is recorded`);
    const motion = new ArenaMotion(golden.tuning, layout, c.tick_rate);
    const [x, y] = c.start;
    assert.deepEqual(motion.resolve(x, y), [x, y], 'the spawn is already clear of walls');
    let state = { x, y, dashLeft: 0, dashCooldown: 0, dashVx: 0, dashVy: 0 };
    c.ticks.forEach(([[buttons, move_dir, aim], want], i) => {
      state = motion.step(state, { buttons, move_dir, aim });
      const got = [state.x, state.y];
      if (got[0] !== want[0] || got[1] !== want[1]) {
        assert.fail(
          `tick ${i + 1} (input [${buttons}, ${move_dir}, ${aim}]): the SDK moved to ` +
            `[${got}], the server to [${want}]`,
        );
      }
    });
  });
}

test('an input outside the declared directions is refused, not guessed at', () => {
  const c = golden.cases[0];
  const motion = new ArenaMotion(golden.tuning, golden.layouts[c.map], c.tick_rate);
  const state = { x: c.start[0], y: c.start[1], dashLeft: 0, dashCooldown: 0, dashVx: 0, dashVy: 0 };
  assert.throws(() => motion.step(state, { buttons: 0, move_dir: 9, aim: 0 }), RangeError);
});

test('a map without walls has only its bounds', () => {
  const motion = new ArenaMotion(golden.tuning, { width: 100, height: 100.0 }, 30);
  // Radius 16 units = 256 fixed; the arena is 1600 fixed across.
  assert.deepEqual(motion.resolve(0, 5000), [256, 1600 - 256]);
  assert.deepEqual(motion.resolve(800, 800), [800, 800]);
});
