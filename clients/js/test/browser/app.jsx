// The page the package's browser tests drive (tests/e2e/client.test.js): the React hook under
// /react/, the Vue composable under /vue/, and the package itself as `window.Vestibule` for
// tests that call it from the page.
import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { createApp, defineComponent, h } from 'vue';
import * as Vestibule from '@vestibule/client';
import { useSession as useReactSession } from '@vestibule/client/react';
import { useSession as useVueSession } from '@vestibule/client/vue';

window.Vestibule = Vestibule;
const vestibule = Vestibule.createClient();

function ReactStatus() {
  const s = useReactSession(vestibule);
  return (
    <section id="state" data-status={s.status}>
      <p id="status">{s.status}</p>
      {s.session && <p id="sub">{s.session.sub}</p>}
      {s.ended && <p id="ended">{s.ended.reason}</p>}
      {s.error && <p id="error">{String(s.error.status)}</p>}
      {s.stepUp && <a id="step-up" href={s.stepUp.loginUrl}>Confirm it is you</a>}
      <button id="admin" type="button" onClick={() => s.api('/api/admin').catch(() => {})}>Admin</button>
      <a id="login" href={vestibule.loginUrl({ returnTo: location.pathname })}>Sign in</a>
    </section>
  );
}

function ReactApp() {
  const [mounted, setMounted] = useState(true);
  return (
    <>
      {mounted && <ReactStatus />}
      <button id="unmount" type="button" onClick={() => setMounted(false)}>Unmount</button>
    </>
  );
}

const VueStatus = defineComponent({
  setup() {
    const s = useVueSession(vestibule);
    return () => h('section', { id: 'state', 'data-status': s.status.value }, [
      h('p', { id: 'status' }, s.status.value),
      s.session.value ? h('p', { id: 'sub' }, s.session.value.sub) : null,
      s.ended.value ? h('p', { id: 'ended' }, s.ended.value.reason) : null,
      s.error.value ? h('p', { id: 'error' }, String(s.error.value.status)) : null,
      h('a', { id: 'login', href: vestibule.loginUrl({ returnTo: location.pathname }) }, 'Sign in'),
    ]);
  },
});

const root = document.getElementById('root');
if (location.pathname.startsWith('/react/')) {
  createRoot(root).render(<StrictMode><ReactApp /></StrictMode>);
} else if (location.pathname.startsWith('/vue/')) {
  createApp(VueStatus).mount(root);
}
