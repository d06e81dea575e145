// Unit tests of @vestibule/client against a fake fetch and location (node --test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, createSessionStore, Unauthenticated, StepUpRequired, VestibuleError } from '../index.js';

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

/** The header Vestibule puts on its own refusals (and removes from upstreams' answers). */
const REFUSED = { 'vestibule-refusal': 'yes' };

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
    'POST /api/orders': json(401, { error: 'unauthenticated', error_description: 'no live session' }, REFUSED),
    'GET /api/admin': json(401, { error: 'insufficient_user_authentication', acr_values: 'mfa', max_age: null, login_url: '/auth/login?acr_values=mfa&return_to=%2F' }, REFUSED),
    'GET /api/upstream-401': json(401, { message: 'the upstream said no' }),
    // An upstream's 401 in Vestibule's very words, but without Vestibule's mark.
    'GET /api/impostor': json(401, { error: 'unauthenticated', reason: 'revoked' }),
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
  assert.equal((await c.api('/api/impostor')).status, 401, 'an upstream cannot pass for Vestibule');
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

// --- Errors: every method, the same answer, the same error --------------------------------

test('every method rejects the same way on the same answer', async () => {
  const answers = {
    401: () => json(401, { error: 'unauthenticated', reason: 'revoked' }),
    403: () => json(403, { error: 'csrf', error_description: 'missing X-CSRF' }),
    503: () => json(503, { error: 'session_store_unavailable' }),
  };
  for (const [status, answer] of Object.entries(answers)) {
    const every = (method, path) => ({ [`${method} ${path}`]: answer });
    const { fetch } = fakeFetch({
      ...every('GET', '/auth/sessions'), ...every('DELETE', '/auth/sessions/h'),
      ...every('POST', '/auth/sessions/end-others'), ...every('GET', '/auth/session'),
    });
    const c = createClient({ fetch, location: fakeLocation(), crossTab: false });
    const calls = { sessions: () => c.sessions(), endSession: () => c.endSession('h'), endOtherSessions: () => c.endOtherSessions(), extend: () => c.extend() };
    for (const [name, call] of Object.entries(calls)) {
      await assert.rejects(call(), (e) => {
        assert.ok(e instanceof VestibuleError, `${name} on ${status}: ${e}`);
        assert.equal(e.status, Number(status), name);
        if (status === '401') {
          assert.ok(e instanceof Unauthenticated, `${name} on 401`);
          assert.equal(e.reason, 'revoked');
        } else {
          assert.ok(!(e instanceof Unauthenticated), `${name} on ${status}`);
          assert.equal(e.code, status === '403' ? 'csrf' : 'session_store_unavailable');
        }
        return true;
      });
    }
    if (status === '401') assert.equal(await c.session(), null, 'session() is null when signed out');
    else await assert.rejects(c.session(), (e) => e instanceof VestibuleError && e.status === Number(status));
  }
});

test('a network failure is a VestibuleError with status 0 from every method', async () => {
  const fetch = async () => { throw new TypeError('Failed to fetch'); };
  const c = createClient({ fetch, location: fakeLocation(), crossTab: false });
  for (const call of [() => c.session(), () => c.sessions(), () => c.endOtherSessions(), () => c.api('/api/x'), () => c.extend()]) {
    await assert.rejects(call(), (e) => e instanceof VestibuleError && e.status === 0 && e.code === 'network_error');
  }
});

test('the error classes can be constructed as their types say', () => {
  const e = new VestibuleError(503, 'x', 'store down');
  assert.deepEqual([e.status, e.code, e.message, e.name], [503, 'x', 'store down', 'VestibuleError']);
  const s = new StepUpRequired();
  assert.ok(s instanceof VestibuleError && s instanceof Error);
  assert.deepEqual([s.status, s.loginUrl, s.acrValues, s.maxAge], [401, '', null, null]);
  const u = new Unauthenticated(undefined, 'revoked');
  assert.deepEqual([u.status, u.code, u.reason, u.message], [401, 'unauthenticated', 'revoked', 'not signed in']);
});

