// All an SPA needs to use Vestibule: ask who is signed in (with the anti-CSRF header), send the
// user to /auth/login?return_to=<here> to sign in, and follow logout_url to sign out. Beside
// that, this demo lists where the user is signed in (and signs other devices out), and listens
// to /auth/events to hear at once when its session ends elsewhere.
const CSRF = { 'X-CSRF': '1' };

async function whoAmI() {
  const res = await fetch('/auth/session', { headers: CSRF });
  if (res.status === 401) return null;
  if (!res.ok) throw new Error(`session check failed: ${res.status}`);
  return res.json();
}

// API calls go to the same origin; Vestibule adds the bearer token. Only the X-CSRF header is needed.
async function callApi() {
  const res = await fetch('/api/me', { headers: CSRF });
  const out = document.getElementById('api-result');
  out.textContent = `${res.status}\n${JSON.stringify(await res.json(), null, 2)}`;
  out.hidden = false;
}

function show(id, visible) { document.getElementById(id).hidden = !visible; }

// "Signed in on": the user's sessions, each but this one with a button that ends it.
async function listDevices() {
  const res = await fetch('/auth/sessions', { headers: CSRF });
  if (!res.ok) return;
  const { sessions } = await res.json();
  const list = document.getElementById('devices');
  list.replaceChildren(...sessions.map((s) => {
    const li = document.createElement('li');
    li.dataset.handle = s.handle;
    const since = new Date(s.created_at * 1000).toLocaleString();
    li.textContent = `${s.user_agent} · ${s.ip} · since ${since}${s.current ? ' (this device)' : ''} `;
    if (!s.current) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'sign-out-device';
      button.textContent = 'Sign out that device';
      button.addEventListener('click', async () => {
        await fetch(`/auth/sessions/${encodeURIComponent(s.handle)}`, { method: 'DELETE', headers: CSRF });
        await listDevices();
      });
      li.append(button);
    }
    return li;
  }));
}

// /auth/events with fetch (an EventSource cannot send the X-CSRF header): one event per block.
async function listen(onEvent) {
  const res = await fetch('/auth/events', { headers: CSRF });
  if (!res.ok || !res.body) return;
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const name = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (name) onEvent(name, data ? JSON.parse(data) : {});
    }
  }
}

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

let listening = false;

async function main() {
  const here = location.pathname + location.search;
  document.getElementById('path').textContent = here;
  document.getElementById('login').href = '/auth/login?return_to=' + encodeURIComponent(here);
  const params = new URLSearchParams(location.search);
  if (params.has('login_error')) {
    document.getElementById('error').textContent = 'Sign-in failed: ' + params.get('login_error');
    show('error', true);
  }
  try {
    const session = await whoAmI();
    if (!session) { show('signed-out', true); return; }
    document.getElementById('who').textContent = session.claims.name || session.claims.email || session.sub;
    document.getElementById('sub').textContent = session.sub;
    document.getElementById('expires').textContent = new Date(session.expires_at * 1000).toLocaleString();
    document.getElementById('claims').textContent = JSON.stringify(session.claims, null, 2);
    document.getElementById('logout').href = session.logout_url;
    document.getElementById('call-api').onclick = callApi;
    show('signed-in', true);
    await listDevices();
    if (!listening) {
      listening = true;
      listen(onSessionEvent).finally(() => { listening = false; });
    }
  } catch (e) {
    document.getElementById('error').textContent = String(e);
    show('error', true);
  }
}

main();
