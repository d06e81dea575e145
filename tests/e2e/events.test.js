// Browser suite, the SPA always knows when its session ends: after a Vestibule restart (the
// event stream reconnects), in every tab of the browser (one tab holds the stream), and after a
// sign-out at the IdP that reaches Vestibule by front-channel logout only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdp } from './idp.mjs';
import { startApi } from '../../demo/api.mjs';
import { freePort, startProxy, startRedis, launchBrowser, signInToDemo as signIn, waitFor } from './harness.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** Opens the app in another tab of a signed-in browser. */
async function openTab(context, proxy) {
  const page = await context.newPage();
  await page.goto(`${proxy.origin}/`);
  await page.waitForSelector('#signed-in:not([hidden])');
  return page;
}

const apiStatus = (page) => page.evaluate(async () => (await fetch('/api/me', { headers: { 'X-CSRF': '1' } })).status);

/**
 * The `/auth/events` streams the pages of `context` hold open now: counted from the browser's
 * own view of its requests (one started, not yet finished or failed).
 */
function openStreams(context) {
  const open = new Set();
  context.on('request', (r) => { if (new URL(r.url()).pathname === '/auth/events') open.add(r); });
  const done = (r) => open.delete(r);
  context.on('requestfinished', done);
  context.on('requestfailed', done);
  return () => open.size;
}

/** An IdP, the demo API and Vestibule on Redis (sessions outlive a restart) on a fixed port. */
async function stack({ frontchannel = false } = {}) {
  const port = await freePort();
  const redis = await startRedis();
  const idp = await startIdp({ host: '127.0.0.2', port: await freePort('127.0.0.2'), proxyOrigins: [`http://127.0.0.1:${port}`], frontchannel });
  const api = await startApi({ port: await freePort(), issuer: idp.issuer });
  const start = () => startProxy({ issuer: idp.issuer, port, apiPort: api.port, store: 'redis', redisUrl: redis.url });
  const s = { redis, idp, api, start, proxy: await start() };
  s.stop = async () => { await s.proxy.stop(); await api.close(); await idp.close(); await redis.stop(); };
  return s;
}

/** Two browsers of one user (a phone and a laptop), each on the demo, signed in. */
async function twoBrowsers(s) {
  const phone = await browser.newContext();
  const laptop = await browser.newContext();
  const phoneStreams = openStreams(phone);
  const phonePage = await phone.newPage();
  await signIn(phonePage, s.proxy);
  const laptopPage = await laptop.newPage();
  await signIn(laptopPage, s.proxy);
  await laptopPage.waitForFunction(() => document.querySelectorAll('#devices li').length === 2);
  await waitFor(() => phoneStreams() === 1, "the phone's event stream");
  return { phone, laptop, phonePage, laptopPage, phoneStreams, close: async () => { await phone.close(); await laptop.close(); } };
}

test('after a restart, a page hears its session end from another browser within 5 seconds', async () => {
  const s = await stack();
  const b = await twoBrowsers(s);
  try {
    // A rolling deploy: Vestibule closes every stream and comes back on the same origin.
    await s.proxy.stop();
    await waitFor(() => b.phoneStreams() === 0, 'the stream closed by the shutdown');
    s.proxy = await s.start();
    const restarted = Date.now();
    await waitFor(() => b.phoneStreams() === 1, 'the phone reconnected', 5000);

    await b.laptopPage.click('.sign-out-device');
    await b.phonePage.waitForSelector('#session-ended:not([hidden])', { timeout: Math.max(1, 5000 - (Date.now() - restarted)) });
    const heardAfter = Date.now() - restarted;
    assert.ok(heardAfter < 5000, `heard ${heardAfter} ms after the restart`);
    assert.equal(await b.phonePage.textContent('#ended-reason'), 'revoked');
    assert.equal(await b.phonePage.isHidden('#signed-in'), true, 'no longer reads "Signed in as alice"');
    assert.equal(await apiStatus(b.phonePage), 401);
    assert.equal(await apiStatus(b.laptopPage), 200, 'the other browser is still signed in');
  } finally {
    await b.close();
    await s.stop();
  }
});

test('a session ended while its page could not reconnect is heard on the next reconnection, with its reason', async () => {
  const s = await stack();
  const b = await twoBrowsers(s);
  try {
    // The phone's network drops every stream it tries (Vestibule is up): it keeps retrying.
    let refused = 0;
    await b.phone.route('**/auth/events', (route) => { refused += 1; return route.abort('connectionrefused'); });
    await s.proxy.stop();
    s.proxy = await s.start();
    await waitFor(() => refused >= 1, 'a refused reconnection');
    await b.laptopPage.click('.sign-out-device');
    await b.laptopPage.waitForFunction(() => document.querySelectorAll('#devices li').length === 1);
    assert.equal(await b.phonePage.isHidden('#session-ended'), true, 'nothing heard while disconnected');
    await b.phone.unroute('**/auth/events');
    // The next try (the backoff is at most 10 s) is refused with 401: the end it missed.
    await b.phonePage.waitForSelector('#session-ended:not([hidden])', { timeout: 15000 });
    assert.equal(await b.phonePage.textContent('#ended-reason'), 'revoked', 'the reason Vestibule remembered');
  } finally {
    await b.close();
    await s.stop();
  }
});

