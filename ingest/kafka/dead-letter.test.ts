import { describe, expect, it } from 'vitest';
import { DLQ_HEADERS, deadLetter, decodeMessage } from './dead-letter.js';

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('decodeMessage', () => {
  it('accepts a JSON object of a known type and leaves the schema to the caller', () => {
    expect(decodeMessage(json({ type: 'workout.completed', id: 'e1' }), 1000)).toEqual({
      ok: true,
      raw: { type: 'workout.completed', id: 'e1' },
    });
    // No type at all is the schema's to reject (invalid_event), not an unknown type.
    expect(decodeMessage(json({ id: 'e1' }), 1000).ok).toBe(true);
  });

  it.each([
    [null, 'empty_message'],
    [Buffer.alloc(0), 'empty_message'],
    [Buffer.from('{"id": 1,'), 'invalid_json'],
    [json([1, 2]), 'invalid_event'],
    [json('a string'), 'invalid_event'],
    [json(null), 'invalid_event'],
    [json({ type: 'workout.started' }), 'unknown_event_type'],
    [Buffer.alloc(2000, 0x20), 'payload_too_large'],
  ])('rejects %s as %s', (value, reason) => {
    const d = decodeMessage(value as Buffer | null, 1000);
    expect(d.ok).toBe(false);
    expect(!d.ok && d.reason).toBe(reason);
    expect(!d.ok && d.detail.length).toBeGreaterThan(0);
  });
});

describe('deadLetter', () => {
  it('keeps the original key, value and headers and says why and where from', () => {
    const msg = {
      key: 'u-1',
      value: Buffer.from('nope'),
      headers: { trace: 't-1' },
      offset: '42',
      timestamp: '1700000000000',
    };
    const at = new Date('2026-11-29T10:00:00Z');
    const d = deadLetter(msg, { topic: 'wte', partition: 3, groupId: 'g' }, 'invalid_json', 'x'.repeat(5000), at);
    expect(d.key).toBe('u-1');
    expect(d.value).toEqual(Buffer.from('nope'));
    expect(d.headers).toMatchObject({
      trace: 't-1',
      [DLQ_HEADERS.reason]: 'invalid_json',
      [DLQ_HEADERS.topic]: 'wte',
      [DLQ_HEADERS.partition]: '3',
      [DLQ_HEADERS.offset]: '42',
      [DLQ_HEADERS.timestamp]: '1700000000000',
      [DLQ_HEADERS.group]: 'g',
      [DLQ_HEADERS.at]: '2026-11-29T10:00:00.000Z',
    });
    expect(d.headers?.[DLQ_HEADERS.detail]?.length).toBe(2000);
  });
});
