/**
 * Start-up: an unreachable Redis or Postgres stops the engine in under 5 s with a message
 * naming the URL and how to start it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { projectPath } from '../common/index.js';
import { loadConfig } from '../server/config.js';
import { createEngine } from '../server/engine.js';
import { freePort } from './engine-process.js';
import { testIsolation } from './helpers.js';

async function startAndWaitExit(env: Record<string, string>): Promise<{ code: number; ms: number; out: string }> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', projectPath('server', 'main.ts')], {
    env: { ...process.env, ...env, LOG_LEVEL: 'info', PORT: String(await freePort()) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  const [code] = await once(child, 'exit');
  return { code: code as number, ms: Date.now() - started, out };
}

describe('start-up checks', () => {
  it('gives up on an unreachable Redis or Postgres within 5 s', async () => {
    for (const bad of [
      { REDIS_URL: `redis://127.0.0.1:${await freePort()}` },
      { DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/test` },
    ]) {
      const config = loadConfig({ ...testIsolation().env, ...bad });
      const started = Date.now();
      await expect(createEngine(config, { log: pino({ level: 'silent' }) })).rejects.toThrow(/Cannot reach/);
      expect(Date.now() - started).toBeLessThan(5000);
    }
  });

  // The same, as an operator sees it: the process exits non-zero naming the URL and the fix.
  it('fails fast naming the Redis URL when Redis is unreachable', async () => {
    const port = await freePort(); // nothing listens there
    const { env } = testIsolation();
    const r = await startAndWaitExit({ ...env, REDIS_URL: `redis://127.0.0.1:${port}` });
    expect(r.code).not.toBe(0);
    expect(r.out).toContain(`Cannot reach Redis at redis://127.0.0.1:${port}`);
    expect(r.out).toContain('redis-server');
  });

  it('fails fast naming the Postgres URL when Postgres is unreachable', async () => {
    const port = await freePort();
    const { env } = testIsolation();
    const r = await startAndWaitExit({ ...env, DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/test` });
    expect(r.code).not.toBe(0);
    expect(r.out).toContain(`Cannot reach PostgreSQL at postgres://postgres@127.0.0.1:${port}/test`);
  });
});
