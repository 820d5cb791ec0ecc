// The replay player against the playback stream the Rust encoder recorded
// (`golden/arena-replay.frames`, written by `shared/wasm/src/golden.rs` in the format of
// `GET /v1/matches/{id}/replay?format=snapshots`): records split, snapshots fed at the tick rate
// times the speed on a scripted clock, the speed changed and the pause taken while playing, the
// results at the end, and a broken stream refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

import { Core, ReplayPlayer, splitRecords } from '../public/sdk.js';

const web = new URL('../', import.meta.url);
const core = await Core.load(await readFile(new URL('public/tickwire.wasm', web)));
const stream = new Uint8Array(await readFile(new URL('golden/arena-replay.frames', web)));
const expected = JSON.parse(await readFile(new URL('golden/arena-replay.json', web), 'utf8'));
/** Ms per tick at the stream's 30 Hz. */
const TICK = 1000 / 30;

/** A player on a clock the test moves, fed only when the test pumps. */
function scripted(options = {}) {
  const clock = { t: 1000 };
  const snapshots = [];
  let results = null;
  const player = ReplayPlayer.open(core, stream, {
    intervalMs: 0,
    now: () => clock.t,
    onSnapshot: (s) => snapshots.push({ tick: s.tick, arrivedMs: s.arrivedMs, checksum: s.checksum, entities: s.world.len, events: s.events }),
    onEnd: (r) => (results = r),
    ...options,
  });
  const at = (ms) => {
    clock.t = ms;
    return player.pump();
  };
  return { player, clock, snapshots, at, results: () => results };
}

test('a playback stream splits into its length-prefixed records', () => {
  const records = splitRecords(stream);
  assert.equal(records.length, expected.frames.length, 'a Welcome, six snapshots and the MatchEnd');
  const total = records.reduce((n, r) => n + 4 + r.length, 0);
  assert.equal(total, stream.length, 'every byte belongs to one record');
  assert.deepEqual(splitRecords(new Uint8Array()), [], 'an empty stream has no records');
  assert.throws(() => splitRecords(stream.subarray(0, stream.length - 1)), /cut short/, 'a record cut short');
  assert.throws(() => splitRecords(stream.subarray(0, 2)), /cut short/, 'a length cut short');
});

test('a player opened paused applies nothing until it plays', () => {
  const { player, clock, snapshots, at } = scripted({ paused: true });
  assert.equal(at(5000), 0, 'not even the first snapshot');
  assert.equal(player.clock(), 0, 'the clock stands at the start');
  clock.t = 6000;
  player.play();
  assert.equal(player.pump(), 1, 'the first snapshot once playing');
  assert.deepEqual(snapshots.map((s) => s.tick), [1]);
  player.dispose();
});

test('the Welcome names the game, and snapshots come at the tick rate at 1×', () => {
  const { player, snapshots, at } = scripted();
  assert.equal(player.welcome.game, 'arena', 'found the game from the Welcome');
  assert.equal(player.welcome.player_id, 0, 'a replay is watched');
  assert.equal(player.tickRate, 30);
  assert.equal(player.length, 7, 'six snapshots and the end');
  assert.equal(at(1000), 1, 'the first snapshot is due at once');
  assert.equal(at(1000 + TICK * 0.5), 0, 'not the second before its tick');
  assert.equal(at(1000 + TICK * 2.5), 2, 'ticks 2 and 3 after two and a half ticks');
  assert.deepEqual(snapshots.map((s) => s.tick), [1, 2, 3], 'in tick order');
  assert.deepEqual(snapshots.map((s) => Math.round(s.arrivedMs)), [0, 33, 67], 'each arrives when due on the match clock');
  assert.ok(Math.abs(player.clock() - TICK * 2.5) < 1e-6, `the match time played: ${player.clock()}`);
  snapshots.forEach((s, i) => {
    assert.equal(s.checksum, 1, `snapshot ${i}: its checksum matched`);
    assert.equal(s.entities, expected.frames[i + 1].entities, `snapshot ${i}: the world the Rust client saw`);
  });
  const joins = snapshots[0].events.filter((e) => e.tag === -1).map((e) => e.values[0]);
  assert.deepEqual(joins, [1, 2, 3, 4], 'the players join in the first snapshot');
  assert.equal(player.client.playerName(2), expected.player_2, 'and are named');
  player.dispose();
});

