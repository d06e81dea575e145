// Shared pieces of the browser suite: free ports, redis-server, the Vestibule binary, chromium.
import { spawn, execFileSync } from 'node:child_process';
import { cargoBuiltBinary } from './binary.mjs';
import { createServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { accessSync, constants, mkdtempSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CLIENT_ID, CLIENT_SECRET } from './idp.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The Vestibule binary under test: `VESTIBULE_BIN` (scripts/test sets it to what its build
 * produced), else the executable cargo names when asked to build it now, never a guessed path
 * such as target/debug/vestibule (stale, or not this build at all under $CARGO_TARGET_DIR).
 */
export const BIN = process.env.VESTIBULE_BIN || cargoBuiltBinary();

accessSync(BIN, constants.X_OK);

export function freePort(host = '127.0.0.1') {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, host, () => { const { port } = srv.address(); srv.close(() => res(port)); });
  });
}

/** Polls until `check()` is truthy (a readiness probe, bounded). */
export async function waitFor(check, what, ms = 15000) {
  const deadline = Date.now() + ms;
  for (;;) {
    try { if (await check()) return; } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function spawnLogged(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((r) => child.once('exit', r));
  return {
    child,
    log: () => log,
    async stop() { if (child.exitCode === null && child.signalCode === null) { child.kill('SIGTERM'); await exited; } },
  };
}

/**
 * Whether process `pid` listens on 127.0.0.1:`port`: the LISTEN sockets on that port in
 * /proc/net/tcp, by inode, among the process's open files. "Something answers on the port"
 * is not enough: another test's server may have taken it after it was picked.
 */
export function listensOn(pid, port) {
  const inodes = readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length > 9 && parseInt(f[1].split(':')[1], 16) === port && f[3] === '0A')
    .map((f) => `socket:[${f[9]}]`);
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try { return inodes.includes(readlinkSync(`/proc/${pid}/fd/${fd}`)); } catch { return false; }
    });
  } catch { return false; }
}

/**
 * Starts `start(port)` (a child process that binds `port`, which cannot be told to bind port 0
 * and report it: redis-server, nginx, Vestibule) until it is the one listening on the port: a
 * port free when picked may be taken before the child binds it, and then the child exits and
 * it is tried again on a fresh port, unless `port` was given (the caller built URLs on it).
 */
export async function startListening(start, what, port) {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const p = port ?? await freePort();
    const proc = start(p);
    await waitFor(() => proc.child.exitCode !== null || proc.child.signalCode !== null || listensOn(proc.child.pid, p),
      `${what} listening on ${p}`);
    if (listensOn(proc.child.pid, p)) return { ...proc, port: p };
    await proc.stop();
    if (port !== undefined) throw new Error(`${what} could not listen on ${p} (taken?)\n${proc.log?.() ?? ''}`);
  }
  throw new Error(`${what} found no free port in 5 tries`);
}

export async function startRedis() {
  const proc = await startListening((port) => spawnLogged('redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']), 'redis-server');
  const { port } = proc;
  await waitFor(() => execFileSync('redis-cli', ['-p', String(port), 'ping']).toString().includes('PONG'), 'redis-server');
  return { url: `redis://127.0.0.1:${port}`, port, stop: proc.stop };
}

/** `session.encryption_key` of every proxy of the suite (replicas, restarts): 32 bytes, base64. */
export const ENCRYPTION_KEY = 'ZTJlLXN1aXRlLWVuY3J5cHRpb24ta2V5LTAxMjM0NTY=';

/**
 * Starts the Vestibule binary; `port` lets a restart come back on the same origin. `redis` is a
 * `[session.redis]` table (instead of `redisUrl`); `publicUrl`, the origin of a load balancer in
 * front of several of them; `serverExtra`, more `[server]` keys; `routesExtra`, more `[[routes]]`
 * tables; `spaDir`, the SPA served (default: the demo).
 */
