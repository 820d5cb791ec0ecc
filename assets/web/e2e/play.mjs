// Plays a game in headless Chromium against a running server:
//
//   node e2e/play.mjs BASE_URL GAME SCREENSHOT.png
//
// Opens `/?play=guest&game=GAME`, waits to be playing, presses keys and checks on the page that
// the player's own entity moved (in the game state and in the canvas pixels), that other
// players are drawn, and that snapshot checksums were verified with no desync. Prints one JSON
// line with what it saw; exits non-zero on any failure. Used by `tests/tests/browser.rs`.
import { chromium } from 'playwright-core';

const [base, game, screenshot] = process.argv.slice(2);
if (!base || !game || !screenshot) {
  console.error('usage: node e2e/play.mjs BASE_URL GAME SCREENSHOT.png');
  process.exit(2);
}
const PATIENCE = 60_000;
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';

const browser = await chromium.launch({
  executablePath: chromiumPath,
  // Root in CI: Chromium's sandbox needs user namespaces it may not have there.
  args: ['--no-sandbox', '--ignore-certificate-errors'],
});
const seen = { game, console: [], requests: new Set() };
try {
  const page = await browser.newPage({ viewport: { width: 1300, height: 850 } });
  // A 404 for "you have no record on this board yet" is an answer, not a fault of the page.
  page.on('console', (m) => {
    if (m.type() === 'error' && !(seen.boards && m.text().includes('404'))) seen.console.push(m.text());
  });
  page.on('pageerror', (e) => seen.console.push(String(e)));
  page.on('request', (r) => seen.requests.add(new URL(r.url()).origin));
  // The realtime socket must go back to the same host (ws or wss).
  page.on('websocket', (w) => seen.requests.add(new URL(w.url()).origin.replace(/^ws/, 'http')));
  await page.goto(`${base}/?play=guest&game=${game}`);

  const state = () => page.evaluate(() => JSON.parse(JSON.stringify(window.tickwire)));
  const until = async (what, predicate, arg) => {
    try {
      await page.waitForFunction(predicate, arg, { timeout: PATIENCE, polling: 50 });
    } catch (e) {
      throw new Error(`${what}: not seen within ${PATIENCE} ms; page state: ${JSON.stringify(await state())}`, { cause: e });
    }
  };
  await until('playing, with our player on screen',
    () => window.tickwire.phase === 'playing' && window.tickwire.view.me && window.tickwire.view.meOnScreen);
  if ((await state()).game !== game) throw new Error(`playing ${(await state()).game}, not ${game}`);

  const before = (await state()).view;
  // Keys must move our player. Bots shoot, so the player may die (and respawn elsewhere) while
  // a key is held: measure from where it stands while alive, starting over after a death.
  const moves = (axis) => page.waitForFunction((axis) => {
    const me = window.tickwire.view.me;
    const w = window;
    if (!me) {
      w.__from = null;
      return false;
    }
    if (w.__from == null) w.__from = me[axis];
    return me[axis] > w.__from + 30;
  }, axis, { timeout: PATIENCE, polling: 50 });
  if (game === 'arena') {
    await page.keyboard.down('d');
    await moves('x');
    await page.keyboard.up('d');
    await page.evaluate(() => (window.__from = null));
    await page.keyboard.down('s');
    await moves('y');
    await page.keyboard.up('s');
    // Aim at the middle of the canvas and fire a few shots.
    const canvas = await page.locator('canvas').boundingBox();
    await page.mouse.move(canvas.x + canvas.width / 2, canvas.y + canvas.height / 2);
    await page.mouse.down();
    await until('a few snapshots later', (t) => window.tickwire.tick > t + 10, (await state()).tick);
    await page.mouse.up();
    await until('the bots\' players drawn', () => window.tickwire.view.drawn.otherPlayers >= 1);
  } else {
    // Turn right with E: the cycle's heading must follow. A crash in between (a respawn with
    // another heading) spoils an attempt; a few are allowed.
    for (let attempt = 1; ; attempt++) {
      await until('riding', () => window.tickwire.view.me?.alive === true);
      const h0 = await page.evaluate(() => window.tickwire.view.heading);
      await page.keyboard.press('e');
      try {
        await page.waitForFunction((h) => window.tickwire.view.heading === (h + 1) % 4, h0, { timeout: 15_000, polling: 20 });
        break;
      } catch (e) {
        if (attempt >= 4) throw new Error(`the cycle did not turn right from heading ${h0}: ${JSON.stringify(await state())}`, { cause: e });
      }
    }
    await until('trails drawn', () => window.tickwire.view.drawn.trails >= 5);
    await until('the bots\' cycles drawn', () => window.tickwire.view.drawn.otherCycles >= 1);
  }
  await until('checksums verified on the page', () => window.tickwire.checksumsVerified >= 3);

  // Our player on the canvas: the pixels around where the page draws it are ours (green). Read
  // in one go with the position, and waited for, since a dead player is not drawn as ours.
  let pixels = 0;
  try {
    const found = await page.waitForFunction(() => {
      const at = window.tickwire.view.meOnScreen;
      if (!at) return false;
      const ctx = document.querySelector('canvas').getContext('2d');
      const data = ctx.getImageData(Math.round(at.x) - 2, Math.round(at.y) - 2, 5, 5).data;
      let ours = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (Math.abs(data[i] - 76) < 40 && Math.abs(data[i + 1] - 195) < 40 && Math.abs(data[i + 2] - 138) < 40) ours++;
      }
      return ours >= 5 ? ours : false;
    }, null, { timeout: PATIENCE, polling: 50 });
    pixels = await found.jsonValue();
  } catch {
    pixels = 0;
  }
  const after = await state();
  await page.screenshot({ path: screenshot });

  // With the admin key, end the match from the page: the results must be shown.
  let results = null;
  const key = process.env.TICKWIRE_ADMIN_KEY;
  if (key) {
    const status = await page.evaluate(async ([id, key]) => {
      const r = await fetch(`/v1/admin/matches/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${key}` } });
      return r.status;
    }, [after.matchId, key]);
    if (status >= 300) throw new Error(`ending the match: HTTP ${status}`);
    await until('the results shown', () => (window.tickwire.results?.length ?? 0) > 0 && !document.querySelector('.overlay').hidden);
    results = (await state()).results;
    if (!results.some((r) => r.player_id === after.playerId)) throw new Error(`we are not in the results: ${JSON.stringify(results)}`);
    await page.screenshot({ path: screenshot.replace(/\.png$/, '-results.png') });

    // The leaderboards page lists every board the API does, with a page of records.
    const boards = await page.evaluate(async () => (await (await fetch('/v1/leaderboards')).json()).leaderboards.length);
    seen.boards = true;
    await page.goto(`${base}/?page=leaderboards`);
    // The top of the first board as a table, and where we stand (a table, or why not).
    await until('the leaderboards listed', (n) => {
      const sections = document.querySelectorAll('section');
      return document.querySelectorAll('select option').length === n && sections.length === 2
        && sections[0].querySelector('table') && sections[1].querySelector('table, p');
    }, boards);
  }
  const result = {
    game,
    player: after.playerId,
    moved: game === 'arena' ? { from: before.me, to: after.view.me } : { heading: after.view.heading },
    drawn: after.view.drawn,
    ourPixels: pixels,
    snapshots: after.snapshots,
    checksumsVerified: after.checksumsVerified,
    desyncs: after.desyncs,
    rttMs: after.rttMs,
    results,
    origins: [...seen.requests],
    errors: seen.console,
  };
  console.log(JSON.stringify(result));
  const problems = [];
  if (after.desyncs !== 0) problems.push(`${after.desyncs} desyncs`);
  if (pixels < 5) problems.push(`our player is not drawn where the page says (${pixels} of 25 pixels)`);
  if (after.phase !== 'playing') problems.push(`phase ${after.phase}: ${after.error}`);
  const foreign = [...seen.requests].filter((o) => o !== new URL(base).origin);
  if (foreign.length) problems.push(`requests beyond the server: ${foreign}`);
  if (seen.console.length) problems.push(`page errors: ${seen.console.join('; ')}`);
  if (problems.length) throw new Error(problems.join('; '));
} finally {
  await browser.close();
}
