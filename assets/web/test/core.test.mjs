// The wasm core against the golden frames the Rust encoder recorded (`assets/web/golden`,
// written by `shared/wasm/src/golden.rs`): the same bytes, applied by the same Rust compiled to
// WebAssembly, must give what the Rust test saw after every frame.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

import { Core, Frame } from '../public/sdk.js';

const web = new URL('../', import.meta.url);
const core = await Core.load(await readFile(new URL('public/tickwire.wasm', web)));

async function golden(game) {
  const frames = [];
  const bytes = new Uint8Array(await readFile(new URL(`golden/${game}.frames`, web)));
  const view = new DataView(bytes.buffer);
  for (let at = 0; at < bytes.length; ) {
    const len = view.getUint32(at, true);
    frames.push(bytes.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  const expected = JSON.parse(await readFile(new URL(`golden/${game}.json`, web), 'utf8'));
  return { frames, expected };
}

// `arena-replay` is an arena match as the server's replay playback writes it.
for (const name of ['arena', 'cycles', 'arena-replay']) {
  test(`${name}: every golden frame gives what the Rust client saw`, async () => {
    const { frames, expected } = await golden(name);
    const game = expected.game;
    assert.equal(frames.length, expected.frames.length, 'as many frames as expectations');
    const client = core.client(game);
    assert.equal(client.gameHash(), expected.hash, 'the same declarations as the server');
    frames.forEach((bytes, i) => {
      const want = expected.frames[i];
      assert.equal(client.receive(bytes), want.code, `frame ${i}: its kind`);
      assert.equal(client.tick, want.tick, `frame ${i}: tick`);
      assert.equal(client.checksum, want.checksum, `frame ${i}: checksum verdict`);
      const world = client.world();
      assert.equal(world.len, want.entities, `frame ${i}: entities`);
      assert.equal(world.fields, expected.fields, `frame ${i}: fields`);
      const sum = world.rows.reduce((s, v) => (s + v) | 0, 0);
      assert.equal(sum, want.sum, `frame ${i}: every value of every row`);
      const flat = client.events().flatMap((e) => [e.tick, e.tag, e.values.length, ...e.values]);
      assert.deepEqual(flat, want.events, `frame ${i}: its new events, each once`);
    });
    assert.equal(client.desyncs, 0, 'no desync');
    assert.deepEqual(Array.from(client.ack()), expected.ack, "a spectator's Ack of the newest tick, as Rust encodes it");
    assert.deepEqual(client.results(), expected.results, 'the results of a MatchEnd, if one came');
    assert.equal(client.playerName(2), expected.player_2, 'player 2 named, by the roster or its join');
    const welcome = client.welcome();
    assert.equal(welcome.game, game, 'the Welcome, as JSON');
    assert.match(welcome.match_id, /^m_(golden|replay)$/);
    assert.equal(client.game().entity.length, expected.fields, 'the declaration lists every field');
    assert.equal(client.game().hash, expected.hash, 'and its hash');
    client.free();
  });
}

test('close codes have the names the server gives them', () => {
  assert.equal(core.closeName(4003), 'invalid_ticket');
  assert.equal(core.closeName(4017), 'game_mismatch');
  assert.equal(core.closeName(1000), 'normal');
  assert.equal(core.closeName(4999), 'other');
});

test('inputs get consecutive sequence numbers', () => {
  const client = core.client('arena');
  const first = client.nextSeq;
  client.input([0, 0, 0]);
  client.input([0, 1, 0]);
  assert.equal(client.nextSeq, first + 2);
  assert.equal(client.lastInputSeq, 0, 'no snapshot has acknowledged any');
  client.free();
});

test('a client refuses the Welcome of another game', async () => {
  const { frames } = await golden('arena');
  const client = core.client('cycles');
  assert.equal(client.receive(frames[0]), Frame.WRONG_GAME, 'wrong game');
  client.free();
});

test('inputs are encoded only within the declared ranges', () => {
  const client = core.client('arena');
  const ok = client.input([1, 3, 100]);
  assert.ok(ok instanceof Uint8Array && ok.length > 0, 'a valid input encodes');
  assert.equal(client.input([9, 3, 100]), null, 'buttons out of range');
  assert.equal(client.input([1, 3]), null, 'a field missing');
  const hello = client.hello('tk_example');
  assert.ok(hello.length > 'tk_example'.length, 'Hello carries the ticket and the hash');
  client.free();
});