// --- Events: reconnection, missed ends, several tabs --------------------------------------

const encoder = new TextEncoder();
const sse = (...events) => new Response(new ReadableStream({
  start(controller) {
    controller.enqueue(encoder.encode('retry: 3000\n\n'));
    for (const e of events) controller.enqueue(encoder.encode(e));
    controller.close();
  },
}), { headers: { 'content-type': 'text/event-stream' } });
const endedEvent = (reason) => `event: session_ended\ndata: {"reason":"${reason}"}\n\n`;

/** A fetch for /auth/events that plays `answers` in turn (a function may throw: the network). */
function eventsFetch(answers, whoami = () => json(200, { sub: 'u' })) {
  const calls = [];
  const fetch = async (url, init = {}) => {
    if (url === '/auth/session?slide=false') return whoami();
    calls.push({ url, init });
    const next = answers.shift();
    if (!next) return new Promise(() => {}); // hangs, as an open stream would
    return next(url);
  };
  return { fetch, calls };
}

test('the event stream reconnects after it ends or fails, and hears the end on a later stream', async () => {
  const { fetch, calls } = eventsFetch([
    () => sse(': keep-alive\n\n'), // the server closed it (a restart)
    () => { throw new TypeError('connection refused'); },
    () => json(503, { error: 'too_many_streams' }),
    () => sse(endedEvent('revoked')),
  ]);
  const c = createClient({ fetch, location: fakeLocation(), crossTab: false, backoff: { base: 1, cap: 4 } });
  const ended = await new Promise((resolve) => c.onSessionEnd(resolve));
  assert.deepEqual(ended, { reason: 'revoked' });
  assert.equal(calls.length, 4);
  assert.ok(calls.every((call) => call.url === '/auth/events'));
});

test('an end missed while disconnected fires with the reason Vestibule remembers, else unknown', async () => {
  for (const [answer, reason] of [[{ error: 'unauthenticated', reason: 'backchannel_logout' }, 'backchannel_logout'], [{ error: 'unauthenticated' }, 'unknown']]) {
    const { fetch } = eventsFetch([() => sse(), () => json(401, answer)]);
    const c = createClient({ fetch, location: fakeLocation(), crossTab: false, backoff: { base: 1, cap: 2 } });
    assert.deepEqual(await new Promise((resolve) => c.onSessionEnd(resolve)), { reason });
  }
});

test('an end missed after the session was due is called expired', async () => {
  const due = Math.floor(Date.now() / 1000) - 1;
  const { fetch } = eventsFetch([
    () => sse(`event: session_expiring\ndata: {"expires_at":${due},"expires_in":0,"reason":"idle"}\n\n`),
    () => json(401, { error: 'unauthenticated' }),
  ]);
  const c = createClient({ fetch, location: fakeLocation(), crossTab: false, backoff: { base: 1, cap: 2 } });
  const heard = [];
  const ended = await new Promise((resolve) => c.onEvent((name, data) => { heard.push(name); if (name === 'session_ended') resolve(data); }));
  assert.deepEqual(heard, ['session_expiring', 'session_ended']);
  assert.deepEqual(ended, { reason: 'expired' });
});

test('unsubscribing stops the reconnections', async () => {
  const { fetch, calls } = eventsFetch([() => sse(), () => sse(), () => sse(), () => sse()]);
  const c = createClient({ fetch, location: fakeLocation(), crossTab: false, backoff: { base: 20, cap: 20 } });
  const stop = c.onEvent(() => {});
  await new Promise((r) => setTimeout(r, 5));
  stop();
  const seen = calls.length;
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(calls.length, seen, 'no reconnection after the page stopped listening');
  assert.equal(seen, 1);
});