export async function startProxy({ issuer, store = 'memory', redisUrl, redis = '', port, apiPort, sessionExtra = '', serverExtra = '', publicUrl, routesExtra = '', spaDir = join(ROOT, 'demo/spa') }) {
  const dir = mkdtempSync(join(tmpdir(), 'vestibule-e2e-'));
  const config = join(dir, 'vestibule.toml');
  let session = '[session]\nstore = "memory"\n';
  if (redis) session = '[session]\nstore = "redis"\n';
  else if (store === 'redis') session = `[session]\nstore = "redis"\nredis_url = "${redisUrl}"\n`;
  session += sessionExtra + redis;
  const proc = await startListening((p) => {
    writeFileSync(config, `[server]\nlisten = "127.0.0.1:${p}"\npublic_url = "${publicUrl ?? `http://127.0.0.1:${p}`}"\n${serverExtra}`
      + `[oidc]\nissuer = "${issuer}"\nclient_id = "${CLIENT_ID}"\nscopes = ["openid", "profile", "email"]\n`
      + session
      + (apiPort ? `[[routes]]\nprefix = "/api"\nupstream = "http://127.0.0.1:${apiPort}"\ntoken = "required"\n` : '')
      + routesExtra
      + `[spa]\ndir = "${spaDir}"\n`);
    // The secret comes from the environment, as operators are told to do.
    return spawnLogged(BIN, ['--config', config], {
      env: { ...process.env, VESTIBULE_OIDC__CLIENT_SECRET: CLIENT_SECRET, VESTIBULE_SESSION__ENCRYPTION_KEY: ENCRYPTION_KEY, RUST_LOG: 'info' },
    });
  }, 'vestibule', port);
  const origin = `http://127.0.0.1:${proc.port}`;
  await waitFor(async () => (await fetch(`${origin}/readyz`)).status === 200, `vestibule ready\n${proc.log()}`);
  return { origin, port: proc.port, stop: proc.stop, log: proc.log };
}

/**
 * Starts the Vestibule binary with a config of `[[apps]]` on `port` (the IdPs were told the
 * apps' redirect URIs, so it is chosen before). Each of `apps` is `{ name, host, providers,
 * apiPort, extra }`: its `public_url` is `http://<host>:<port>` (a `*.localhost` name, which
 * chromium resolves to loopback itself), its SPA the demo, its `/api` route goes to `apiPort`
 * with the session's token, `extra` is more keys of the app (TOML, right after `public_url`).
 * Each provider is `{ name, label, issuer }`, with client `vestibule` and its secret in a file:
 * `VESTIBULE_OIDC__…` in the environment would make a top-level `[oidc]`, refused beside `[[apps]]`.
 */
export async function startApps({ port, apps, serverExtra = '', sessionExtra = '', spaDir = join(ROOT, 'demo/spa') }) {
  const dir = mkdtempSync(join(tmpdir(), 'vestibule-e2e-apps-'));
  const config = join(dir, 'vestibule.toml');
  const secret = join(dir, 'client-secret');
  writeFileSync(secret, CLIENT_SECRET);
  const app = ({ name, host, providers, apiPort, extra = '' }) => `[[apps]]\nname = "${name}"\npublic_url = "http://${host}:${port}"\n${extra}`
    + `[apps.spa]\ndir = "${spaDir}"\n`
    + (apiPort ? `[[apps.routes]]\nprefix = "/api"\nupstream = "http://127.0.0.1:${apiPort}"\ntoken = "required"\n` : '')
    + providers.map((p) => `[[apps.providers]]\nname = "${p.name}"\n${p.label ? `label = "${p.label}"\n` : ''}`
      + `issuer = "${p.issuer}"\nclient_id = "${CLIENT_ID}"\nclient_secret_file = "${secret}"\nscopes = ["openid", "profile", "email"]\n`).join('');
  writeFileSync(config, `[server]\nlisten = "127.0.0.1:${port}"\n${serverExtra}`
    + `[session]\nstore = "memory"\n${sessionExtra}` + apps.map(app).join(''));
  const proc = await startListening(() => spawnLogged(BIN, ['--config', config], {
    env: { ...process.env, VESTIBULE_SESSION__ENCRYPTION_KEY: ENCRYPTION_KEY, RUST_LOG: 'info' },
  }), 'vestibule', port);
  // /readyz answers on any host.
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, `vestibule ready\n${proc.log()}`);
  return { origins: Object.fromEntries(apps.map((a) => [a.name, `http://${a.host}:${port}`])), port, config, stop: proc.stop, log: proc.log };
}

