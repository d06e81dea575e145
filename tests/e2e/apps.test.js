// Browser suite for `[[apps]]` (docs/apps.md): two apps on two hosts of one Vestibule, each with
// its own IdP, signed in at once in one browser; and one app with two providers and no default,
// whose /auth/login shows the chooser. oidc-provider (tests/e2e/idp.mjs) on 127.0.0.2 and
// oidc-provider-mock on 127.0.0.3 are the two IdPs; the apps are `a.localhost` and `b.localhost`
// on Vestibule's one port (chromium resolves `*.localhost` to loopback itself).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdp } from './idp.mjs';
import {
  freePort, startApps, startMock, startEcho, launchBrowser, signInAtIdp, signInAtMock, sessionStatus,
} from './harness.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** `/auth/session` from inside the page: its status and body. */
const session = (page) => page.evaluate(async () => {
  const r = await fetch('/auth/session', { headers: { 'X-CSRF': '1' } });
  return { status: r.status, body: await r.json().catch(() => null) };
});

/** `/api/echo` from inside the page: its status and the bearer token the upstream received. */
const echo = (page) => page.evaluate(async () => {
  const r = await fetch('/api/echo', { headers: { 'X-CSRF': '1' } });
  return { status: r.status, body: await r.json().catch(() => null) };
});

/** The subject a token belongs to, as the IdP that issued it says at its userinfo endpoint. */
async function userinfoSub(issuer, bearer) {
  const { userinfo_endpoint: url } = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  const r = await fetch(url, { headers: { authorization: bearer } });
  return r.ok ? (await r.json()).sub : `userinfo ${r.status}`;
}

/**
 * The app's session cookie in `context` (`vestibule`, beside the login cookie `vestibule-login`
 * of the sign-in): its value is `<provider>.<id>`.
 */
async function sessionCookie(context, origin, provider) {
  const cookies = await context.cookies(origin);
  const found = cookies.filter((c) => c.name === 'vestibule');
  assert.equal(found.length, 1, `one session cookie at ${origin}: ${JSON.stringify(cookies)}`);
  assert.match(found[0].value, new RegExp(`^${provider}\\.[A-Za-z0-9_-]+$`), `the session cookie names provider ${provider}`);
  return found[0];
}

