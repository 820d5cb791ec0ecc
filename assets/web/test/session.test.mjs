// The realtime session against a scripted server (a fake WebSocket fed the golden frames the
// Rust encoder recorded): Hello first, an input every tick with consecutive sequence numbers,
// answers to pings, a resume with the reconnect token after the connection drops, and close
// codes turned into errors a person can read. A spectator (`Session.watch`) sends no input at
// all, acks each snapshot it applied, and does not resume.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

import { Core, Session, SessionError } from '../public/sdk.js';

const web = new URL('../', import.meta.url);
const core = await Core.load(await readFile(new URL('public/tickwire.wasm', web)));
const frames = [];
{
  const bytes = new Uint8Array(await readFile(new URL('golden/arena.frames', web)));
  const view = new DataView(bytes.buffer);
  for (let at = 0; at < bytes.length; ) {
    const len = view.getUint32(at, true);
    frames.push(bytes.slice(at + 4, at + 4 + len));
    at += 4 + len;
  }
}
const WELCOME = frames[0];
const ticket = { ticket: 'tk_scripted', url: 'ws://server.test/v1/realtime', match_id: 'm_golden', expires_in: 30 };
const contains = (bytes, text) => Buffer.from(bytes).includes(Buffer.from(text));

/** A WebSocket the test plays the server of. */
class FakeSocket {
  static all = [];
  constructor(url) {
    this.url = url;
    this.sent = [];
    this.readyState = 0;
    this.waiters = [];
    FakeSocket.all.push(this);
    queueMicrotask(() => {
      this.readyState = 1;
      this.onopen?.();
    });
  }
  send(bytes) {
    this.sent.push(new Uint8Array(bytes));
    this.waiters = this.waiters.filter((w) => !w());
  }
  /** Resolves once `n` messages were sent on this socket. */
  sentAtLeast(n) {
    return new Promise((resolve) => {
      const check = () => (this.sent.length >= n ? (resolve(), true) : false);
      if (!check()) this.waiters.push(check);
    });
  }
  close() {
    this.readyState = 3;
  }
  serve(bytes) {
    this.onmessage({ data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) });
  }
  drop(code, reason = '') {
    this.readyState = 3;
    this.onclose({ code, reason });
  }
}

function nextSocket(after) {
  return new Promise((resolve) => {
    const poll = () => (FakeSocket.all.length > after ? resolve(FakeSocket.all[after]) : setImmediate(poll));
    poll();
  });
}

test('hello, inputs every tick, snapshots, a resume after a drop, and a readable close', async () => {
  FakeSocket.all = [];
  const inputs = [];
  const snapshots = [];
  let resumed = 0;
  let closed;
  const closedOnce = new Promise((resolve) => (closed = resolve));
  const pending = Session.connect(core, 'arena', ticket, {
    input: () => [0, 1, 100],
    onInput: (seq) => inputs.push(seq),
    onSnapshot: (s) => snapshots.push(s.tick),
    onResumed: () => resumed++,
    onClose: (error) => closed(error),
    socket: (url) => new FakeSocket(url),
  });
  const first = await nextSocket(0);
  assert.equal(first.url, ticket.url, 'the URL the ticket names');
  await first.sentAtLeast(1);
  assert.ok(contains(first.sent[0], 'tk_scripted'), 'the first message is the Hello with the ticket');
  first.serve(WELCOME);
  const session = await pending;
  assert.equal(session.welcome.match_id, 'm_golden', 'welcomed');

  for (const frame of frames.slice(1)) first.serve(frame);
  assert.ok(snapshots.length >= 3, `snapshots applied: ${snapshots}`);
  assert.deepEqual(snapshots, [...snapshots].sort((a, b) => a - b), 'in tick order');

  // The tick timer sends inputs (and the first ping goes out at once).
  const before = first.sent.length;
  await first.sentAtLeast(before + 3);
  assert.ok(inputs.length >= 2, `inputs sent: ${inputs}`);
  inputs.forEach((seq, i) => assert.equal(seq, inputs[0] + i, 'consecutive sequence numbers'));

  // The connection drops without a close frame: the session resumes on a new socket.
  first.drop(1006);
  const second = await nextSocket(1);
  await second.sentAtLeast(1);
  assert.ok(contains(second.sent[0], 'm_golden.token'), 'the resume Hello carries the reconnect token');
  assert.ok(!contains(second.sent[0], 'tk_scripted'), 'and not the used ticket');
  second.serve(WELCOME);
  assert.equal(resumed, 1, 'resumed');

  // The server closes for good with a reason: a readable error, no further resume.
  second.drop(4011, 'kicked: spamming');
  const error = await closedOnce;
  assert.ok(error instanceof SessionError, 'an error');
  assert.equal(error.code, 4011);
  assert.equal(error.codeName, 'kicked');
  assert.match(error.message, /removed from the match by an admin: kicked: spamming/);
  assert.equal(FakeSocket.all.length, 2, 'no resume after a kick');
  session.dispose();
});

