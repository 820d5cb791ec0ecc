// Watches a running match in headless Chromium, then replays it:
//
//   TICKWIRE_ADMIN_KEY=... node e2e/watch.mjs BASE_URL GAME SCREENSHOT.png
//
// Signs in as a guest on `/`, clicks "Watch" on a running match of GAME in the match list (bots
// are playing it), and checks on the page that it spectates: a "spectating" badge, entities
// drawn, snapshots applied with checksums verified and no desync, and no input sent: the
// session's own counters say none, and neither do the frames Chromium saw go out (told apart
// by the message tags the SDK's wasm core encodes). Then it follows one player from the
// scoreboard (that player's view, drawn as ours). With the admin key it then ends the match,
// sees the results, clicks "Watch replay", plays the replay at 8× to its end and checks that it
// drew entities, verified every snapshot's checksum without a desync, played faster than 1×
// would, and ended with the results of the match it watched. Prints one JSON line with what it
// saw; exits non-zero on any failure. Used by `tests/tests/browser.rs`.
import { readFile } from 'node:fs/promises';

import { chromium } from 'playwright-core';

import { Core } from '../public/sdk.js';

const [base, game, screenshot] = process.argv.slice(2);
if (!base || !game || !screenshot) {
  console.error('usage: node e2e/watch.mjs BASE_URL GAME SCREENSHOT.png');
  process.exit(2);
}
const PATIENCE = 60_000;
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';

// What each client message starts with (its variant), from the very core the page runs.
const core = await Core.load(await readFile(new URL('../public/tickwire.wasm', import.meta.url)));
const probe = core.client(game);
const TAG = {
  input: probe.input(probe.game().input.map((f) => f.min))?.[0],
  ack: probe.ack()[0],
};
probe.free();
if (TAG.input === undefined || TAG.input === TAG.ack) throw new Error(`message tags: ${JSON.stringify(TAG)}`);