test('two apps on two hosts, each with its own IdP: one browser signed in to both, each API gets its own token, a cookie copied across is refused, an unknown host is 421', async () => {
  const port = await freePort();
  const a = 'a.localhost';
  const b = 'b.localhost';
  const idp = await startIdp({ host: '127.0.0.2', port: await freePort('127.0.0.2'), proxyOrigins: [`http://${a}:${port}`] });
  const mock = await startMock({ tokenMaxAge: 300 });
  const echoA = await startEcho();
  const echoB = await startEcho();
  const proxy = await startApps({
    port,
    apps: [
      { name: 'a', host: a, apiPort: echoA.port, providers: [{ name: 'op', label: 'oidc-provider', issuer: idp.issuer }] },
      { name: 'b', host: b, apiPort: echoB.port, providers: [{ name: 'mock', label: 'oidc-provider-mock', issuer: mock.issuer }] },
    ],
  });
  const { a: originA, b: originB } = proxy.origins;
  const context = await browser.newContext();
  const thief = await browser.newContext();
  try {
    const pageA = await context.newPage();
    await pageA.goto(`${originA}/`);
    await pageA.click('#login');
    await signInAtIdp(pageA, 'alice');
    await pageA.waitForSelector('#signed-in:not([hidden])');
    assert.ok(pageA.url().startsWith(`${originA}/`), pageA.url());

    const pageB = await context.newPage();
    await pageB.goto(`${originB}/`);
    // Signed in at a, not at b: a's cookie is a.localhost's only.
    assert.equal(await sessionStatus(pageB), 401, 'b has no session before its own login');
    await pageB.click('#login');
    await signInAtMock(pageB, 'grace');
    await pageB.waitForSelector('#signed-in:not([hidden])');
    assert.ok(pageB.url().startsWith(`${originB}/`), pageB.url());

    // Both sessions at once, each naming its own provider and user.
    const sa = await session(pageA);
    const sb = await session(pageB);
    assert.equal(sa.status, 200, `a's session after b's login: ${JSON.stringify(sa)}`);
    assert.equal(sb.status, 200, JSON.stringify(sb));
    assert.equal(sa.body.provider, 'op');
    assert.equal(sa.body.sub, 'alice');
    assert.equal(sb.body.provider, 'mock');
    assert.equal(sb.body.sub, 'grace');

    // Each app's cookie is its host's own (no Domain), `<provider>.<id>`.
    const cookieA = await sessionCookie(context, originA, 'op');
    const cookieB = await sessionCookie(context, originB, 'mock');
    assert.equal(cookieA.domain, a);
    assert.equal(cookieB.domain, b);
    assert.equal(cookieA.httpOnly, true);
    assert.equal(cookieB.httpOnly, true);

    // Each API call carries its own user's token, from its own IdP, to its own upstream.
    const ea = await echo(pageA);
    const eb = await echo(pageB);
    assert.equal(ea.status, 200);
    assert.equal(eb.status, 200);
    assert.match(ea.body.authorization, /^Bearer \S+$/);
    assert.match(eb.body.authorization, /^Bearer \S+$/);
    assert.notEqual(ea.body.authorization, eb.body.authorization, 'two different tokens');
    const accessTokens = idp.issued.filter((t) => t.kind === 'access_token').map((t) => `Bearer ${t.value}`);
    assert.ok(accessTokens.includes(ea.body.authorization), "a's token is one oidc-provider issued");
    assert.ok(!accessTokens.includes(eb.body.authorization), "b's token is not oidc-provider's");
    assert.equal(await userinfoSub(idp.issuer, ea.body.authorization), 'alice', "oidc-provider knows a's token as alice's");
    assert.equal(await userinfoSub(mock.issuer, eb.body.authorization), 'grace', "the mock knows b's token as grace's");
    assert.deepEqual(echoA.calls.map((c) => c.authorization), [ea.body.authorization], 'only a\'s call reached a\'s upstream');
    assert.deepEqual(echoB.calls.map((c) => c.authorization), [eb.body.authorization], 'only b\'s call reached b\'s upstream');

    // a's cookie, copied to b's host in another browser: as it is, and renamed to b's provider
    // (so that only the store's per-app namespace stands in the way). Neither loads a session.
    const stolenPage = await thief.newPage();
    const id = cookieA.value.slice('op.'.length);
    for (const value of [cookieA.value, `mock.${id}`]) {
      await thief.clearCookies();
      await thief.addCookies([{ name: cookieA.name, value, domain: b, path: '/', httpOnly: true, sameSite: cookieA.sameSite }]);
      await stolenPage.goto(`${originB}/`);
      assert.equal((await thief.cookies(originB)).find((c) => c.name === cookieA.name)?.value, value, 'the copy is sent to b');
      const s = await session(stolenPage);
      assert.equal(s.status, 401, `a's session at b with cookie ${value.split('.')[0]}.…: ${JSON.stringify(s)}`);
      const e = await echo(stolenPage);
      assert.equal(e.status, 401, `b's API with a's cookie: ${JSON.stringify(e)}`);
    }
    assert.equal(echoB.calls.length, 1, 'nothing more reached b\'s upstream');
    assert.equal(echoA.calls.length, 1, 'nothing more reached a\'s upstream');
    // A third name on the same port is no app's: 421, and nothing else.
    const other = await stolenPage.goto(`http://c.localhost:${port}/auth/login`);
    assert.equal(other.status(), 421);
    assert.deepEqual(await other.json(), { error: 'misdirected_request' });
    // The original owner is still signed in to both.
    assert.equal(await sessionStatus(pageA), 200);
    assert.equal(await sessionStatus(pageB), 200);
  } finally {
    await thief.close();
    await context.close();
    await proxy.stop();
    await echoA.close();
    await echoB.close();
    await mock.close();
    await idp.close();
  }
});