test('reconnection delays grow, with jitter, up to the cap', async () => {
  const times = [];
  const fetch = async () => { times.push(Date.now()); throw new TypeError('down'); };
  const c = createClient({ fetch, location: fakeLocation(), crossTab: false, backoff: { base: 10, cap: 40 } });
  const stop = c.onEvent(() => {});
  await new Promise((r) => setTimeout(r, 260));
  stop();
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  // Ceilings 20, 40, 40, … (the first failure already counts); each gap is 0.5–1 of its ceiling.
  assert.ok(gaps.length >= 4, `gaps ${gaps}`);
  assert.ok(gaps[0] >= 9 && gaps[0] < 35, `first gap ${gaps[0]}`);
  assert.ok(gaps.slice(1).every((g) => g >= 19 && g < 60), `gaps ${gaps}`);
});

/** Web Locks for tests: exclusive, in request order, abortable while waiting. */
function fakeLocks() {
  const queues = new Map();
  return {
    request(name, { signal } = {}, callback) {
      return new Promise((resolve, reject) => {
        const queue = queues.get(name) ?? [];
        queues.set(name, queue);
        const entry = {
          async run() {
            try { resolve(await callback()); } catch (e) { reject(e); } finally { queue.shift(); queue[0]?.run(); }
          },
        };
        signal?.addEventListener('abort', () => {
          const i = queue.indexOf(entry);
          if (i > 0) { queue.splice(i, 1); reject(new DOMException('aborted', 'AbortError')); }
        });
        queue.push(entry);
        if (queue.length === 1) entry.run();
      });
    },
  };
}

/** `promise`, or a failure after `ms`; its timer keeps Node alive while channel messages travel. */
function within(promise, ms = 2000) {
  let timer;
  const late = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`not within ${ms} ms`)), ms); });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

test('tabs share one stream: one tab holds it, the others hear its events, and take over when it goes', async () => {
  const locks = fakeLocks();
  let push;
  const opened = [];
  const tab = (name) => {
    const fetch = async (url, init) => {
      if (url === '/tabs-test/session?slide=false') return json(200, { sub: 'u' });
      opened.push(name);
      if (name === 'a') {
        // Tab a's stream stays open until a stops listening.
        return new Response(new ReadableStream({ start(c) {
          push = (t) => c.enqueue(encoder.encode(t));
          init.signal.addEventListener('abort', () => c.error(new DOMException('aborted', 'AbortError')));
        } }));
      }
      return sse(endedEvent('revoked'));
    };
    return createClient({ fetch, location: fakeLocation(), locks, authPrefix: '/tabs-test' });
  };
  const a = tab('a');
  const b = tab('b');
  const stopA = a.onEvent(() => {});
  const heardByB = [];
  let claimsHeard;
  const bHeardClaims = new Promise((resolve) => { claimsHeard = resolve; });
  const bEnded = new Promise((resolve) => b.onEvent((name, data) => {
    heardByB.push(name);
    if (name === 'claims_changed') claimsHeard();
    if (name === 'session_ended') resolve(data);
  }));
  await within(new Promise((r) => { const t = setInterval(() => { if (push) { clearInterval(t); r(); } }, 1); }));
  push('event: claims_changed\ndata: {}\n\n');
  await within(bHeardClaims);
  assert.deepEqual(opened, ['a'], 'one stream for two tabs');
  // Tab a goes: b takes the stream over, and hears the end on it.
  stopA();
  assert.deepEqual(await within(bEnded), { reason: 'revoked' });
  assert.deepEqual(opened, ['a', 'b']);
  assert.deepEqual(heardByB, ['claims_changed', 'session_ended']);
});

test('a sign-out in one tab reaches the others at once, without a stream of their own', async () => {
  const locks = fakeLocks();
  const hanging = async () => new Promise(() => {});
  const signedIn = { sub: 'u', logout_url: '/auth/logout?token=t' };
  const mk = (fetch) => createClient({ fetch, location: fakeLocation(), locks, authPrefix: '/logout-test' });
  const leaving = mk(async (url) => (url.includes('/session') ? json(200, signedIn) : hanging()));
  const other = mk(hanging);
  const otherEnded = new Promise((resolve) => other.onSessionEnd(resolve));
  await leaving.logout();
  assert.deepEqual(await within(otherEnded), { reason: 'logout' });
});

// --- The session store under the React and Vue bindings -----------------------------------

