// Types of @vestibule/client.

export interface Session {
  sub: string;
  claims: Record<string, unknown>;
  expires_at: number;
  idle_expires_at: number;
  absolute_expires_at: number;
  logout_url: string;
}

/**
 * One of the user's sessions. `device: "unknown"`: a live session whose details cannot be read
 * (it can still be ended); then `created_at`, `absolute_expires_at`, `user_agent` and `ip` are
 * `null`.
 */
export interface ListedSession {
  handle: string;
  device: 'known' | 'unknown';
  created_at: number | null;
  last_seen: number;
  idle_expires_at: number;
  absolute_expires_at: number | null;
  user_agent: string | null;
  ip: string | null;
  current: boolean;
}

/** Why a session ended; `unknown` when it ended while no stream was open and nobody knows why. */
export type EndReason =
  | 'logout' | 'backchannel_logout' | 'frontchannel_logout' | 'revoked' | 'refresh_refused'
  | 'expired' | 'replaced' | 'unknown';

export interface LoginOptions {
  /** Where to come back to (a same-origin path); default: the current page. */
  returnTo?: string;
  prompt?: 'none' | 'login' | 'consent' | 'select_account' | 'create' | (string & {});
  loginHint?: string;
  acrValues?: string;
  maxAge?: number;
  uiLocales?: string;
}

export interface ClientOptions {
  /** `server.auth_prefix`; default `/auth`. */
  authPrefix?: string;
  /** `server.csrf_header`; default `X-CSRF`. */
  csrfHeader?: string;
  /** Share one event stream among this browser's tabs and tell them of a sign-out; default true. */
  crossTab?: boolean;
  /** Reconnection backoff in milliseconds: `base * 2^n`, at most `cap`, with jitter; default 500 and 10000. */
  backoff?: { base?: number; cap?: number };
  /** For tests: another `fetch`. */
  fetch?: typeof fetch;
  /** For tests: another `location`. */
  location?: { assign(url: string): void; pathname: string; search: string; hash: string };
  /** For tests: another Web Locks API (default `navigator.locks`). */
  locks?: LockManager;
}

/** Any refusal of Vestibule itself (403 CSRF, 404, 503 store down; status 0: the network failed). */
export class VestibuleError extends Error {
  constructor(status: number, code?: string, description?: string);
  readonly status: number;
  /**
   * Vestibule's `error` code (`csrf_header_required`, `session_store_unavailable`, …), or the
   * client's own: `network_error` (status 0), `invalid_response` (an answer that was not JSON).
   */
  readonly code: string | undefined;
}

/** A call needed a signed-in user and there is none (401 `unauthenticated`). */
export class Unauthenticated extends VestibuleError {
  constructor(message?: string, reason?: EndReason);
  readonly status: 401;
  /** Why the session ended, when Vestibule knows. */
  readonly reason: EndReason | undefined;
}

/** A route needs a stronger or more recent sign-in (401 `insufficient_user_authentication`). */
export class StepUpRequired extends VestibuleError {
  constructor(options?: { loginUrl?: string; acrValues?: string | null; maxAge?: number | null });
  readonly status: 401;
  readonly loginUrl: string;
  readonly acrValues: string | null;
  readonly maxAge: number | null;
}

export interface SessionExpiring {
  /** Unix seconds. */
  expires_at: number;
  /** Seconds left when the event was sent. */
  expires_in: number;
  reason: 'idle' | 'absolute';
}

export interface SessionEvents {
  session_expiring: SessionExpiring;
  session_ended: { reason: EndReason };
  claims_changed: Record<string, never>;
}

export type SessionEventName = keyof SessionEvents;

/** `[name, data]` of one event. */
export type SessionEvent = { [N in SessionEventName]: [name: N, data: SessionEvents[N]] }[SessionEventName];

export interface VestibuleClient {
  /** `server.auth_prefix` this client talks to. */
  readonly authPrefix: string;
  /** Resolves to null when signed out; rejects with `StepUpRequired` or `VestibuleError`. */
  session(options?: { slide?: boolean }): Promise<Session | null>;
  /** Slides the idle end ("stay signed in"); rejects with `Unauthenticated` once ended. */
  extend(): Promise<Session>;
  loginUrl(options?: LoginOptions): string;
  login(options?: LoginOptions): void;
  logout(): Promise<void>;
  /**
   * Rejects with `Unauthenticated` or `StepUpRequired` only when Vestibule itself refused (its
   * answers carry `Vestibule-Refusal`; an upstream's 401 resolves like any upstream answer), and
   * with a `VestibuleError` (status 0) when the network failed.
   */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** Each rejects with `Unauthenticated`, `StepUpRequired` or `VestibuleError`. */
  sessions(): Promise<ListedSession[]>;
  endSession(handle: string): Promise<void>;
  endOtherSessions(): Promise<number>;
  /** `(name, data)`: narrowing `name` narrows `data`. */
  onEvent(onEvent: (...event: SessionEvent) => void): () => void;
  onSessionEnd(callback: (data: { reason: EndReason }) => void): () => void;
}

export function createClient(options?: ClientOptions): VestibuleClient;

export type SessionStatus = 'loading' | 'signed-in' | 'signed-out' | 'step-up' | 'error';

/** What a UI shows. `session` stays set in `step-up`; `ended` says why a session went. */
export interface SessionState {
  readonly status: SessionStatus;
  readonly session: Session | null;
  readonly error: VestibuleError | null;
  readonly ended: { reason: EndReason } | null;
  readonly stepUp: StepUpRequired | null;
  /** Set by `session_expiring`, cleared by `extend()`. */
  readonly expiring: { expiresAt: number; expiresIn: number; reason: 'idle' | 'absolute' } | null;
}

export interface SessionActions {
  refresh(): Promise<void>;
  api(path: string, init?: RequestInit): Promise<Response>;
  extend(): Promise<Session>;
  login(options?: LoginOptions): void;
  logout(): Promise<void>;
}

export interface SessionStore extends SessionActions {
  getSnapshot(): SessionState;
  subscribe(listener: () => void): () => void;
}

export function createSessionStore(client: VestibuleClient): SessionStore;