test('one app with two providers and no default: the chooser, a login with each, and each logout ends only its own session', async () => {
  const port = await freePort();
  const host = 'a.localhost';
  const idp = await startIdp({ host: '127.0.0.2', port: await freePort('127.0.0.2'), proxyOrigins: [`http://${host}:${port}`] });
  const mock = await startMock({ tokenMaxAge: 300 });
  const api = await startEcho();
  const proxy = await startApps({
    port,
    apps: [{
      name: 'shop',
      host,
      apiPort: api.port,
      providers: [
        { name: 'op', label: 'Sign in with oidc-provider', issuer: idp.issuer },
        { name: 'mock', label: 'Sign in with the mock', issuer: mock.issuer },
      ],
    }],
  });
  const origin = proxy.origins.shop;
  const first = await browser.newContext();
  const second = await browser.newContext();
  try {
    // The chooser, reached as the SPA's sign-in link: a link per provider, carrying return_to.
    const page1 = await first.newPage();
    await page1.goto(`${origin}/orders/7`);
    const loginHref = await page1.getAttribute('#login', 'href');
    const chooser = await page1.goto(`${origin}${loginHref}`);
    assert.equal(chooser.status(), 200);
    assert.match(chooser.headers()['content-type'], /^text\/html/);
    assert.match(chooser.headers()['content-security-policy'], /default-src 'none'/);
    assert.ok(new URL(page1.url()).pathname === '/auth/login', page1.url());
    const html = await chooser.text();
    assert.ok(!/<script/i.test(html), `no script on the chooser: ${html}`);
    assert.equal(await page1.evaluate(() => document.scripts.length), 0);
    const links = await page1.$$eval('a', (as) => as.map((x) => ({ text: x.textContent, href: x.getAttribute('href'), cls: x.className })));
    const returnTo = new URL(`${origin}${loginHref}`).searchParams.get('return_to');
    assert.equal(returnTo, '/orders/7');
    assert.deepEqual(links.map((l) => l.text), ['Sign in with oidc-provider', 'Sign in with the mock']);
    for (const [l, name] of links.map((x, i) => [x, ['op', 'mock'][i]])) {
      const u = new URL(l.href, origin);
      assert.equal(u.pathname, '/auth/login');
      assert.equal(u.searchParams.get('provider'), name);
      assert.equal(u.searchParams.get('return_to'), '/orders/7', `the link keeps return_to: ${l.href}`);
      assert.equal(l.cls, `provider provider-${name}`);
    }

    // First browser: oidc-provider.
    await page1.click('a.provider-op');
    await signInAtIdp(page1, 'alice');
    await page1.waitForSelector('#signed-in:not([hidden])');
    assert.equal(page1.url(), `${origin}/orders/7`);

    // Second browser: the mock, from the same chooser.
    const page2 = await second.newPage();
    await page2.goto(`${origin}/`);
    await page2.click('#login');
    await page2.waitForSelector('a.provider-mock');
    await page2.click('a.provider-mock');
    await signInAtMock(page2, 'grace');
    await page2.waitForSelector('#signed-in:not([hidden])');

    const s1 = await session(page1);
    const s2 = await session(page2);
    assert.equal(s1.status, 200);
    assert.equal(s2.status, 200);
    assert.equal(s1.body.provider, 'op');
    assert.equal(s1.body.sub, 'alice');
    assert.equal(s2.body.provider, 'mock');
    assert.equal(s2.body.sub, 'grace');
    await sessionCookie(first, origin, 'op');
    await sessionCookie(second, origin, 'mock');
    const e1 = await echo(page1);
    const e2 = await echo(page2);
    assert.equal(e1.status, 200);
    assert.equal(e2.status, 200);
    assert.equal(await userinfoSub(idp.issuer, e1.body.authorization), 'alice');
    assert.equal(await userinfoSub(mock.issuer, e2.body.authorization), 'grace');

    // Logout in the first browser goes to oidc-provider's end-session page, and ends that
    // session only.
    const logout1 = new URL(s1.body.logout_url, origin);
    assert.equal(logout1.origin + logout1.pathname, `${origin}/auth/logout`);
    await page1.click('#logout');
    await page1.waitForURL((u) => u.origin === idp.issuer);
    await page1.click('button[autofocus], button[type="submit"]');
    await page1.waitForURL((u) => u.origin === origin);
    await page1.waitForSelector('#signed-out:not([hidden])');
    assert.equal(await sessionStatus(page1), 401, `after logout at ${logout1}`);
    assert.equal(await sessionStatus(page2), 200, 'the mock\'s session outlives oidc-provider\'s logout');
    assert.equal((await echo(page2)).status, 200);

    // Logout in the second browser goes to the mock's own end-session page.
    await page2.click('#logout');
    await page2.waitForURL((u) => u.origin === mock.issuer);
    await page2.waitForSelector('text=End Session');
    const back = await second.newPage();
    await back.goto(`${origin}/`);
    assert.equal(await sessionStatus(back), 401);
    assert.equal((await echo(back)).status, 401);
  } finally {
    await first.close();
    await second.close();
    await proxy.stop();
    await api.close();
    await mock.close();
    await idp.close();
  }
});
