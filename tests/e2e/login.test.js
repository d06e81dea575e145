// Browser suite: Debian chromium (playwright-core) + oidc-provider as the IdP on 127.0.0.2 +
// the Vestibule binary on 127.0.0.1, serving the demo SPA.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdp } from './idp.mjs';
import { startApi } from '../../demo/api.mjs';
import { freePort, startProxy, startRedis, launchBrowser, signInAtIdp, sessionStatus } from './harness.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** Starts an IdP allowing `proxyPort` as redirect origin. */
async function idpFor(proxyPort) {
  return startIdp({ host: '127.0.0.2', port: await freePort('127.0.0.2'), proxyOrigins: [`http://127.0.0.1:${proxyPort}`] });
}

/**
 * Records every response the browser receives in `context` (headers, and the body when there is
 * one); the returned function gives all of it as one text.
 */
function recordResponses(context) {
  const received = [];
  // Responses read to their end (an event stream, never ending, is not waited for).
  context.on('requestfinished', (req) => {
    received.push((async () => {
      const r = await req.response();
      if (!r) return '';
      return JSON.stringify(await r.allHeaders().catch(() => ({}))) + await r.text().catch(() => '');
    })());
  });
  return async () => (await Promise.all(received)).join('\n');
}

/** Signs in from a deep link; returns every URL a document of the proxy's origin was shown at. */
async function deepLinkLogin(page, proxy) {
  const seen = [];
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) seen.push(f.url()); });
  await page.goto(`${proxy.origin}/orders/42?view=full`);
  await page.waitForSelector('#signed-out:not([hidden])');
  assert.equal(await sessionStatus(page), 401, '/auth/session is 401 before login');
  await page.click('#login');
  await signInAtIdp(page);
  await page.waitForSelector('#signed-in:not([hidden])');
  return seen;
}

async function checkSignedIn(page, proxy, context, seen, idp, received) {
  assert.equal(page.url(), `${proxy.origin}/orders/42?view=full`, 'lands back on the deep link');
  assert.equal(await page.textContent('#path'), '/orders/42?view=full');
  for (const u of seen.filter((x) => x.startsWith(proxy.origin))) {
    const q = new URL(u).searchParams;
    assert.ok(!q.has('code') && !q.has('state'), `no code/state in a URL the SPA saw: ${u}`);
  }
  assert.equal(await sessionStatus(page), 200, '/auth/session is 200 after login');
  assert.equal(await page.textContent('#sub'), 'alice');
  assert.equal(await page.textContent('#who'), 'Demo user alice', 'ID token claims reach the SPA');
  assert.equal(await page.evaluate(() => document.cookie), '', 'document.cookie shows nothing');
  const cookies = await context.cookies(proxy.origin);
  assert.ok(cookies.some((c) => c.name === 'vestibule'), 'session cookie set');
  for (const c of cookies.filter((k) => k.domain === '127.0.0.1')) {
    assert.equal(c.httpOnly, true, `${c.name} is HttpOnly`);
    assert.equal(c.sameSite, 'Lax', `${c.name} is SameSite=Lax`);
    assert.ok(c.value.length < 200 && /^[A-Za-z0-9_-]+$/.test(c.value), `${c.name} is an opaque reference`);
    assert.ok(!c.value.includes('.'), `${c.name} is not a JWT`);
  }
  const body = await page.evaluate(async () => (await fetch('/auth/session', { headers: { 'X-CSRF': '1' } })).text());
  assert.ok(!/eyJ[A-Za-z0-9_-]{10,}\./.test(body), '/auth/session holds no JWT');

  // The very tokens the IdP issued (its access and refresh tokens are opaque: no pattern would
  // find them) are nowhere the page or the browser can read.
  const kinds = idp.issued.map((t) => t.kind);
  for (const kind of ['access_token', 'refresh_token', 'id_token']) assert.ok(kinds.includes(kind), `the IdP issued an ${kind}: ${kinds}`);
  const storage = await page.evaluate(() => JSON.stringify({ cookie: document.cookie, local: { ...localStorage }, session: { ...sessionStorage } }));
  const cookieJar = JSON.stringify(await context.cookies());
  const responses = await received();
  for (const { kind, value } of idp.issued) {
    assert.ok(!body.includes(value), `/auth/session holds no ${kind}`);
    assert.ok(!storage.includes(value), `document.cookie, localStorage and sessionStorage hold no ${kind}`);
    assert.ok(!cookieJar.includes(value), `no cookie holds the ${kind}`);
    assert.ok(!responses.includes(value), `no response to the browser carried the ${kind}`);
  }
}

test('memory store: deep-link login, cookies, session endpoint, API call with the token, logout', async () => {
  const port = await freePort();
  const idp = await idpFor(port);
  const api = await startApi({ port: await freePort(), issuer: idp.issuer });
  const proxy = await startProxy({ issuer: idp.issuer, port, apiPort: api.port });
  const context = await browser.newContext();
  const received = recordResponses(context);
  try {
    const page = await context.newPage();
    const seen = await deepLinkLogin(page, proxy);
    await checkSignedIn(page, proxy, context, seen, idp, received);

    // The SPA calls the API; the API verified Vestibule's bearer token at the IdP (introspection).
    await page.click('#call-api');
    await page.waitForSelector('#api-result:not([hidden])');
    const result = await page.textContent('#api-result');
    assert.match(result, /^200\n/);
    const body = JSON.parse(result.slice(4));
    assert.equal(body.sub, 'alice');
    assert.equal(body.token_active, true);
    assert.equal(body.client_id, 'vestibule');
    assert.equal(body.saw_cookie, false, 'the browser cookie never reaches the API');
    assert.equal(api.state.introspections, 1);
    // Without the anti-CSRF header the call is refused and never reaches the API.
    const refused = await page.evaluate(async () => {
      const r = await fetch('/api/me');
      return { status: r.status, body: await r.json() };
    });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error, 'csrf_header_required');
    assert.equal(api.state.introspections, 1);

    // Logout through logout_url passes the IdP's end-session page and ends the session.
    await page.click('#logout');
    await page.waitForURL((u) => u.origin === idp.issuer);
    // oidc-provider's end-session page asks to confirm the sign-out, then returns to the app.
    await page.click('button[autofocus], button[type="submit"]');
    await page.waitForURL((u) => u.origin === proxy.origin);
    await page.waitForSelector('#signed-out:not([hidden])');
    assert.equal(await sessionStatus(page), 401);
    const after = await page.evaluate(async () => (await fetch('/api/me', { headers: { 'X-CSRF': '1' } })).status);
    assert.equal(after, 401, 'the API is 401 after logout');
  } finally {
    await context.close();
    await proxy.stop();
    await api.close();
    await idp.close();
  }
});

test('redis store: login works and the session survives a proxy restart', async () => {
  const redis = await startRedis();
  const port = await freePort();
  const idp = await idpFor(port);
  let proxy = await startProxy({ issuer: idp.issuer, store: 'redis', redisUrl: redis.url, port });
  const context = await browser.newContext();
  const received = recordResponses(context);
  try {
    const page = await context.newPage();
    const seen = await deepLinkLogin(page, proxy);
    await checkSignedIn(page, proxy, context, seen, idp, received);

    await proxy.stop();
    proxy = await startProxy({ issuer: idp.issuer, store: 'redis', redisUrl: redis.url, port });
    await page.reload();
    await page.waitForSelector('#signed-in:not([hidden])');
    assert.equal(await sessionStatus(page), 200, 'the session lives in Redis, not in the process');
  } finally {
    await context.close();
    await proxy.stop();
    await idp.close();
    await redis.stop();
  }
});