test('the session store goes loading → signed-in → expiring → extended → ended', async () => {
  let push;
  const session = { sub: 'u', claims: {}, expires_at: 100, logout_url: '/auth/logout?token=t' };
  const fetch = async (url) => {
    if (url === '/auth/session') return json(200, session);
    if (url === '/auth/events') return new Response(new ReadableStream({ start(c) { push = (t) => c.enqueue(encoder.encode(t)); } }));
    return json(404, {});
  };
  const store = createSessionStore(createClient({ fetch, location: fakeLocation(), crossTab: false }));
  const seen = [];
  const changed = () => new Promise((resolve) => { const stop = store.subscribe(() => { stop(); resolve(); }); });
  const unsubscribe = store.subscribe(() => seen.push(store.getSnapshot().status));
  assert.equal(store.getSnapshot().status, 'loading');
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(store.getSnapshot().status, 'signed-in');
  assert.equal(store.getSnapshot().session.sub, 'u');
  push('event: session_expiring\ndata: {"expires_at":200,"expires_in":120,"reason":"idle"}\n\n');
  await changed();
  assert.deepEqual(store.getSnapshot().expiring, { expiresAt: 200, expiresIn: 120, reason: 'idle' });
  await store.extend();
  assert.equal(store.getSnapshot().expiring, null);
  push(endedEvent('frontchannel_logout'));
  await changed();
  assert.equal(store.getSnapshot().status, 'signed-out');
  assert.deepEqual(store.getSnapshot().ended, { reason: 'frontchannel_logout' });
  unsubscribe();
  assert.ok(seen.includes('signed-in'));
});

test('the session store opens no stream when its last subscriber leaves before the session answers', async () => {
  let answer;
  const calls = [];
  const fetch = async (url) => {
    calls.push(url);
    if (url === '/auth/session') return new Promise((resolve) => { answer = () => resolve(json(200, { sub: 'u', claims: {} })); });
    return new Promise(() => {});
  };
  const store = createSessionStore(createClient({ fetch, location: fakeLocation(), crossTab: false }));
  const unsubscribe = store.subscribe(() => {});
  await new Promise((r) => setTimeout(r, 5));
  unsubscribe();
  answer();
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(calls, ['/auth/session'], 'no /auth/events for an unmounted component');
  assert.equal(store.getSnapshot().status, 'loading');
});

test('the session store shows errors, step-up and sign-out from what Vestibule answered', async () => {
  let down = true;
  const fetch = async (url) => {
    if (url === '/auth/session') return down ? json(503, { error: 'session_store_unavailable' }) : json(200, { sub: 'u', claims: {} });
    if (url === '/api/admin') return json(401, { error: 'insufficient_user_authentication', login_url: '/auth/login?acr_values=mfa' }, REFUSED);
    if (url === '/api/gone') return json(401, { error: 'unauthenticated' }, REFUSED);
    return new Promise(() => {});
  };
  const store = createSessionStore(createClient({ fetch, location: fakeLocation(), crossTab: false }));
  const stop = store.subscribe(() => {});
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(store.getSnapshot().status, 'error');
  assert.equal(store.getSnapshot().error.status, 503);
  down = false;
  await store.refresh();
  assert.equal(store.getSnapshot().status, 'signed-in');
  await assert.rejects(store.api('/api/admin'), StepUpRequired);
  assert.equal(store.getSnapshot().status, 'step-up');
  assert.equal(store.getSnapshot().stepUp.loginUrl, '/auth/login?acr_values=mfa');
  assert.equal(store.getSnapshot().session.sub, 'u', 'the session stays during a step-up');
  await assert.rejects(store.api('/api/gone'), Unauthenticated);
  assert.equal(store.getSnapshot().status, 'signed-out');
  stop();
});

// --- What the attack review found -------------------------------------------------------------

