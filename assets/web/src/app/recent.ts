// The matches this browser played or watched to their end, newest first: the server lists only
// live matches, so this is where the lobby finds ended ones to replay.

export interface RecentMatch {
  match_id: string;
  game: string;
  map: string;
  /** When it ended here (ms since the epoch). */
  ended_at: number;
  /** How this browser saw it. */
  seen: 'played' | 'watched';
}

const KEY = 'tickwire.recent';
const KEEP = 10;

export function recentMatches(): RecentMatch[] {
  try {
    const list = JSON.parse(localStorage.getItem(KEY) ?? '[]') as unknown;
    return Array.isArray(list) ? (list as RecentMatch[]).filter((m) => typeof m?.match_id === 'string') : [];
  } catch {
    return [];
  }
}

export function rememberMatch(match: RecentMatch): void {
  const list = [match, ...recentMatches().filter((m) => m.match_id !== match.match_id)].slice(0, KEEP);
  try {
    localStorage.setItem(KEY, JSON.stringify(list));
  } catch {
    // Storage full or denied: the lobby simply will not list it.
  }
}
