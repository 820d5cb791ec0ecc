// The REST side of Tickwire: accounts, sessions, the lobby (join, spectate, replays) and
// leaderboards. Stateless JSON over HTTP; the only state kept here is the session's tokens,
// refreshed once on a 401.

/** An error the API answered, in its one shape: `{"error": {"code", "message"}}`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  account_id: number;
}

export interface Account {
  account_id: number;
  username: string;
  guest: boolean;
  created_at: string;
}

export interface MapSummary {
  name: string;
  seats: number;
}

export interface GameSummary {
  id: string;
  maps: MapSummary[];
  default_map: string;
  seats: number;
  tick_rate: number;
  protocol_hash: string;
  stats: string[];
  /** The game's `game.toml` as JSON. */
  tuning: Record<string, unknown>;
}

export interface MapLayout {
  game: string;
  name: string;
  seats: number;
  /** The map file as JSON; its format is the game's. */
  layout: Record<string, unknown>;
}

export interface MatchInfo {
  match_id: string;
  game: string;
  map: string;
  players: number;
  capacity: number;
  state: string;
  public: boolean;
}

export interface JoinTicket {
  ticket: string;
  /** The WebSocket URL to open with the ticket. */
  url: string;
  match_id: string;
  expires_in: number;
}

export interface BoardInfo {
  id: string;
  game: string;
  metric: string;
  operator: string;
  order: string;
  reset: string;
  season: string;
}

export interface LeaderboardRecord {
  rank: number;
  account_id: number;
  username: string;
  score: number;
}

export interface RecordPage {
  records: LeaderboardRecord[];
  next_cursor?: string | null;
  season: string;
}

/** Where a session's tokens are kept between page loads; `localStorage` fits a browser. */
export interface TokenStore {
  load(): Tokens | null;
  save(tokens: Tokens | null): void;
}

/** Keeps the tokens in memory only. */
export class MemoryStore implements TokenStore {
  private tokens: Tokens | null = null;
  load(): Tokens | null {
    return this.tokens;
  }
  save(tokens: Tokens | null): void {
    this.tokens = tokens;
  }
}

export class Api {
  readonly base: string;
  private readonly store: TokenStore;

  /** `base` is the server's origin (`location.origin` in a page served by Tickwire). */
  constructor(base: string, store: TokenStore = new MemoryStore()) {
    this.base = base.replace(/\/+$/, '');
    this.store = store;
  }

  get tokens(): Tokens | null {
    return this.store.load();
  }

  get signedIn(): boolean {
    return this.tokens !== null;
  }

  signOut(): void {
    this.store.save(null);
  }

  async register(username: string, password: string): Promise<{ account_id: number; username: string }> {
    return this.request('POST', '/v1/accounts', { username, password }, false);
  }

  async login(username: string, password: string): Promise<Tokens> {
    return this.session(await this.request('POST', '/v1/sessions', { username, password }, false));
  }

  /** Signs in as the guest of `deviceId` (the same device gets the same guest account). */
  async guest(deviceId: string): Promise<Tokens> {
    return this.session(await this.request('POST', '/v1/sessions/guest', { device_id: deviceId }, false));
  }

  /** Trades the refresh token for new tokens. */
  async refresh(): Promise<Tokens> {
    const refresh_token = this.tokens?.refresh_token;
    if (!refresh_token) throw new ApiError(401, 'unauthorized', 'not signed in');
    return this.session(await this.request('POST', '/v1/sessions/refresh', { refresh_token }, false));
  }

  async me(): Promise<Account> {
    return this.request('GET', '/v1/accounts/me');
  }

  async games(): Promise<GameSummary[]> {
    return (await this.request<{ games: GameSummary[] }>('GET', '/v1/games', undefined, false)).games;
  }

  async map(game: string, map: string): Promise<MapLayout> {
    return this.request('GET', `/v1/games/${enc(game)}/maps/${enc(map)}`, undefined, false);
  }

  async matches(): Promise<MatchInfo[]> {
    return (await this.request<{ matches: MatchInfo[] }>('GET', '/v1/matches')).matches;
  }