test('the speed changes while playing without a jump, and the pause holds the clock', () => {
  const { player, snapshots, at, results } = scripted();
  at(1000);
  at(1000 + TICK * 1.5); // 1×: ticks 1 and 2
  assert.equal(snapshots.length, 2);
  player.speed = 8;
  assert.equal(player.speed, 8);
  // Played so far: 1.5 ticks; a quarter tick of wall time at 8× is two more ticks.
  at(1000 + TICK * 1.75);
  assert.ok(Math.abs(player.clock() - TICK * 3.5) < 1e-6, `1.5 ticks at 1×, then 2 at 8×: ${player.clock()}`);
  assert.deepEqual(snapshots.map((s) => s.tick), [1, 2, 3, 4], 'two more snapshots, none skipped');

  player.pause();
  assert.equal(player.paused, true);
  assert.equal(at(1000 + TICK * 100), 0, 'nothing is fed while paused, however long');
  assert.ok(Math.abs(player.clock() - TICK * 3.5) < 1e-6, 'the clock stood still');

  player.speed = 2;
  player.play();
  // From 3.5 ticks: the fifth snapshot is due at 4, the sixth at 5, the end at 6: a wall time of
  // 1.5 ticks at 2× is 3 ticks, past all three.
  at(1000 + TICK * 101.5);
  assert.deepEqual(snapshots.map((s) => s.tick), [1, 2, 3, 4, 5, 6], 'every snapshot, once, in order');
  assert.equal(player.ended, true, 'the MatchEnd was reached');
  assert.equal(player.played, player.length, 'every step played');
  const r = results();
  assert.equal(r?.length, 4, 'the results at the end');
  assert.deepEqual(r, expected.results, 'as the Rust client read them');
  assert.equal(player.client.desyncs, 0, 'no desync');
  assert.equal(player.client.checksumsVerified, 6, 'every snapshot verified');
  assert.equal(at(1000 + TICK * 1000), 0, 'nothing after the end');
  assert.throws(() => (player.speed = 3), RangeError, 'only 1×, 2×, 4× and 8×');
  player.dispose();
});

test('a replay plays again from the start with a fresh replica', () => {
  const { player, clock, snapshots, at, results } = scripted({ speed: 8 });
  at(1000 + TICK);
  assert.equal(player.ended, true, 'one tick of wall time at 8× plays it all');
  snapshots.length = 0;
  const again = player.restart();
  assert.equal(again.speed, 8, 'the speed carried over');
  assert.equal(again.played, 0, 'from the start');
  assert.equal(again.ended, false);
  clock.t += TICK;
  again.pump();
  assert.deepEqual(snapshots.map((s) => s.tick), [1, 2, 3, 4, 5, 6], 'the same snapshots again, to the same callback');
  assert.equal(again.ended, true);
  assert.equal(results()?.length, 4);
  assert.equal(again.client.desyncs, 0, 'a fresh replica: no desync');
  again.dispose();
});

test('a stream of another game, or one that is not a replay, is refused', async () => {
  const cycles = new Uint8Array(await readFile(new URL('golden/cycles.frames', web)));
  assert.throws(() => ReplayPlayer.open(core, stream, { game: 'cycles', intervalMs: 0 }), /other than cycles/, 'an arena replay is no cycles replay');
  const fromCycles = ReplayPlayer.open(core, cycles, { intervalMs: 0 });
  assert.equal(fromCycles.welcome.game, 'cycles', 'each game known to the core tries the Welcome');
  fromCycles.dispose();
  const records = splitRecords(stream);
  // Starting at a snapshot: no Welcome.
  const headless = new Uint8Array(stream.subarray(4 + records[0].length));
  assert.throws(() => ReplayPlayer.open(core, headless, { intervalMs: 0 }), /Welcome/, 'a stream must start with its Welcome');
  assert.throws(() => ReplayPlayer.open(core, new Uint8Array(), { intervalMs: 0 }), /empty/);
});

test('a record that does not apply stops the player with an error', () => {
  const records = splitRecords(stream);
  // The Welcome, then tick 2's delta without tick 1's keyframe: no baseline to apply it to.
  const parts = [records[0], records[2]];
  const broken = new Uint8Array(parts.reduce((n, r) => n + 4 + r.length, 0));
  let at = 0;
  for (const r of parts) {
    new DataView(broken.buffer).setUint32(at, r.length, true);
    broken.set(r, at + 4);
    at += 4 + r.length;
  }
  let error = null;
  const clock = { t: 0 };
  const player = ReplayPlayer.open(core, broken, { intervalMs: 0, now: () => clock.t, onError: (e) => (error = e) });
  clock.t = 1000;
  player.pump();
  assert.match(String(error?.message), /does not apply/, 'the error names the record');
  assert.equal(player.error, error);
  assert.equal(player.pump(), 0, 'and nothing follows');
  player.dispose();
});
