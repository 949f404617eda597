/**
 * The two scripts of the board ticker, against real Redis: the per-tick claim (once per
 * board per tick across callers, only watched boards, a batch limit) and the commit of
 * computed tops (changed / unchanged / stale).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createRedis, deleteByPrefix } from '../persistence/index.js';
import { TEST_REDIS_URL } from '../test/helpers.js';
import { RealtimeKeys } from './keys.js';
import { TickerStore } from './ticker.store.js';

const prefix = `ptest:${randomBytes(5).toString('hex')}:`;
const redis = createRedis(TEST_REDIS_URL);
const keys = new RealtimeKeys(prefix);
const store = new TickerStore(redis, keys, 10_000);
const now = Date.now();

beforeEach(async () => {
  await deleteByPrefix(redis, prefix);
});

afterAll(async () => {
  await deleteByPrefix(redis, prefix);
  await redis.quit();
});

describe('claim-boards-3.lua', () => {
  it('claims a dirty watched board once per tick, keeps a later mark for the next tick, forgets unwatched ones', async () => {
    await store.watch(['b1'], now);
    await store.markDirty(['b1', 'nobody-watches']);
    expect(await store.claim(5, now, 100)).toEqual(['b1']);
    expect(await redis.sismember(keys.dirty(), 'nobody-watches')).toBe(0);
    await store.markDirty(['b1']); // changed again within tick 5
    expect(await store.claim(5, now, 100)).toEqual([]); // another process, same tick
    expect(await redis.sismember(keys.dirty(), 'b1')).toBe(1);
    expect(await store.claim(6, now, 100)).toEqual(['b1']);
    expect(await store.claim(7, now, 100)).toEqual([]); // nothing dirty
  });

  it('hands at most the batch to one caller; the rest go to the next caller of the same tick', async () => {
    await store.watch(['x1', 'x2', 'x3'], now);
    await store.markDirty(['x1', 'x2', 'x3']);
    const first = await store.claim(9, now, 2);
    const second = await store.claim(9, now, 2);
    expect(first).toHaveLength(2);
    expect([...first, ...second].sort()).toEqual(['x1', 'x2', 'x3']);
  });

  it('drops watches whose heartbeat lapsed', async () => {
    await store.watch(['old'], now - 20_000);
    await store.markDirty(['old']);
    expect(await store.claim(1, now, 100)).toEqual([]);
    expect(await store.watched(now)).toEqual([]);
  });
});

describe('commit-tops-1.lua', () => {
  const p = (s: string) => [{ board: 'b', payload: s }];

  it('tells changed (with the previous payload), unchanged and stale', async () => {
    expect(await store.commit(10, p('A'))).toEqual([{ kind: 'changed', previous: undefined }]);
    expect(await store.commit(11, p('A'))).toEqual([{ kind: 'same' }]);
    expect(await store.commit(12, p('B'))).toEqual([{ kind: 'changed', previous: 'A' }]);
    expect(await store.commit(11, p('C'))).toEqual([{ kind: 'stale' }]); // computed in an older tick
    expect(await store.commit(12, p('C'))).toEqual([{ kind: 'stale' }]); // the ticker, same tick again
    expect(await store.commit(12, p('C'), 'snapshot')).toEqual([{ kind: 'changed', previous: 'B' }]);
    expect(await store.commit(12, p('D'))).toEqual([{ kind: 'stale' }]); // read before that snapshot
    expect(await store.commit(13, p('C|with|bars'))).toEqual([{ kind: 'changed', previous: 'C' }]);
    expect(await store.commit(14, p('C|with|bars'))).toEqual([{ kind: 'same' }]);
  });
});
