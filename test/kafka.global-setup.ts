/**
 * Vitest global setup of the `kafka` project (files named *.kafka.test.ts): starts the
 * single-node broker of scripts/kafka.sh before them and stops it after — unless a broker
 * was already running, which is then left alone. The first start on a machine fetches the
 * jars with Maven (~45 s); later starts take ~6 s.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const script = resolve(import.meta.dirname, '..', 'scripts', 'kafka.sh');

export default function setup(): () => void {
  const running = spawnSync(script, ['status'], { encoding: 'utf8' }).status === 0;
  if (!running) execFileSync(script, ['start'], { stdio: 'inherit', timeout: 240_000 });
  return () => {
    if (!running) execFileSync(script, ['stop'], { stdio: 'inherit', timeout: 60_000 });
  };
}
