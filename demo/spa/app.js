// The demo SPA, on @vestibule/client (clients/js, served here as /vestibule-client.js): who is
// signed in, sign in and out, call the API, list where the user is signed in (and sign other
// devices out), and hear at once when this session ends elsewhere.
import { createClient, Unauthenticated, StepUpRequired } from '/vestibule-client.js';

const vestibule = createClient();

function show(id, visible) { document.getElementById(id).hidden = !visible; }

async function callApi() {
  const out = document.getElementById('api-result');
  try {
    const res = await vestibule.api('/api/me');
    out.textContent = `${res.status}\n${JSON.stringify(await res.json(), null, 2)}`;
  } catch (e) {
    if (e instanceof StepUpRequired) { location.assign(e.loginUrl); return; }
    if (e instanceof Unauthenticated) { vestibule.login(); return; }
    out.textContent = String(e);
  }
  out.hidden = false;
}

// "Signed in on": the user's sessions, each but this one with a button that ends it.
async function listDevices() {
  const sessions = await vestibule.sessions().catch(() => []);
  const list = document.getElementById('devices');
  list.replaceChildren(...sessions.map((s) => {
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

let stopListening = null;

function onSessionEvent(name, data) {
  if (name === 'session_ended') {
    document.getElementById('ended-reason').textContent = data.reason;
    show('signed-in', false);
    show('session-ended', true);
  } else if (name === 'session_expiring') {
    show('expiring', true);
  } else if (name === 'claims_changed') {
    main();
  }
}

async function main() {
  const here = location.pathname + location.search;
  document.getElementById('path').textContent = here;
  document.getElementById('login').href = vestibule.loginUrl({ returnTo: here });
  const params = new URLSearchParams(location.search);
  if (params.has('login_error')) {
    document.getElementById('error').textContent = 'Sign-in failed: ' + params.get('login_error');
    show('error', true);
  }
  try {
    const session = await vestibule.session();
    if (!session) { show('signed-out', true); return; }
    document.getElementById('who').textContent = session.claims.name || session.claims.email || session.sub;
    document.getElementById('sub').textContent = session.sub;
    document.getElementById('expires').textContent = new Date(session.expires_at * 1000).toLocaleString();
    document.getElementById('claims').textContent = JSON.stringify(session.claims, null, 2);
    document.getElementById('logout').href = session.logout_url;
    document.getElementById('call-api').onclick = callApi;
    show('signed-in', true);
    await listDevices();
    stopListening ??= vestibule.onEvent(onSessionEvent);
  } catch (e) {
    document.getElementById('error').textContent = String(e);
    show('error', true);
  }
}

main();
