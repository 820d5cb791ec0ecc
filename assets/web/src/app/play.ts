// The play screen, the same for every game and for the three ways to see a match: playing it (a
// session with a join ticket: inputs out every tick, snapshots in), watching it (a spectator's
// session: read-only, a "spectating" badge, a choice of whom to follow) and replaying an ended
// one (its playback stream at 1×, 2×, 4× or 8×, with a pause). Each wires the game's view to its
// source, draws every animation frame, and shows the scoreboard, the match timer, the ping, the
// checksum record and the results.

import {
  REPLAY_SPEEDS,
  ReplayPlayer,
  Session,
  type Api,
  type Core,
  type CoreClient,
  type GameSummary,
  type JoinTicket,
  type MapLayout,
  type PlayerResult,
  type SessionOptions,
  type Welcome,
} from '../sdk/index.js';
import { ArenaView } from './arena-view.js';
import { CyclesView } from './cycles-view.js';
import { el, errorText, show } from './dom.js';
import { rememberMatch } from './recent.js';
import type { GameView, ViewOptions } from './view.js';

/** What the page exposes for tests and the curious (`window.tickwire`). */
export interface PlayState {
  phase: 'connecting' | 'playing' | 'watching' | 'replaying' | 'resuming' | 'ended' | 'error';
  /** Playing the match, watching it live (a read-only seat), or replaying it. */
  mode: 'play' | 'watch' | 'replay';
  game: string;
  matchId: string;
  playerId: number;
  /** The player a spectator follows (0: the whole world). */
  follow: number;
  tick: number;
  snapshots: number;
  checksumsVerified: number;
  desyncs: number;
  rttMs: number | null;
  /** Inputs the session sent (a spectator's stays 0) and acks (a spectator's, one a snapshot). */
  inputsSent: number;
  acksSent: number;
  /** A replay's progress: steps played of its length, the speed, paused, ended. */
  replay: { speed: number; paused: boolean; played: number; length: number; ended: boolean } | null;
  error: string | null;
  results: PlayerResult[] | null;
  view: Record<string, unknown>;
}

type Mode = PlayState['mode'];

/** Plays a match with a join ticket. */
export async function play(root: Element, api: Api, core: Core, game: GameSummary, ticket: JoinTicket, state: PlayState): Promise<void> {
  state.mode = 'play';
  await live(root, api, game, state, ticket.match_id, 0, (options) =>
    Session.connect(core, game.id, ticket, {
      ...options,
      input: () => options.view()?.input() ?? new Array(options.inputLength()).fill(0),
      onInput: (seq, values) => options.view()?.onInput(seq, values),
    }));
}

/** Watches a running match from a read-only seat: the whole world, or `follow`'s view. */
export async function watch(root: Element, api: Api, core: Core, game: GameSummary, matchId: string, follow: number, state: PlayState): Promise<void> {
  state.mode = 'watch';
  state.follow = follow;
  state.matchId = matchId;
  await live(root, api, game, state, matchId, follow, async (options) => {
    const ticket = await api.spectate(matchId, follow ? { follow } : {});
    return Session.watch(core, game.id, ticket, options);
  });
}

