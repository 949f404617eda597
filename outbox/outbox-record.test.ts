import { describe, expect, it } from 'vitest';
import { outboxRecord } from './index.js';

describe('outboxRecord', () => {
  it('wraps the stored payload in the envelope without re-serialising it, with id and type headers', () => {
    const r = outboxRecord({
      seq: 7,
      id: 'PointsAwarded:e-1',
      type: 'PointsAwarded',
      key: 'u-1',
      payloadJson: '{"userId": "u-1", "awarded": 300}',
      occurredAt: new Date('2026-11-29T07:30:00Z'),
      createdAt: new Date(),
    });
    expect(r.key).toBe('u-1');
    expect(r.headers).toEqual({
      'event-id': 'PointsAwarded:e-1',
      'event-type': 'PointsAwarded',
      'content-type': 'application/json',
    });
    expect(JSON.parse(r.value)).toEqual({
      id: 'PointsAwarded:e-1',
      type: 'PointsAwarded',
      key: 'u-1',
      occurredAt: '2026-11-29T07:30:00.000Z',
      data: { userId: 'u-1', awarded: 300 },
    });
  });
});
