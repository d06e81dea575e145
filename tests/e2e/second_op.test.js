// Browser suite against a second, independent OpenID Provider: oidc-provider-mock (Python, from
// PyPI, built on Authlib), so that oidc-provider's habits do not become Vestibule's assumptions.
// Its quirks: no revocation endpoint, no RFC 9207 `iss` in the authorization response, refresh
// answers without a refresh token (the old one stays good), 10-second access tokens, and a
// logout confirmation page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startProxy, startMock, startEcho, signInAtMock, launchBrowser, sessionStatus, untilTokenDue, waitFor } from './harness.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

const callApi = (page, n) => page.evaluate(async (count) => {
  const calls = Array.from({ length: count }, () => fetch('/api/echo', { headers: { 'X-CSRF': '1' } }));
  return Promise.all(calls.map(async (c) => { const r = await c; return [r.status, (await r.json()).authorization]; }));
}, n);

test('a second OpenID Provider: login, a 10-second token refreshed once, logout', async () => {
  const mock = await startMock({ tokenMaxAge: 10 });
  const api = await startEcho();
  const proxy = await startProxy({ issuer: mock.issuer, apiPort: api.port });
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${proxy.origin}/`);
    const sentAt = Date.now();
    await page.click('#login');
    // The mock's authorization form: the subject to sign in as.
    await signInAtMock(page, 'grace');
    await page.waitForSelector('#signed-in:not([hidden])');
    const receivedAt = Date.now();
    assert.equal(await page.textContent('#sub'), 'grace');
    assert.ok(!new URL(page.url()).searchParams.has('code'), 'no code in the SPA URL');

    const [[status, first]] = await callApi(page, 1);
    assert.equal(status, 200);
    assert.match(first, /^Bearer \S+$/);
    // The 10-second token is refreshed with 5 s left (the default 30 s skew, capped at half its
    // lifetime), not on every call: until then (time passing is the point). The mock's token
    // answers are not seen from here; it issues the token after `sentAt`, for its 10 s max age.
    await untilTokenDue({ expiresAt: Math.floor(sentAt / 1000) + 10, skew: 5, sentAt, receivedAt });
    const calls = await callApi(page, 5);
    assert.deepEqual(calls.map(([s]) => s), Array(5).fill(200));
    const second = calls[0][1];
    assert.notEqual(second, first, 'a refreshed token');
    assert.ok(calls.every(([, a]) => a === second), 'every call carries the same refreshed token');
    // Log lines reach the file up to 20 ms after they are logged.
    const refreshes = () => proxy.log().split('\n').filter((l) => l.includes('token refresh') && l.includes('success'));
    await waitFor(() => refreshes().length > 0, `the refresh logged:\n${proxy.log()}`);
    assert.equal(refreshes().length, 1, `exactly one refresh:\n${proxy.log()}`);
    // The refresh answer had no refresh token: the old one is kept and works again.
    const again = await callApi(page, 1);
    assert.equal(again[0][0], 200);

    // It has no revocation endpoint: Vestibule said so at start-up.
    assert.match(proxy.log(), /refresh token revocation at logout \(no revocation endpoint\)/);
    // Logout ends the session here, then the IdP shows its own confirmation page.
    await page.click('#logout');
    await page.waitForSelector('text=End Session');
    assert.ok(page.url().startsWith(`${mock.issuer}/`), page.url());
    const back = await context.newPage();
    await back.goto(`${proxy.origin}/`);
    assert.equal(await sessionStatus(back), 401);
  } finally {
    await context.close();
    await proxy.stop();
    await api.close();
    await mock.close();
  }
});