test('a refused ticket rejects the connect with the close code and the reason', async () => {
  FakeSocket.all = [];
  const pending = Session.connect(core, 'arena', ticket, {
    input: () => [0, 0, 0],
    socket: (url) => new FakeSocket(url),
  });
  const socket = await nextSocket(0);
  await socket.sentAtLeast(1);
  socket.drop(4005, 'the ticket expired');
  await assert.rejects(pending, (e) => {
    assert.ok(e instanceof SessionError);
    assert.equal(e.codeName, 'ticket_expired');
    assert.equal(e.message, 'ticket_expired (4005): the ticket expired');
    return true;
  });
});

test('a Welcome of another game ends the session with an error', async () => {
  FakeSocket.all = [];
  let closed;
  const closedOnce = new Promise((resolve) => (closed = resolve));
  const pending = Session.connect(core, 'cycles', ticket, {
    input: () => [0],
    onClose: (e) => closed(e),
    socket: (url) => new FakeSocket(url),
  });
  const socket = await nextSocket(0);
  await socket.sentAtLeast(1);
  socket.serve(WELCOME);
  const error = await closedOnce;
  assert.match(error.message, /another game/);
  await assert.rejects(pending, /another game/, 'the connect fails with the same error');
});

test('a spectator never sends an input and acks each snapshot it applied', async () => {
  FakeSocket.all = [];
  // What each client message starts with (its variant), from the core's own encoders.
  const reference = core.client('arena');
  const tag = { input: reference.input([0, 0, 0])[0], ack: reference.ack()[0], ping: reference.ping(1, 0)[0] };
  assert.equal(new Set(Object.values(tag)).size, 3, `distinct message tags: ${JSON.stringify(tag)}`);
  const snapshots = [];
  let closed;
  const closedOnce = new Promise((resolve) => (closed = resolve));
  const pending = Session.watch(core, 'arena', ticket, {
    onSnapshot: (s) => snapshots.push(s.tick),
    onClose: (error) => closed(error),
    pingIntervalMs: 20,
    socket: (url) => new FakeSocket(url),
  });
  const socket = await nextSocket(0);
  await socket.sentAtLeast(1);
  assert.ok(contains(socket.sent[0], 'tk_scripted'), 'the Hello carries the spectator ticket');
  socket.serve(WELCOME);
  const session = await pending;
  assert.equal(session.spectating, true);

  // Each snapshot is answered at once with the ack the reference client encodes after it.
  const acks = [];
  for (const frame of frames.slice(1)) {
    const before = socket.sent.length;
    socket.serve(frame);
    reference.receive(frame);
    acks.push(reference.ack());
    const sent = socket.sent.slice(before).filter((m) => m[0] === tag.ack);
    assert.equal(sent.length, 1, `one ack for tick ${reference.tick}`);
    assert.deepEqual(sent[0], acks[acks.length - 1], `the ack names tick ${reference.tick}`);
  }
  assert.deepEqual(snapshots, [1, 2, 3, 4, 6], 'every snapshot applied');
  // Served again, an old frame moves nothing forward: no second ack for the same tick.
  socket.serve(frames[3]);
  assert.equal(socket.sent.filter((m) => m[0] === tag.ack).length, 5, 'no ack for a stale snapshot');

  // Several ping periods (each many ticks at 30 Hz) go by: pings, and still no input.
  const pings = () => socket.sent.filter((m) => m[0] === tag.ping).length;
  const until = pings() + 5;
  while (pings() < until) await socket.sentAtLeast(socket.sent.length + 1);
  assert.equal(socket.sent.filter((m) => m[0] === tag.input).length, 0, 'no input on the wire');
  assert.equal(session.inputsSent, 0, 'none counted');
  assert.equal(session.acksSent, 5, 'an ack per snapshot');

  // A spectator holds no seat: a dropped connection ends the session instead of resuming.
  socket.drop(1006);
  const error = await closedOnce;
  assert.equal(error?.code, 1006, 'the drop is reported');
  assert.equal(FakeSocket.all.length, 1, 'no resume attempt');
  reference.free();
  session.dispose();
});

test('a player counts its inputs and sends no acks', async () => {
  FakeSocket.all = [];
  const reference = core.client('arena');
  const ackTag = reference.ack()[0];
  reference.free();
  const pending = Session.connect(core, 'arena', ticket, {
    input: () => [0, 0, 0],
    socket: (url) => new FakeSocket(url),
  });
  const socket = await nextSocket(0);
  await socket.sentAtLeast(1);
  socket.serve(WELCOME);
  const session = await pending;
  for (const frame of frames.slice(1)) socket.serve(frame);
  await socket.sentAtLeast(socket.sent.length + 3);
  assert.equal(session.spectating, false);
  assert.ok(session.inputsSent >= 1, `inputs counted: ${session.inputsSent}`);
  assert.equal(session.acksSent, 0, 'a player acks with its inputs');
  assert.equal(socket.sent.filter((m) => m[0] === ackTag).length, 0, 'no Ack on the wire');
  session.dispose();
});
