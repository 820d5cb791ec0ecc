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
  page.on('console', (m) => { if (m.type() === 'error') seen.console.push(m.text()); });
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
  if (game === 'arena') {
    // Walk right then down; the predicted position must follow the keys.
    await page.keyboard.down('d');
    await until('moved east', (x0) => window.tickwire.view.me && window.tickwire.view.me.x > x0 + 30, before.me.x);
    await page.keyboard.up('d');
    const mid = (await state()).view.me;
    await page.keyboard.down('s');
    await until('moved south', (y0) => window.tickwire.view.me && window.tickwire.view.me.y > y0 + 30, mid.y);
    await page.keyboard.up('s');
    // Aim at the middle of the canvas and fire a few shots.
    const canvas = await page.locator('canvas').boundingBox();
    await page.mouse.move(canvas.x + canvas.width / 2, canvas.y + canvas.height / 2);
    await page.mouse.down();
    await until('a few snapshots later', (t) => window.tickwire.tick > t + 10, (await state()).tick);
    await page.mouse.up();
    await until('the bots\' players drawn', () => window.tickwire.view.drawn.otherPlayers >= 1);
  } else {
    // Turn with Q and E: the cycle's heading must follow.
    const h0 = before.heading;
    await page.keyboard.press('e');
    await until('turned right', (h) => window.tickwire.view.heading === (h + 1) % 4, h0);
    await page.keyboard.press('q');
    await until('turned back left', (h) => window.tickwire.view.heading === h, h0);
    await until('trails drawn', () => window.tickwire.view.drawn.trails >= 5);
    await until('the bots\' cycles drawn', () => window.tickwire.view.drawn.otherCycles >= 1);
  }
  await until('checksums verified on the page', () => window.tickwire.checksumsVerified >= 3);

  // Our player on the canvas: the pixels around where it is drawn are ours (green).
  await page.waitForTimeout(0);
  const pixels = await page.evaluate(() => {
    const { x, y } = window.tickwire.view.meOnScreen;
    const ctx = document.querySelector('canvas').getContext('2d');
    const data = ctx.getImageData(Math.round(x) - 2, Math.round(y) - 2, 5, 5).data;
    let ours = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (Math.abs(data[i] - 76) < 40 && Math.abs(data[i + 1] - 195) < 40 && Math.abs(data[i + 2] - 138) < 40) ours++;
    }
    return ours;
  });
  const after = await state();
  await page.screenshot({ path: screenshot });
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
