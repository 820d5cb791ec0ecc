// Tickwire's browser client: sign in (as a guest or with an account), pick a game, join or
// quick-join a match and play it, watch a running match, replay an ended one, and browse the
// leaderboards. Built on the SDK only, and it talks to nothing but the server that served it.
//
// `/?play=guest` signs in as a guest and quick-joins the default game at once;
// `/?play=guest&game=cycles` does the same for light cycles; `/?watch=MATCH&game=GAME` watches a
// running match (`&follow=PLAYER`: that player's view); `/?replay=MATCH` replays an ended one
// (`&speed=8` to start at 8×); `/?page=leaderboards` shows the boards.

import { Api, Core, type GameSummary, type JoinTicket, type Tokens, type TokenStore } from '../sdk/index.js';
import { el, errorText, show } from './dom.js';
import { leaderboards } from './leaderboards.js';
import { play, replay, watch, type PlayState } from './play.js';
import { recentMatches } from './recent.js';

class LocalStore implements TokenStore {
  load(): Tokens | null {
    try {
      return JSON.parse(localStorage.getItem('tickwire.tokens') ?? 'null') as Tokens | null;
    } catch {
      return null;
    }
  }
  save(tokens: Tokens | null): void {
    if (tokens) localStorage.setItem('tickwire.tokens', JSON.stringify(tokens));
    else localStorage.removeItem('tickwire.tokens');
  }
}

function deviceId(): string {
  let id = localStorage.getItem('tickwire.device');
  if (!id) {
    id = `web-${crypto.randomUUID()}`;
    localStorage.setItem('tickwire.device', id);
  }
  return id;
}

const state: PlayState = {
  phase: 'connecting',
  mode: 'play',
  game: '',
  matchId: '',
  playerId: 0,
  follow: 0,
  tick: 0,
  snapshots: 0,
  checksumsVerified: 0,
  desyncs: 0,
  rttMs: null,
  inputsSent: 0,
  acksSent: 0,
  replay: null,
  error: null,
  results: null,
  view: {},
};
(window as unknown as { tickwire: PlayState }).tickwire = state;

const api = new Api(location.origin, new LocalStore());
const main = document.getElementById('main')!;
const account = document.getElementById('account')!;

async function renderAccount(): Promise<void> {
  if (!api.signedIn) {
    const user = el('input', { placeholder: 'username', autocomplete: 'username', required: true });
    const pass = el('input', { type: 'password', placeholder: 'password', autocomplete: 'current-password', required: true });
    const message = el('span', { class: 'error' });
    const form = el('form', { class: 'inline' }, user, pass, el('button', { type: 'submit' }, 'Log in'),
      el('button', { type: 'button', onclick: () => void guest() }, 'Play as guest'), message);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      api.login(user.value, pass.value).then(() => location.reload(), (err) => (message.textContent = errorText(err)));
    });
    show(account, form);
    return;
  }
  try {
    const me = await api.me();
    show(account, el('span', {}, `${me.username}${me.guest ? ' (guest)' : ''} `),
      el('button', { onclick: () => { api.signOut(); location.reload(); } }, 'Sign out'));
  } catch {
    api.signOut();
    show(account, el('span', { class: 'muted' }, 'session expired'));
  }
}

async function guest(): Promise<void> {
  await api.guest(deviceId());
  location.reload();
}

/** How often the lobby reloads the match list while it is shown (ms). */
const LIST_REFRESH_MS = 3000;

async function lobby(games: GameSummary[], core: Core): Promise<void> {
  const playable = games.filter((g) => core.games().includes(g.id));
  const matches = el('tbody');
  const gamesSection = el('section', {}, el('h2', {}, 'Games'),
    el('div', { class: 'games' }, ...playable.map((g) => {
      const mapSelect = el('select', {}, ...g.maps.map((m) => el('option', { value: m.name, selected: m.name === g.default_map }, `${m.name} (${m.seats} seats)`)));
      return el('div', { class: 'game' },
        el('strong', {}, g.id),
        el('span', { class: 'muted' }, `${g.tick_rate} Hz · stats: ${g.stats.join(', ')}`),
        mapSelect,
        el('div', {},
          el('button', { class: 'primary', onclick: () => void start(g, core, () => api.quickJoin({ game: g.id, map: mapSelect.value })) }, 'Quick join'), ' ',
          el('button', { onclick: () => void start(g, core, async () => api.join((await api.createMatch({ game: g.id, map: mapSelect.value })).match_id)) }, 'New match')));
    })));
  const matchSection = el('section', {}, el('h2', {}, 'Open matches'),
    el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'Game'), el('th', {}, 'Map'), el('th', {}, 'Players'), el('th', {}, 'State'), el('th', {}))), matches));
  show(main, api.signedIn ? null : el('p', { class: 'muted' }, 'Sign in or play as a guest to join or watch a match.'), gamesSection, matchSection, replaySection());
  if (!api.signedIn) return;
  const list = async () => {
    try {
      const list = await api.matches();
      show(matches, ...list.map((m) => {
        const g = playable.find((x) => x.id === m.game);
        const join = g && m.players < m.capacity ? el('button', { class: 'join', onclick: () => void start(g, core, () => api.join(m.match_id)) }, 'Join') : null;
        // Only a running match can be watched (an open one has not started: nothing to see yet).
        const watching = g && m.state === 'running' ? el('button', { class: 'watch', onclick: () => (location.href = watchUrl(m.match_id, m.game)) }, 'Watch') : null;
        return el('tr', { 'data-match': m.match_id, 'data-game': m.game, 'data-state': m.state, 'data-players': m.players },
          el('td', {}, m.game), el('td', {}, m.map), el('td', {}, `${m.players}/${m.capacity}`), el('td', {}, m.state),
          el('td', {}, join, join && watching ? ' ' : null, watching));
      }));
      if (list.length === 0) show(matches, el('tr', {}, el('td', { colspan: 5, class: 'muted' }, 'No open matches: quick join starts one.')));
    } catch (e) {
      show(matches, el('tr', {}, el('td', { colspan: 5, class: 'error' }, errorText(e))));
    }
  };
  await list();
  // Matches start and end while the lobby is open: keep the list fresh until the page moves on.
  const timer = setInterval(() => {
    if (!matches.isConnected) clearInterval(timer);
    else void list();
  }, LIST_REFRESH_MS);
}

