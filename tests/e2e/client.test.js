// Browser suite, @vestibule/client as an SPA team ships it: the React hook and the Vue
// composable (loading, error, signed-out, step-up and ended states) and the package's errors,
// in Chromium against the real Vestibule binary. The page is clients/js/test/browser, bundled
// here by esbuild from the package's own sources.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startIdp } from './idp.mjs';
import { startApi } from '../../demo/api.mjs';
import { ROOT, freePort, startProxy, startRedis, launchBrowser, signInAgainAtIdp } from './harness.mjs';

const CLIENT = join(ROOT, 'clients/js');
let browser;
let spaDir;

/** Bundles the test page: React, Vue and the package, as an app's build would. */
async function buildPage() {
  const { build } = await import(join(CLIENT, 'node_modules/esbuild/lib/main.js'));
  const dir = mkdtempSync(join(tmpdir(), 'vestibule-client-page-'));
  copyFileSync(join(CLIENT, 'test/browser/index.html'), join(dir, 'index.html'));
  await build({
    entryPoints: [join(CLIENT, 'test/browser/app.jsx')],
    bundle: true,
    format: 'esm',
    outfile: join(dir, 'app.js'),
    jsx: 'automatic',
    logLevel: 'error',
    define: {
      'process.env.NODE_ENV': '"production"',
      __VUE_OPTIONS_API__: 'false',
      __VUE_PROD_DEVTOOLS__: 'false',
      __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
    },
  });
  return dir;
}

before(async () => {
  spaDir = await buildPage();
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); });

/** IdP, API and Vestibule serving the test page; `/api/admin` needs an `acr` nobody has. */
async function stack({ redis } = {}) {
  const port = await freePort();
  const idp = await startIdp({ host: '127.0.0.2', port: await freePort('127.0.0.2'), proxyOrigins: [`http://127.0.0.1:${port}`] });
  const api = await startApi({ port: await freePort(), issuer: idp.issuer });
  const proxy = await startProxy({
    issuer: idp.issuer,
    port,
    apiPort: api.port,
    spaDir,
    ...(redis ? { store: 'redis', redisUrl: redis.url } : {}),
    routesExtra: `[[routes]]\nprefix = "/api/admin"\nupstream = "http://127.0.0.1:${api.port}"\ntoken = "user"\nrequire_acr = ["urn:example:mfa"]\n`,
  });
  return { idp, api, proxy, stop: async () => { await proxy.stop(); await api.close(); await idp.close(); } };
}

async function signIn(page, origin, path) {
  await page.goto(`${origin}${path}`);
  await page.waitForSelector('#state[data-status="signed-out"]');
  await page.click('#login');
  await signInAgainAtIdp(page, origin);
  await page.waitForSelector('#state[data-status="signed-in"]');
}

/** Ends `page`'s session from another browser of the same user. */
async function endFromElsewhere(origin, sub) {
  const other = await browser.newContext();
  try {
    const page = await other.newPage();
    await signIn(page, origin, '/react/');
    assert.equal(await page.textContent('#sub'), sub);
    await page.evaluate(async () => {
      const c = window.Vestibule.createClient();
      const mine = await c.sessions();
      await c.endSession(mine.find((s) => !s.current).handle);
    });
  } finally {
    await other.close();
  }
}

for (const framework of ['react', 'vue']) {
  test(`the ${framework} binding shows signed-out, signed-in, and the end of the session with its reason`, async () => {
    const s = await stack();
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await signIn(page, s.proxy.origin, `/${framework}/`);
      assert.equal(await page.textContent('#sub'), 'alice');
      await endFromElsewhere(s.proxy.origin, 'alice');
      await page.waitForSelector('#state[data-status="signed-out"]', { timeout: 5000 });
      assert.equal(await page.textContent('#ended'), 'revoked');
    } finally {
      await context.close();
      await s.stop();
    }
  });
}

