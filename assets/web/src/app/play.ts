// The play screen, the same for every game: opens the session with a join ticket, wires the
// game's view to it (inputs out every tick, snapshots in), draws every animation frame, and
// shows the scoreboard, the match timer, the ping, the checksum record and the results.

import { Session, type Api, type Core, type GameSummary, type JoinTicket, type PlayerResult } from '../sdk/index.js';
import { ArenaView } from './arena-view.js';
import { CyclesView } from './cycles-view.js';
import { el, errorText, show } from './dom.js';
import type { GameView } from './view.js';

/** What the page exposes for tests and the curious (`window.tickwire`). */
export interface PlayState {
  phase: 'connecting' | 'playing' | 'resuming' | 'ended' | 'error';
  game: string;
  matchId: string;
  playerId: number;
  tick: number;
  snapshots: number;
  checksumsVerified: number;
  desyncs: number;
  rttMs: number | null;
  error: string | null;
  results: PlayerResult[] | null;
  view: Record<string, unknown>;
}

export async function play(root: Element, api: Api, core: Core, game: GameSummary, ticket: JoinTicket, state: PlayState): Promise<void> {
  const canvas = el('canvas', { id: 'canvas', width: 960, height: 720, tabindex: 0 });
  const board = el('tbody');
  const timer = el('span', {}, '–');
  const ping = el('span', {}, '–');
  const sums = el('span', {}, '0');
  const desyncs = el('span', {}, '0');
  const phase = el('span', {}, 'connecting');
  const overlay = el('div', { class: 'overlay', hidden: true });
  const keys = el('p', { class: 'keys' });
  const leave = el('button', {}, 'Leave');
  const hud = el('div', { class: 'hud' },
    el('div', { class: 'stat' }, 'Status', phase),
    el('div', { class: 'stat' }, 'Time left', timer),
    el('div', { class: 'stat' }, 'Ping', ping),
    el('div', { class: 'stat' }, 'Checksums verified', sums),
    el('div', { class: 'stat' }, 'Desyncs', desyncs),
    el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'Player'), el('th', {}, 'Score'))), board),
    keys, leave);
  show(root, el('div', { class: 'play' }, el('div', {}, canvas), hud, overlay));
  canvas.focus();

  let view: GameView | null = null;
  let session: Session | null = null;
  let frame = 0;
  const finish = (error: string | null) => {
    cancelAnimationFrame(frame);
    state.phase = error ? 'error' : 'ended';
    state.error = error;
    phase.textContent = state.phase;
    if (error) {
      overlay.hidden = false;
      show(overlay, el('div', {}, el('h2', {}, 'Disconnected'), el('p', { class: 'error' }, error), el('a', { href: '/' }, 'Back to the lobby')));
    }
    view?.dispose();
  };

  try {
    session = await Session.connect(core, game.id, ticket, {
      input: () => view?.input() ?? new Array(session?.client.game().input.length ?? 0).fill(0),
      onInput: (seq, values) => view?.onInput(seq, values),
      onSnapshot: (s) => {
        state.snapshots++;
        state.tick = s.tick;
        view?.onSnapshot(s);
      },
      onResuming: (attempt) => {
        state.phase = 'resuming';
        phase.textContent = `resuming (attempt ${attempt})`;
      },
      onResumed: () => {
        state.phase = 'playing';
        phase.textContent = 'playing';
      },
      onEnd: (results) => {
        state.results = results;
        overlay.hidden = false;
        show(overlay, el('div', {}, el('h2', {}, 'Match over'), resultsTable(results, game.stats), el('a', { href: '/' }, 'Back to the lobby')));
      },
      onClose: (error) => finish(error ? error.message : null),
    });
  } catch (e) {
    finish(errorText(e));
    return;
  }
  const s = session;
  const welcome = s.welcome;
  let map;
  try {
    map = await api.map(game.id, welcome?.map ?? game.default_map);
  } catch (e) {
    s.close();
    finish(errorText(e));
    return;
  }
  state.phase = 'playing';
  state.playerId = s.client.playerId;
  state.matchId = ticket.match_id;
  phase.textContent = 'playing';
  view = game.id === 'cycles' ? new CyclesView(canvas, s.client, game, map) : new ArenaView(canvas, s.client, game, map);
  keys.textContent = view.keys;
  leave.addEventListener('click', () => {
    s.leave();
    location.href = '/';
  });

  let lastHud = 0;
  const draw = (now: number) => {
    if (!view) return;
    view.draw(now);
    state.view = view.debug();
    state.checksumsVerified = s.checksumsVerified;
    state.desyncs = s.desyncs;
    state.rttMs = s.rttMs;
    if (now - lastHud > 250) {
      lastHud = now;
      if (welcome) {
        const left = Math.max(0, welcome.ticks_remaining - (state.tick - welcome.tick)) / welcome.tick_rate;
        timer.textContent = `${Math.floor(left / 60)}:${String(Math.floor(left % 60)).padStart(2, '0')}`;
      }
      ping.textContent = s.rttMs === null ? '–' : `${Math.round(s.rttMs)} ms`;
      sums.textContent = String(s.checksumsVerified);
      desyncs.textContent = String(s.desyncs);
      desyncs.className = s.desyncs > 0 ? 'bad' : '';
      const rows = view.players().sort((a, b) => b.score - a.score);
      show(board, ...rows.map((p) => el('tr', { class: p.id === s.client.playerId ? 'me' : '' },
        el('td', {}, `${s.client.playerName(p.id) || `#${p.id}`}${p.alive ? '' : ' ✝'}`),
        el('td', {}, String(p.score)))));
    }
    frame = requestAnimationFrame(draw);
  };
  frame = requestAnimationFrame(draw);
}

export function resultsTable(results: PlayerResult[], stats: string[]): HTMLTableElement {
  return el('table', { class: 'results' },
    el('thead', {}, el('tr', {}, el('th', {}, 'Player'), el('th', {}, 'Score'), ...stats.map((s) => el('th', {}, s)))),
    el('tbody', {}, ...results.map((r) => el('tr', {},
      el('td', {}, r.username), el('td', {}, String(r.score)), ...stats.map((s) => el('td', {}, String(r.stats[s] ?? 0)))))));
}
