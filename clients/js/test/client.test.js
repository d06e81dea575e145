// Unit tests of @vestibule/client against a fake fetch and location (node --test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, Unauthenticated, StepUpRequired, VestibuleError } from '../index.js';

/** A fetch that answers from `routes` (`"METHOD path"` → Response or function) and records calls. */
function fakeFetch(routes) {
  const calls = [];
  const fetch = async (url, init = {}) => {
    const method = init.method ?? 'GET';
    calls.push({ url, method, headers: new Headers(init.headers), init });
    const answer = routes[`${method} ${url}`];
    if (!answer) return new Response('not found', { status: 404 });
    return typeof answer === 'function' ? answer(init) : answer.clone();
  };
  return { fetch, calls };
}

const json = (status, body, headers = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

function fakeLocation(pathname = '/orders/7', search = '?tab=2', hash = '#top') {
  return { pathname, search, hash, assigned: [], assign(url) { this.assigned.push(url); } };
}

test('session() sends the anti-CSRF header and is null when signed out', async () => {
  const signedIn = { sub: 'u1', claims: {}, logout_url: '/auth/logout?token=t' };
  const { fetch, calls } = fakeFetch({ 'GET /auth/session': json(200, signedIn), 'GET /auth/session?slide=false': json(401, { error: 'unauthenticated' }) });
  const c = createClient({ fetch, location: fakeLocation() });
  assert.deepEqual(await c.session(), signedIn);
  assert.equal(calls[0].headers.get('x-csrf'), '1');
  assert.equal(calls[0].init.credentials, 'same-origin');
  assert.equal(await c.session({ slide: false }), null);
});

test('session() throws a VestibuleError (not null) when the store is down', async () => {
  const { fetch } = fakeFetch({ 'GET /auth/session': json(503, { error: 'session_store_unavailable' }) });
  const c = createClient({ fetch, location: fakeLocation() });
  await assert.rejects(c.session(), (e) => e instanceof VestibuleError && e.status === 503 && e.code === 'session_store_unavailable');
});

test('loginUrl() comes back to the current page and passes login parameters', () => {
  const loc = fakeLocation();
  const c = createClient({ fetch: async () => null, location: loc });
  assert.equal(c.loginUrl(), '/auth/login?return_to=%2Forders%2F7%3Ftab%3D2%23top');
  assert.equal(
    c.loginUrl({ returnTo: '/x', prompt: 'none', acrValues: 'mfa', maxAge: 300 }),
    '/auth/login?prompt=none&acr_values=mfa&max_age=300&return_to=%2Fx',
  );
  c.login({ returnTo: '/y' });
  assert.deepEqual(loc.assigned, ['/auth/login?return_to=%2Fy']);
});

test('custom auth prefix and CSRF header are honoured', async () => {
  const { fetch, calls } = fakeFetch({ 'GET /bff/session': json(401, { error: 'unauthenticated' }) });
  const c = createClient({ fetch, location: fakeLocation(), authPrefix: '/bff', csrfHeader: 'X-Requested-By' });
  assert.equal(await c.session(), null);
  assert.equal(calls[0].headers.get('x-requested-by'), '1');
  assert.match(c.loginUrl({ returnTo: '/' }), /^\/bff\/login\?/);
});

test('logout() follows the session logout_url, and does nothing when signed out', async () => {
  const loc = fakeLocation();
  const { fetch } = fakeFetch({ 'GET /auth/session': json(200, { sub: 'u1', logout_url: '/auth/logout?token=abc' }) });
  await createClient({ fetch, location: loc }).logout();
  assert.deepEqual(loc.assigned, ['/auth/logout?token=abc']);
  const out = fakeLocation();
  const signedOut = fakeFetch({ 'GET /auth/session': json(401, { error: 'unauthenticated' }) });
  await createClient({ fetch: signedOut.fetch, location: out }).logout();
  assert.deepEqual(out.assigned, []);
});

test('api() turns Vestibule 401s into typed errors and passes everything else on', async () => {
  const { fetch, calls } = fakeFetch({
    'GET /api/me': json(200, { ok: true }),
    'POST /api/orders': json(401, { error: 'unauthenticated', error_description: 'no live session' }),
    'GET /api/admin': json(401, { error: 'insufficient_user_authentication', acr_values: 'mfa', max_age: null, login_url: '/auth/login?acr_values=mfa&return_to=%2F' }),
    'GET /api/upstream-401': json(401, { message: 'the upstream said no' }),
    'GET /api/missing': json(404, { error: 'nope' }),
  });
  const c = createClient({ fetch, location: fakeLocation() });
  const ok = await c.api('/api/me', { headers: { accept: 'application/json' } });
  assert.equal(ok.status, 200);
  assert.equal(calls[0].headers.get('x-csrf'), '1');
  assert.equal(calls[0].headers.get('accept'), 'application/json', 'the caller\'s headers are kept');
  await assert.rejects(c.api('/api/orders', { method: 'POST', body: '{}' }), Unauthenticated);
  await assert.rejects(c.api('/api/admin'), (e) => e instanceof StepUpRequired
    && e.loginUrl === '/auth/login?acr_values=mfa&return_to=%2F' && e.acrValues === 'mfa');
  assert.equal((await c.api('/api/upstream-401')).status, 401, 'an upstream\'s own 401 is the app\'s to read');
  assert.equal((await c.api('/api/missing')).status, 404);
});

test('the session list calls', async () => {
  const { fetch, calls } = fakeFetch({
    'GET /auth/sessions': json(200, { sessions: [{ handle: 'h1', current: true }] }),
    'DELETE /auth/sessions/a%2Fb': new Response(null, { status: 204 }),
    'DELETE /auth/sessions/gone': json(404, { error: 'session_not_found' }),
    'POST /auth/sessions/end-others': json(200, { ended: 2 }),
  });
  const c = createClient({ fetch, location: fakeLocation() });
  assert.deepEqual(await c.sessions(), [{ handle: 'h1', current: true }]);
  await c.endSession('a/b');
  await assert.rejects(c.endSession('gone'), (e) => e.status === 404 && e.code === 'session_not_found');
  assert.equal(await c.endOtherSessions(), 2);
  assert.ok(calls.every((call) => call.headers.get('x-csrf') === '1'));
});

test('onSessionEnd() hears session_ended from the event stream, once', async () => {
  const encoder = new TextEncoder();
  const body = new ReadableStream({
    start(controller) {
      controller.enqueue(encoder.encode('retry: 3000\n\n: keep-alive\n\nevent: claims_changed\ndata: {}\n\nevent: sess'));
      controller.enqueue(encoder.encode('ion_ended\ndata: {"reason":"revoked"}\n\n'));
      controller.close();
    },
  });
  const { fetch, calls } = fakeFetch({ 'GET /auth/events': () => new Response(body, { headers: { 'content-type': 'text/event-stream' } }) });
  const c = createClient({ fetch, location: fakeLocation() });
  const ended = await new Promise((resolve) => c.onSessionEnd(resolve));
  assert.deepEqual(ended, { reason: 'revoked' });
  assert.equal(calls[0].headers.get('x-csrf'), '1');
});

test('onSessionEnd() calls back exactly once however many session_ended events arrive', async () => {
  const ended = (reason) => `event: session_ended\ndata: {"reason":"${reason}"}\n\n`;
  // Two ends in one chunk (one read), then a third in a later chunk: the stream is pulled chunk by
  // chunk, and the last pull, which closes it, comes only once the client has read all before it.
  const chunks = [ended('revoked') + ended('again'), ended('later')];
  let drained;
  const allRead = new Promise((resolve) => { drained = resolve; });
  const encoder = new TextEncoder();
  const body = new ReadableStream({
    pull(controller) {
      if (chunks.length) controller.enqueue(encoder.encode(chunks.shift()));
      else { controller.close(); drained('read to the end'); }
    },
    cancel() { drained('cancelled'); },
  }, { highWaterMark: 0 });
  // The fake ignores the abort signal, so `once` is the client's doing and not the transport's.
  const { fetch } = fakeFetch({ 'GET /auth/events': () => new Response(body, { headers: { 'content-type': 'text/event-stream' } }) });
  const c = createClient({ fetch, location: fakeLocation() });
  const calls = [];
  c.onSessionEnd((data) => calls.push(data));
  await allRead;
  assert.deepEqual(calls, [{ reason: 'revoked' }]);
});
