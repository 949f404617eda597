/**
 * Cursors and the merge, without I/O.
 */
import { describe, expect, it } from 'vitest';
import { FeedCursors } from './cursor.js';
import { mergeNewestFirst } from './feed.service.js';

describe('FeedCursors', () => {
  const cursors = new FeedCursors('secret');

  it('round-trips for the reader it was given to, and only for them', () => {
    const c = cursors.encode('ann', 12345);
    expect(cursors.decode('ann', c)).toBe(12345);
    expect(cursors.decode('bob', c)).toBeUndefined();
    expect(new FeedCursors('other secret').decode('ann', c)).toBeUndefined();
  });

  it('refuses every one-character edit of a cursor', () => {
    const c = cursors.encode('ann', 987_654_321);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
    for (let i = 0; i < c.length; i++) {
      for (const ch of alphabet) {
        if (ch === c[i]) continue;
        const edited = c.slice(0, i) + ch + c.slice(i + 1);
        expect(cursors.decode('ann', edited), edited).toBeUndefined();
      }
    }
    for (const bad of ['', '.', 'x.y', `${c}.`, c.slice(1), `${c}A`])
      expect(cursors.decode('ann', bad)).toBeUndefined();
  });
});

describe('mergeNewestFirst', () => {
  const e = (seq: number) => ({ seq, id: `a${seq}`, actorId: 'x' });
  it('merges sorted lists newest first, without duplicates, up to the limit', () => {
    expect(mergeNewestFirst([[e(9), e(5), e(1)], [e(8), e(5), e(2)], [], [e(9)]], 10).map((x) => x.seq)).toEqual([
      9, 8, 5, 2, 1,
    ]);
    expect(mergeNewestFirst([[e(3), e(2)], [e(4)]], 2).map((x) => x.seq)).toEqual([4, 3]);
  });
});
