// @vestibule/client: what an SPA behind Vestibule needs, with no dependencies.
//
//   import { createClient, Unauthenticated, StepUpRequired } from '@vestibule/client';
//   const vestibule = createClient();
//   const session = await vestibule.session();          // null when signed out
//   const res = await vestibule.api('/api/orders');      // X-CSRF added; typed 401s
//   vestibule.onSessionEnd(({ reason }) => showBanner(reason));
//
// Every call is same-origin and carries the anti-CSRF header; the browser never holds a token.

/** A call needed a signed-in user and there is none (401 `unauthenticated`). */
export class Unauthenticated extends Error {
  constructor(message = 'not signed in') {
    super(message);
    this.name = 'Unauthenticated';
  }
}

/** A route needs a stronger or more recent sign-in (401 `insufficient_user_authentication`). */
export class StepUpRequired extends Error {
  constructor({ loginUrl, acrValues = null, maxAge = null }) {
    super('a stronger or more recent sign-in is required');
    this.name = 'StepUpRequired';
    this.loginUrl = loginUrl;
    this.acrValues = acrValues;
    this.maxAge = maxAge;
  }
}

/** Any other refusal of Vestibule itself (403 CSRF, 503 store down, …), with its error code. */
export class VestibuleError extends Error {
  constructor(status, code, description) {
    super(description || code || `HTTP ${status}`);
    this.name = 'VestibuleError';
    this.status = status;
    this.code = code;
  }
}

const LOGIN_PARAMS = {
  prompt: 'prompt',
  loginHint: 'login_hint',
  acrValues: 'acr_values',
  maxAge: 'max_age',
  uiLocales: 'ui_locales',
};

/**
 * @param {object} [options]
 * @param {string} [options.authPrefix] Vestibule's `server.auth_prefix` (default `/auth`).
 * @param {string} [options.csrfHeader] Vestibule's `server.csrf_header` (default `X-CSRF`).
 * @param {typeof fetch} [options.fetch] For tests.
 * @param {{ assign(url: string): void, pathname: string, search: string, hash: string }} [options.location]
 */
export function createClient(options = {}) {
  const authPrefix = options.authPrefix ?? '/auth';
  const csrfHeader = options.csrfHeader ?? 'X-CSRF';
  const doFetch = options.fetch ?? ((...args) => globalThis.fetch(...args));
  const loc = options.location ?? globalThis.location;

  const withCsrf = (init = {}) => {
    const headers = new Headers(init.headers);
    headers.set(csrfHeader, '1');
    return { credentials: 'same-origin', ...init, headers };
  };

  async function errorOf(res) {
    let body = {};
    try { body = await res.clone().json(); } catch { /* not JSON: an upstream's own answer */ }
    if (res.status === 401 && body.error === 'insufficient_user_authentication') {
      return new StepUpRequired({ loginUrl: body.login_url, acrValues: body.acr_values, maxAge: body.max_age });
    }
    if (res.status === 401 && body.error === 'unauthenticated') return new Unauthenticated(body.error_description);
    return null;
  }

  const here = () => (loc ? loc.pathname + loc.search + loc.hash : '/');

  const client = {
    /** `/auth/session`: `{ sub, claims, expires_at, … }`, or null when signed out. */
    async session({ slide = true } = {}) {
      const res = await doFetch(`${authPrefix}/session${slide ? '' : '?slide=false'}`, withCsrf());
      if (res.status === 401) return null;
      if (!res.ok) {
        const body = await res.json().catch(() => ({}));
        throw new VestibuleError(res.status, body.error, body.error_description);
      }
      return res.json();
    },

    /** The `/auth/login` URL for these options (`returnTo` defaults to the current page). */
    loginUrl({ returnTo, ...params } = {}) {
      const q = new URLSearchParams();
      for (const [key, name] of Object.entries(LOGIN_PARAMS)) {
        if (params[key] !== undefined && params[key] !== null) q.set(name, String(params[key]));
      }
      q.set('return_to', returnTo ?? here());
      return `${authPrefix}/login?${q}`;
    },

    /** Sends the browser to sign in (see `loginUrl`). */
    login(opts = {}) {
      loc.assign(client.loginUrl(opts));
    },

    /** Signs out: follows the session's `logout_url` (a no-op when already signed out). */
    async logout() {
      const session = await client.session();
      if (session) loc.assign(session.logout_url);
    },

    /**
     * A call to an API route: the anti-CSRF header is added. Resolves to the Response (any
     * status the upstream gave); rejects with `Unauthenticated` or `StepUpRequired` when
     * Vestibule refused for want of a (strong enough) sign-in.
     */
    async api(path, init = {}) {
      const res = await doFetch(path, withCsrf(init));
      if (res.status === 401) {
        const err = await errorOf(res);
        if (err) throw err;
      }
      return res;
    },

    /** `/auth/sessions`: the user's live sessions. */
    async sessions() {
      const res = await client.api(`${authPrefix}/sessions`);
      return (await res.json()).sessions;
    },

    /** Ends one of the user's sessions by its handle. */
    async endSession(handle) {
      const res = await client.api(`${authPrefix}/sessions/${encodeURIComponent(handle)}`, { method: 'DELETE' });
      if (res.status !== 204) throw new VestibuleError(res.status, (await res.json().catch(() => ({}))).error);
    },

    /** Ends all of the user's sessions but this one; how many. */
    async endOtherSessions() {
      const res = await client.api(`${authPrefix}/sessions/end-others`, { method: 'POST' });
      return (await res.json()).ended;
    },

    /**
     * Listens to `/auth/events` (with `fetch`: an EventSource cannot send the anti-CSRF
     * header). `onEvent(name, data)` hears every event. Returns a function that stops.
     */
    onEvent(onEvent) {
      const abort = new AbortController();
      (async () => {
        const res = await doFetch(`${authPrefix}/events`, withCsrf({ signal: abort.signal }));
        if (!res.ok || !res.body) return;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buffer += value;
          let end;
          // Once stopped, nothing more is heard, not even the rest of a chunk already read
          // (onSessionEnd stops at the first session_ended of a chunk holding two).
          while (!abort.signal.aborted && (end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const name = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (name) onEvent(name, data ? JSON.parse(data) : {});
          }
          if (abort.signal.aborted) { reader.cancel().catch(() => {}); return; }
        }
      })().catch(() => { /* aborted, or the connection dropped */ });
      return () => abort.abort();
    },

    /** `callback({ reason })` once, when this session ends (anywhere). Returns a function that stops. */
    onSessionEnd(callback) {
      let stop = () => {};
      stop = client.onEvent((name, data) => {
        if (name === 'session_ended') {
          stop();
          callback(data);
        }
      });
      return () => stop();
    },
  };
  return client;
}
