// Browser suite, scale-out: three Vestibule replicas behind a round-robin nginx, sharing a Redis
// Cluster or a Sentinel-managed primary, with oidc-provider (10-second access tokens, rotated
// refresh tokens) as the IdP. Logins start on one replica and complete on another; a refresh
// happens once across all three; an ended session is ended on every replica at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdp } from './idp.mjs';
import { startApi } from '../../demo/api.mjs';
import { freePort, startProxy, launchBrowser, signInAtIdp, untilTokenDue, waitFor } from './harness.mjs';
import { startBalancer } from './balancer.mjs';
import { startCluster, startSentinels } from './redis_ha.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

async function stack(startRedis) {
  const redis = await startRedis();
  const lbPort = await freePort();
  const publicUrl = `http://127.0.0.1:${lbPort}`;
  const idp = await startIdp({
    host: '127.0.0.2', port: await freePort('127.0.0.2'), proxyOrigins: [publicUrl], accessTokenTtl: 10,
  });
  const api = await startApi({ port: await freePort(), issuer: idp.issuer });
  const replicas = [];
  for (let i = 0; i < 3; i += 1) {
    // Refresh when under 2 s are left (the default 30 s would refresh 10-second tokens at once).
    replicas.push(await startProxy({
      issuer: idp.issuer, redis: redis.toml, apiPort: api.port, publicUrl, sessionExtra: 'refresh_skew = "2s"\n',
    }));
  }
  const lb = await startBalancer({ port: lbPort, replicas: replicas.map((r) => r.port) });
  const close = async () => {
    await lb.stop();
    for (const r of replicas) await r.stop();
    await api.close();
    await idp.close();
    await redis.stop();
  };
  return { idp, lb, replicas, close };
}

/** Signs in through the balancer; returns the replicas that served /auth/login and /auth/callback. */
async function signIn(page, lb, login) {
  const served = {};
  page.on('response', (r) => {
    const { origin, pathname } = new URL(r.url());
    if (origin === lb.origin && pathname.startsWith('/auth/')) served[pathname] = r.headers()['x-replica'];
  });
  await page.goto(`${lb.origin}/`);
  await page.click('#login');
  await signInAtIdp(page, login);
  await page.waitForSelector('#signed-in:not([hidden])');
  return served;
}

/**
 * `GET path` through the balancer, one request after another (with the browser's cookies), until
 * each of the three replicas has answered once; resolves to { replica: status }.
 */
async function atEveryReplica(context, lb, path) {
  const statuses = {};
  for (let i = 0; i < 12 && Object.keys(statuses).length < 3; i += 1) {
    const r = await context.request.get(`${lb.origin}${path}`, { headers: { 'X-CSRF': '1' }, maxRedirects: 0 });
    statuses[r.headers()['x-replica']] ??= r.status();
  }
  assert.equal(Object.keys(statuses).length, 3, `all three replicas answered: ${JSON.stringify(statuses)}`);
  return Object.values(statuses);
}

for (const [topology, startRedis] of [['a Redis Cluster', startCluster], ['Sentinel', startSentinels]]) {
  test(`three replicas behind nginx on ${topology}: login across replicas, one refresh, logout and back-channel logout everywhere`, async () => {
    const { idp, lb, close } = await stack(startRedis);
    const alice = await browser.newContext();
    const bob = await browser.newContext();
    try {
      const page = await alice.newPage();
      const sentAt = Date.now();
      const served = await signIn(page, lb, 'alice');
      const receivedAt = Date.now();
      const expiresAt = idp.counts.accessTokenExp;
      assert.ok(served['/auth/login'] && served['/auth/callback'], `both steps seen: ${JSON.stringify(served)}`);
      assert.notEqual(served['/auth/login'], served['/auth/callback'], 'the login completed on another replica');
      assert.deepEqual(await atEveryReplica(alice, lb, '/auth/session'), [200, 200, 200]);

      // Until the 10-second access token comes within the 2-second skew (time passing is the point).
      await untilTokenDue({ expiresAt, skew: 2, sentAt, receivedAt });
      const calls = await page.evaluate(async () => Promise.all(Array.from({ length: 20 }, async () => {
        const r = await fetch('/api/me', { headers: { 'X-CSRF': '1' } });
        return [r.status, r.headers.get('x-replica')];
      })));
      assert.deepEqual(calls.map(([status]) => status), Array(20).fill(200), 'all 20 calls succeed');
      assert.equal(new Set(calls.map(([, replica]) => replica)).size, 3, 'the calls were spread over all three replicas');
      assert.equal(idp.counts.refresh, 1, 'the IdP saw exactly one refresh');
      assert.equal(idp.counts.refreshErrors, 0, 'and no reuse of a rotated refresh token');

      // Logout on one replica: by the time its answer reaches the browser, every replica says 401
      // (each had the session in its cache).
      assert.deepEqual(await atEveryReplica(alice, lb, '/auth/session'), [200, 200, 200]);
      await page.click('#logout');
      await page.waitForURL((u) => u.origin === idp.issuer);
      assert.deepEqual(await atEveryReplica(alice, lb, '/auth/session'), [401, 401, 401]);
      assert.deepEqual(await atEveryReplica(alice, lb, '/api/me'), [401, 401, 401]);

      // Back-channel logout: the IdP calls one replica (through the balancer); every replica says 401.
      const bobPage = await bob.newPage();
      await signIn(bobPage, lb, 'bob');
      assert.deepEqual(await atEveryReplica(bob, lb, '/auth/session'), [200, 200, 200]);
      const sent = idp.counts.backchannelSent;
      await bobPage.goto(`${idp.issuer}/session/end`);
      await bobPage.click('button[autofocus], button[type="submit"]');
      await waitFor(() => idp.counts.backchannelSent + idp.counts.backchannelErrors > sent, 'the back-channel call');
      assert.equal(idp.counts.backchannelErrors, 0, `Vestibule accepted the logout token: ${idp.counts.lastBackchannelError}`);
      assert.deepEqual(await atEveryReplica(bob, lb, '/auth/session'), [401, 401, 401]);
    } finally {
      await alice.close();
      await bob.close();
      await close();
    }
  });
}
