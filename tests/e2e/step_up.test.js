// Browser suite, step-up (RFC 9470) against oidc-provider: a route that needs a recent sign-in
// (`max_auth_age`) answers 401 with a login_url; following it makes the IdP ask for the password
// again (max_age), and the session comes back upgraded under a new id.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdp } from './idp.mjs';
import { startApi } from '../../demo/api.mjs';
import { freePort, startProxy, launchBrowser, signInAtIdp, signInAgainAtIdp, waitFor } from './harness.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

const apiMe = (page) => page.evaluate(async () => {
  const res = await fetch('/api/me', { headers: { 'X-CSRF': '1' } });
  return { status: res.status, challenge: res.headers.get('www-authenticate'), body: await res.json() };
});

const session = (page) => page.evaluate(async () => (await fetch('/auth/session', { headers: { 'X-CSRF': '1' } })).json());

test('a route needing a recent sign-in sends the user back to the IdP and then lets the call through', async () => {
  const port = await freePort();
  const idp = await startIdp({ host: '127.0.0.2', port: await freePort('127.0.0.2'), proxyOrigins: [`http://127.0.0.1:${port}`] });
  const api = await startApi({ port: await freePort(), issuer: idp.issuer });
  const proxy = await startProxy({
    issuer: idp.issuer,
    port,
    apiPort: api.port,
    routesExtra: `[[routes]]\nprefix = "/api/me"\nupstream = "http://127.0.0.1:${api.port}"\ntoken = "user"\nmax_auth_age = "4s"\n`,
  });
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${proxy.origin}/`);
    await page.click('#login');
    await signInAtIdp(page);
    await page.waitForSelector('#signed-in:not([hidden])');
    assert.equal((await apiMe(page)).status, 200, 'a fresh sign-in passes');
    const first = await session(page);
    const firstCookie = (await context.cookies()).find((c) => c.name === 'vestibule').value;

    // The sign-in grows older than 4 s (time passing is the point; polled, not slept).
    let step;
    await waitFor(async () => { step = await apiMe(page); return step.status === 401; }, 'the step-up challenge', 15000);
    assert.match(step.challenge, /^Bearer error="insufficient_user_authentication"/);
    assert.match(step.challenge, /max_age=4$/);
    assert.equal(step.body.error, 'insufficient_user_authentication');
    assert.match(step.body.login_url, /^\/auth\/login\?max_age=4&return_to=%2F/);

    // @vestibule/client turns it into a typed error carrying login_url (in Chromium).
    const typed = await page.evaluate(async () => {
      const { createClient, StepUpRequired } = await import('/vestibule/index.js');
      try {
        await createClient().api('/api/me');
        return { thrown: false };
      } catch (e) {
        return { thrown: true, stepUp: e instanceof StepUpRequired, loginUrl: e.loginUrl, maxAge: e.maxAge };
      }
    });
    assert.deepEqual(typed, { thrown: true, stepUp: true, loginUrl: step.body.login_url, maxAge: 4 });

    // The SPA follows login_url; oidc-provider asks for the password again because of max_age.
    await page.goto(`${proxy.origin}${step.body.login_url}`);
    await signInAgainAtIdp(page, proxy.origin);
    await page.waitForSelector('#signed-in:not([hidden])');

    assert.equal((await apiMe(page)).status, 200, 'the upgraded session passes');
    const upgraded = await session(page);
    assert.equal(upgraded.sub, first.sub, 'the same user');
    assert.ok(upgraded.claims.auth_time > first.claims.auth_time, 'a newer auth_time');
    const cookie = (await context.cookies()).find((c) => c.name === 'vestibule').value;
    assert.notEqual(cookie, firstCookie, 'a new session id');
  } finally {
    await context.close();
    await proxy.stop();
    await api.close();
    await idp.close();
  }
});
