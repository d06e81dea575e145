// Signs in through Vestibule at ORIGIN with chromium and oidc-provider's login page, then prints
// the session cookie's value (for wrk). Usage: node bench/login.mjs http://127.0.0.1:PORT [login]
// (each login name is a new account at the IdP, so it always asks for consent).
import { launchBrowser, signInAtIdp } from '../tests/e2e/harness.mjs';

const origin = process.argv[2];
const login = process.argv[3] || 'bench';
const browser = await launchBrowser();
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  // No SPA is configured in the benchmark: come back to a page that exists.
  await page.goto(`${origin}/auth/login?return_to=/healthz`);
  await signInAtIdp(page, login);
  await page.waitForURL((u) => u.origin === origin);
  const cookie = (await context.cookies(origin)).find((c) => c.name === 'vestibule' || c.name === '__Host-vestibule');
  if (!cookie) throw new Error('no session cookie after login');
  process.stdout.write(cookie.value);
} finally {
  await browser.close();
}
