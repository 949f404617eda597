/**
 * The daily follow limit: exactly 50 of 100 concurrent follow requests pass (429
 * rate_limited for the others, nothing recorded for them); requests that change nothing
 * cost nothing; the window slides (the quota script on its own, with its clock).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestEngine, type TestEngine } from '../test/helpers.js';
import { FeedKeys } from './keys.js';
import { SocialStore } from './social.store.js';

let t: TestEngine;

beforeAll(async () => {
  t = await startTestEngine();
});
afterAll(() => t?.close());

async function profiles(ids: string[]): Promise<void> {
  await Promise.all(ids.map((id) => t.engine.users.update(id, {})));
}

describe('at most 50 follow requests a user per day', () => {
  it('lets exactly 50 of 100 concurrent follows through; the rest get 429 and record nothing', async () => {
    const targets = Array.from({ length: 100 }, (_, i) => `q-star-${i}`);
    await profiles(['q-fan', ...targets]);
    await t.engine.users.update('q-star-7', { private: true }); // a request counts as well
    const me = bearer(await t.token('q-fan'));
    const answers = await Promise.all(
      targets.map((u) => t.app.inject({ method: 'PUT', url: `/v1/users/${u}/followers/me`, headers: me })),
    );
    const ok = answers.filter((r) => r.statusCode === 200);
    const limited = answers.filter((r) => r.statusCode === 429);
    expect(ok).toHaveLength(50);
    expect(limited).toHaveLength(50);
    expect(limited[0]!.json().error.code).toBe('rate_limited');
    expect(limited[0]!.json().error.details.retryAfterS).toBeGreaterThan(86_000);

    const { rows } = await t.engine.pool.query(
      `SELECT (SELECT count(*) FROM feed_follows WHERE follower_id = 'q-fan')::int
            + (SELECT count(*) FROM feed_follow_requests WHERE requester_id = 'q-fan')::int AS n`,
    );
    expect(rows[0].n).toBe(50);
    // Following someone already followed changes nothing and is not refused.
    const again = ok.find((r) => r.json().following === true)!.json().userId;
    const repeat = await t.app.inject({ method: 'PUT', url: `/v1/users/${again}/followers/me`, headers: me });
    expect(repeat.statusCode).toBe(200);
    expect(repeat.json().created).toBe(false);
    // Unfollowing is never limited.
    const un = await t.app.inject({ method: 'DELETE', url: `/v1/users/${again}/followers/me`, headers: me });
    expect(un.statusCode).toBe(200);
  });

  it('charges only the one follow made by 100 concurrent follows of the same user', async () => {
    await profiles(['q-one', 'q-idol']);
    const me = bearer(await t.token('q-one'));
    const answers = await Promise.all(
      Array.from({ length: 100 }, () =>
        t.app.inject({ method: 'PUT', url: '/v1/users/q-idol/followers/me', headers: me }),
      ),
    );
    // Twins in flight together each hold a token until they see they changed nothing, so
    // some may be told 429; once done, only the one follow made is charged.
    expect(answers.every((r) => r.statusCode === 200 || r.statusCode === 429)).toBe(true);
    expect(answers.filter((r) => r.statusCode === 200 && r.json().created)).toHaveLength(1);
    expect(await t.engine.redis.zcard(t.engine.feed.keys.followQuota('q-one'))).toBe(1);
    expect(await t.engine.follows.followers('q-idol')).toEqual(['q-one']);
  });

  it('slides: a request leaves the window 24 h after it was made', async () => {
    const store = new SocialStore(t.engine.redis, new FeedKeys(t.prefix));
    const day = 86_400_000;
    const t0 = 1_000_000_000_000;
    const tokens: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await store.take('q-clock', t0 + i * 1000, day, 3);
      expect(r.ok).toBe(true);
      if (r.ok) tokens.push(r.token);
    }
    expect(await store.take('q-clock', t0 + 5000, day, 3)).toEqual({ ok: false, retryAfterMs: day - 5000 });
    expect((await store.take('q-clock', t0 + day, day, 3)).ok).toBe(true); // the first left the window
    expect((await store.take('q-clock', t0 + day + 1, day, 3)).ok).toBe(false);
    await store.refund('q-clock', tokens[2]!);
    expect((await store.take('q-clock', t0 + day + 2, day, 3)).ok).toBe(true);
    expect((await store.take('q-clock', t0, day, 0)).ok).toBe(false); // a limit of 0 refuses all
  });
});