/**
 * oidc-provider-mock (Python, from PyPI, in tests/e2e/.venv) on 127.0.0.3, issuing access tokens
 * of `tokenMaxAge` seconds. It takes any client and any redirect URI (no registration).
 */
export async function startMock({ tokenMaxAge = 10 } = {}) {
  const port = await freePort('127.0.0.3');
  const proc = spawnLogged(join(ROOT, 'tests/e2e/.venv/bin/oidc-provider-mock'),
    ['--host', '127.0.0.3', '--port', String(port), '--token-max-age', String(tokenMaxAge)]);
  const issuer = `http://127.0.0.3:${port}`;
  await waitFor(async () => (await fetch(`${issuer}/.well-known/openid-configuration`)).ok, `oidc-provider-mock\n${proc.log()}`);
  return { issuer, close: proc.stop };
}

/** Signs in at oidc-provider-mock's authorization form as `sub`. */
export async function signInAtMock(page, sub) {
  await page.waitForSelector('input[name="sub"]');
  await page.fill('input[name="sub"]', sub);
  await page.click('button[type="submit"]:not([name])');
}

/** An upstream API that answers with the bearer token it received; `calls` counts what reached it. */
export async function startEcho() {
  const port = await freePort();
  const calls = [];
  const server = createHttpServer((req, res) => {
    calls.push({ url: req.url, authorization: req.headers.authorization ?? null });
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ authorization: req.headers.authorization ?? null }));
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return { port, calls, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }) };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
      '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}

/** Signs in on oidc-provider's devInteractions pages (any login works) and consents. */
export async function signInAtIdp(page, login = 'alice') {
  await page.waitForSelector('input[name="login"]');
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', 'any-password');
  await page.click('button[type="submit"]');
  // Consent page (first login of this user to this client).
  await page.waitForSelector('button[type="submit"]');
  await page.click('button[type="submit"]');
}

/**
 * Signs in again at oidc-provider (a second browser, a step-up): the consent page comes only
 * when the IdP asks for it. Returns once back at `origin`.
 */
export async function signInAgainAtIdp(page, origin, login = 'alice') {
  await page.waitForSelector('input[name="login"]');
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', 'any-password');
  await page.click('button[type="submit"]');
  await page.waitForURL((u) => u.origin === origin || u.pathname.includes('/interaction/'));
  if (!page.url().startsWith(origin)) await page.click('button[type="submit"]');
}

/** Signs in to the demo SPA at `proxy` (consent only when oidc-provider asks) and waits for its signed-in view. */
export async function signInToDemo(page, proxy, login = 'alice') {
  await page.goto(`${proxy.origin}/`);
  await page.click('#login');
  await signInAgainAtIdp(page, proxy.origin, login);
  await page.waitForSelector('#signed-in:not([hidden])');
}

/**
 * Waits until Vestibule holds an access token `skew` seconds or less from expiry, at the latest.
 * Vestibule dates the expiry itself, in whole seconds, when the token answer arrives: no later
 * than `expiresAt` (the IdP's `exp`) plus the seconds between `sentAt` (before the IdP issued the
 * token) and `receivedAt` (after the sign-in that received it completed). A slow machine only
 * makes the wait end later, never early.
 */
export async function untilTokenDue({ expiresAt, skew, sentAt, receivedAt }) {
  const lag = Math.floor(receivedAt / 1000) - Math.floor(sentAt / 1000);
  const due = (expiresAt + lag - skew) * 1000;
  await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
}

/** `/auth/session` from inside the page, with the anti-CSRF header: its status. */
export function sessionStatus(page) {
  return page.evaluate(async () => (await fetch('/auth/session', { headers: { 'X-CSRF': '1' } })).status);
}