  async createMatch(options: { game?: string; map?: string; public?: boolean } = {}): Promise<MatchInfo> {
    return this.request('POST', '/v1/matches', options);
  }

  async join(matchId: string): Promise<JoinTicket> {
    return this.request('POST', `/v1/matches/${enc(matchId)}/join`, {});
  }

  async quickJoin(options: { game?: string; map?: string } = {}): Promise<JoinTicket> {
    return this.request('POST', '/v1/matchmaking/quick-join', options);
  }

  /**
   * A ticket for a read-only seat in a running match (`Session.watch` opens it): the whole world,
   * or the view of the player `follow` (its id in the match). A full match can be watched.
   */
  async spectate(matchId: string, options: { follow?: number } = {}): Promise<JoinTicket> {
    const body = options.follow === undefined ? {} : { follow: options.follow };
    return this.request('POST', `/v1/matches/${enc(matchId)}/spectate`, body);
  }

  /**
   * An ended match's playback stream (`?format=snapshots`): length-prefixed server messages, a
   * Welcome, a snapshot per tick, the MatchEnd; `ReplayPlayer` plays it. A 404
   * (`replay_not_found`) for a match still running, unknown, or not recorded.
   */
  async replay(matchId: string): Promise<Uint8Array> {
    const response = await this.call('GET', `/v1/matches/${enc(matchId)}/replay?format=snapshots`, undefined, false, 'application/octet-stream, application/json');
    if (!response.ok) return this.parse<never>(response);
    return new Uint8Array(await response.arrayBuffer());
  }

  async leaderboards(): Promise<BoardInfo[]> {
    return (await this.request<{ leaderboards: BoardInfo[] }>('GET', '/v1/leaderboards', undefined, false))
      .leaderboards;
  }

  /** A page of a leaderboard, best first; pass the previous page's `next_cursor` for the next. */
  async leaderboard(id: string, options: { limit?: number; cursor?: string; season?: string } = {}): Promise<RecordPage> {
    return this.request('GET', `/v1/leaderboards/${enc(id)}${query(options)}`, undefined, false);
  }

  /** The records around an account (`'me'`: the signed-in one). */
  async around(id: string, account: number | 'me' = 'me', options: { limit?: number; season?: string } = {}): Promise<RecordPage> {
    return this.request('GET', `/v1/leaderboards/${enc(id)}/around/${account}${query(options)}`, undefined, account === 'me');
  }

  private session(tokens: Tokens): Tokens {
    this.store.save(tokens);
    return tokens;
  }

  /** One JSON call; with `auth`, the bearer token, refreshed and retried once on a 401. */
  private async request<T>(method: string, path: string, body?: unknown, auth = true): Promise<T> {
    return this.parse<T>(await this.call(method, path, body, auth));
  }

  /** One call, its response as it came (after a refresh and a retry on a 401, with `auth`). */
  private async call(method: string, path: string, body: unknown, auth: boolean, accept = 'application/json'): Promise<Response> {
    const response = await this.send(method, path, body, auth, accept);
    if (response.status === 401 && auth && this.tokens?.refresh_token) {
      try {
        await this.refresh();
      } catch (e) {
        this.signOut();
        throw e;
      }
      return this.send(method, path, body, auth, accept);
    }
    return response;
  }

  private send(method: string, path: string, body: unknown, auth: boolean, accept: string): Promise<Response> {
    const headers: Record<string, string> = { accept };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const token = this.tokens?.access_token;
    if (auth && token) headers.authorization = `Bearer ${token}`;
    return fetch(this.base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  private async parse<T>(response: Response): Promise<T> {
    const text = await response.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON: reported below with the status.
    }
    if (!response.ok) {
      const error = (json as { error?: { code?: string; message?: string } } | null)?.error;
      throw new ApiError(
        response.status,
        error?.code ?? `http_${response.status}`,
        error?.message ?? (text || response.statusText),
      );
    }
    return json as T;
  }
}

function enc(part: string): string {
  return encodeURIComponent(part);
}

function query(options: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(options)) {
    if (v !== undefined) params.set(k, String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}
