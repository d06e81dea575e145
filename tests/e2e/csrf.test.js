// Cross-site attacks from a real browser: a signed-in user visits an attacker's page on another
// site (127.0.0.3). Chromium's own CORS, SameSite and Sec-Fetch-Site behaviour meets Vestibule's
// two CSRF layers; nothing may reach the API and the session must survive.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { startIdp } from './idp.mjs';
import { startApi } from '../../demo/api.mjs';
import { freePort, startProxy, launchBrowser, signInAtIdp, sessionStatus } from './harness.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** A site of the attacker's: serves `html` at `/`. */
async function attackerSite(html) {
  const port = await freePort('127.0.0.3');
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.3', resolve));
  return { origin: `http://127.0.0.3:${port}`, close: () => new Promise((r) => server.close(r)) };
}

test('a cross-site page cannot call the API or log the user out, even with a leaked logout URL', async () => {
  const port = await freePort();
  const idp = await startIdp({ host: '127.0.0.2', port: await freePort('127.0.0.2'), proxyOrigins: [`http://127.0.0.1:${port}`] });
  const api = await startApi({ port: await freePort(), issuer: idp.issuer });
  const proxy = await startProxy({ issuer: idp.issuer, port, apiPort: api.port });
  const evil = await attackerSite('<!doctype html><title>evil</title><p>hello</p>');
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(proxy.origin);
    await page.click('#login');
    await signInAtIdp(page);
    await page.waitForSelector('#signed-in:not([hidden])');
    const logoutUrl = await page.evaluate(async () =>
      (await (await fetch('/auth/session', { headers: { 'X-CSRF': '1' } })).json()).logout_url);
    const before = api.state.introspections;

    const attacker = await context.newPage();
    await attacker.goto(evil.origin);
    const outcomes = await attacker.evaluate(async (target) => {
      const attempt = async (name, init) => {
        try {
          const r = await fetch(`${target}/api/me`, { credentials: 'include', ...init });
          return [name, `status ${r.status}`];
        } catch (e) {
          return [name, 'blocked'];
        }
      };
      return Object.fromEntries(await Promise.all([
        // Needs a CORS preflight; Vestibule grants none, so the browser never sends it.
        attempt('fetch with X-CSRF', { headers: { 'X-CSRF': '1' } }),
        // A "simple" request goes out, opaque to the page, without the custom header.
        attempt('no-cors POST', { method: 'POST', mode: 'no-cors', body: 'amount=1000' }),
      ]));
    }, proxy.origin);
    assert.equal(outcomes['fetch with X-CSRF'], 'blocked', JSON.stringify(outcomes));
    assert.equal(outcomes['no-cors POST'], 'status 0', 'an opaque answer (a 403 from Vestibule)');

    // A top-level navigation from the attacker's site to the real logout URL: Chromium says
    // `Sec-Fetch-Site: cross-site`, and the session must survive even though the token is right.
    // (Not `attacker.goto`: Playwright's own navigations count as typed URLs, `Sec-Fetch-Site: none`.)
    const [res] = await Promise.all([
      attacker.waitForNavigation(),
      attacker.evaluate((url) => { window.location.href = url; }, `${proxy.origin}${logoutUrl}`),
    ]);
    assert.equal(res.status(), 403);
    assert.match(await res.text(), /cross_site_request/);

    assert.equal(api.state.introspections, before, 'nothing reached the API');
    assert.equal(await sessionStatus(page), 200, 'the user is still signed in');
  } finally {
    await context.close();
    await evil.close();
    await proxy.stop();
    await api.close();
    await idp.close();
  }
});
