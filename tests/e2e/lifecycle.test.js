// Browser suite, token lifecycle: oidc-provider with 10-second access tokens and refresh-token
// rotation; the IdP's back-channel logout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdp } from './idp.mjs';
import { startApi } from '../../demo/api.mjs';
import { freePort, startProxy, launchBrowser, signInAtIdp, sessionStatus, untilTokenDue, waitFor } from './harness.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

async function stack({ accessTokenTtl }) {
  const port = await freePort();
  const idp = await startIdp({
    host: '127.0.0.2', port: await freePort('127.0.0.2'), proxyOrigins: [`http://127.0.0.1:${port}`], accessTokenTtl,
  });
  const api = await startApi({ port: await freePort(), issuer: idp.issuer });
  // Refresh when under 2 s are left (the default 30 s would refresh 10-second tokens at once).
  const proxy = await startProxy({ issuer: idp.issuer, port, apiPort: api.port, sessionExtra: 'refresh_skew = "2s"\n' });
  const close = async () => { await proxy.stop(); await api.close(); await idp.close(); };
  return { idp, api, proxy, close };
}

async function signIn(page, proxy) {
  await page.goto(`${proxy.origin}/`);
  await page.click('#login');
  await signInAtIdp(page);
  await page.waitForSelector('#signed-in:not([hidden])');
}

test('after the access token expires, 20 concurrent API calls cause exactly one refresh', async () => {
  const { idp, proxy, close } = await stack({ accessTokenTtl: 10 });
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const sentAt = Date.now();
    await signIn(page, proxy);
    const receivedAt = Date.now();
    const first = await page.evaluate(async () => (await fetch('/api/me', { headers: { 'X-CSRF': '1' } })).status);
    assert.equal(first, 200);
    assert.equal(idp.counts.refresh, 0);
    // Until the 10-second access token comes within the 2-second skew (time passing is the point).
    await untilTokenDue({ expiresAt: idp.counts.accessTokenExp, skew: 2, sentAt, receivedAt });
    const statuses = await page.evaluate(async () => {
      const calls = Array.from({ length: 20 }, () => fetch('/api/me', { headers: { 'X-CSRF': '1' } }));
      return Promise.all(calls.map(async (c) => (await c).status));
    });
    assert.deepEqual(statuses, Array(20).fill(200), 'all 20 calls succeed');
    assert.equal(idp.counts.refresh, 1, 'the IdP saw exactly one refresh');
    assert.equal(idp.counts.refreshErrors, 0, 'and no reuse of a rotated refresh token');
    assert.equal(await sessionStatus(page), 200);
  } finally {
    await context.close();
    await close();
  }
});

test('a back-channel logout from the IdP ends the session', async () => {
  const { idp, proxy, close } = await stack({ accessTokenTtl: 3600 });
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await signIn(page, proxy);
    assert.equal(await sessionStatus(page), 200);
    // The user signs out at the IdP itself (not through Vestibule): the IdP calls
    // /auth/backchannel-logout server to server.
    await page.goto(`${idp.issuer}/session/end`);
    await page.click('button[autofocus], button[type="submit"]');
    await waitFor(() => idp.counts.backchannelSent + idp.counts.backchannelErrors > 0, 'the back-channel call');
    assert.equal(idp.counts.backchannelErrors, 0, `Vestibule accepted the logout token: ${idp.counts.lastBackchannelError}`);
    await page.goto(`${proxy.origin}/`);
    await page.waitForSelector('#signed-out:not([hidden])');
    assert.equal(await sessionStatus(page), 401);
    const api = await page.evaluate(async () => (await fetch('/api/me', { headers: { 'X-CSRF': '1' } })).status);
    assert.equal(api, 401);
  } finally {
    await context.close();
    await close();
  }
});
