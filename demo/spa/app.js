// All an SPA needs to use Vestibule: ask who is signed in (with the anti-CSRF header), send the
// user to /auth/login?return_to=<here> to sign in, and follow logout_url to sign out.
async function whoAmI() {
  const res = await fetch('/auth/session', { headers: { 'X-CSRF': '1' } });
  if (res.status === 401) return null;
  if (!res.ok) throw new Error(`session check failed: ${res.status}`);
  return res.json();
}

// API calls go to the same origin; Vestibule adds the bearer token. Only the X-CSRF header is needed.
async function callApi() {
  const res = await fetch('/api/me', { headers: { 'X-CSRF': '1' } });
  const out = document.getElementById('api-result');
  out.textContent = `${res.status}\n${JSON.stringify(await res.json(), null, 2)}`;
  out.hidden = false;
}

function show(id, visible) { document.getElementById(id).hidden = !visible; }

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
    document.getElementById('call-api').addEventListener('click', callApi);
    show('signed-in', true);
  } catch (e) {
    document.getElementById('error').textContent = String(e);
    show('error', true);
  }
}

main();
