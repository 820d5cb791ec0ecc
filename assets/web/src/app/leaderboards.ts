// The leaderboards page: every board, its top records page by page, and the records around
// the signed-in player.

import type { Api, LeaderboardRecord } from '../sdk/index.js';
import { el, errorText, show } from './dom.js';

function table(records: LeaderboardRecord[], me: number | null): HTMLTableElement {
  return el('table', {},
    el('thead', {}, el('tr', {}, el('th', {}, 'Rank'), el('th', {}, 'Player'), el('th', {}, 'Score'))),
    el('tbody', {}, ...(records.length === 0
      ? [el('tr', {}, el('td', { colspan: 3, class: 'muted' }, 'No records yet.'))]
      : records.map((r) => el('tr', { class: r.account_id === me ? 'me' : '' },
        el('td', {}, String(r.rank)), el('td', {}, r.username), el('td', {}, String(r.score)))))));
}

export async function leaderboards(root: Element, api: Api): Promise<void> {
  let boards;
  try {
    boards = await api.leaderboards();
  } catch (e) {
    show(root, el('p', { class: 'error' }, errorText(e)));
    return;
  }
  if (boards.length === 0) {
    show(root, el('p', { class: 'muted' }, 'This server keeps no leaderboards.'));
    return;
  }
  const select = el('select', {}, ...boards.map((b) => el('option', { value: b.id }, `${b.id} (${b.game}, ${b.metric}, ${b.reset})`)));
  const top = el('div');
  const around = el('div');
  const more = el('button', {}, 'Next page');
  let cursor: string | null = null;
  const me = api.tokens?.account_id ?? null;

  const load = async (reset: boolean) => {
    if (reset) cursor = null;
    try {
      const page = await api.leaderboard(select.value, { limit: 10, cursor: cursor ?? undefined });
      cursor = page.next_cursor ?? null;
      more.hidden = cursor === null;
      show(top, el('p', { class: 'muted' }, `Season ${page.season}`), table(page.records, me));
    } catch (e) {
      show(top, el('p', { class: 'error' }, errorText(e)));
    }
    if (!api.signedIn) {
      show(around, el('p', { class: 'muted' }, 'Sign in to see where you stand.'));
      return;
    }
    try {
      show(around, table((await api.around(select.value, 'me', { limit: 5 })).records, me));
    } catch (e) {
      show(around, el('p', { class: 'muted' }, errorText(e)));
    }
  };
  select.addEventListener('change', () => void load(true));
  more.addEventListener('click', () => void load(false));
  show(root,
    el('section', {}, el('h2', {}, 'Leaderboard '), select, top, more),
    el('section', {}, el('h2', {}, 'Around me'), around));
  await load(true);
}