test('three tabs share one event stream, and a sign-out in one reaches the other two within 2 seconds', async () => {
  const s = await stack();
  const context = await browser.newContext();
  const streams = openStreams(context);
  try {
    const first = await context.newPage();
    await signIn(first, s.proxy);
    const second = await openTab(context, s.proxy);
    const third = await openTab(context, s.proxy);
    await waitFor(() => streams() >= 1, 'a tab holding the event stream');
    // Every tab has loaded its session and subscribed: still one stream for the three.
    await Promise.all([first, second, third].map((p) => p.waitForFunction(() => document.querySelectorAll('#devices li').length === 1)));
    assert.equal(streams(), 1, 'one stream for three tabs');

    const started = Date.now();
    await first.click('#logout');
    await Promise.all([second, third].map((p) => p.waitForSelector('#session-ended:not([hidden])', { timeout: 2000 })));
    const heardAfter = Date.now() - started;
    assert.ok(heardAfter < 2000, `the other tabs heard it after ${heardAfter} ms`);
    for (const p of [second, third]) assert.equal(await p.textContent('#ended-reason'), 'logout');
    // Vestibule ended the session before sending the browser on to the IdP's sign-out.
    await first.waitForURL((u) => u.origin === s.idp.issuer);
    assert.equal(await apiStatus(second), 401, 'signed out for real, not only on screen');
  } finally {
    await context.close();
    await s.stop();
  }
});

test('a tab takes the stream over when the tab holding it closes, and hears the next end', async () => {
  const s = await stack();
  const context = await browser.newContext();
  const other = await browser.newContext();
  const streams = openStreams(context);
  try {
    const first = await context.newPage();
    await signIn(first, s.proxy);
    const second = await openTab(context, s.proxy);
    await waitFor(() => streams() === 1, 'one stream');
    await first.close();
    await waitFor(() => streams() === 1, 'the stream held again, by the remaining tab');
    const otherPage = await other.newPage();
    await signIn(otherPage, s.proxy);
    await otherPage.waitForFunction(() => document.querySelectorAll('.sign-out-device').length === 1);
    await otherPage.click('.sign-out-device');
    await second.waitForSelector('#session-ended:not([hidden])', { timeout: 5000 });
    assert.equal(await second.textContent('#ended-reason'), 'revoked');
  } finally {
    await context.close();
    await other.close();
    await s.stop();
  }
});

test('a sign-out at the IdP only reaches the app by front-channel logout: banner, and the API is 401', async () => {
  const s = await stack({ frontchannel: true });
  const context = await browser.newContext();
  try {
    const app = await context.newPage();
    await signIn(app, s.proxy);
    assert.equal(await apiStatus(app), 200);

    // The user signs out at the IdP itself, in another tab; the IdP has no back-channel to call.
    const idpTab = await context.newPage();
    await idpTab.goto(`${s.idp.issuer}/session/end`);
    await idpTab.click('button[name="logout"]');
    await app.waitForSelector('#session-ended:not([hidden])', { timeout: 5000 });
    assert.equal(await app.textContent('#ended-reason'), 'frontchannel_logout');
    assert.equal(await apiStatus(app), 401, "the app's next API call is refused");
    assert.equal(s.idp.counts.frontchannelPages, 1, 'the IdP framed the front-channel logout URI');
    assert.equal(s.idp.counts.backchannelSent, 0, 'no back-channel logout was involved');
  } finally {
    await context.close();
    await s.stop();
  }
});

test('the demo offers to stay signed in before an idle session ends, and one click keeps the session', async () => {
  const port = await freePort();
  const idp = await startIdp({ host: '127.0.0.2', port: await freePort('127.0.0.2'), proxyOrigins: [`http://127.0.0.1:${port}`] });
  // No session cache: a replica that serves a load from its cache does not slide the store, so
  // with an 8-second idle timeout a click within `cache_ttl` (here at most 4 s) of the page's
  // load would extend nothing.
  const proxy = await startProxy({ issuer: idp.issuer, port, sessionExtra: 'idle_timeout = "8s"\nexpiry_notice = "6s"\ncache_ttl = "0s"\n' });
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await signIn(page, proxy);
    // Unused, the session is warned about `expiry_notice` before its idle end.
    await page.waitForSelector('#expiring:not([hidden])', { timeout: 8000 });
    assert.match(await page.textContent('#expiring'), /Your session ends in 1 minute\(s\)\. Stay signed in/);
    const idleEnd = await page.evaluate(async () => (await (await fetch('/auth/session?slide=false', { headers: { 'X-CSRF': '1' } })).json()).idle_expires_at);
    await page.click('#stay');
    await page.waitForSelector('#expiring', { state: 'hidden' });
    // Past the end it had before the click, the session is alive: the click moved it.
    await new Promise((r) => setTimeout(r, Math.max(0, (idleEnd + 1) * 1000 - Date.now())));
    const status = await page.evaluate(async () => (await fetch('/auth/session?slide=false', { headers: { 'X-CSRF': '1' } })).status);
    assert.equal(status, 200, 'still signed in after the old idle end');
    assert.equal(await page.isHidden('#session-ended'), true);
  } finally {
    await context.close();
    await proxy.stop();
    await idp.close();
  }
});
