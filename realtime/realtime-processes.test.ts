/**
 * Two real engine processes (server/main.ts) sharing one schema and key prefix, and an
 * emitter-only worker process: a client on process A sees personal events and board updates
 * caused by events applied on process B and by the worker, and no process pushes a board
 * update another already pushed.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mintToken, projectPath } from '../common/index.js';
import { type EngineProcess, freePort, startEngineProcess, stopProcess } from '../test/engine-process.js';
import { dropIsolation, testIsolation, workoutEvent } from '../test/helpers.js';
import { connect, type TestClient } from '../test/realtime-helpers.js';

type Update = { board: string; period: string; top: Array<{ rank: number; userId: string; score: number }> };

const iso = testIsolation();
const env = { ...iso.env, RECONCILE_INTERVAL_MS: '3600000', LEADERBOARD_JOBS: 'false' };
const secret = env.JWT_SECRET!;
let a: EngineProcess;
let b: EngineProcess;
const clients: TestClient[] = [];

const token = (sub: string, roles: Array<'user' | 'service'> = ['user']) => mintToken(secret, { sub, roles });

async function client(url: string, sub: string): Promise<TestClient> {
  const c = await connect(url, await token(sub));
  clients.push(c);
  return c;
}

async function post(url: string, event: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await token('svc', ['service'])}`, 'content-type': 'application/json' },
    body: JSON.stringify(event),
  });
  expect(res.status, await res.text()).toBeLessThan(300);
}

async function runWorker(events: unknown[]): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', projectPath('test', 'realtime-worker.ts')], {
    cwd: projectPath(),
    env: { ...process.env, ...env, WORKER_EVENTS: JSON.stringify(events) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  const [code] = await once(child, 'exit');
  expect(code, out).toBe(0);
}

beforeAll(async () => {
  a = await startEngineProcess(env, await freePort()); // migrates first; B finds the schema ready
  b = await startEngineProcess(env, await freePort());
});

afterAll(async () => {
  for (const c of clients) c.close();
  if (a) await stopProcess(a.child, 'SIGTERM');
  if (b) await stopProcess(b.child, 'SIGTERM');
  await dropIsolation(iso.schema, iso.prefix);
});

it('a client on A sees what B and an emitter-only worker applied, each change pushed once', async () => {
  const board = 'points:alltime:global';
  const onA = await client(a.url, 'mp-a');
  const onB = await client(b.url, 'mp-b');
  for (const c of [onA, onB]) expect(await c.request('subscribe', { board })).toMatchObject({ ok: true });

  // B applies mp-a's event: the personal push and the board update cross to A through Redis.
  await post(b.url, workoutEvent({ userId: 'mp-a' }, { activity: 'run', durationSec: 1800 }));
  expect(await onA.next('points:awarded', (p) => p.userId === 'mp-a')).toMatchObject({ awarded: 300 });
  await onA.next<Update>('leaderboard:update', (u) => u.top.some((e) => e.userId === 'mp-a' && e.score === 300));

  // A worker with no sockets applies mp-w's event: its emitter reaches mp-w's socket on A,
  // and its dirty mark makes A or B push the board to both.
  const worker = await client(a.url, 'mp-w');
  await runWorker([workoutEvent({ userId: 'mp-w' }, { activity: 'swim', durationSec: 3000 })]);
  expect(await worker.next('points:awarded', (p) => p.userId === 'mp-w')).toMatchObject({ awarded: 500 });
  const withWorker = (u: Update) => u.top[0]?.userId === 'mp-w' && u.top[0]?.score === 500;
  await onA.next<Update>('leaderboard:update', withWorker);
  await onB.next<Update>('leaderboard:update', withWorker);

  // More changes through both processes; then each client's updates must never repeat
  // themselves (a repeat would mean two processes pushed the same tick's top).
  await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      post(i % 2 ? a.url : b.url, workoutEvent({ userId: `mp-${i % 5}` }, { activity: 'walk', durationSec: 600 })),
    ),
  );
  const final = (u: Update) => u.top.some((e) => e.userId === 'mp-4' && e.score === 120);
  await onA.next<Update>('leaderboard:update', final);
  await onB.next<Update>('leaderboard:update', final);
  for (const c of [onA, onB]) {
    const tops = c.of<Update>('leaderboard:update').map((u) => JSON.stringify(u));
    // From the third on: a new subscriber may get its snapshot twice (sent to it, and to the
    // room by another process's subscriber at the same moment).
    for (let i = 2; i < tops.length; i++) expect(tops[i], `update ${i} repeats the one before`).not.toBe(tops[i - 1]);
  }

  // A graceful stop with clients connected: A's sockets are closed, A exits 0, B's stay.
  expect(await stopProcess(a.child, 'SIGTERM')).toBe(0);
  await onA.until('A to close its sockets', () => !onA.socket.connected);
  expect(onB.socket.connected).toBe(true);
  expect(await onB.request('subscribe', { board: 'points:daily:global' })).toMatchObject({ ok: true });
});
