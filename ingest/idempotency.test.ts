/**
 * API.md "Idempotency" on POST /v1/events: replay byte for byte, the alias header,
 * 422 on a reused key, 409 while in flight, per-principal keys, key syntax and TTL.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestEngine, type TestEngine, workoutEvent } from '../test/helpers.js';

let t: TestEngine;
let service: string;

beforeAll(async () => {
  t = await startTestEngine();
  service = await t.token('idem-ingestor', ['service']);
});
afterAll(() => t?.close());

const HOUR_MS = 3_600_000;
const newKey = () => `key-${randomBytes(8).toString('hex')}`;

function post(payload: unknown, headers: Record<string, string>, token = service, url = '/v1/events') {
  return t.app.inject({ method: 'POST', url, headers: { ...bearer(token), ...headers }, payload: payload as object });
}

async function ledgerCount(eventId: string): Promise<number> {
  const { rows } = await t.engine.pool.query('SELECT count(*)::int AS n FROM ingest_events WHERE event_id = $1', [
    eventId,
  ]);
  return rows[0].n;
}

async function totals(userId: string) {
  const res = await t.app.inject({ method: 'GET', url: `/v1/users/${userId}/stats`, headers: bearer(service) });
  return res.json().totals as { points: number; workouts: number };
}

async function idemKeys(): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await t.engine.redis.scan(cursor, 'MATCH', `${t.prefix}ingest:idem:*`, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}

describe('Idempotency-Key replay', () => {
  it('answers the same key and body with the first response, byte for byte, and applies the event once', async () => {
    const ev = workoutEvent({ userId: 'u-idem-replay' });
    const key = newKey();
    const first = await post(ev, { 'idempotency-key': key });
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();

    const again = await post(ev, { 'idempotency-key': key });
    // Without the key this would be a 200 duplicate; the replay is the stored 201 itself.
    expect(again.statusCode).toBe(201);
    expect(again.body).toBe(first.body);
    expect(again.headers['content-type']).toBe(first.headers['content-type']);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().duplicate).toBe(false);

    expect(await ledgerCount(ev.id)).toBe(1);
    expect(await totals('u-idem-replay')).toMatchObject({ points: 300, workouts: 1 });
  });

  it('accepts the X-Idempotency-Key alias, and both headers name the same key', async () => {
    const ev = workoutEvent({ userId: 'u-idem-alias' });
    const key = newKey();
    const first = await post(ev, { 'x-idempotency-key': key });
    expect(first.statusCode).toBe(201);
    const viaAlias = await post(ev, { 'x-idempotency-key': key });
    expect(viaAlias.statusCode).toBe(201);
    expect(viaAlias.body).toBe(first.body);
    expect(viaAlias.headers['idempotent-replayed']).toBe('true');
    const viaMain = await post(ev, { 'idempotency-key': key });
    expect(viaMain.statusCode).toBe(201);
    expect(viaMain.body).toBe(first.body);
    expect(viaMain.headers['idempotent-replayed']).toBe('true');
    expect(await totals('u-idem-alias')).toMatchObject({ points: 300, workouts: 1 });
  });

  it('refuses the same key with another body with 422 idempotency_key_reused and stores nothing of it', async () => {
    const key = newKey();
    const ev = workoutEvent({ userId: 'u-idem-reuse' });
    expect((await post(ev, { 'idempotency-key': key })).statusCode).toBe(201);

    const other = workoutEvent({ userId: 'u-idem-reuse' });
    const res = await post(other, { 'idempotency-key': key });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ error: { code: 'idempotency_key_reused', message: expect.any(String) } });
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    expect(await ledgerCount(other.id)).toBe(0);

    // Same event with one field changed is another body too.
    const changed = { ...ev, workout: { ...ev.workout, durationSec: 3600 } };
    expect((await post(changed, { 'idempotency-key': key })).statusCode).toBe(422);
    expect(await totals('u-idem-reuse')).toMatchObject({ points: 300, workouts: 1 });
  });

  it('refuses the same key on another route with 422', async () => {
    const key = newKey();
    const ev = workoutEvent({ userId: 'u-idem-route' });
    expect((await post(ev, { 'idempotency-key': key })).statusCode).toBe(201);
    const res = await post({ events: [ev] }, { 'idempotency-key': key }, service, '/v1/events/batch');
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toBe('idempotency_key_reused');
  });

  it('lets exactly one of 20 concurrent requests with one key run; the rest get 409 or its replay', async () => {
    const ev = workoutEvent({ userId: 'u-idem-race' });
    const key = newKey();
    const all = await Promise.all(Array.from({ length: 20 }, () => post(ev, { 'idempotency-key': key })));

    const originals = all.filter((r) => r.headers['idempotent-replayed'] === undefined && r.statusCode === 201);
    expect(originals).toHaveLength(1);
    const original = originals[0]!;
    for (const r of all) {
      if (r === original) continue;
      if (r.statusCode === 409) {
        expect(r.json()).toMatchObject({ error: { code: 'idempotency_in_flight', message: expect.any(String) } });
      } else {
        expect(r.statusCode).toBe(201);
        expect(r.headers['idempotent-replayed']).toBe('true');
        expect(r.body).toBe(original.body);
      }
    }
    expect(await ledgerCount(ev.id)).toBe(1);
    expect(await totals('u-idem-race')).toMatchObject({ points: 300, workouts: 1 });

    // Once the first has finished, the key replays (no more 409).
    const later = await post(ev, { 'idempotency-key': key });
    expect(later.statusCode).toBe(201);
    expect(later.body).toBe(original.body);
  });

  it('keeps keys per principal: another principal may use the same key independently', async () => {
    const other = await t.token('idem-other-ingestor', ['service']);
    const key = newKey();
    const a = workoutEvent({ userId: 'u-idem-principal-a' });
    const b = workoutEvent({ userId: 'u-idem-principal-b' });
    expect((await post(a, { 'idempotency-key': key })).statusCode).toBe(201);

    // Another body under the same key: no 422 for someone else.
    const resB = await post(b, { 'idempotency-key': key }, other);
    expect(resB.statusCode).toBe(201);
    expect(resB.headers['idempotent-replayed']).toBeUndefined();
    expect(await ledgerCount(b.id)).toBe(1);

    // The same body under the same key by a third principal: not a replay of the first one's answer.
    const third = await t.token('idem-third-ingestor', ['service']);
    const resA = await post(a, { 'idempotency-key': key }, third);
    expect(resA.statusCode).toBe(200);
    expect(resA.headers['idempotent-replayed']).toBeUndefined();
    expect(resA.json()).toMatchObject({ eventId: a.id, duplicate: true });

    // A user principal with its own event and the same key, too.
    const user = await t.token('u-idem-principal-c');
    const c = workoutEvent({ userId: 'u-idem-principal-c' });
    expect((await post(c, { 'idempotency-key': key }, user)).statusCode).toBe(201);
    expect(await totals('u-idem-principal-c')).toMatchObject({ points: 300, workouts: 1 });
  });
});

describe('Idempotency-Key syntax', () => {
  it.each([
    ['empty', ''],
    ['256 characters', 'k'.repeat(256)],
    ['a control character', 'key\u0001x'],
    ['a tab', 'key\tx'],
    ['DEL', 'key\u007f'],
  ])('refuses a key that is %s with 400 invalid_request and stores nothing', async (_name, key) => {
    const ev = workoutEvent({ userId: 'u-idem-syntax' });
    const res = await post(ev, { 'idempotency-key': key });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'invalid_request', message: expect.any(String) } });
    expect(await ledgerCount(ev.id)).toBe(0);
  });

  it('refuses an invalid alias key too', async () => {
    const ev = workoutEvent({ userId: 'u-idem-syntax' });
    const res = await post(ev, { 'x-idempotency-key': 'k'.repeat(256) });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('invalid_request');
    expect(await ledgerCount(ev.id)).toBe(0);
  });

  // The file's Redis prefix is fresh per run, so fixed keys cannot collide with earlier runs.
  it.each([
    ['1 character', 'k'],
    ['255 characters', 'm'.repeat(255)],
    ['punctuation and spaces', '~!@#$%^&*()_+{}|:"<>? `-=[]\\;\',./'],
  ])('accepts a key of %s and replays with it', async (_name, key) => {
    const ev = workoutEvent({ userId: `u-idem-keysyntax-${key.length}` });
    const first = await post(ev, { 'idempotency-key': key });
    expect(first.statusCode).toBe(201);
    const again = await post(ev, { 'idempotency-key': key });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toBe(first.body);
  });
});

describe('Idempotency-Key storage', () => {
  it('keeps a completed key for 24 hours in Redis', async () => {
    const before = new Set(await idemKeys());
    const ev = workoutEvent({ userId: 'u-idem-ttl' });
    expect((await post(ev, { 'idempotency-key': newKey() })).statusCode).toBe(201);
    const created = (await idemKeys()).filter((k) => !before.has(k));
    expect(created).toHaveLength(1);
    const ttl = await t.engine.redis.pttl(created[0]!);
    expect(ttl).toBeLessThanOrEqual(24 * HOUR_MS);
    expect(ttl).toBeGreaterThan(23 * HOUR_MS);
  });

  it('replays a 4xx answer for the same key and body too', async () => {
    const key = newKey();
    const bad = workoutEvent({ userId: 'u-idem-4xx' }, { durationSec: 10 });
    const first = await post(bad, { 'idempotency-key': key });
    expect(first.statusCode).toBe(400);
    expect(first.json().error.code).toBe('invalid_request');

    const again = await post(bad, { 'idempotency-key': key });
    expect(again.statusCode).toBe(400);
    expect(again.body).toBe(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');

    // The key is spent on that request: a corrected body needs a new key.
    const fixed = { ...bad, workout: { ...bad.workout, durationSec: 1800 } };
    expect((await post(fixed, { 'idempotency-key': key })).statusCode).toBe(422);
    expect(await ledgerCount(bad.id)).toBe(0);
    expect((await post(fixed, { 'idempotency-key': newKey() })).statusCode).toBe(201);
  });

  it('replays a 403 answer for the same key and body', async () => {
    const user = await t.token('u-idem-403');
    const key = newKey();
    const foreign = workoutEvent({ userId: 'u-idem-403-victim' });
    const first = await post(foreign, { 'idempotency-key': key }, user);
    expect(first.statusCode).toBe(403);
    const again = await post(foreign, { 'idempotency-key': key }, user);
    expect(again.statusCode).toBe(403);
    expect(again.body).toBe(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await ledgerCount(foreign.id)).toBe(0);
  });
});
