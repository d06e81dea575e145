// Browser suite, sessions: a user signed in in two browsers sees both in "Signed in on", signs
// one out from the other, and the signed-out page hears it at once (/auth/events).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdp } from './idp.mjs';
import { startApi } from '../../demo/api.mjs';
import { freePort, startProxy, launchBrowser, signInToDemo as signIn } from './harness.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

test('a user signs one browser out from another, which hears it within 2 seconds', async () => {
  const port = await freePort();
  const idp = await startIdp({ host: '127.0.0.2', port: await freePort('127.0.0.2'), proxyOrigins: [`http://127.0.0.1:${port}`] });
  const api = await startApi({ port: await freePort(), issuer: idp.issuer });
  const proxy = await startProxy({ issuer: idp.issuer, port, apiPort: api.port });
  const laptop = await browser.newContext();
  const phone = await browser.newContext();
  try {
    const phonePage = await phone.newPage();
    await signIn(phonePage, proxy);
    const laptopPage = await laptop.newPage();
    await signIn(laptopPage, proxy);
    // The laptop lists both sessions; one is "this device".
    await laptopPage.waitForFunction(() => document.querySelectorAll('#devices li').length === 2);
    assert.match(await laptopPage.textContent('#devices'), /this device/);
    assert.equal(await laptopPage.locator('.sign-out-device').count(), 1);
    assert.equal(await phonePage.evaluate(async () => (await fetch('/api/me', { headers: { 'X-CSRF': '1' } })).status), 200);

    const started = Date.now();
    await laptopPage.click('.sign-out-device');
    await phonePage.waitForSelector('#session-ended:not([hidden])', { timeout: 2000 });
    const heardAfter = Date.now() - started;
    assert.ok(heardAfter < 2000, `heard after ${heardAfter} ms`);
    assert.equal(await phonePage.textContent('#ended-reason'), 'revoked');
    const apiStatus = await phonePage.evaluate(async () => (await fetch('/api/me', { headers: { 'X-CSRF': '1' } })).status);
    assert.equal(apiStatus, 401, 'the signed-out browser can no longer call the API');
    // The laptop is still signed in, now alone in its list.
    await laptopPage.waitForFunction(() => document.querySelectorAll('#devices li').length === 1);
    assert.equal(await laptopPage.evaluate(async () => (await fetch('/api/me', { headers: { 'X-CSRF': '1' } })).status), 200);
  } finally {
    await laptop.close();
    await phone.close();
    await proxy.stop();
    await api.close();
    await idp.close();
  }
});
