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

export type EndReason =
  | 'logout' | 'backchannel_logout' | 'revoked' | 'refresh_refused' | 'expired' | 'replaced';

export interface LoginOptions {
  /** Where to come back to (a same-origin path); default: the current page. */
  returnTo?: string;
  prompt?: 'none' | 'login' | 'consent' | 'select_account' | 'create' | string;
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
  fetch?: typeof fetch;
  location?: { assign(url: string): void; pathname: string; search: string; hash: string };
}

export class Unauthenticated extends Error {}

export class StepUpRequired extends Error {
  loginUrl: string;
  acrValues: string | null;
  maxAge: number | null;
}

export class VestibuleError extends Error {
  status: number;
  code: string | undefined;
}

export interface VestibuleClient {
  session(options?: { slide?: boolean }): Promise<Session | null>;
  loginUrl(options?: LoginOptions): string;
  login(options?: LoginOptions): void;
  logout(): Promise<void>;
  /** Rejects with `Unauthenticated` or `StepUpRequired`; any other answer resolves. */
  api(path: string, init?: RequestInit): Promise<Response>;
  sessions(): Promise<ListedSession[]>;
  endSession(handle: string): Promise<void>;
  endOtherSessions(): Promise<number>;
  onEvent(onEvent: (name: 'session_expiring' | 'session_ended' | 'claims_changed' | string, data: Record<string, unknown>) => void): () => void;
  onSessionEnd(callback: (data: { reason: EndReason }) => void): () => void;
}

export function createClient(options?: ClientOptions): VestibuleClient;
