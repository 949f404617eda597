/**
 * A redemption saga interrupted by a real crash (SIGKILL of the process driving it,
 * between steps or with a step's transaction open) is resumed or compensated by the
 * engine that comes after it: the same sweep its maintenance job runs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectPath } from '../../common/index.js';
import { startTestEngine, type TestEngine } from '../../test/helpers.js';
import { RedemptionSaga } from '../redemption.saga.js';
import { RewardsRepository } from '../rewards.repository.js';

const LEASE_MS = 300;
let t: TestEngine;
beforeAll(async () => {
  t = await startTestEngine({ REWARDS_JOBS: 'false' });
});
afterAll(() => t?.close());

let n = 0;
async function setup(): Promise<{ userId: string; rewardId: string }> {
  const rewardId = `crash-r${++n}`;
  const userId = `crash-u${n}`;
  await t.engine.achievements.rewards.upsertReward(rewardId, {
    name: 'Water bottle',
    description: '',
    cost: 40,
    stock: 3,
    validDays: 90,
    expiresAt: null,
  });
  await t.engine.achievements.achievements.grantAward({ userId, kind: 'test.credit', sourceRef: 'seed', credits: 100 });
  return { userId, rewardId };
}

/** Starts the child, waits until it stalls at `stallAt`, SIGKILLs it; returns the redemption id. */
async function crashAt(stallAt: string, ids: { userId: string; rewardId: string }): Promise<string> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', projectPath('achievements', 'test', 'saga-crash.child.ts')],
    {
      cwd: projectPath(),
      env: {
        ...process.env,
        DATABASE_SCHEMA: t.schema,
        REDIS_PREFIX: t.prefix,
        STALL_AT: stallAt,
        USER_ID: ids.userId,
        REWARD_ID: ids.rewardId,
        LEASE_MS: String(LEASE_MS),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const stalled = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = out.match(/STALLED (\S+)\n/);
      if (m) resolve(m[1]!);
    });
    child.stderr!.on('data', (d) => {
      out += d;
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before stalling:\n${out}`)));
  });
  const id = await stalled;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
  return id;
}

async function facts(id: string, ids: { userId: string; rewardId: string }) {
  const one = async (sql: string, p: unknown[]) => (await t.engine.pool.query(sql, p)).rows[0];
  return {
    state: (await one('SELECT state FROM rewards_redemptions WHERE id = $1', [id]))?.state,
    stock: (await one('SELECT stock FROM rewards_catalogue WHERE reward_id = $1', [ids.rewardId])).stock,
    balance: await t.engine.achievements.rewards.balanceOf(ids.userId),
    fulfilments: Number((await one('SELECT count(*) AS n FROM rewards_fulfilments WHERE redemption_id = $1', [id])).n),
  };
}

/** The restarted engine's sweep, once the dead driver's lease has run out. */
async function sweepUntilSettled(sweep: () => Promise<number>): Promise<void> {
  const deadline = Date.now() + 5000;
  while ((await sweep()) === 0) {
    if (Date.now() > deadline) throw new Error('the sweep never took the saga over');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a saga interrupted by a crash', () => {
  it('killed after debiting: the next engine resumes it to completion', async () => {
    const ids = await setup();
    const id = await crashAt('debit:afterCommit', ids);
    expect(await facts(id, ids)).toEqual({ state: 'balance_debited', stock: 2, balance: 60, fulfilments: 0 });
    await sweepUntilSettled(async () => (await t.engine.achievements.jobs.runOnce()).recovered);
    expect(await facts(id, ids)).toEqual({ state: 'completed', stock: 2, balance: 60, fulfilments: 1 });
  });

  it('killed with the debit transaction open: Postgres rolls it back, the next engine resumes', async () => {
    const ids = await setup();
    const id = await crashAt('debit:inTx', ids);
    expect(await facts(id, ids)).toEqual({ state: 'stock_reserved', stock: 2, balance: 100, fulfilments: 0 });
    await sweepUntilSettled(async () => (await t.engine.achievements.jobs.runOnce()).recovered);
    expect(await facts(id, ids)).toEqual({ state: 'completed', stock: 2, balance: 60, fulfilments: 1 });
  });

  it('killed mid-fulfilment and past its attempts: the next engine compensates it', async () => {
    const ids = await setup();
    const id = await crashAt('fulfil:inTx', ids);
    expect(await facts(id, ids)).toEqual({ state: 'balance_debited', stock: 2, balance: 60, fulfilments: 0 });
    // An engine configured to give up at once (REDEMPTION_MAX_ATTEMPTS=0) compensates instead.
    const repo = new RewardsRepository(t.engine.pool);
    const giveUp = new RedemptionSaga(t.engine.pool, repo, {
      leaseMs: 30_000,
      maxAttempts: 0,
      log: { warn: () => {} },
    });
    await sweepUntilSettled(() => giveUp.recover());
    expect(await facts(id, ids)).toEqual({ state: 'failed', stock: 3, balance: 100, fulfilments: 0 });
  });
});
