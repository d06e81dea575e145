// The Vestibule binary this build produced, as cargo names it: never a guessed path such as
// target/debug/vestibule (stale, or not this build at all under $CARGO_TARGET_DIR). The browser
// harness imports it; scripts/test runs it (`node tests/e2e/binary.mjs` prints the path) once,
// so that each test file does not ask cargo again.
import { execFileSync } from 'node:child_process';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Builds the `vestibule` binary (a no-op when it is up to date) and returns its path. */
export function cargoBuiltBinary() {
  const out = execFileSync('cargo', ['build', '--quiet', '--bin', 'vestibule', '--message-format=json'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 }).toString();
  const exe = out.split('\n').filter(Boolean).map((l) => JSON.parse(l))
    .filter((m) => m.reason === 'compiler-artifact' && m.target?.name === 'vestibule' && m.target.kind.includes('bin'))
    .map((m) => m.executable).at(-1);
  if (!exe) throw new Error('cargo build --bin vestibule named no executable');
  return exe;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(cargoBuiltBinary());