/** Replays: the matches this browser saw end, and any match by its id. */
function replaySection(): HTMLElement {
  const recent = recentMatches();
  const id = el('input', { placeholder: 'match id', size: 28, class: 'replay-id' });
  const form = el('form', { class: 'inline' }, id, el('button', { type: 'submit' }, 'Watch replay'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const matchId = id.value.trim();
    if (matchId) location.href = `/?replay=${encodeURIComponent(matchId)}`;
  });
  return el('section', {}, el('h2', {}, 'Replays'),
    recent.length === 0 ? el('p', { class: 'muted' }, 'Matches you play or watch to the end are listed here to replay.')
      : el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'Game'), el('th', {}, 'Map'), el('th', {}, 'Ended'), el('th', {}))),
        el('tbody', {}, ...recent.map((m) => el('tr', { 'data-match': m.match_id },
          el('td', {}, m.game), el('td', {}, m.map), el('td', {}, `${new Date(m.ended_at).toLocaleString()} (${m.seen})`),
          el('td', {}, el('a', { href: `/?replay=${encodeURIComponent(m.match_id)}` }, 'Replay')))))),
    form);
}

function watchUrl(matchId: string, game: string, follow?: number): string {
  return `/?watch=${encodeURIComponent(matchId)}&game=${encodeURIComponent(game)}${follow ? `&follow=${follow}` : ''}`;
}

async function start(game: GameSummary, core: Core, ticket: () => Promise<JoinTicket>): Promise<void> {
  state.game = game.id;
  try {
    if (!api.signedIn) await api.guest(deviceId());
    void renderAccount();
    await play(main, api, core, game, await ticket(), state);
  } catch (e) {
    state.phase = 'error';
    state.error = errorText(e);
    show(main, el('p', { class: 'error' }, `Could not join: ${errorText(e)}`), el('a', { href: '/' }, 'Back'));
  }
}

/** Watches match `matchId` of `gameId` (looked up in the match list if not given). */
async function watching(matchId: string, gameId: string | null, follow: number, games: GameSummary[], core: Core): Promise<void> {
  state.mode = 'watch';
  try {
    if (!api.signedIn) await api.guest(deviceId());
    void renderAccount();
    const id = gameId ?? (await api.matches()).find((m) => m.match_id === matchId)?.game;
    const game = games.find((g) => g.id === id && core.games().includes(g.id));
    if (!game) throw new Error(id ? `this client cannot draw ${id}` : 'the match is not in the list of running matches');
    state.game = game.id;
    await watch(main, api, core, game, matchId, follow, state);
  } catch (e) {
    state.phase = 'error';
    state.error = errorText(e);
    show(main, el('p', { class: 'error' }, `Could not watch: ${errorText(e)}`), el('a', { href: '/' }, 'Back'));
  }
}

async function boot(): Promise<void> {
  const params = new URLSearchParams(location.search);
  void renderAccount();
  if (params.get('page') === 'leaderboards') {
    await leaderboards(main, api);
    return;
  }
  const [core, games] = await Promise.all([Core.fetch('/tickwire.wasm'), api.games()]);
  const replayOf = params.get('replay');
  if (replayOf) {
    // Replays are public: no sign-in needed.
    await replay(main, api, core, games, replayOf, Number(params.get('speed') ?? 1), state);
    return;
  }
  const watchOf = params.get('watch');
  if (watchOf) {
    await watching(watchOf, params.get('game'), Number(params.get('follow') ?? 0), games, core);
    return;
  }
  if (params.get('play') === 'guest') {
    const wanted = params.get('game');
    const game = (wanted ? games.find((g) => g.id === wanted) : games[0]) ?? games[0];
    if (!game) throw new Error('this server serves no games');
    await api.guest(deviceId());
    await start(game, core, () => api.quickJoin({ game: game.id, map: params.get('map') ?? undefined }));
    return;
  }
  await lobby(games, core);
}

boot().catch((e) => {
  state.phase = 'error';
  state.error = errorText(e);
  show(main, el('p', { class: 'error' }, errorText(e)));
});
