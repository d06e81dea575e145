// Browser suite, forward-auth: real gateways (Debian's nginx with `auth_request`, Debian's Caddy
// with `forward_auth`) in front of the demo API ask Vestibule's `/auth/check` before they
// forward, with the configs the manual shows (tests/e2e/gateways.mjs). Alice may call the admin
// route, Bob may not; anonymous pages go to sign in; what a browser sends about the request, or
// about who it is, changes nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdp } from './idp.mjs';
import { startApi } from '../../demo/api.mjs';
import { freePort, startProxy, launchBrowser, signInAtIdp } from './harness.mjs';
import { DOC, caddySite, manualBlocks, nginxSite, startCaddyGateway, startNginxGateway } from './gateways.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

test('the manual shows exactly the gateway configs these tests run', () => {
  assert.deepEqual(manualBlocks('nginx'), [nginxSite(DOC.nginx)]);
  assert.deepEqual(manualBlocks('caddyfile'), [caddySite(DOC.caddy)]);
});

/** A call from inside the page (same origin, the session cookie sent as a browser sends it). */
const call = (page, path, init = {}) => page.evaluate(async ([p, i]) => {
  const res = await fetch(p, i);
  const text = await res.text();
  let body = null;
  try { body = JSON.parse(text); } catch { /* nginx's own error pages are HTML */ }
  return { status: res.status, redirected: res.redirected, body, authorization: res.headers.get('authorization') };
}, [path, init]);

const CSRF = { 'X-CSRF': '1' };

/** Signs `login` in through the demo SPA at `origin`; resolves to its page. */
async function signedIn(context, origin, login) {
  const page = await context.newPage();
  await page.goto(`${origin}/`);
  await page.click('#login');
  await signInAtIdp(page, login);
  await page.waitForSelector('#signed-in:not([hidden])');
  return page;
}

const gateways = [['nginx auth_request', startNginxGateway], ['Caddy forward_auth', startCaddyGateway]];

