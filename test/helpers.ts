/**
 * Test harness: a real engine on the real Redis and Postgres, isolated per test file by
 * its own Postgres schema and Redis key prefix, torn down afterwards.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import pino from 'pino';
import { mintToken, type Role } from '../common/index.js';
import { createRedis, deleteByPrefix } from '../persistence/index.js';
import { buildApp } from '../server/app.js';
import { type Config, loadConfig } from '../server/config.js';
import { createEngine, type Engine } from '../server/engine.js';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestEngine {
  app: FastifyInstance;
  engine: Engine;
  config: Config;
  schema: string;
  prefix: string;
  token(sub: string, roles?: Role[]): Promise<string>;
  close(): Promise<void>;
}

export function testIsolation(): { schema: string; prefix: string; env: Record<string, string> } {
  const id = randomBytes(5).toString('hex');
  const schema = `t_${id}`;
  const prefix = `ptest:${id}:`;
  return {
    schema,
    prefix,
    env: {
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_SCHEMA: schema,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      LOG_LEVEL: 'silent',
      JWT_SECRET: 'test-secret',
      // The suites send physically impossible workouts on purpose (5 km in 60 s, many workouts
      // of one user at one instant); anti-cheat would hold them. Its own tests turn it on.
      ANTICHEAT_ENABLED: 'false',
    },
  };
}

export async function startTestEngine(env: Record<string, string> = {}): Promise<TestEngine> {
  const iso = testIsolation();
  const config = loadConfig({ ...iso.env, RECONCILE_INTERVAL_MS: '3600000', ...env });
  const log = pino({ level: 'silent' });
  const engine = await createEngine(config, { log, migrate: true });
  const app = await buildApp(engine, log);
  await app.ready();
  return {
    app,
    engine,
    config,
    schema: iso.schema,
    prefix: iso.prefix,
    token: (sub, roles = ['user']) => mintToken(config.auth.secret, { sub, roles }),
    async close() {
      await app.close();
      await engine.close();
      await dropIsolation(iso.schema, iso.prefix);
    },
  };
}

export async function dropIsolation(schema: string, prefix: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
  const redis = createRedis(TEST_REDIS_URL);
  await deleteByPrefix(redis, prefix);
  await redis.quit();
}

let seq = 0;
/** A valid workout event; `over` replaces fields (use `workout` to replace workout fields). */
export function workoutEvent(over: Record<string, unknown> = {}, workout: Record<string, unknown> = {}) {
  seq++;
  return {
    id: `ev-${process.pid}-${Date.now()}-${seq}-${randomBytes(3).toString('hex')}`,
    type: 'workout.completed',
    userId: 'u-1',
    occurredAt: new Date(Date.now() - 60_000).toISOString(),
    workout: { activity: 'run', durationSec: 1800, distanceM: 5000, avgHeartRate: 150, maxHeartRate: 176, ...workout },
    ...over,
  };
}

export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}
