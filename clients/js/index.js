// @vestibule/client: what an SPA behind Vestibule needs, with no dependencies.
//
//   import { createClient, Unauthenticated, StepUpRequired } from '@vestibule/client';
//   const vestibule = createClient();
//   const session = await vestibule.session();          // null when signed out
//   const res = await vestibule.api('/api/orders');      // X-CSRF added; typed 401s
//   vestibule.onSessionEnd(({ reason }) => showBanner(reason));
//
// Every call is same-origin and carries the anti-CSRF header; the browser never holds a token.
// React and Vue bindings: `@vestibule/client/react`, `@vestibule/client/vue` (both wrap
// `createSessionStore`, below).

import { EventFeed } from './events.js';
import { Unauthenticated, StepUpRequired, VestibuleError, refusalOf } from './errors.js';

/** The header that marks Vestibule's own refusals (it removes it from upstreams' answers). */
const REFUSAL_HEADER = 'vestibule-refusal';

export { Unauthenticated, StepUpRequired, VestibuleError };
export { createSessionStore } from './store.js';

const LOGIN_PARAMS = {
  prompt: 'prompt',
  loginHint: 'login_hint',
  acrValues: 'acr_values',
  maxAge: 'max_age',
  uiLocales: 'ui_locales',
};

/**
 * @param {import('./index.js').ClientOptions} [options]
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

  // A network failure is a VestibuleError too (status 0), so that every method rejects with
  // one of the three classes and nothing else.
  async function send(path, init) {
    try {
      return await doFetch(path, withCsrf(init));
    } catch (e) {
      if (e?.name === 'AbortError') throw e;
      throw new VestibuleError(0, 'network_error', String(e?.message ?? e));
    }
  }

  // One of Vestibule's own endpoints: any answer but `ok` is a refusal.
  async function call(path, init) {
    const res = await send(path, init);
    if (!res.ok) throw await refused(res);
    return res;
  }

  // A body that is not Vestibule's JSON (a captive portal's page, a CDN's error) is a
  // VestibuleError too, never a SyntaxError.
  async function json(res) {
    try {
      return await res.json();
    } catch {
      throw new VestibuleError(res.status, 'invalid_response', 'the answer was not JSON');
    }
  }

  // Vestibule's refusal of one of its own endpoints, or of an API route (`own` false: only an
  // answer that Vestibule marked as its own refusal; an upstream's 401 is the app's to read).
  // A step-up `login_url` is followed only if it is Vestibule's login endpoint on this origin.
  async function refused(res, own = true) {
    if (!own && !res.headers.has(REFUSAL_HEADER)) return null;
    const refusal = await refusalOf(res, own);
    if (refusal instanceof StepUpRequired && !isLoginPath(refusal.loginUrl)) {
      refusal.loginUrl = client.loginUrl({ acrValues: refusal.acrValues ?? undefined, maxAge: refusal.maxAge ?? undefined });
    }
    return refusal;
  }

  const isLoginPath = (url) => typeof url === 'string' && url.startsWith(`${authPrefix}/login?`)
    && !url.startsWith('//') && !url.includes('\\');

  const here = () => (loc ? loc.pathname + loc.search + loc.hash : '/');

  const client = {
    authPrefix,

    /** `/auth/session`: `{ sub, claims, expires_at, … }`, or null when signed out. */
    async session({ slide = true } = {}) {
      const res = await send(`${authPrefix}/session${slide ? '' : '?slide=false'}`);
      if (res.status === 401) {
        const refusal = await refused(res);
        // A step-up refusal is not "signed out"; a plain 401 is.
        if (refusal instanceof StepUpRequired) throw refusal;
        return null;
      }
      if (!res.ok) throw await refused(res);
      return json(res);
    },

    /**
     * Keeps an idle session alive ("stay signed in"): one call that slides its idle end.
     * Resolves to the session with its new `expires_at`; rejects with `Unauthenticated` when
     * it has already ended.
     */
    async extend() {
      const res = await call(`${authPrefix}/session`);
      return json(res);
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

    /**
     * Signs out: tells this browser's other tabs at once, then follows the session's
     * `logout_url`. A no-op when already signed out.
     */
    async logout() {
      const session = await client.session();
      if (!session) return;
      feed.announceEnd('logout');
      loc.assign(session.logout_url);
    },

    /**
     * A call to an API route: the anti-CSRF header is added. Resolves to the Response (any
     * status the upstream gave); rejects with `Unauthenticated` or `StepUpRequired` when
     * Vestibule refused for want of a (strong enough) sign-in, and with a `VestibuleError`
     * (status 0) when the network failed.
     */
    async api(path, init = {}) {
      const res = await send(path, init);
      if (res.status === 401) {
        const refusal = await refused(res, false);
        if (refusal) throw refusal;
      }
      return res;
    },

    /** `/auth/sessions`: the user's live sessions. */
    async sessions() {
      const res = await call(`${authPrefix}/sessions`);
      return (await json(res)).sessions;
    },

    /** Ends one of the user's sessions by its handle. */
    async endSession(handle) {
      await call(`${authPrefix}/sessions/${encodeURIComponent(handle)}`, { method: 'DELETE' });
    },

    /** Ends all of the user's sessions but this one; how many. */
    async endOtherSessions() {
      const res = await call(`${authPrefix}/sessions/end-others`, { method: 'POST' });
      return (await json(res)).ended;
    },

    /**
     * Hears this session's events (`session_expiring`, `session_ended`, `claims_changed`):
     * `onEvent(name, data)`. The stream reconnects by itself (capped exponential backoff with
     * jitter) and is shared by this browser's tabs (one tab holds it). Ends after
     * `session_ended`. Returns a function that stops listening.
     */
    onEvent(onEvent) {
      return feed.subscribe(onEvent);
    },

    /**
     * `callback({ reason })` once, when this session ends (anywhere: another device, the IdP,
     * another tab's sign-out, or while the stream was down). Returns a function that stops.
     */
    onSessionEnd(callback) {
      let stop = () => {};
      let fired = false;
      stop = feed.subscribe((name, data) => {
        if (name === 'session_ended' && !fired) {
          fired = true;
          stop();
          callback(data);
        }
      });
      if (fired) stop();
      return () => stop();
    },
  };

  const feed = new EventFeed({
    url: `${authPrefix}/events`,
    channelName: `vestibule:${authPrefix}`,
    open: (signal) => send(`${authPrefix}/events`, { signal }),
    whoami: async () => (await client.session({ slide: false }))?.sub ?? null,
    crossTab: options.crossTab ?? true,
    backoff: options.backoff,
    locks: options.locks,
  });
  return client;
}