test('the React hook turns a step-up refusal into its step-up state, keeping the session', async () => {
  const s = await stack();
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await signIn(page, s.proxy.origin, '/react/');
    await page.click('#admin');
    await page.waitForSelector('#state[data-status="step-up"]');
    const href = await page.getAttribute('#step-up', 'href');
    assert.match(href, /^\/auth\/login\?/);
    assert.equal(new URL(href, s.proxy.origin).searchParams.get('acr_values'), 'urn:example:mfa');
    assert.equal(await page.textContent('#sub'), 'alice', 'still signed in');
  } finally {
    await context.close();
    await s.stop();
  }
});

test('the React hook shows the error state (not "loading" for ever) when the session store is down', async () => {
  const redis = await startRedis();
  const s = await stack({ redis });
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await signIn(page, s.proxy.origin, '/react/');
    await redis.stop();
    await page.reload();
    await page.waitForSelector('#state[data-status="error"]', { timeout: 10000 });
    assert.equal(await page.textContent('#error'), '503');
  } finally {
    await context.close();
    await s.stop();
    await redis.stop();
  }
});

test('a component unmounted before its session answers opens no event stream', async () => {
  const s = await stack();
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await signIn(page, s.proxy.origin, '/react/');
    const streams = [];
    page.on('request', (r) => { if (new URL(r.url()).pathname === '/auth/events') streams.push(r); });
    let release;
    const held = new Promise((r) => { release = r; });
    let asked;
    const sessionAsked = new Promise((r) => { asked = r; });
    await page.route('**/auth/session', async (route) => { asked(); await held; await route.continue(); });
    await page.reload();
    await sessionAsked;
    await page.click('#unmount');
    release();
    // The held answer arrives after the unmount; a round trip later, still no stream.
    await page.waitForResponse((r) => new URL(r.url()).pathname === '/auth/session');
    await page.evaluate(() => fetch('/auth/session?slide=false', { headers: { 'X-CSRF': '1' } }));
    assert.equal(streams.length, 0, 'no /auth/events after the component went');
    assert.equal(await page.locator('#state').count(), 0);
  } finally {
    await context.close();
    await s.stop();
  }
});

/** Calls every method of a client in the page; what each resolved to or rejected with. */
function everyMethod(page) {
  return page.evaluate(async () => {
    const { createClient, VestibuleError, Unauthenticated } = window.Vestibule;
    const c = createClient();
    const out = {};
    const calls = {
      session: () => c.session(), extend: () => c.extend(), sessions: () => c.sessions(),
      endSession: () => c.endSession('no-such-handle'), endOtherSessions: () => c.endOtherSessions(),
    };
    for (const [name, call] of Object.entries(calls)) {
      try {
        out[name] = { resolved: await call() };
      } catch (e) {
        out[name] = { error: e.name, status: e.status, code: e.code, vestibule: e instanceof VestibuleError, unauthenticated: e instanceof Unauthenticated };
      }
    }
    return out;
  });
}

test('every client method rejects the same way on the same answer from a real Vestibule', async () => {
  const redis = await startRedis();
  const s = await stack({ redis });
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${s.proxy.origin}/react/`);
    await page.waitForSelector('#state[data-status="signed-out"]');
    const signedOut = await everyMethod(page);
    assert.deepEqual(signedOut.session, { resolved: null }, 'session() is null when signed out');
    for (const name of ['extend', 'sessions', 'endSession', 'endOtherSessions']) {
      assert.deepEqual(signedOut[name], { error: 'Unauthenticated', status: 401, code: 'unauthenticated', vestibule: true, unauthenticated: true }, name);
    }
    await signIn(page, s.proxy.origin, '/react/');
    await redis.stop();
    const storeDown = await everyMethod(page);
    for (const name of ['session', 'extend', 'sessions', 'endSession', 'endOtherSessions']) {
      assert.equal(storeDown[name].error, 'VestibuleError', `${name}: ${JSON.stringify(storeDown[name])}`);
      assert.equal(storeDown[name].status, 503, name);
      assert.equal(storeDown[name].code, storeDown.session.code, `${name}: the same code as session()`);
      assert.equal(storeDown[name].unauthenticated, false, name);
    }
  } finally {
    await context.close();
    await s.stop();
    await redis.stop();
  }
});