/** Replays an ended match (`matchId`) with its own speed control, drawn by its game's view. */
export async function replay(root: Element, api: Api, core: Core, games: GameSummary[], matchId: string, speed: number, state: PlayState): Promise<void> {
  state.mode = 'replay';
  state.matchId = matchId;
  const screen = layout(root, 'replay', 'Back to the lobby');
  screen.phase.textContent = 'loading the replay';
  let player: ReplayPlayer;
  let game: GameSummary;
  let map: MapLayout;
  let view: GameView | null = null;
  try {
    const bytes = await api.replay(matchId);
    player = ReplayPlayer.open(core, bytes, {
      paused: true,
      speed: (REPLAY_SPEEDS as readonly number[]).includes(speed) ? (speed as 1 | 2 | 4 | 8) : 1,
      onSnapshot: (s) => {
        state.snapshots++;
        state.tick = s.tick;
        view?.onSnapshot(s);
      },
      onEnd: (results) => {
        state.results = results;
        progress();
        state.phase = 'ended';
        screen.phase.textContent = 'ended';
        endOverlay(screen, results, game.stats, null, () => {
          screen.overlay.hidden = true;
          restart();
        });
      },
      onError: (e) => fail(screen, state, e.message),
    });
    const welcome = player.welcome;
    const found = games.find((g) => g.id === welcome.game);
    if (!found) throw new Error(`this server no longer serves ${welcome.game}`);
    game = found;
    map = await api.map(game.id, welcome.map);
  } catch (e) {
    fail(screen, state, `Could not load the replay: ${errorText(e)}`);
    return;
  }
  state.game = game.id;
  state.playerId = 0;
  view = makeView(screen.canvas, player.client, game, map, { readOnly: true, focus: 0 });

  const progress = () => {
    state.replay = { speed: player.speed, paused: player.paused, played: player.played, length: player.length, ended: player.ended };
    pause.textContent = player.paused && !player.ended ? 'Play' : 'Pause';
    pause.disabled = player.ended;
    for (const b of speeds) b.classList.toggle('active', Number(b.dataset.speed) === player.speed);
  };
  const pause = el('button', { class: 'pause', onclick: () => { if (player.paused) player.play(); else player.pause(); progress(); } }, 'Pause');
  const speeds = REPLAY_SPEEDS.map((s) => el('button', { class: 'speed', 'data-speed': s, onclick: () => { player.speed = s; progress(); } }, `${s}×`));
  const where = el('span', { class: 'muted' });
  show(screen.controls, pause, ...speeds, where);
  const restart = () => {
    view?.dispose();
    player = player.restart();
    state.snapshots = 0;
    state.results = null;
    view = makeView(screen.canvas, player.client, game, map, { readOnly: true, focus: 0 });
    state.phase = 'replaying';
    screen.phase.textContent = 'replaying';
    player.play();
    progress();
  };
  screen.leave.addEventListener('click', () => (location.href = '/'));

  state.phase = 'replaying';
  screen.phase.textContent = 'replaying';
  player.play();
  progress();
  drawLoop(screen, state, () => view, {
    client: () => player.client,
    welcome: () => player.welcome,
    now: () => {
      player.pump();
      return player.clock();
    },
    rttMs: () => null,
    me: 0,
    frame: () => {
      progress();
      where.textContent = `tick ${player.tick} · ${player.played}/${player.length}`;
    },
  });
}

/** The callbacks a live session gets from the screen, and what the view needs of it. */
type LiveOptions = Omit<SessionOptions, 'input' | 'onInput'> & {
  view: () => GameView | null;
  inputLength: () => number;
};

