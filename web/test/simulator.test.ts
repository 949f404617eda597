/**
 * The demo simulator against a real engine over HTTP: profiles, follows, a challenge with
 * participants, workouts on the boards, and the cheaters' workouts in the moderation queue.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestEngine, type TestEngine } from '../../test/helpers.js';
import { DEMO_CHALLENGE_ID, DemoSimulator } from '../demo/simulator.js';

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('demo simulator', () => {
  let t: TestEngine;
  let sim: DemoSimulator;
  const warnings: string[] = [];

  beforeAll(async () => {
    t = await startTestEngine({ ANTICHEAT_ENABLED: 'true' });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address();
    sim = new DemoSimulator({
      baseUrl: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
      secret: t.config.auth.secret,
      athletes: 12,
      rate: 200,
      log: { info: () => {}, warn: (obj, msg) => warnings.push(`${msg} ${JSON.stringify(obj)}`) },
    });
    await sim.start();
  });

  afterAll(async () => {
    await sim?.stop();
    await t?.close();
  });

  it('sets up profiles, follows and the challenge, then replays workouts the engine accepts', async () => {
    const profile = await t.app.inject({
      method: 'GET',
      url: '/v1/users/athlete-001',
      headers: bearer(await t.token('x')),
    });
    expect(profile.json()).toMatchObject({ userId: 'athlete-001', region: 'eu-west' });
    expect(sim.counters.follows).toBeGreaterThan(12);

    await until('20 workouts', () => sim.counters.workouts >= 20);
    expect(warnings).toEqual([]);
    expect(sim.counters.failures).toBe(0);

    const board = await t.app.inject({
      method: 'GET',
      url: '/v1/leaderboards/distance/alltime?limit=100',
      headers: bearer(await t.token('x')),
    });
    expect(board.json().total).toBeGreaterThan(3);
  });

  it('runs a challenge with participants when the engine has the challenges API', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: `/v1/challenges/${DEMO_CHALLENGE_ID}`,
      headers: bearer(await t.token('x')),
    });
    if (res.statusCode === 404) {
      expect(sim.challengeReady).toBe(false);
      return;
    }
    expect(sim.challengeReady).toBe(true);
    expect(res.json().participants).toBe(sim.counters.joined);
    expect(sim.counters.joined).toBeGreaterThan(0);
  });

  it('fills the moderation queue with the cheaters, and only them', async () => {
    const moderator = bearer(await t.token('mod', ['moderator']));
    const cheaters = new Set(sim.roster.filter((a) => a.cheat).map((a) => a.id));
    let flags: Array<{ userId: string }> = [];
    await until('a flag', async () => {
      flags = (await t.app.inject({ method: 'GET', url: '/v1/moderation/flags?limit=100', headers: moderator })).json()
        .flags;
      return flags.length > 0;
    });
    for (const f of flags) expect(cheaters.has(f.userId), f.userId).toBe(true);
  });
});
