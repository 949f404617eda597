/**
 * Acknowledged means durable, applied exactly once, and Redis is rebuildable:
 * SIGKILL the engine under load, restart it, check every acknowledged event; then wipe
 * Redis and rebuild from Postgres alone and compare every user's stats.
 *
 * This file owns Redis database 9 (FLUSHDB there is this test's FLUSHALL, without
 * disturbing the other test files running in parallel on database 0).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mintToken } from '../common/index.js';
import { createRedis } from '../persistence/index.js';
import { type EngineProcess, freePort, runCli, startEngineProcess, stopProcess } from './engine-process.js';
import { dropIsolation, TEST_DATABASE_URL, testIsolation, workoutEvent } from './helpers.js';

const iso = testIsolation();
const env = { ...iso.env, REDIS_URL: 'redis://127.0.0.1:6379/9', RECONCILE_MIN_AGE_MS: '0' };
const USERS = Array.from({ length: 20 }, (_, i) => `crash-u${i}`);
const redis = createRedis(env.REDIS_URL);
const db = new pg.Pool({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${iso.schema}` });
let engine: EngineProcess | undefined;

beforeAll(async () => {
  await redis.connect();
  await redis.flushdb();
});
afterAll(async () => {
  if (engine) await stopProcess(engine.child, 'SIGKILL');
  await db.end();
  await redis.flushdb();
  await redis.quit();
  await dropIsolation(iso.schema, iso.prefix);
});

/** Sends events from `concurrency` loops until `stop()`; returns the ids answered 2xx. */
function loadGenerator(url: string, token: string, concurrency: number) {
  const acked: string[] = [];
  let running = true;
  let n = 0;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      const ev = workoutEvent({ userId: USERS[n++ % USERS.length] });
      try {
        const res = await fetch(`${url}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify(ev),
        });
        await res.text();
        if (res.status === 201 || res.status === 200) acked.push(ev.id);
      } catch {
        // The engine died under us: this request was never acknowledged.
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  });
  return {
    acked,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function snapshot(): Promise<Record<string, Record<string, string>>> {
  const out: Record<string, Record<string, string>> = {};
  for (const u of USERS) {
    const keys = await redis.keys(`${iso.prefix}scoring:{u:${u}}:*`);
    for (const k of keys.filter((k) => !k.includes(':ev:')).sort()) out[k] = await redis.hgetall(k);
  }
  return out;
}

// Child processes start slowly on a busy 2-core machine: generous per-test time.
vi.setConfig({ testTimeout: 180_000 });

describe('crash safety', () => {
  it('loses no acknowledged event when SIGKILLed under load, and applies each exactly once', async () => {
    const port = await freePort();
    const token = await mintToken(env.JWT_SECRET, { sub: 'loadgen', roles: ['service'] });
    engine = await startEngineProcess(env, port);
    const load = loadGenerator(engine.url, token, 16);
    // Kill while requests are in flight, once a fair number went through.
    while (load.acked.length < 200) await new Promise((r) => setTimeout(r, 10));
    await stopProcess(engine.child, 'SIGKILL');
    await load.stop();
    const acked = [...load.acked];

    // Restart: the reconciler applies what was committed but not applied.
    engine = await startEngineProcess(env, port);
    const { rows: present } = await db.query('SELECT event_id FROM ingest_events WHERE event_id = ANY($1)', [acked]);
    expect(present.length).toBe(acked.length);
    const { rows: unapplied } = await db.query('SELECT count(*)::int AS n FROM ingest_events WHERE applied_at IS NULL');
    expect(unapplied[0].n).toBe(0);

    // Exactly once: Redis counters equal the ledger, user by user.
    const { rows: perUser } = await db.query(
      `SELECT user_id, count(*)::int AS workouts, sum((outcome->'points'->>'awarded')::int)::int AS points
         FROM ingest_events GROUP BY user_id`,
    );
    expect(perUser.length).toBe(USERS.length);
    for (const row of perUser) {
      const totals = await redis.hgetall(`${iso.prefix}scoring:{u:${row.user_id}}:totals`);
      expect(Number(totals.workouts)).toBe(row.workouts);
      expect(Number(totals.points)).toBe(row.points);
      expect(row.points).toBeLessThanOrEqual(1000); // one day of events: the cap held through the crash
    }
  });

  it('rebuilds identical stats for every user from Postgres after Redis is wiped', async () => {
    expect(engine).toBeDefined();
    expect(await stopProcess(engine!.child, 'SIGTERM')).toBe(0);
    engine = undefined;
    const before = await snapshot();
    expect(Object.keys(before).length).toBeGreaterThanOrEqual(USERS.length * 4);

    await redis.flushdb();
    expect(await snapshot()).toEqual({});
    const result = await runCli(['rebuild'], env);
    expect(result.code, result.out).toBe(0);
    expect(await snapshot()).toEqual(before);
  });

  it('drains in-flight requests and records every outcome on SIGTERM under load', async () => {
    const port = await freePort();
    const token = await mintToken(env.JWT_SECRET, { sub: 'loadgen', roles: ['service'] });
    engine = await startEngineProcess(env, port);
    const load = loadGenerator(engine.url, token, 16);
    const before = load.acked.length;
    while (load.acked.length < before + 200) await new Promise((r) => setTimeout(r, 10));
    expect(await stopProcess(engine.child, 'SIGTERM')).toBe(0);
    engine = undefined;
    await load.stop();

    const { rows } = await db.query(
      'SELECT count(*)::int AS n, count(*) FILTER (WHERE applied_at IS NULL)::int AS unapplied FROM ingest_events WHERE event_id = ANY($1)',
      [load.acked],
    );
    expect(rows[0]).toEqual({ n: load.acked.length, unapplied: 0 });
  });
});
