// What `npm pack` makes is what users get: its files, and its `exports` resolved by Node, Vite,
// webpack and TypeScript from an app that installed the tarball (node --test).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const PKG = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DEPS = join(PKG, 'node_modules');
let app;
let packed;

/** An app with the tarball installed (its other dependencies linked from this package's). */
before(() => {
  const out = mkdtempSync(join(tmpdir(), 'vestibule-pack-'));
  const [info] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: PKG, encoding: 'utf8' }));
  packed = info.files.map((f) => f.path).sort();
  app = join(out, 'app');
  const modules = join(app, 'node_modules');
  mkdirSync(join(modules, '@vestibule', 'client'), { recursive: true });
  execFileSync('tar', ['-xzf', join(out, info.filename), '-C', join(modules, '@vestibule', 'client'), '--strip-components=1']);
  for (const name of readdirSync(DEPS)) {
    if (name.startsWith('.')) continue;
    symlinkSync(join(DEPS, name), join(modules, name));
  }
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  writeFileSync(join(app, 'entry.js'), [
    "import { createClient, createSessionStore, VestibuleError, Unauthenticated, StepUpRequired } from '@vestibule/client';",
    "import { useSession as useReact } from '@vestibule/client/react';",
    "import { useSession as useVue } from '@vestibule/client/vue';",
    "export const all = [createClient, createSessionStore, VestibuleError, Unauthenticated, StepUpRequired, useReact, useVue];",
    "export const seen = all.map((f) => typeof f).join(',');",
    "globalThis.vestibuleExports = all;",
    '',
  ].join('\n'));
  writeFileSync(join(app, 'index.html'), '<!doctype html><script type="module" src="./entry.js"></script>\n');
});

test('the tarball holds the code, the types, the README and the changelog, and no tests', () => {
  assert.deepEqual(packed, [
    'CHANGELOG.md', 'README.md', 'errors.js', 'events.js', 'index.d.ts', 'index.js', 'package.json',
    'react.d.ts', 'react.js', 'store.js', 'vue.d.ts', 'vue.js',
  ]);
  const manifest = JSON.parse(readFileSync(join(app, 'node_modules/@vestibule/client/package.json'), 'utf8'));
  assert.match(manifest.version, /^\d+\.\d+\.\d+$/);
  assert.match(readFileSync(join(app, 'node_modules/@vestibule/client/CHANGELOG.md'), 'utf8'), new RegExp(`## ${manifest.version.replace(/\./g, '\\.')}`));
});

test('Node resolves every export of the installed package', () => {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', "const m = await import('./entry.js'); console.log(m.seen)"], { cwd: app, encoding: 'utf8' });
  assert.equal(out.trim(), 'function,function,function,function,function,function,function');
});

test('Vite builds an app that imports every export', async () => {
  const { build } = await import(join(DEPS, 'vite/dist/node/index.js'));
  const result = await build({ root: app, logLevel: 'silent', build: { outDir: join(app, 'dist-vite'), minify: false } });
  const code = result.output.filter((o) => o.type === 'chunk').map((o) => o.code).join('\n');
  assert.match(code, /insufficient_user_authentication/, 'the package is in the bundle');
  assert.match(code, /useSyncExternalStore/, 'and its React binding');
});

test('webpack builds an app that imports every export', async () => {
  const webpack = (await import(join(DEPS, 'webpack/lib/index.js'))).default;
  const stats = await new Promise((resolveRun, reject) => webpack({
    mode: 'production',
    context: app,
    entry: './entry.js',
    output: { path: join(app, 'dist-webpack'), filename: 'main.js' },
    optimization: { minimize: false },
  }, (err, s) => (err ? reject(err) : resolveRun(s))));
  assert.equal(stats.hasErrors(), false, stats.toString('errors-only'));
  assert.match(readFileSync(join(app, 'dist-webpack/main.js'), 'utf8'), /insufficient_user_authentication/);
});

test('TypeScript finds the types of every export (moduleResolution node16 and bundler)', () => {
  writeFileSync(join(app, 'use.ts'), [
    "import { createClient, VestibuleError } from '@vestibule/client';",
    "import { useSession } from '@vestibule/client/react';",
    "import { useSession as useVue } from '@vestibule/client/vue';",
    'const c = createClient();',
    'export const e: number = new VestibuleError(503).status;',
    'export const hooks = [useSession, useVue, c];',
    '',
  ].join('\n'));
  for (const resolution of [['node16', 'node16'], ['esnext', 'bundler']]) {
    execFileSync(process.execPath, [join(DEPS, 'typescript/bin/tsc'), '--strict', '--noEmit', '--skipLibCheck', 'false',
      '--module', resolution[0], '--moduleResolution', resolution[1], '--target', 'es2022', '--lib', 'es2022,dom', 'use.ts'],
    { cwd: app, encoding: 'utf8' });
  }
});
