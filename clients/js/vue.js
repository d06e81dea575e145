// `useSession` for Vue 3.3+: the session store (./store.js) as refs, stopped with the calling
// component's (or effect scope's) lifetime.
//
//   const { status, session, error, stepUp, expiring, ended, api, extend, login } = useSession(vestibule);

import { computed, getCurrentScope, onScopeDispose, shallowRef } from 'vue';
import { createSessionStore } from './store.js';

export function useSession(client) {
  const store = createSessionStore(client);
  const state = shallowRef(store.getSnapshot());
  const stop = store.subscribe(() => { state.value = store.getSnapshot(); });
  // Outside a component or scope the caller owns the lifetime (`stop`).
  if (getCurrentScope()) onScopeDispose(stop);
  const field = (name) => computed(() => state.value[name]);
  return {
    status: field('status'),
    session: field('session'),
    error: field('error'),
    ended: field('ended'),
    stepUp: field('stepUp'),
    expiring: field('expiring'),
    refresh: store.refresh,
    api: store.api,
    extend: store.extend,
    login: store.login,
    logout: store.logout,
    stop,
  };
}