/** Plays or watches: opens the session with `connect`, then draws it until it ends. */
async function live(root: Element, api: Api, game: GameSummary, state: PlayState, matchId: string, follow: number,
  connect: (options: LiveOptions) => Promise<Session>): Promise<void> {
  const mode = state.mode;
  const screen = layout(root, mode, mode === 'watch' ? 'Stop watching' : 'Leave');
  screen.canvas.focus();
  let view: GameView | null = null;
  let session: Session | null = null;
  let stop = () => undefined as void;
  const running = mode === 'watch' ? 'watching' : 'playing';
  const finish = (error: string | null) => {
    stop();
    if (session) {
      state.inputsSent = session.inputsSent;
      state.acksSent = session.acksSent;
    }
    if (error) fail(screen, state, error);
    else {
      state.phase = 'ended';
      state.error = null;
      screen.phase.textContent = 'ended';
    }
    view?.dispose();
  };

  try {
    session = await connect({
      view: () => view,
      inputLength: () => session?.client.game().input.length ?? 0,
      onSnapshot: (s) => {
        state.snapshots++;
        state.tick = s.tick;
        view?.onSnapshot(s);
      },
      onResuming: (attempt) => {
        state.phase = 'resuming';
        screen.phase.textContent = `resuming (attempt ${attempt})`;
      },
      onResumed: () => {
        state.phase = running;
        screen.phase.textContent = running;
      },
      onEnd: (results) => {
        state.results = results;
        const welcome = session?.welcome;
        rememberMatch({ match_id: matchId, game: game.id, map: welcome?.map ?? '', ended_at: Date.now(), seen: mode === 'watch' ? 'watched' : 'played' });
        endOverlay(screen, results, game.stats, matchId, null);
      },
      onClose: (error) => finish(error ? error.message : null),
    });
  } catch (e) {
    finish(errorText(e));
    return;
  }
  const s = session;
  let map;
  try {
    map = await api.map(game.id, s.welcome?.map ?? game.default_map);
  } catch (e) {
    s.close();
    finish(errorText(e));
    return;
  }
  state.phase = running;
  state.playerId = s.client.playerId;
  state.matchId = matchId;
  screen.phase.textContent = running;
  const options: ViewOptions = mode === 'watch' ? { readOnly: true, focus: follow } : {};
  view = makeView(screen.canvas, s.client, game, map, options);
  screen.keys.textContent = view.keys;
  screen.leave.addEventListener('click', () => {
    s.leave();
    location.href = '/';
  });
  if (mode === 'watch') {
    const base = `/?watch=${encodeURIComponent(matchId)}&game=${encodeURIComponent(game.id)}`;
    show(screen.controls, follow ? el('span', {}, `following ${s.client.playerName(follow) || `#${follow}`} · `) : el('span', {}, 'the whole world · '),
      follow ? el('a', { href: base }, 'watch everything') : el('span', { class: 'muted' }, 'follow a player from the scoreboard'));
  }

  stop = drawLoop(screen, state, () => view, {
    client: () => s.client,
    welcome: () => s.welcome,
    now: () => performance.now(),
    rttMs: () => s.rttMs,
    me: mode === 'watch' ? follow : s.client.playerId,
    frame: () => {
      state.inputsSent = s.inputsSent;
      state.acksSent = s.acksSent;
    },
    follow: mode === 'watch'
      ? (player) => el('a', { href: `/?watch=${encodeURIComponent(matchId)}&game=${encodeURIComponent(game.id)}&follow=${player}` }, 'follow')
      : undefined,
  });
}

/** The screen's parts. */
interface Screen {
  canvas: HTMLCanvasElement;
  overlay: HTMLDivElement;
  phase: HTMLSpanElement;
  timer: HTMLSpanElement;
  ping: HTMLSpanElement;
  sums: HTMLSpanElement;
  desyncs: HTMLSpanElement;
  board: HTMLTableSectionElement;
  keys: HTMLParagraphElement;
  /** What the mode adds: the replay's speed buttons, whom a spectator follows. */
  controls: HTMLDivElement;
  leave: HTMLButtonElement;
}

function layout(root: Element, mode: Mode, leaveLabel: string): Screen {
  const screen: Screen = {
    canvas: el('canvas', { id: 'canvas', width: 960, height: 720, tabindex: 0 }),
    overlay: el('div', { class: 'overlay', hidden: true }),
    phase: el('span', {}, 'connecting'),
    timer: el('span', {}, '–'),
    ping: el('span', {}, '–'),
    sums: el('span', {}, '0'),
    desyncs: el('span', {}, '0'),
    board: el('tbody'),
    keys: el('p', { class: 'keys' }),
    controls: el('div', { class: 'controls' }),
    leave: el('button', {}, leaveLabel),
  };
  const badge = mode === 'watch' ? el('span', { class: 'badge spectating' }, 'spectating')
    : mode === 'replay' ? el('span', { class: 'badge replay' }, 'replay') : null;
  const hud = el('div', { class: 'hud' },
    badge,
    el('div', { class: 'stat' }, 'Status', screen.phase),
    el('div', { class: 'stat' }, 'Time left', screen.timer),
    mode === 'replay' ? null : el('div', { class: 'stat' }, 'Ping', screen.ping),
    el('div', { class: 'stat' }, 'Checksums verified', screen.sums),
    el('div', { class: 'stat' }, 'Desyncs', screen.desyncs),
    screen.controls,
    el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'Player'), el('th', {}, 'Score'), mode === 'watch' ? el('th', {}) : null)), screen.board),
    screen.keys, screen.leave);
  show(root, el('div', { class: `play ${mode}` }, el('div', {}, screen.canvas), hud, screen.overlay));
  return screen;
}

