// Browser suite, cookie options: `session.same_site = "strict"` (the session cookie stays home on
// cross-site navigations, the login cookie still makes the IdP round trip) and the
// `__Host-Http-` prefix behind an https front, both in Chromium against oidc-provider.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdp } from './idp.mjs';
import { startApi } from '../../demo/api.mjs';
import { startTlsFront } from './balancer.mjs';
import { freePort, startProxy, launchBrowser, signInAtIdp, signInAgainAtIdp } from './harness.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

const sessionsListed = (page) => page.evaluate(async () =>
  (await (await fetch('/auth/sessions', { headers: { 'X-CSRF': '1' } })).json()).sessions.length);

test('with same_site strict a login completes, a link from another site lands without the cookie, and the SPA is still signed in', async () => {
  const port = await freePort();
  const idp = await startIdp({ host: '127.0.0.2', port: await freePort('127.0.0.2'), proxyOrigins: [`http://127.0.0.1:${port}`] });
  const api = await startApi({ port: await freePort(), issuer: idp.issuer });
  const proxy = await startProxy({ issuer: idp.issuer, port, apiPort: api.port, sessionExtra: 'same_site = "strict"\n' });
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${proxy.origin}/`);
    await page.click('#login');
    await signInAtIdp(page);
    // The callback came from the IdP (another site): only the Lax login cookie could bind it.
    await page.waitForSelector('#signed-in:not([hidden])');
    const cookies = Object.fromEntries((await context.cookies()).map((c) => [c.name, c]));
    assert.equal(cookies.vestibule.sameSite, 'Strict');
    assert.equal(cookies.vestibule.httpOnly, true);
    assert.equal(cookies['vestibule-login'].sameSite, 'Lax');

    // The Cookie header a click on a link on page `from` (served by the test) sends to the app.
    const cookieOfLinkFrom = async (from, tag) => {
      await page.route(from, (route) => route.fulfill({
        contentType: 'text/html', body: `<a id="link" href="${proxy.origin}/?from=${tag}">app</a>`,
      }));
      await page.goto(from);
      const landing = page.waitForRequest((r) => r.url().endsWith(`/?from=${tag}`));
      await page.click('#link');
      return (await (await landing).allHeaders()).cookie ?? '';
    };
    // The same link on a page of the app itself carries the cookie, as seen by the same means:
    // the check below reads a Cookie header the browser does report.
    assert.match(await cookieOfLinkFrom(`${proxy.origin}/links`, 'home'), /(^|;\s*)vestibule=/, 'same-site, the cookie goes');
    await page.waitForSelector('#signed-in:not([hidden])');
    // A link on another site into the app: the navigation itself carries no session cookie...
    const cookieSent = await cookieOfLinkFrom('http://127.0.0.3/elsewhere', 'elsewhere');
    assert.doesNotMatch(cookieSent, /(^|;\s*)vestibule=/, 'the Strict cookie stayed home');
    // ... and the SPA's own calls, same-site, do: it shows the user signed in.
    await page.waitForSelector('#signed-in:not([hidden])');
    assert.equal(await page.evaluate(async () => (await fetch('/api/me', { headers: { 'X-CSRF': '1' } })).status), 200);

    // Signing in again replaces the session even though the callback arrives without it.
    assert.equal(await sessionsListed(page), 1);
    await page.goto(`${proxy.origin}/auth/login?prompt=login`);
    await signInAgainAtIdp(page, proxy.origin);
    await page.waitForSelector('#signed-in:not([hidden])');
    assert.equal(await sessionsListed(page), 1, 'the old session ended as replaced');
  } finally {
    await context.close();
    await proxy.stop(); await api.close(); await idp.close();
  }
});

test('the __Host-Http- prefix names both cookies on https, and a script cannot plant one', async () => {
  const [port, tlsPort] = [await freePort(), await freePort()];
  const publicUrl = `https://127.0.0.1:${tlsPort}`;
  const idp = await startIdp({ host: '127.0.0.2', port: await freePort('127.0.0.2'), proxyOrigins: [publicUrl] });
  const api = await startApi({ port: await freePort(), issuer: idp.issuer });
  const proxy = await startProxy({
    issuer: idp.issuer, port, apiPort: api.port, publicUrl, sessionExtra: 'cookie_prefix = "__Host-Http-"\n',
  });
  const front = await startTlsFront({ port: tlsPort, upstreamPort: port });
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  try {
    const page = await context.newPage();
    await page.goto(`${publicUrl}/`);
    await page.click('#login');
    await signInAtIdp(page);
    await page.waitForSelector('#signed-in:not([hidden])');
    const cookies = Object.fromEntries((await context.cookies()).map((c) => [c.name, c]));
    for (const name of ['__Host-Http-vestibule', '__Host-Http-vestibule-login']) {
      assert.ok(cookies[name], `${name} set; got ${Object.keys(cookies)}`);
      assert.equal(cookies[name].secure, true);
      assert.equal(cookies[name].httpOnly, true);
      assert.equal(cookies[name].path, '/');
    }
    assert.equal(await page.evaluate(async () => (await fetch('/api/me', { headers: { 'X-CSRF': '1' } })).status), 200);

    // The browser forgets the session; a script on the origin then tries to plant one of its
    // choosing (session fixation by XSS): Chromium refuses the prefix from document.cookie.
    await context.clearCookies({ name: '__Host-Http-vestibule' });
    await page.evaluate(() => { document.cookie = '__Host-Http-vestibule=planted; Secure; Path=/'; });
    const after = (await context.cookies()).filter((c) => c.name === '__Host-Http-vestibule' && c.value === 'planted');
    assert.deepEqual(after, [], 'the planted cookie was refused');
  } finally {
    await context.close();
    await front.stop(); await proxy.stop(); await api.close(); await idp.close();
  }
});