const browser = await chromium.launch({
  executablePath: chromiumPath,
  args: ['--no-sandbox', '--ignore-certificate-errors'],
});
const seen = { game, console: [], wire: { inputs: 0, acks: 0, sockets: 0 } };
try {
  const page = await browser.newPage({ viewport: { width: 1300, height: 850 } });
  page.on('console', (m) => {
    if (m.type() === 'error') seen.console.push(m.text());
  });
  page.on('pageerror', (e) => seen.console.push(String(e)));
  page.on('websocket', (ws) => {
    seen.wire.sockets++;
    ws.on('framesent', (f) => {
      if (typeof f.payload === 'string' || f.payload.length === 0) return;
      if (f.payload[0] === TAG.input) seen.wire.inputs++;
      if (f.payload[0] === TAG.ack) seen.wire.acks++;
    });
  });

  const state = () => page.evaluate(() => JSON.parse(JSON.stringify(window.tickwire)));
  const until = async (what, predicate, arg, timeout = PATIENCE) => {
    try {
      await page.waitForFunction(predicate, arg, { timeout, polling: 50 });
    } catch (e) {
      throw new Error(`${what}: not seen within ${timeout} ms; page state: ${JSON.stringify(await state())}`, { cause: e });
    }
  };

  // Sign in as a guest from the lobby, then watch the bots' match from the match list (it
  // refreshes itself while the match starts).
  await page.goto(`${base}/`);
  await page.getByRole('button', { name: 'Play as guest' }).click();
  await page.waitForSelector('button:has-text("Sign out")', { timeout: PATIENCE });
  // The bots may have started more than one match: watch the fullest.
  const running = `tr[data-game="${game}"][data-state="running"]`;
  await page.locator(`${running} button.watch`).first().waitFor({ timeout: PATIENCE });
  const matchId = await page.evaluate((running) => {
    const rows = [...document.querySelectorAll(running)];
    rows.sort((a, b) => Number(b.dataset.players) - Number(a.dataset.players));
    return rows[0].dataset.match;
  }, running);
  await page.screenshot({ path: screenshot.replace(/\.png$/, '-lobby.png') });
  await Promise.all([page.waitForURL(/[?&]watch=/), page.locator(`tr[data-match="${matchId}"] button.watch`).click()]);

  await until('watching', () => window.tickwire?.phase === 'watching' && window.tickwire?.mode === 'watch');
  const drawnKey = game === 'cycles' ? 'cycles' : 'players';
  await until('entities drawn, checksums verified', (key) =>
    window.tickwire?.snapshots >= 90 && window.tickwire?.checksumsVerified >= 3 && (window.tickwire?.view.drawn?.[key] ?? 0) >= 1, drawnKey);
  const badge = await page.locator('.badge.spectating').isVisible();
  const watched = await state();
  await page.screenshot({ path: screenshot });
  if (watched.matchId !== matchId) throw new Error(`watching ${watched.matchId}, not ${matchId}`);

  const result = {
    game,
    matchId,
    watch: {
      badge,
      playerId: watched.playerId,
      snapshots: watched.snapshots,
      checksumsVerified: watched.checksumsVerified,
      desyncs: watched.desyncs,
      drawn: watched.view.drawn,
      inputsSent: watched.inputsSent,
      acksSent: watched.acksSent,
      wire: { ...seen.wire },
    },
    follow: null,
    results: null,
    replay: null,
    errors: seen.console,
  };
  const problems = [];
  const w = result.watch;
  if (!badge) problems.push('no "spectating" badge');
  if (w.playerId !== 0) problems.push(`a spectator is player 0, not ${w.playerId}`);
  if (w.desyncs !== 0) problems.push(`${w.desyncs} desyncs while watching`);
  if (w.inputsSent !== 0 || w.wire.inputs !== 0) problems.push(`inputs sent while watching: ${w.inputsSent} counted, ${w.wire.inputs} on the wire`);
  // One ack a snapshot (a few may be in flight between the counters and the frames seen).
  if (w.acksSent < w.snapshots / 2 || w.wire.acks < w.snapshots / 2) problems.push(`acks: ${w.acksSent} counted, ${w.wire.acks} on the wire, for ${w.snapshots} snapshots`);

  // Follow one player from the scoreboard: a new spectator seat with that player's view, the
  // player drawn as ours.
  await Promise.all([page.waitForURL(/[?&]follow=/), page.locator('.hud tbody a', { hasText: 'follow' }).first().click()]);
  await until('following a player', () => window.tickwire?.phase === 'watching' && window.tickwire?.follow > 0
    && window.tickwire?.snapshots >= 30 && window.tickwire?.view.meOnScreen !== null);
  const following = await state();
  result.follow = { player: following.follow, snapshots: following.snapshots, desyncs: following.desyncs, inputsSent: following.inputsSent };
  if (following.matchId !== matchId) problems.push(`following in ${following.matchId}, not ${matchId}`);
  if (following.desyncs !== 0) problems.push(`${following.desyncs} desyncs while following`);

  const key = process.env.TICKWIRE_ADMIN_KEY;
  if (key) {
    // End the match: the spectator gets the results, and the match's replay is stored.
    const status = await page.evaluate(async ([id, key]) => {
      const r = await fetch(`/v1/admin/matches/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${key}` } });
      return r.status;
    }, [matchId, key]);
    if (status >= 300) throw new Error(`ending the match: HTTP ${status}`);
    await until('the results shown to the spectator', () => (window.tickwire?.results?.length ?? 0) > 0 && !document.querySelector('.overlay').hidden);
    const live = (await state()).results;
    result.results = live;
    const sent = (await state()).inputsSent;
    if (sent !== 0 || seen.wire.inputs !== 0) problems.push(`inputs sent by the end: ${sent} counted, ${seen.wire.inputs} on the wire`);

    // The end screen offers the replay of the match just watched.
    await Promise.all([page.waitForURL(/[?&]replay=/), page.locator('button.watch-replay').click()]);
    await until('replaying', () => window.tickwire?.mode === 'replay' && window.tickwire?.phase === 'replaying' && window.tickwire?.replay !== null);
    await until('the replay drawing entities', (key) => (window.tickwire?.view.drawn?.[key] ?? 0) >= 1, drawnKey);
    await page.locator('button.speed[data-speed="8"]').click();
    await until('8×', () => window.tickwire?.replay?.speed === 8 && !window.tickwire?.replay?.paused);
    const from = await state();
    const tickRate = await page.evaluate(async (game) => (await (await fetch('/v1/games')).json()).games.find((g) => g.id === game).tick_rate, game);
    const started = Date.now();
    // Generous: at 8× a three-minute match takes under half a minute.
    await until('the replay played to its end', () => window.tickwire?.replay?.ended && window.tickwire?.phase === 'ended', undefined, 180_000);
    const wallMs = Date.now() - started;
    const end = await state();
    await page.screenshot({ path: screenshot.replace(/\.png$/, '-replay.png') });
    const ticks = end.tick - from.tick;
    result.replay = {
      length: end.replay.length,
      played: end.replay.played,
      speed: end.replay.speed,
      snapshots: end.snapshots,
      checksumsVerified: end.checksumsVerified,
      desyncs: end.desyncs,
      ticksAt8x: ticks,
      wallMs,
      // What 1× would have taken for the same ticks.
      realTimeMs: Math.round((ticks * 1000) / tickRate),
      drawn: end.view.drawn,
      results: end.results,
    };
    const r = result.replay;
    if (r.played !== r.length) problems.push(`the replay stopped at ${r.played} of ${r.length}`);
    if (r.snapshots < 30) problems.push(`only ${r.snapshots} snapshots replayed`);
    if (r.desyncs !== 0) problems.push(`${r.desyncs} desyncs in the replay`);
    if (r.checksumsVerified < r.snapshots) problems.push(`${r.checksumsVerified} checksums verified for ${r.snapshots} snapshots`);
    if (ticks > 60 && wallMs > r.realTimeMs / 2) problems.push(`8× took ${wallMs} ms for ${ticks} ticks (${r.realTimeMs} ms at 1×)`);
    const names = (rs) => (rs ?? []).map((x) => `${x.player_id}:${x.username}`).sort();
    if (JSON.stringify(names(r.results)) !== JSON.stringify(names(live))) {
      problems.push(`the replay's results name other players: ${JSON.stringify(names(r.results))} vs ${JSON.stringify(names(live))}`);
    }
    r.scoresMatch = JSON.stringify((r.results ?? []).map((x) => [x.player_id, x.score]).sort())
      === JSON.stringify((live ?? []).map((x) => [x.player_id, x.score]).sort());

    // The lobby lists the match this browser watched to its end, to replay it again.
    await page.goto(`${base}/`);
    const listed = page.locator(`section tr[data-match="${matchId}"] a`, { hasText: 'Replay' });
    result.listedForReplay = await listed.waitFor({ timeout: PATIENCE }).then(() => true, () => false);
    if (!result.listedForReplay) problems.push('the lobby does not list the watched match under Replays');
  }
  console.log(JSON.stringify(result));
  if (seen.console.length) problems.push(`page errors: ${seen.console.join('; ')}`);
  if (problems.length) throw new Error(problems.join('; '));
} finally {
  await browser.close();
}
