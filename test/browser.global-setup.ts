/**
 * Vitest global setup of the `browser` project (files named *.browser.test.ts): makes sure
 * Chromium is installed (scripts/setup-browser.sh: Debian's chromium package through apt-get
 * on first use, nothing when present), so the README's test command needs no other step.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

export default function setup(): void {
  if (process.env.SKIP_BROWSER_TESTS === '1') return;
  execFileSync('bash', [resolve(import.meta.dirname, '..', 'scripts', 'setup-browser.sh')], {
    stdio: 'inherit',
    timeout: 600_000,
  });
}
