/**
 * The console's server side: static files at `/`, dev tokens only in demo mode, and the
 * moderators' view of a flagged event.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestEngine, type TestEngine, workoutEvent } from '../../test/helpers.js';

describe('web routes, production (demo off)', () => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await startTestEngine();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('serves the console at /', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toContain('<title>Podium console</title>');
    const js = await t.app.inject({ method: 'GET', url: '/app.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
  });

  it('hands out no tokens and says demo mode is off', async () => {
    const token = await t.app.inject({ method: 'GET', url: '/demo/token?sub=athlete-001' });
    expect(token.statusCode).toBe(404);
    expect(token.json().error.code).toBe('not_found');
    const status = await t.app.inject({ method: 'GET', url: '/demo/status' });
    expect(status.json()).toEqual({ demo: false });
  });

  it('shows a stored event to moderators only; 401 without a token, 404 when unknown', async () => {
    const event = workoutEvent({ userId: 'u-web-1' });
    const service = await t.token('svc', ['service']);
    expect(
      (await t.app.inject({ method: 'POST', url: '/v1/events', headers: bearer(service), payload: event })).statusCode,
    ).toBe(201);

    const url = `/v1/console/events/${event.id}`;
    expect((await t.app.inject({ method: 'GET', url })).statusCode).toBe(401);
    const asUser = await t.app.inject({ method: 'GET', url, headers: bearer(await t.token('u-web-1')) });
    expect(asUser.statusCode).toBe(403);
    expect(asUser.json().error.code).toBe('forbidden');
    const moderator = bearer(await t.token('mod', ['moderator']));
    const asModerator = await t.app.inject({ method: 'GET', url, headers: moderator });
    expect(asModerator.statusCode).toBe(200);
    expect(asModerator.json()).toMatchObject({ id: event.id, userId: 'u-web-1', workout: { activity: 'run' } });
    const unknown = await t.app.inject({ method: 'GET', url: '/v1/console/events/nope', headers: moderator });
    expect(unknown.statusCode).toBe(404);
  });
});

describe('web routes, demo mode', () => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await startTestEngine({ DEMO: 'true', DEMO_ATHLETES: '30' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lists demo users (every cheater among them) and the moderator', async () => {
    const status = (await t.app.inject({ method: 'GET', url: '/demo/status' })).json();
    expect(status.demo).toBe(true);
    expect(status.athletes).toBe(30);
    expect(status.moderators).toEqual(['demo-moderator']);
    expect(status.users.filter((u: { cheat: string | null }) => u.cheat)).toHaveLength(3);
  });

  it('mints a token the API accepts, with the moderator role only when asked', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/demo/token?sub=demo-moderator&role=moderator' });
    expect(res.statusCode).toBe(200);
    const { token, roles } = res.json();
    expect(roles).toEqual(['user', 'moderator']);
    const flags = await t.app.inject({ method: 'GET', url: '/v1/moderation/flags', headers: bearer(token) });
    expect(flags.statusCode).toBe(200);

    const user = (await t.app.inject({ method: 'GET', url: '/demo/token?sub=athlete-001' })).json();
    expect(user.roles).toEqual(['user']);
    const denied = await t.app.inject({ method: 'GET', url: '/v1/moderation/flags', headers: bearer(user.token) });
    expect(denied.statusCode).toBe(403);
  });

  it('refuses roles it does not hand out and bad user ids', async () => {
    for (const url of [
      '/demo/token?sub=x&role=admin',
      '/demo/token?sub=x&role=service',
      '/demo/token',
      '/demo/token?sub=a%20b',
    ]) {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error.code).toBe('invalid_request');
    }
  });
});