for (const [name, startGateway] of gateways) {
  test(`behind ${name}: sign-in redirect, the token and user at the API, the rule's 403, and spoofed headers change nothing`, async () => {
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const idp = await startIdp({ host: '127.0.0.2', port: await freePort('127.0.0.2'), proxyOrigins: [origin] });
    const api = await startApi({ port: await freePort(), issuer: idp.issuer });
    const proxy = await startProxy({
      issuer: idp.issuer,
      publicUrl: origin,
      apiPort: api.port,
      serverExtra: 'trusted_proxies = ["127.0.0.1"]\n',
      routesExtra: `[[routes]]\nprefix = "/api/admin"\nupstream = "http://127.0.0.1:${api.port}"\ntoken = "user"\nallow = 'claims.sub == "alice"'\n`,
    });
    const gateway = await startGateway({ port, vestibulePort: proxy.port, apiPort: api.port });
    const contexts = [];
    try {
      // Anonymous, a page: the gateway sends it to sign in, and back to the page after.
      const alice = await browser.newContext();
      contexts.push(alice);
      const page = await alice.newPage();
      let first;
      page.on('response', (r) => { if (!first && r.url().startsWith(`${origin}/api/me`)) first = { status: r.status(), location: r.headers().location }; });
      await page.goto(`${origin}/api/me?from=link`);
      assert.equal(first.status, 302, 'the gateway redirects');
      assert.equal(new URL(first.location, origin).href, `${origin}/auth/login?return_to=%2Fapi%2Fme%3Ffrom%3Dlink`);
      await signInAtIdp(page, 'alice');
      await page.waitForURL(`${origin}/api/me?from=link`);
      const seen = JSON.parse(await page.innerText('body'));
      assert.equal(seen.sub, 'alice', 'the API checked the bearer token the gateway sent');
      assert.equal(seen.token_active, true);
      assert.equal(seen.forwarded_user, 'alice', 'and was told who the user is');
      assert.equal(seen.forwarded_email, 'alice@example.test');
      assert.equal(seen.saw_cookie, false, 'the session cookie stays with the gateway');

      // Alice's own calls from the app: the admin route lets her through.
      await page.goto(`${origin}/`);
      await page.waitForSelector('#signed-in:not([hidden])');
      const me = await call(page, '/api/me', { headers: CSRF });
      assert.equal(me.status, 200);
      assert.equal(me.body.forwarded_user, 'alice');
      const admin = await call(page, '/api/admin/users', { headers: CSRF });
      assert.deepEqual([admin.status, admin.body], [200, { admin: true, sub: 'alice' }]);
      // A write without the anti-CSRF header is refused on the original method.
      const before = api.state.requests;
      assert.equal((await call(page, '/api/me', { method: 'POST' })).status, 403);
      assert.equal(api.state.requests, before, 'not forwarded');
      assert.equal((await call(page, '/api/me', { method: 'POST', headers: CSRF })).status, 200);

      // Bob: signed in, but the admin route's rule refuses him, whatever his browser claims.
      const bobContext = await browser.newContext();
      contexts.push(bobContext);
      const bob = await signedIn(bobContext, origin, 'bob');
      const refusedBefore = api.state.requests;
      assert.equal((await call(bob, '/api/admin/users', { headers: CSRF })).status, 403);
      const spoofed = await call(bob, '/api/admin/users', {
        headers: { ...CSRF, 'X-Forwarded-Uri': '/api/me', 'X-Original-URI': '/api/me', 'X-Forwarded-Method': 'GET' },
      });
      assert.notEqual(spoofed.status, 200, `a spoofed account of the request is no yes (got ${spoofed.status})`);
      assert.ok(spoofed.status >= 400);
      for (const path of ['/auth/check', '/auth/check/api/me']) {
        const direct = await call(bob, path, { headers: { ...CSRF, 'X-Original-URI': '/api/me', 'X-Forwarded-Uri': '/api/me', 'X-Forwarded-Method': 'GET' } });
        assert.equal(direct.status, 404, `${path}: the check is the gateway's own`);
        assert.equal(direct.authorization, null, `${path}: no token for the browser`);
      }
      assert.equal(api.state.requests, refusedBefore, 'nothing reached the API');
      const claimed = await call(bob, '/api/me', { headers: { ...CSRF, 'X-Auth-Request-User': 'alice', 'X-Auth-Request-Email': 'alice@example.test', Authorization: 'Bearer forged', 'X-Vestibule-Identity': 'forged' } });
      assert.equal(claimed.status, 200);
      assert.deepEqual([claimed.body.sub, claimed.body.forwarded_user, claimed.body.forwarded_email], ['bob', 'bob', 'bob@example.test']);
      assert.equal(claimed.body.forwarded_identity, null, "a browser's identity header never reaches the API");

      // A user without an email address: no email header, not even an empty or made-up one.
      const noEmailContext = await browser.newContext();
      contexts.push(noEmailContext);
      const noEmail = await signedIn(noEmailContext, origin, 'no-email');
      const plain = await call(noEmail, '/api/me', { headers: { ...CSRF, 'X-Auth-Request-Email': 'alice@example.test' } });
      assert.equal(plain.status, 200);
      assert.deepEqual([plain.body.forwarded_user, plain.body.forwarded_email], ['no-email', null]);

      // Anonymous, an API call: its 401, not a redirect.
      const anonContext = await browser.newContext();
      contexts.push(anonContext);
      const anon = await anonContext.newPage();
      await anon.goto(`${origin}/`);
      const anonymous = await call(anon, '/api/me', { headers: CSRF });
      assert.deepEqual([anonymous.status, anonymous.redirected], [401, false]);
      assert.equal(api.state.requests, refusedBefore + 2, 'only bob\'s and no-email\'s own calls reached the API');
    } catch (e) {
      e.message += `\n--- gateway log ---\n${gateway.log()}\n--- vestibule log ---\n${proxy.log()}`;
      throw e;
    } finally {
      for (const c of contexts) await c.close();
      await gateway.stop();
      await proxy.stop();
      await api.close();
      await idp.close();
    }
  });
}
