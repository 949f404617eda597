/**
 * A compensation whose process is SIGKILLed half-way completes on the next start:
 * the real engine runs as a child process that kills itself right after the scoring
 * step of a confirm; a fresh engine's resumer finishes it — nothing revoked twice,
 * nothing left behind (the cheat's account ends equal to a twin's without the cheat).
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../common/index.js';
import { type EngineProcess, freePort, startEngineProcess, stopProcess } from '../../test/engine-process.js';
import { dropIsolation, TEST_DATABASE_URL, testIsolation } from '../../test/helpers.js';
import { workout } from './events.js';

const iso = testIsolation();
const base = {
  ...iso.env,
  ANTICHEAT_ENABLED: 'true',
  ANTICHEAT_LEASE_MS: '500',
  LEADERBOARD_JOBS: 'false',
  REWARDS_JOBS: 'false',
};
const db = new pg.Pool({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${iso.schema}` });
let engine: EngineProcess | undefined;

afterAll(async () => {
  if (engine) await stopProcess(engine.child, 'SIGKILL');
  await db.end();
  await dropIsolation(iso.schema, iso.prefix);
});

async function call(url: string, token: string, method: string, body?: unknown) {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json() };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('compensation crash', () => {
  it('finishes a confirm killed after its first step, on the next engine start', async () => {
    const port = await freePort();
    const service = await mintToken(base.JWT_SECRET, { sub: 'svc', roles: ['service'] });
    const moderator = await mintToken(base.JWT_SECRET, { sub: 'mod-kim', roles: ['moderator'] });
    engine = await startEngineProcess({ ...base, ANTICHEAT_CRASH_AFTER_STEP: 'scoring' }, port);
    const url = engine.url;

    const now = Date.now();
    for (const user of ['u-k-cheat', 'u-k-twin']) {
      for (const h of [3, 1]) {
        const r = await call(`${url}/v1/events`, service, 'POST', workout(user, { endAt: now - h * 3_600_000 }));
        expect(r.status).toBe(201);
      }
    }
    const cheat = await call(
      `${url}/v1/events`,
      service,
      'POST',
      workout('u-k-cheat', {
        endAt: now - 6 * 3_600_000,
        durationSec: 3600,
        distanceM: 11_000,
        weightKg: 70,
        calories: 1200,
      }),
    );
    expect(cheat.body.flags).toHaveLength(1);
    const flagId = cheat.body.flags[0].id;

    const exited = new Promise((resolve) => engine!.child.once('exit', (_code, signal) => resolve(signal)));
    const decided = await fetch(`${url}/v1/moderation/flags/${flagId}/decision`, {
      method: 'POST',
      headers: { authorization: `Bearer ${moderator}`, 'content-type': 'application/json' },
      body: JSON.stringify({ decision: 'confirm' }),
    }).then(
      (r) => r.status,
      () => 'connection lost',
    );
    expect(decided).toBe('connection lost');
    expect(await exited).toBe('SIGKILL');
    engine = undefined;

    // Half-way: the decision is durable, the compensation is not finished.
    const state = async () =>
      (
        await db.query(
          `SELECT f.status AS flag, c.status, c.attempts, d.after IS NOT NULL AS audited
             FROM anticheat_flags f JOIN anticheat_compensations c ON c.event_id = f.event_id
             JOIN anticheat_decisions d ON d.event_id = f.event_id WHERE f.id = $1`,
          [flagId],
        )
      ).rows[0];
    expect(await state()).toEqual({ flag: 'confirmed', status: 'pending', attempts: 1, audited: false });

    engine = await startEngineProcess({ ...base, ANTICHEAT_RESUME_INTERVAL_MS: '200' }, port);
    const done = await until('the resumed compensation', async () => {
      const s = await state();
      return s.status === 'done' ? s : undefined;
    });
    expect(done).toEqual({ flag: 'confirmed', status: 'done', attempts: 2, audited: true });

    // Exactly the twin: nothing of the cheat left, nothing of the clean workouts taken twice.
    const view = async (user: string) => {
      const stats = await call(`${engine!.url}/v1/users/${user}/stats`, service, 'GET');
      const scores: Record<string, unknown> = {};
      for (const metric of ['points', 'distance', 'duration', 'workouts']) {
        for (const window of ['daily', 'weekly', 'monthly', 'alltime']) {
          const r = await call(`${engine!.url}/v1/leaderboards/${metric}/${window}/users/${user}`, service, 'GET');
          scores[`${metric}:${window}`] = r.body.score;
        }
      }
      return { totals: stats.body.totals, scores };
    };
    const twin = await view('u-k-twin');
    expect(twin.totals).toMatchObject({ points: 600, workouts: 2 });
    expect(await view('u-k-cheat')).toEqual(twin);
    expect(await stopProcess(engine.child, 'SIGTERM')).toBe(0);
    engine = undefined;
  }, 150_000); // two engine starts as child processes: slow on a busy 2-core machine
});
