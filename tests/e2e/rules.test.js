// Browser suite, who may call what: a route with an `allow` rule on the user's groups, as
// oidc-provider puts them in the ID token, for two users signed in in two browsers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdp } from './idp.mjs';
import { startApi } from '../../demo/api.mjs';
import { freePort, startProxy, launchBrowser, signInAgainAtIdp } from './harness.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

async function signIn(context, proxy, login) {
  const page = await context.newPage();
  await page.goto(`${proxy.origin}/`);
  await page.click('#login');
  await signInAgainAtIdp(page, proxy.origin, login);
  await page.waitForSelector('#signed-in:not([hidden])');
  return page;
}

const call = (page, path) => page.evaluate(async (p) => {
  const res = await fetch(p, { headers: { 'X-CSRF': '1' } });
  return { status: res.status, body: await res.json().catch(() => null) };
}, path);

test('only the admins group reaches the admin API; another user gets 403 with the rule, and nothing is forwarded', async () => {
  const port = await freePort();
  const idp = await startIdp({ host: '127.0.0.2', port: await freePort('127.0.0.2'), proxyOrigins: [`http://127.0.0.1:${port}`], groups: { grace: ['admins'] } });
  const api = await startApi({ port: await freePort(), issuer: idp.issuer });
  const proxy = await startProxy({
    issuer: idp.issuer,
    port,
    apiPort: api.port,
    routesExtra: `[[routes]]\nprefix = "/api/admin"\nupstream = "http://127.0.0.1:${api.port}"\ntoken = "user"\nallow = '"admins" in groups && claims.email_verified'\n`,
  });
  const admins = await browser.newContext();
  const users = await browser.newContext();
  try {
    const grace = await signIn(admins, proxy, 'grace');
    const alice = await signIn(users, proxy, 'alice');
    const allowed = await call(grace, '/api/admin/me');
    assert.equal(allowed.status, 200, JSON.stringify(allowed.body));
    assert.equal(allowed.body.sub, 'grace', 'the API saw the admin, by her token');
    const before = api.state.introspections;
    const refused = await call(alice, '/api/admin/me');
    assert.equal(refused.status, 403);
    assert.deepEqual([refused.body.error, refused.body.rule], ['forbidden', '/api/admin']);
    // Other spellings of the same path meet the same rule.
    for (const p of ['/API/admin/me', '/api/%61dmin/me']) assert.equal((await call(alice, p)).status, 403, p);
    assert.equal(api.state.introspections, before, 'nothing forwarded for the refused calls');
    // The rule is only on its route: the user's other calls go through.
    assert.equal((await call(alice, '/api/me')).status, 200);
  } finally {
    await admins.close();
    await users.close();
    await proxy.stop();
    await api.close();
    await idp.close();
  }
});
