/**
 * Rewards: redemption over HTTP, refusals that change nothing, and the saga under
 * failure — a fault injected at each step compensates to the stock and balance before;
 * a stalled saga is taken over (resumed, or compensated after too many attempts); expiry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../common/index.js';
import { bearer, startTestEngine, type TestEngine } from '../../test/helpers.js';
import { type FaultInjector, RedemptionSaga } from '../redemption.saga.js';
import { RewardsCache } from '../rewards.cache.js';
import { RewardsRepository } from '../rewards.repository.js';
import { RewardsService } from '../rewards.service.js';

let t: TestEngine;
let admin: string;
let service: string;
const quiet = { warn: () => {} };

beforeAll(async () => {
  t = await startTestEngine({ REWARDS_JOBS: 'false' });
  admin = await t.token('root', ['admin']);
  service = await t.token('svc', ['service']);
});
afterAll(() => t?.close());

let n = 0;
async function reward(over: Record<string, unknown> = {}): Promise<string> {
  const id = `rw-${++n}`;
  const res = await t.app.inject({
    method: 'PUT',
    url: `/v1/rewards/${id}`,
    headers: bearer(admin),
    payload: { name: `Reward ${n}`, cost: 30, stock: 5, validDays: 30, ...over },
  });
  expect(res.statusCode, res.body).toBe(200);
  return id;
}

async function userWith(balance: number): Promise<string> {
  const userId = `ru-${++n}`;
  if (balance > 0) {
    await t.engine.achievements.achievements.grantAward({
      userId,
      kind: 'test.credit',
      sourceRef: 'seed',
      credits: balance,
    });
  }
  return userId;
}

async function snapshot(userId: string, rewardId: string) {
  const q = async (sql: string, params: unknown[]) => (await t.engine.pool.query(sql, params)).rows;
  const [stock] = await q('SELECT stock FROM rewards_catalogue WHERE reward_id = $1', [rewardId]);
  return {
    stock: stock?.stock,
    balance: await t.engine.achievements.rewards.balanceOf(userId),
    fulfilments: (await q('SELECT 1 FROM rewards_fulfilments WHERE user_id = $1', [userId])).length,
    heldStock: (await q(`SELECT 1 FROM rewards_reservations WHERE reward_id = $1 AND status = 'reserved'`, [rewardId]))
      .length,
  };
}

const redemptionsOf = async (userId: string) =>
  (await t.engine.pool.query('SELECT state, failure FROM rewards_redemptions WHERE user_id = $1', [userId])).rows;

function serviceWith(faults: FaultInjector, opts: { leaseMs?: number; maxAttempts?: number } = {}) {
  const pool = t.engine.pool;
  const repo = new RewardsRepository(pool);
  const leaseMs = opts.leaseMs ?? 30_000;
  const saga = new RedemptionSaga(pool, repo, { leaseMs, maxAttempts: opts.maxAttempts ?? 5, faults, log: quiet });
  return {
    saga,
    rewards: new RewardsService({ pool, repo, saga, cache: new RewardsCache(t.engine.redis, t.prefix), leaseMs }),
  };
}

const redeem = async (userId: string, rewardId: string, key?: string) =>
  t.app.inject({
    method: 'POST',
    url: `/v1/rewards/${rewardId}/redemptions`,
    headers: { ...bearer(await t.token(userId)), ...(key ? { 'idempotency-key': key } : {}) },
    payload: {},
  });

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('redemption', () => {
  it('reserves, debits and fulfils: 201 with a voucher, once per Idempotency-Key', async () => {
    const rewardId = await reward({ cost: 50, stock: 2 });
    const userId = await userWith(120);
    const res = await redeem(userId, rewardId, 'k-1');
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ userId, rewardId, cost: 50, state: 'completed', failure: null, balance: 70 });
    expect(body.fulfilment.code).toMatch(/^PDM-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    expect(Date.parse(body.fulfilment.expiresAt) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    expect(await snapshot(userId, rewardId)).toEqual({ stock: 1, balance: 70, fulfilments: 1, heldStock: 0 });

    const replay = await redeem(userId, rewardId, 'k-1');
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json().id).toBe(body.id);
    expect(await snapshot(userId, rewardId)).toMatchObject({ stock: 1, balance: 70 });

    const wallet = await t.app.inject({ method: 'GET', url: `/v1/users/${userId}/rewards`, headers: bearer(service) });
    expect(wallet.json()).toMatchObject({ balance: 70, redemptions: [{ id: body.id, state: 'completed' }] });
    const other = await t.app.inject({
      method: 'GET',
      url: `/v1/rewards/redemptions/${body.id}`,
      headers: bearer(await t.token('someone-else')),
    });
    expect(other.statusCode).toBe(404);
  });

  it('refuses unknown, expired, out-of-stock and unaffordable rewards with 4xx, changing nothing', async () => {
    const userId = await userWith(40);
    const cases: Array<[string, number, string, string | undefined]> = [
      ['no-such-reward', 404, 'not_found', 'unknown_reward'],
      [await reward({ expiresAt: new Date(Date.now() - 1000).toISOString() }), 409, 'conflict', 'reward_expired'],
      [await reward({ active: false }), 409, 'conflict', 'reward_expired'],
      [await reward({ stock: 0 }), 409, 'conflict', 'out_of_stock'],
      [await reward({ cost: 41 }), 409, 'conflict', 'insufficient_balance'],
    ];
    for (const [rewardId, status, code, reason] of cases) {
      const before = await snapshot(userId, rewardId);
      const res = await redeem(userId, rewardId);
      expect(res.statusCode, rewardId).toBe(status);
      expect(res.json().error).toMatchObject({ code, details: { reason } });
      expect(await snapshot(userId, rewardId)).toEqual(before);
    }
    expect(await redemptionsOf(userId)).toEqual([]);
    expect(await t.engine.achievements.rewards.balanceOf(userId)).toBe(40);

    const forOther = await t.app.inject({
      method: 'POST',
      url: `/v1/rewards/${cases[4]![0]}/redemptions`,
      headers: bearer(await t.token('intruder')),
      payload: { userId },
    });
    expect(forOther.statusCode).toBe(403);
  });

  it('lets only one of two concurrent redemptions take the last unit', async () => {
    const rewardId = await reward({ stock: 1 });
    const [a, b] = [await userWith(100), await userWith(100)];
    const answers = await Promise.all([redeem(a, rewardId), redeem(b, rewardId)]);
    expect(answers.map((r) => r.statusCode).sort()).toEqual([201, 409]);
    const loser = answers.find((r) => r.statusCode === 409)!;
    expect(loser.json().error.details.reason).toBe('out_of_stock');
    const balances = [
      await t.engine.achievements.rewards.balanceOf(a),
      await t.engine.achievements.rewards.balanceOf(b),
    ];
    expect(balances.sort((x, y) => x - y)).toEqual([70, 100]);
    expect((await snapshot(a, rewardId)).stock).toBe(0);
    expect((await snapshot(a, rewardId)).heldStock).toBe(0);
  });

  it('compensates a redemption the balance cannot cover by the time it debits', async () => {
    // Two at once for one user who can pay for one: the loser reserved a unit, then failed to
    // debit (or was refused up front); either way its unit goes back.
    const rewardId = await reward({ stock: 5, cost: 60 });
    const userId = await userWith(100);
    const answers = await Promise.all([redeem(userId, rewardId), redeem(userId, rewardId)]);
    expect(answers.map((r) => r.statusCode).sort()).toEqual([201, 409]);
    expect(answers.find((r) => r.statusCode === 409)!.json().error.details.reason).toBe('insufficient_balance');
    expect(await snapshot(userId, rewardId)).toEqual({ stock: 4, balance: 40, fulfilments: 1, heldStock: 0 });
  });
});

describe('the saga under failure', () => {
  const failAt =
    (step: string, phase: 'inTx' | 'afterCommit'): FaultInjector =>
    (at) => {
      if (at.step === step && at.phase === phase) throw new Error(`injected at ${step}/${phase}`);
    };

  it.each([
    ['reserve', 'inTx'],
    ['reserve', 'afterCommit'],
    ['debit', 'inTx'],
    ['debit', 'afterCommit'],
    ['fulfil', 'inTx'],
  ] as const)('a failure at %s (%s) is compensated: stock and balance as before', async (step, phase) => {
    const rewardId = await reward({ stock: 3, cost: 30 });
    const userId = await userWith(100);
    const before = await snapshot(userId, rewardId);
    const { rewards } = serviceWith(failAt(step, phase));
    const err = await rewards.redeem(userId, rewardId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'unavailable', details: { reason: 'redemption_failed' } });
    expect(await snapshot(userId, rewardId)).toEqual(before);
    expect(await redemptionsOf(userId)).toEqual([{ state: 'failed', failure: `error: injected at ${step}/${phase}` }]);
    // The books balance: any debit has its refund.
    const { rows } = await t.engine.pool.query(
      `SELECT reason, delta::int FROM rewards_balance_entries WHERE user_id = $1 AND reason IN ('redemption', 'refund') ORDER BY reason`,
      [userId],
    );
    expect(rows.reduce((s, r) => s + r.delta, 0)).toBe(0);
  });

  it('keeps a voucher that was issued when only the step after it failed', async () => {
    const rewardId = await reward({ stock: 3, cost: 30 });
    const userId = await userWith(100);
    const { rewards } = serviceWith(failAt('fulfil', 'afterCommit'));
    expect((await rewards.redeem(userId, rewardId)).state).toBe('completed');
    expect(await snapshot(userId, rewardId)).toEqual({ stock: 2, balance: 70, fulfilments: 1, heldStock: 0 });
  });

  it('takes over a saga whose driver stalled, resumes it once, and the old driver changes nothing', async () => {
    const rewardId = await reward({ stock: 3, cost: 30 });
    const userId = await userWith(100);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const stalled = serviceWith(
      async (at) => {
        if (at.step === 'debit' && at.phase === 'afterCommit') await gate;
      },
      { leaseMs: 200 },
    );
    const first = stalled.rewards.redeem(userId, rewardId);
    await until(
      () => redemptionsOf(userId),
      (r) => r[0]?.state === 'balance_debited',
    );

    const recovery = serviceWith(() => {}, { leaseMs: 30_000 });
    await until(
      () => recovery.saga.recover(),
      (settled) => settled === 1,
    ); // once the 200 ms lease ran out
    expect(await redemptionsOf(userId)).toEqual([{ state: 'completed', failure: null }]);
    expect(await snapshot(userId, rewardId)).toEqual({ stock: 2, balance: 70, fulfilments: 1, heldStock: 0 });

    release();
    expect((await first).state).toBe('completed');
    expect(await snapshot(userId, rewardId)).toEqual({ stock: 2, balance: 70, fulfilments: 1, heldStock: 0 });
    expect(await recovery.saga.recover()).toBe(0);
  });

  it('compensates a stalled saga that recovery has retried too often', async () => {
    const rewardId = await reward({ stock: 3, cost: 30 });
    const userId = await userWith(100);
    const before = await snapshot(userId, rewardId);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const stalled = serviceWith(
      async (at) => {
        if (at.step === 'reserve' && at.phase === 'afterCommit') await gate;
      },
      { leaseMs: 100 },
    );
    const first = stalled.rewards.redeem(userId, rewardId).catch((e: unknown) => e);
    await until(
      () => redemptionsOf(userId),
      (r) => r[0]?.state === 'stock_reserved',
    );
    const recovery = serviceWith(() => {}, { maxAttempts: 0 });
    await until(
      () => recovery.saga.recover(),
      (settled) => settled === 1,
    );
    expect(await redemptionsOf(userId)).toEqual([{ state: 'failed', failure: 'abandoned: too many attempts' }]);
    expect(await snapshot(userId, rewardId)).toEqual(before);
    release();
    await first;
    expect(await snapshot(userId, rewardId)).toEqual(before);
  });
});

describe('expiry', () => {
  it('drops an offer from the list when it ends, and the sweep deactivates it and expires vouchers', async () => {
    const rewardId = await reward({ expiresAt: new Date(Date.now() + 1500).toISOString() });
    const list = async () =>
      (await t.app.inject({ method: 'GET', url: '/v1/rewards', headers: bearer(service) })).json().rewards as Array<{
        rewardId: string;
      }>;
    expect((await list()).map((r) => r.rewardId)).toContain(rewardId);
    // The cached list expires with the offer, before any sweep ran.
    await until(list, (l) => !l.some((r) => r.rewardId === rewardId));

    const userId = await userWith(100);
    const voucherReward = await reward();
    expect((await redeem(userId, voucherReward)).statusCode).toBe(201);
    await t.engine.pool.query(
      `UPDATE rewards_fulfilments SET expires_at = now() - interval '1 second' WHERE user_id = $1`,
      [userId],
    );
    const swept = await t.engine.achievements.jobs.runOnce();
    expect(swept.fulfilments).toBe(1);
    expect(swept.offers).toBeGreaterThanOrEqual(1); // this one (and any earlier test's past offer)
    const { rows } = await t.engine.pool.query('SELECT active FROM rewards_catalogue WHERE reward_id = $1', [rewardId]);
    expect(rows[0].active).toBe(false);
    const wallet = await t.app.inject({ method: 'GET', url: `/v1/users/${userId}/rewards`, headers: bearer(service) });
    expect(wallet.json().redemptions[0].fulfilment.status).toBe('expired');
  });

  it('runs the sweep on the BullMQ job scheduler', async () => {
    const jobs = await startTestEngine({ REWARDS_SWEEP_INTERVAL_MS: '200' });
    try {
      await jobs.engine.pool.query(
        `INSERT INTO rewards_catalogue (reward_id, name, cost, stock, expires_at) VALUES ('old', 'Old', 10, 1, now() - interval '1 minute')`,
      );
      await until(
        async () =>
          (await jobs.engine.pool.query(`SELECT active FROM rewards_catalogue WHERE reward_id = 'old'`)).rows[0].active,
        (active) => active === false,
        10_000,
      );
    } finally {
      await jobs.close();
    }
  });
});
