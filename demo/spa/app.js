// The demo SPA, on @vestibule/client (clients/js, served here under /vestibule/): who is signed
// in, sign in and out, call the API, list where the user is signed in (and sign other devices
// out), hear at once when this session ends elsewhere (in another tab, on another device, at the
// IdP, or while Vestibule restarted), and offer to stay signed in before an idle session ends.
// Its state is the package's session store, the same one its React and Vue bindings wrap.
import { createClient, createSessionStore, Unauthenticated, StepUpRequired } from '/vestibule/index.js';

const vestibule = createClient();
const store = createSessionStore(vestibule);

const $ = (id) => document.getElementById(id);
function show(id, visible) { $(id).hidden = !visible; }

async function callApi() {
  const out = $('api-result');
  try {
    const res = await store.api('/api/me');
    out.textContent = `${res.status}\n${JSON.stringify(await res.json(), null, 2)}`;
  } catch (e) {
    if (e instanceof StepUpRequired) { location.assign(e.loginUrl); return; }
    if (e instanceof Unauthenticated) return; // the store now says signed out
    out.textContent = String(e);
  }
  out.hidden = false;
}

// "Signed in on": the user's sessions, each but this one with a button that ends it.
async function listDevices() {
  const sessions = await vestibule.sessions().catch(() => []);
  $('devices').replaceChildren(...sessions.map((s) => {
    const li = document.createElement('li');
    li.dataset.handle = s.handle;
    const label = s.device === 'unknown'
      ? 'an unknown device'
      : `${s.user_agent} · ${s.ip} · since ${new Date(s.created_at * 1000).toLocaleString()}`;
    li.textContent = `${label}${s.current ? ' (this device)' : ''} `;
    if (!s.current) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'sign-out-device';
      button.textContent = 'Sign out that device';
      button.addEventListener('click', async () => {
        await vestibule.endSession(s.handle).catch(() => {});
        await listDevices();
      });
      li.append(button);
    }
    return li;
  }));
}

let shownSession = null;

function render() {
  const { status, session, error, ended, expiring } = store.getSnapshot();
  show('loading', status === 'loading');
  show('error', status === 'error' || Boolean(new URLSearchParams(location.search).get('login_error')));
  if (status === 'error') $('error').textContent = String(error);
  show('signed-in', (status === 'signed-in' || status === 'step-up') && !ended);
  show('signed-out', status === 'signed-out' && !ended);
  show('session-ended', Boolean(ended));
  if (ended) $('ended-reason').textContent = ended.reason;
  show('expiring', Boolean(expiring));
  if (expiring) $('expiring-in').textContent = `${Math.max(1, Math.round(expiring.expiresIn / 60))} minute(s)`;
  if (session && session !== shownSession) {
    shownSession = session;
    $('who').textContent = session.claims.name || session.claims.email || session.sub;
    $('sub').textContent = session.sub;
    $('expires').textContent = new Date(session.expires_at * 1000).toLocaleString();
    $('claims').textContent = JSON.stringify(session.claims, null, 2);
    $('logout').href = session.logout_url;
    listDevices();
  }
}

const here = location.pathname + location.search;
$('path').textContent = here;
$('login').href = vestibule.loginUrl({ returnTo: here });
const loginError = new URLSearchParams(location.search).get('login_error');
if (loginError) $('error').textContent = `Sign-in failed: ${loginError}`;
$('call-api').onclick = callApi;
$('stay').onclick = () => store.extend().catch(() => {});
// Signing out with the client (not only the link) tells this browser's other tabs at once.
$('logout').onclick = (e) => { e.preventDefault(); store.logout(); };
store.subscribe(render);
render();