/** What the draw loop reads every frame. */
interface Source {
  client: () => CoreClient;
  welcome: () => Welcome | null;
  /** The time the view draws at: the page's clock live, the match time played in a replay. */
  now: () => number;
  rttMs: () => number | null;
  /** The player drawn as ours on the scoreboard (0: none). */
  me: number;
  /** Called every frame, before the HUD. */
  frame?: () => void;
  /** A spectator's link to follow a player, on its scoreboard row. */
  follow?: (player: number) => Node;
}

/** Draws `view` every animation frame and the HUD four times a second; the stop function. */
function drawLoop(screen: Screen, state: PlayState, view: () => GameView | null, source: Source): () => void {
  let frame = 0;
  let lastHud = 0;
  const draw = (wall: number) => {
    const v = view();
    if (!v) return;
    const client = source.client();
    v.draw(source.now());
    state.view = v.debug();
    state.checksumsVerified = client.checksumsVerified;
    state.desyncs = client.desyncs;
    state.rttMs = source.rttMs();
    source.frame?.();
    if (wall - lastHud > 250) {
      lastHud = wall;
      const welcome = source.welcome();
      if (welcome) {
        const left = Math.max(0, welcome.ticks_remaining - (state.tick - welcome.tick)) / welcome.tick_rate;
        screen.timer.textContent = `${Math.floor(left / 60)}:${String(Math.floor(left % 60)).padStart(2, '0')}`;
      }
      const rtt = source.rttMs();
      screen.ping.textContent = rtt === null ? '–' : `${Math.round(rtt)} ms`;
      screen.sums.textContent = String(client.checksumsVerified);
      screen.desyncs.textContent = String(client.desyncs);
      screen.desyncs.className = client.desyncs > 0 ? 'bad' : '';
      const rows = v.players().sort((a, b) => b.score - a.score);
      show(screen.board, ...rows.map((p) => el('tr', { class: p.id === source.me && p.id !== 0 ? 'me' : '' },
        el('td', {}, `${client.playerName(p.id) || `#${p.id}`}${p.alive ? '' : ' ✝'}`),
        el('td', {}, String(p.score)),
        source.follow ? el('td', {}, p.id === source.me ? 'following' : source.follow(p.id)) : null)));
    }
    frame = requestAnimationFrame(draw);
  };
  frame = requestAnimationFrame(draw);
  return () => cancelAnimationFrame(frame);
}

function makeView(canvas: HTMLCanvasElement, client: CoreClient, game: GameSummary, map: MapLayout, options: ViewOptions): GameView {
  return game.id === 'cycles' ? new CyclesView(canvas, client, game, map, options) : new ArenaView(canvas, client, game, map, options);
}

/** The error state and an overlay saying why. */
function fail(screen: Screen, state: PlayState, error: string): void {
  state.phase = 'error';
  state.error = error;
  screen.phase.textContent = 'error';
  screen.overlay.hidden = false;
  show(screen.overlay, el('div', {}, el('h2', {}, state.mode === 'replay' ? 'Replay failed' : 'Disconnected'),
    el('p', { class: 'error' }, error), el('a', { href: '/' }, 'Back to the lobby')));
}

/** The results, with a way to replay the match (`matchId`) or to play the replay again. */
function endOverlay(screen: Screen, results: PlayerResult[], stats: string[], matchId: string | null, again: (() => void) | null): void {
  screen.overlay.hidden = false;
  show(screen.overlay, el('div', {}, el('h2', {}, 'Match over'), resultsTable(results, stats),
    el('p', { class: 'actions' },
      matchId ? el('button', { class: 'primary watch-replay', onclick: () => (location.href = `/?replay=${encodeURIComponent(matchId)}`) }, 'Watch replay') : null,
      again ? el('button', { class: 'primary replay-again', onclick: again }, 'Play it again') : null,
      ' ', el('a', { href: '/' }, 'Back to the lobby'))));
}

export function resultsTable(results: PlayerResult[], stats: string[]): HTMLTableElement {
  return el('table', { class: 'results' },
    el('thead', {}, el('tr', {}, el('th', {}, 'Player'), el('th', {}, 'Score'), ...stats.map((s) => el('th', {}, s)))),
    el('tbody', {}, ...results.map((r) => el('tr', {},
      el('td', {}, r.username), el('td', {}, String(r.score)), ...stats.map((s) => el('td', {}, String(r.stats[s] ?? 0)))))));
}
