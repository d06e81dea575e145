// A signed-in user's session as a UI sees it, without a framework: what `useSession` (React)
// and the Vue composable wrap, and what a plain page can subscribe to.
//
// It loads on the first subscriber and stops on the last (a component that unmounts before
// `session()` answers opens no stream: the late answer is dropped), so React's StrictMode
// double mount and Vue's scopes need nothing special.

import { StepUpRequired, Unauthenticated } from './errors.js';

const INITIAL = Object.freeze({
  status: 'loading', session: null, error: null, ended: null, stepUp: null, expiring: null,
});

/** @param {import('./index.js').VestibuleClient} client */
export function createSessionStore(client) {
  let snapshot = INITIAL;
  const listeners = new Set();
  // Bumped by every load and stop: an answer of an older one is dropped.
  let generation = 0;
  let stopEvents = null;

  function set(patch) {
    snapshot = Object.freeze({ ...snapshot, ...patch });
    for (const listener of [...listeners]) listener();
  }

  function signedOut(ended) {
    stopEvents?.();
    stopEvents = null;
    set({ status: 'signed-out', session: null, error: null, stepUp: null, expiring: null, ended });
  }

  function onEvent(name, data) {
    if (name === 'session_ended') {
      stopEvents = null;
      signedOut({ reason: data.reason ?? 'unknown' });
    } else if (name === 'session_expiring') {
      const expiresIn = typeof data.expires_in === 'number'
        ? data.expires_in
        : Math.max(0, Math.round(data.expires_at - Date.now() / 1000));
      set({ expiring: { expiresAt: data.expires_at, expiresIn, reason: data.reason } });
    } else if (name === 'claims_changed') {
      load();
    }
  }

  async function load() {
    const mine = ++generation;
    try {
      const session = await client.session();
      if (mine !== generation || listeners.size === 0) return;
      if (!session) { signedOut(snapshot.ended); return; }
      set({ status: 'signed-in', session, error: null, stepUp: null, ended: null });
      stopEvents ??= client.onEvent(onEvent);
    } catch (error) {
      if (mine !== generation || listeners.size === 0) return;
      set({ status: 'error', error });
    }
  }

  function stop() {
    generation += 1;
    stopEvents?.();
    stopEvents = null;
  }

  const store = {
    getSnapshot: () => snapshot,
    subscribe(listener) {
      listeners.add(listener);
      if (listeners.size === 1) load();
      return () => {
        if (listeners.delete(listener) && listeners.size === 0) stop();
      };
    },
    /** Loads the session again (after an error, say). */
    refresh: () => load(),
    /**
     * `client.api`, and the state follows what Vestibule said: `step-up` on `StepUpRequired`
     * (the session stays), `signed-out` on `Unauthenticated`. Rejects as `client.api` does.
     */
    async api(path, init) {
      try {
        return await client.api(path, init);
      } catch (e) {
        if (e instanceof StepUpRequired) set({ status: 'step-up', stepUp: e });
        else if (e instanceof Unauthenticated) signedOut(e.reason ? { reason: e.reason } : snapshot.ended);
        throw e;
      }
    },
    /** "Stay signed in": slides the idle end; the notice goes. */
    async extend() {
      try {
        const session = await client.extend();
        set({ status: 'signed-in', session, expiring: null });
        return session;
      } catch (e) {
        if (e instanceof Unauthenticated) signedOut(e.reason ? { reason: e.reason } : snapshot.ended);
        throw e;
      }
    },
    login: (options) => client.login(options),
    logout: () => client.logout(),
  };
  return store;
}