test('a step-up login_url that is not Vestibule\'s login endpoint on this origin is never followed', async () => {
  for (const loginUrl of ['javascript:alert(document.domain)', 'https://evil.example/auth/login?x', '//evil.example/auth/login?x', '/elsewhere', '/auth/login\\@evil']) {
    const { fetch } = fakeFetch({ 'GET /api/admin': json(401, { error: 'insufficient_user_authentication', acr_values: 'mfa', max_age: 60, login_url: loginUrl }, REFUSED) });
    const c = createClient({ fetch, location: fakeLocation(), crossTab: false });
    await assert.rejects(c.api('/api/admin'), (e) => {
      assert.ok(e instanceof StepUpRequired);
      assert.equal(e.loginUrl, '/auth/login?acr_values=mfa&max_age=60&return_to=%2Forders%2F7%3Ftab%3D2%23top', loginUrl);
      return true;
    });
  }
});

test('a body that is not JSON is a VestibuleError, never a SyntaxError', async () => {
  const page = () => new Response('<html>captive portal</html>', { status: 200, headers: { 'content-type': 'text/html' } });
  const { fetch } = fakeFetch({ 'GET /auth/session': page, 'GET /auth/sessions': page, 'POST /auth/sessions/end-others': page });
  const c = createClient({ fetch, location: fakeLocation(), crossTab: false });
  for (const call of [() => c.session(), () => c.extend(), () => c.sessions(), () => c.endOtherSessions()]) {
    await assert.rejects(call(), (e) => e instanceof VestibuleError && e.status === 200 && e.code === 'invalid_response');
  }
});

test('a stream reopened for another user (another tab signed in meanwhile) ends this page\'s session as replaced', async () => {
  let who = 'alice';
  const { fetch, calls } = eventsFetch([
    () => sse(), // alice's stream ends (a restart)…
    () => { who = 'bob'; return sse(': keep-alive\n\n'); }, // …and meanwhile bob signed in elsewhere

  ], () => json(200, { sub: who }));
  const c = createClient({ fetch, location: fakeLocation(), crossTab: false, backoff: { base: 1, cap: 2 } });
  assert.deepEqual(await new Promise((resolve) => c.onSessionEnd(resolve)), { reason: 'replaced' });
  assert.equal(calls.length, 2);
});

test('the stream waits as long as a 503 or 429 asks (Retry-After), within six times the cap', async () => {
  const times = [];
  const { fetch } = eventsFetch([
    () => { times.push(Date.now()); return json(503, { error: 'too_many_streams' }, { 'retry-after': '0.2' }); },
    () => { times.push(Date.now()); return sse(endedEvent('revoked')); },
  ]);
  const c = createClient({ fetch, location: fakeLocation(), crossTab: false, backoff: { base: 1, cap: 50 } });
  await new Promise((resolve) => c.onSessionEnd(resolve));
  assert.ok(times[1] - times[0] >= 195, `waited ${times[1] - times[0]} ms`);
});

test('the event parser: CRLF split between chunks, several data lines, odd data, and a runaway line', async () => {
  const { SseParser } = await import('../events.js');
  const p = new SseParser();
  const heard = [
    ...p.push('event: session_ended\r'),
    ...p.push('\ndata: {"reason":\r\ndata: "revoked"}\r'),
    ...p.push('\n\r\n'),
    ...p.push('event: session_ended\ndata: null\n\nevent: claims_changed\ndata: [1]\n\n: comment\n\n'),
    ...p.push('event: session_expiring\rdata: {"expires_in":5}\r\r'),
  ];
  assert.deepEqual(heard, [
    { name: 'session_ended', data: { reason: 'revoked' } },
    { name: 'session_ended', data: {} },
    { name: 'claims_changed', data: {} },
    { name: 'session_expiring', data: { expires_in: 5 } },
  ]);
  const runaway = new SseParser();
  assert.throws(() => { for (let i = 0; i < 100; i += 1) runaway.push('x'.repeat(1024)); }, /too long/);
  // Linear: a long line in many chunks costs what its length does.
  const started = Date.now();
  const long = new SseParser();
  for (let i = 0; i < 60; i += 1) long.push('data: '.concat('y'.repeat(1000)));
  assert.ok(Date.now() - started < 200);
});
