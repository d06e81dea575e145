// `useSession` for React 18+: the session store (./store.js) through `useSyncExternalStore`.
//
//   const vestibule = createClient();              // once, outside components
//   function App() {
//     const s = useSession(vestibule);
//     if (s.status === 'loading') return <Spinner />;
//     if (s.status === 'error') return <Retry onClick={s.refresh} error={s.error} />;
//     if (s.status === 'signed-out') return <button onClick={() => s.login()}>Sign in</button>;
//     if (s.status === 'step-up') return <a href={s.stepUp.loginUrl}>Confirm it is you</a>;
//     return <Orders api={s.api} user={s.session.claims.name} />;
//   }

import { useMemo, useSyncExternalStore } from 'react';
import { createSessionStore } from './store.js';

export function useSession(client) {
  const store = useMemo(() => createSessionStore(client), [client]);
  const state = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
  return useMemo(() => ({
    ...state,
    refresh: store.refresh,
    api: store.api,
    extend: store.extend,
    login: store.login,
    logout: store.logout,
  }), [state, store]);
}
