/**
 * The engine's facts reach the outbox in the transaction of the change they describe
 * (issue: domain events out through a transactional outbox): PointsAwarded with the ledger
 * outcome, AchievementUnlocked with the unlocks, CheatFlagged with the flags,
 * LeaderboardClosed with the archive — exactly one row per fact id, however often replayed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestEngine, type TestEngine, workoutEvent } from '../test/helpers.js';

let t: TestEngine;
let service: string;

beforeAll(async () => {
  t = await startTestEngine({ ANTICHEAT_ENABLED: 'true' });
  service = await t.token('facts-ingestor', ['service']);
});
afterAll(() => t?.close());

async function post(ev: unknown) {
  const res = await t.app.inject({ method: 'POST', url: '/v1/events', headers: bearer(service), payload: ev });
  expect(res.statusCode).toBeLessThan(300);
  return res.json();
}

async function facts(type: string, keyLike: string) {
  const { rows } = await t.engine.pool.query(
    'SELECT id, key, payload FROM outbox_messages WHERE type = $1 AND key LIKE $2 ORDER BY seq',
    [type, keyLike],
  );
  return rows as Array<{ id: string; key: string; payload: Record<string, unknown> }>;
}

describe('facts in the outbox', () => {
  it('records each new unlock once, with the payload the bus carries', async () => {
    const ev = workoutEvent({ userId: 'of-ann' });
    const r = await post(ev);
    expect(r.unlocked.length).toBeGreaterThan(0);
    await post(ev); // a duplicate changes nothing
    await t.engine.ledger.drain();
    const rows = await facts('AchievementUnlocked', 'of-ann');
    const { rows: unlocks } = await t.engine.pool.query(
      "SELECT achievement_id, tier FROM achievements_unlocks WHERE user_id = 'of-ann' ORDER BY 1, 2",
    );
    expect(rows.map((f) => f.id).sort()).toEqual(
      unlocks.map((u) => `AchievementUnlocked:of-ann:${u.achievement_id}:${u.tier}`).sort(),
    );
    expect(rows[0]!.payload).toMatchObject({ userId: 'of-ann', name: expect.any(String), source: `ev:${ev.id}` });
    expect(await facts('PointsAwarded', 'of-ann')).toHaveLength(1);
  });

  it('records a CheatFlagged fact per flag opened', async () => {
    // 5 km in 5 minutes: faster than any runner (speed rule, held).
    const ev = workoutEvent({ userId: 'of-cheat' }, { durationSec: 300, distanceM: 5000 });
    const r = await post(ev);
    expect(r.flags.length).toBeGreaterThan(0);
    const rows = await facts('CheatFlagged', 'of-cheat');
    const { rows: flags } = await t.engine.pool.query("SELECT id FROM anticheat_flags WHERE user_id = 'of-cheat'");
    expect(rows.map((f) => f.id).sort()).toEqual(flags.map((f) => `CheatFlagged:${f.id}`).sort());
    expect(rows[0]!.payload).toMatchObject({ eventId: ev.id, held: true, severity: 'high' });
  });

  it('records a LeaderboardClosed fact when a period is archived, once', async () => {
    const ev = workoutEvent({ userId: 'of-racer' });
    await post(ev);
    const board = { metric: 'points' as const, window: 'daily' as const, scope: { kind: 'global' as const } };
    const period = t.engine.leaderboards.directory.periodAt(board, Date.parse(ev.occurredAt));
    const closed = await t.engine.leaderboards.close.closePeriod(board, period);
    expect(closed).toBeDefined();
    expect(await t.engine.leaderboards.close.closePeriod(board, period)).toBeUndefined();
    const rows = await facts('LeaderboardClosed', '%');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: `LeaderboardClosed:${closed!.board}:${period}`,
      payload: {
        board: closed!.board,
        period,
        top: expect.arrayContaining([expect.objectContaining({ userId: 'of-racer' })]),
      },
    });
  });
});
