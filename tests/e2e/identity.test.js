// Browser suite, identity for upstreams: an upstream behind a `token = "none"` route trusts who
// the user is from Vestibule's signed identity alone, verified with jose against the JWKS
// Vestibule serves, before and after a key rotation (Vestibule restarted with a new signing key
// and the old one as a previous key).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import * as jose from 'jose';
import { startIdp } from './idp.mjs';
import { freePort, startProxy, startRedis, launchBrowser, signInAgainAtIdp } from './harness.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** An upstream that records the identity header and the Authorization header of each call. */
async function recordingUpstream() {
  const seen = [];
  const server = createServer((req, res) => {
    seen.push({ identity: req.headers['x-vestibule-identity'], authorization: req.headers.authorization });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { port: server.address().port, seen, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }) };
}

const pem = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
const toml = (s) => JSON.stringify(s); // a TOML basic string is a JSON string

test('an upstream verifies the identity with the JWKS Vestibule serves, across a key rotation', async () => {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const redis = await startRedis();
  const idp = await startIdp({ host: '127.0.0.2', port: await freePort('127.0.0.2'), proxyOrigins: [origin] });
  const upstream = await recordingUpstream();
  const route = `[[routes]]\nprefix = "/who"\nupstream = "http://127.0.0.1:${upstream.port}"\ntoken = "none"\nidentity_header = "X-Vestibule-Identity"\n`;
  const [k1, k2] = [pem(), pem()];
  const start = (key, previous = []) => startProxy({
    issuer: idp.issuer, port, store: 'redis', redisUrl: redis.url,
    routesExtra: `${route}[identity]\nsigning_key = ${toml(key)}\nprevious_keys = [${previous.map(toml).join(', ')}]\n`,
  });
  let proxy = await start(k1);
  const context = await browser.newContext();
  const verify = async (token) => {
    const set = await (await fetch(`${origin}/.well-known/jwks.json`)).json();
    assert.ok(set.keys.every((k) => !('d' in k)), 'no private key member in the JWKS');
    return jose.jwtVerify(token, jose.createLocalJWKSet(set), { issuer: origin, audience: `${origin}/who`, algorithms: ['ES256'] });
  };
  try {
    const page = await context.newPage();
    await page.goto(`${origin}/`);
    await page.click('#login');
    await signInAgainAtIdp(page, origin);
    await page.waitForSelector('#signed-in:not([hidden])');
    const call = () => page.evaluate(async () => (await fetch('/who/am-i', { headers: { 'X-CSRF': '1', 'X-Vestibule-Identity': 'forged' } })).status);

    assert.equal(await call(), 200);
    const first = upstream.seen.at(-1);
    assert.equal(first.authorization, undefined, 'token = "none": no access token upstream');
    assert.notEqual(first.identity, 'forged', "the browser's own identity header never arrives");
    const { payload, protectedHeader } = await verify(first.identity);
    assert.equal(payload.sub, 'alice');
    assert.equal(payload.email, 'alice@example.test');
    assert.ok(payload.exp - payload.iat <= 60);

    // Rotation: restart signing with k2, k1 published as a previous key. The session (in Redis)
    // stays; the identity issued before still verifies, the new one is signed by the new key.
    await proxy.stop();
    proxy = await start(k2, [k1]);
    assert.equal(await call(), 200);
    const second = upstream.seen.at(-1);
    const rotated = await verify(second.identity);
    assert.equal(rotated.payload.sub, 'alice');
    assert.notEqual(rotated.protectedHeader.kid, protectedHeader.kid, 'signed by the new key');
    assert.equal((await verify(first.identity)).payload.sub, 'alice', 'the old identity still verifies');
    // A token not signed by Vestibule's keys is refused by the same check.
    const stranger = await new jose.SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'ES256', kid: protectedHeader.kid })
      .setIssuer(origin).setAudience(`${origin}/who`).setIssuedAt().setExpirationTime('1m')
      .sign((await jose.generateKeyPair('ES256')).privateKey);
    await assert.rejects(verify(stranger), /signature/);
  } finally {
    await context.close();
    await proxy.stop();
    await upstream.close();
    await idp.close();
    await redis.stop();
  }
});
