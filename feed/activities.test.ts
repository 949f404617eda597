/**
 * Recording activities under concurrency: inserts are group-committed, so the same source
 * may arrive twice in one batch or after an earlier batch; either way exactly one row exists
 * and every caller gets that row, and only the first says `created`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../test/helpers.js';

let t: TestEngine;
beforeAll(async () => {
  t = await startTestEngine();
});
afterAll(() => t?.close());

const input = (source: string, actorId = 'ac-author') => ({
  source,
  actorId,
  verb: 'post.created',
  object: { type: 'post', text: source },
});

describe('recording activities', () => {
  it('records one row per source when the same source arrives many times at once', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, () => t.engine.feed.activities.record(input('dup:1'))),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.activity.id)).size).toBe(1);
    const { rows } = await t.engine.pool.query("SELECT count(*)::int AS n FROM feed_activities WHERE source = 'dup:1'");
    expect(rows[0].n).toBe(1);

    const again = await t.engine.feed.activities.record(input('dup:1'));
    expect(again).toMatchObject({ created: false, activity: { id: results[0]!.activity.id } });
  });

  it('keeps every distinct source of a concurrent burst, each with its own seq, in order per caller', async () => {
    const sources = Array.from({ length: 300 }, (_, i) => `burst:${i}`);
    const results = await Promise.all(sources.map((s, i) => t.engine.feed.activities.record(input(s, `ac-${i % 7}`))));
    expect(results.every((r) => r.created)).toBe(true);
    expect(results.map((r) => r.activity.object.text)).toEqual(sources);
    expect(new Set(results.map((r) => r.seq)).size).toBe(sources.length);
    const { rows } = await t.engine.pool.query(
      "SELECT count(*)::int AS n FROM feed_activities WHERE source LIKE 'burst:%'",
    );
    expect(rows[0].n).toBe(sources.length);
  });

  it('delivers an activity of an author nobody follows without a fan-out job', async () => {
    const posted = new Promise<unknown>((resolve) => {
      const off = t.engine.bus.on('ActivityPosted', (p) => {
        if (p.activity.actorId === 'ac-lonely') {
          off();
          resolve(p);
        }
      });
    });
    const r = await t.engine.feed.activities.record(input('lonely:1', 'ac-lonely'));
    expect(r.mode).toBe('push');
    expect(await posted).toMatchObject({ mode: 'push', recipients: ['ac-lonely'] });
    const delivered = async () =>
      (await t.engine.pool.query("SELECT delivered_at FROM feed_activities WHERE source = 'lonely:1'")).rows[0]
        .delivered_at;
    await expect.poll(delivered).not.toBeNull();
    // BullMQ keeps a job's hash at <prefix>:<queue>:<jobId>; none was ever added for it.
    expect(await t.engine.redis.exists(`${t.prefix}{bull}:feed-fanout:fo-${r.activity.id}`)).toBe(0);
    // The control: an author with a follower is fanned out by a job.
    await t.engine.follows.follow('ac-fan', 'ac-star');
    const followed = await t.engine.feed.activities.record(input('followed:1', 'ac-star'));
    expect(await t.engine.redis.exists(`${t.prefix}{bull}:feed-fanout:fo-${followed.activity.id}`)).toBe(1);
  });
});
