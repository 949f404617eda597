/**
 * `npm run bench:realtime`: real socket.io clients over loopback on real engine processes
 * (`node dist/server/main.js`, sharing one schema and key prefix), while events flow.
 *
 * - Clients: BENCH_RT_CLIENTS (default 10,000; this shared 2-core machine runs 2,000) spread
 *   round-robin over BENCH_RT_PROCESSES engine processes (2), each user subscribed to one of
 *   BENCH_RT_BOARDS boards (100 challenge boards `points:alltime:challenge:bench-<i>`).
 * - Events: BENCH_RT_EVENTS_PER_S (2,000) for BENCH_RT_SECONDS (20), applied by this
 *   process acting as an emitter-only worker: leaderboards' own write path (tally script and
 *   board writes of the event's user, on global boards and its challenge board) and the
 *   PointsAwarded a pipeline tells, so realtime's publisher pushes `points:awarded` through
 *   the Redis emitter and marks the boards dirty; the engines' tickers push the boards.
 *   Bypassing HTTP and scoring keeps the figures about realtime: the whole pipeline does far
 *   fewer events/s on this machine (see the ingest benchmark).
 * - Measures: event → client latency of personal events (from the moment the event was
 *   applied) and of board updates (from the write to the first update carrying that score),
 *   p50/p99; engine RSS per 1,000 idle connected clients; engine CPU; messages/s delivered.
 *
 * The clients run in BENCH_RT_CLIENT_PROCS (2) child processes of this script, so one load
 * generator event loop does not serialize everything.
 *
 * 127.0.0.1 only; own key prefix and schema, removed afterwards. Results: stdout and
 * bench/results/realtime.{json,md}.
 */
import { fork } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { io as connectClient, type Socket } from 'socket.io-client';
import { DomainEvents, mintToken, projectPath } from '../common/index.js';
import { leaderboardsKit } from '../leaderboards/index.js';
import { createPool, createRedis } from '../persistence/index.js';
import { createRealtime } from '../realtime/index.js';
import { assertLocal, dropIsolation, type EngineProcess, newIsolation, startEngine } from './lib/engine-process.js';
import { summarize } from './lib/http-load.js';
import { describeMachine } from './lib/machine.js';
import { BENCH_DATABASE_URL, BENCH_REDIS_URL } from './lib/options.js';
import { LOADGEN_NOTE, type Machine } from './lib/report.js';

const num = (name: string, def: number) => Number(process.env[name] ?? def);
const CLIENTS = num('BENCH_RT_CLIENTS', 10_000);
const PROCESSES = num('BENCH_RT_PROCESSES', 2);
const BOARDS = num('BENCH_RT_BOARDS', 100);
const EVENTS_PER_S = num('BENCH_RT_EVENTS_PER_S', 2_000);
const SECONDS = num('BENCH_RT_SECONDS', 20);
const REDIS_URL = BENCH_REDIS_URL;
const DATABASE_URL = BENCH_DATABASE_URL;
const CLIENT_PROCS = num('BENCH_RT_CLIENT_PROCS', 2);
const SECRET = 'bench-realtime-secret';
const TARGETS = { personalP99Ms: 50, boardP99Ms: 300, mbPer1000Idle: 5 };

const boardOf = (i: number) => `points:alltime:challenge:bench-${i % BOARDS}`;

/** RSS (bytes) and CPU seconds of a process, from /proc. */
function proc(pid: number): { rss: number; cpuS: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { rss, cpuS: (Number(rest[11]) + Number(rest[12])) / 100 };
}

interface WorkerResult {
  personal: number[];
  personalFromStart: number[];
  /** `board|user|score` first seen by a sampled client, and when. */
  boardSeen: Array<[string, number]>;
  delivered: number;
}

type ToWorker = { type: 'measure' } | { type: 'stop' };
type FromWorker = { type: 'connected' } | { type: 'error'; message: string } | ({ type: 'result' } & WorkerResult);

/** A client process: connects clients [from, to) round-robin over the ports, records what arrives. */
async function clientWorker(): Promise<void> {
  const ports = (process.env.BENCH_RT_PORTS ?? '').split(',').map(Number);
  const from = Number(process.env.BENCH_RT_FROM);
  const to = Number(process.env.BENCH_RT_TO);
  const send = (m: FromWorker) => process.send?.(m);
  const sockets: Socket[] = [];
  const result: WorkerResult = { personal: [], personalFromStart: [], boardSeen: [], delivered: 0 };
  let measuring = false;
  process.on('message', (m: ToWorker) => {
    if (m.type === 'measure') measuring = true;
    if (m.type === 'stop') {
      measuring = false;
      for (const s of sockets) s.close();
      // Exit only once the (large) result has gone down the IPC channel.
      process.send?.({ type: 'result', ...result } satisfies FromWorker, undefined, {}, () => process.exit(0));
    }
  });
  let next = from;
  const connectOne = async () => {
    while (next < to) {
      const i = next++;
      const token = await mintToken(SECRET, { sub: `bu-${i}`, roles: ['user'] }, '2h');
      const socket = connectClient(`http://127.0.0.1:${ports[i % ports.length]}`, {
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        auth: { token },
      });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      const seen = new Set<string>();
      const sampled = i % 10 === 0; // a tenth of the clients sample board latency (load generator CPU)
      socket.on('points:awarded', (p: { eventId: string; occurredAt: string }) => {
        if (!measuring) return;
        const now = Date.now();
        result.delivered++;
        result.personal.push(now - Date.parse(p.occurredAt));
        result.personalFromStart.push(now - Number(p.eventId.split('-')[1]));
      });
      socket.on('leaderboard:update', (u: { board: string; top: Array<{ userId: string; score: number }> }) => {
        if (!measuring) return;
        result.delivered++;
        if (!sampled) return;
        const now = Date.now();
        for (const e of u.top) {
          const key = `${u.board}|${e.userId}|${e.score}`;
          if (!seen.has(key)) {
            seen.add(key);
            result.boardSeen.push([key, now]);
          }
        }
      });
      socket.onAny((event: string) => {
        if (measuring && event !== 'points:awarded' && event !== 'leaderboard:update') result.delivered++;
      });
      const ack = (await socket.timeout(60_000).emitWithAck('subscribe', { board: boardOf(i) })) as { ok: boolean };
      if (!ack.ok) throw new Error(`subscribe refused: ${JSON.stringify(ack)}`);
      sockets.push(socket);
    }
  };
  try {
    await Promise.all(Array.from({ length: 25 }, connectOne));
    send({ type: 'connected' });
  } catch (err) {
    send({ type: 'error', message: String(err) });
  }
}

interface ClientProc {
  send(m: ToWorker): void;
  connected: Promise<void>;
  result: Promise<WorkerResult>;
}

function startClients(ports: number[], from: number, to: number): ClientProc {
  const child = fork(process.argv[1]!, [], {
    env: {
      ...process.env,
      BENCH_RT_ROLE: 'clients',
      BENCH_RT_PORTS: ports.join(','),
      BENCH_RT_FROM: String(from),
      BENCH_RT_TO: String(to),
    },
  });
  let connected!: () => void;
  let failed!: (e: Error) => void;
  let done!: (r: WorkerResult) => void;
  let lost!: (e: Error) => void;
  const c = new Promise<void>((res, rej) => {
    connected = res;
    failed = rej;
  });
  const r = new Promise<WorkerResult>((res, rej) => {
    done = res;
    lost = rej;
  });
  child.on('message', (m: FromWorker) => {
    if (m.type === 'connected') connected();
    if (m.type === 'error') failed(new Error(m.message));
    if (m.type === 'result') done(m);
  });
  child.on('exit', (code) => {
    const err = new Error(`client process exited with ${code}`);
    failed(err);
    lost(err); // no effect once the result arrived
  });
  child.on('error', () => {}); // a send to a process that already exited; its exit tells the rest
  return { send: (m) => (child.connected ? child.send(m) : undefined), connected: c, result: r };
}

/** A figure from an engine's /metrics (Prometheus text). */
async function gauge(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1] ?? Number.NaN);
}

async function main(): Promise<void> {
  assertLocal(REDIS_URL, 'BENCH_REDIS_URL');
  assertLocal(DATABASE_URL, 'BENCH_DATABASE_URL');
  const machine: Machine = await describeMachine(REDIS_URL, DATABASE_URL);
  const loadStart = loadavg().map((x) => Number(x.toFixed(2)));
  const iso = newIsolation();
  const engines: EngineProcess[] = [];
  const redis = createRedis(REDIS_URL);
  const pool = createPool({ url: DATABASE_URL, schema: iso.schema, max: 2 });
  const bus = new DomainEvents();
  const procs: ClientProc[] = [];
  const failures: string[] = [];
  try {
    for (let i = 0; i < PROCESSES; i++) {
      engines.push(await startEngine({ iso, databaseUrl: DATABASE_URL, redisUrl: REDIS_URL, jwtSecret: SECRET }));
    }
    const progress = (msg: string) => console.error(`[bench:realtime] ${msg}`);
    progress(`${PROCESSES} engines up; connecting ${CLIENTS} clients from ${CLIENT_PROCS} processes`);
    await redis.connect();
    const lb = leaderboardsKit({ redis, redisUrl: REDIS_URL, prefix: iso.prefix, pool, bus, now: Date.now });
    const quiet = { info: () => {}, warn: () => {}, error: (o: object, m: string) => failures.push(`${m} ${o}`) };
    const realtime = createRealtime(
      {
        enabled: false,
        tickMs: 250,
        topN: 10,
        maxSubscriptions: 20,
        maxMessagesPerS: 20,
        maxBuffered: 500,
        maxMessageBytes: 16_384,
        rankThrottleMs: 1000,
        claimBatch: 200,
        resyncMs: 30_000,
        watchTtlMs: 15_000,
      },
      { redis, prefix: iso.prefix, bus, leaderboards: lb, regions: [], secret: SECRET, now: Date.now, log: quiet },
    );

    const pids = engines.map((e) => e.pid!);
    const ports = engines.map((e) => e.port);
    const heap = () => Promise.all(ports.map((p) => gauge(p, 'nodejs_heap_size_used_bytes')));
    const before = pids.map(proc);
    const heapBefore = await heap();
    const connectStart = Date.now();
    const per = Math.ceil(CLIENTS / CLIENT_PROCS);
    for (let k = 0; k < CLIENT_PROCS; k++) {
      procs.push(startClients(ports, k * per, Math.min(CLIENTS, (k + 1) * per)));
    }
    await Promise.all(procs.map((p) => p.connected));
    const connectS = (Date.now() - connectStart) / 1000;
    progress(`connected and subscribed in ${connectS.toFixed(1)} s; idle 10 s`);
    // Idle: connected and subscribed, no events; let the engines settle (and collect) before reading memory.
    await new Promise((r) => setTimeout(r, 10_000));
    const idle = pids.map(proc);
    const heapIdle = await heap();
    const perThousand = (bytes: number) => Number((bytes / 2 ** 20 / (CLIENTS / 1000)).toFixed(2));
    const rssPer1000 = perThousand(idle.reduce((s, p, i) => s + p.rss - before[i]!.rss, 0));
    const heapPer1000 = perThousand(heapIdle.reduce((s, h, i) => s + h - heapBefore[i]!, 0));

    const written = new Map<string, number>(); // board|user|score → applied at
    const totals = new Map<string, number>();
    let applied = 0;
    let inFlight = 0;
    let seq = 0;
    const applyOne = async () => {
      const i = Math.floor(Math.random() * CLIENTS);
      const userId = `bu-${i}`;
      const board = boardOf(i);
      const points = 1 + Math.floor(Math.random() * 30);
      const at = new Date();
      const eventId = `bev-${at.getTime()}-${seq++}`;
      inFlight++;
      try {
        await lb.service.record({
          userId,
          opId: eventId,
          occurredAt: at,
          scopes: [{ kind: 'challenge', id: board.split(':').at(-1)! }],
          deltas: { points, workouts: 0, distance: 0, duration: 0 },
          notify: true,
        });
        const total = (totals.get(userId) ?? 0) + points;
        totals.set(userId, total);
        const told = new Date();
        written.set(`${board}|${userId}|${total}`, told.getTime());
        // occurredAt carries the moment the fact is told (personal latency is measured from it).
        bus.emit('PointsAwarded', {
          userId,
          eventId,
          awarded: points,
          capped: 0,
          held: 0,
          dailyTotal: total,
          day: at.toISOString().slice(0, 10),
          occurredAt: told.toISOString(),
          activity: 'run',
          durationSec: 60,
        });
        applied++;
      } finally {
        inFlight--;
      }
    };

    // Open loop at the target rate, in 10 ms slices; at most 500 in flight (then it falls behind, and says so).
    progress(`events at ${EVENTS_PER_S}/s for ${SECONDS} s`);
    for (const p of procs) p.send({ type: 'measure' });
    const cpu0 = pids.map(proc);
    const start = Date.now();
    let issued = 0;
    while (Date.now() - start < SECONDS * 1000) {
      const due = Math.floor(((Date.now() - start) / 1000) * EVENTS_PER_S);
      while (issued < due && inFlight < 500) {
        issued++;
        void applyOne().catch((err) => failures.push(String(err)));
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    const elapsedS = (Date.now() - start) / 1000;
    const cpu1 = pids.map(proc);
    await new Promise((r) => setTimeout(r, 1000)); // the last ticks land
    for (const p of procs) p.send({ type: 'stop' });
    const deadline = new Promise<never>((_, rej) =>
      setTimeout(() => rej(new Error('client processes sent no result within 60 s')), 60_000).unref(),
    );
    const results = await Promise.race([Promise.all(procs.map((p) => p.result)), deadline]);
    const personal = results.flatMap((r) => r.personal);
    const personalFromStart = results.flatMap((r) => r.personalFromStart);
    const boardLat: number[] = [];
    for (const r of results) {
      for (const [key, at] of r.boardSeen) {
        const w = written.get(key);
        if (w !== undefined) boardLat.push(at - w);
      }
    }
    const delivered = results.reduce((s, r) => s + r.delivered, 0);
    const busy = pids.map((_, i) => (cpu1[i]!.cpuS - cpu0[i]!.cpuS) / elapsedS);
    const report = {
      machine: { ...machine, loadavgAtStart: loadStart, loadavgAtEnd: loadavg().map((x) => Number(x.toFixed(2))) },
      note: LOADGEN_NOTE,
      options: { CLIENTS, PROCESSES, CLIENT_PROCS, BOARDS, EVENTS_PER_S, SECONDS },
      targets: TARGETS,
      connect: { seconds: connectS, perS: Math.round(CLIENTS / connectS) },
      memory: {
        engineRssBeforeMiB: before.map((x) => Math.round(x.rss / 2 ** 20)),
        engineRssIdleMiB: idle.map((x) => Math.round(x.rss / 2 ** 20)),
        rssMiBPer1000Idle: rssPer1000,
        heapMiBPer1000Idle: heapPer1000,
      },
      events: { target: EVENTS_PER_S, applied, perS: Math.round(applied / elapsedS) },
      latencyMs: {
        personal: { samples: personal.length, ...round(summarize(personal)) },
        personalFromEventStart: { samples: personalFromStart.length, ...round(summarize(personalFromStart)) },
        board: { samples: boardLat.length, ...round(summarize(boardLat)) },
      },
      delivered: { messages: delivered, perS: Math.round(delivered / elapsedS) },
      engineCpuPctOfCore: busy.map((x) => Math.round(x * 100)),
      engineCpuPctPer1000Clients: Number(((busy.reduce((s, x) => s + x, 0) * 100) / (CLIENTS / 1000)).toFixed(1)),
      engineErrors: engines.map((e) => e.errorKinds()),
      failures,
    };
    console.log(JSON.stringify(report, null, 2));
    mkdirSync(projectPath('bench', 'results'), { recursive: true });
    writeFileSync(projectPath('bench', 'results', 'realtime.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(projectPath('bench', 'results', 'realtime.md'), markdown(report));
    await realtime.close();
  } finally {
    for (const p of procs) p.send({ type: 'stop' });
    for (const e of engines) await e.stop();
    await pool.end().catch(() => {});
    await redis.quit().catch(() => redis.disconnect());
    await dropIsolation(iso, DATABASE_URL, REDIS_URL).catch(() => {});
  }
  if (failures.length > 0) process.exitCode = 1;
}

function round(s: ReturnType<typeof summarize>) {
  return { p50: Math.round(s.p50), p90: Math.round(s.p90), p99: Math.round(s.p99), max: Math.round(s.max) };
}

// biome-ignore lint/suspicious/noExplicitAny: the report's shape is the literal above
function markdown(r: any): string {
  const t = r.targets;
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  return [
    '# Realtime benchmark — latest run',
    '',
    `Generated by \`npm run bench:realtime\` on ${r.machine.date}. See realtime/README.md for the design.`,
    '',
    `- Machine: ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB; node ${r.machine.node}; Redis ${r.machine.redis}; load average ${r.machine.loadavgAtStart.join(' / ')} at start, ${r.machine.loadavgAtEnd.join(' / ')} at end`,
    `- Options: ${Object.entries(r.options)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
    `- **${r.note}**`,
    '',
    '| figure | measured | target | verdict |',
    '| --- | --- | --- | --- |',
    `| connected clients (engine processes; client processes) | ${r.options.CLIENTS} (${r.options.PROCESSES}; ${r.options.CLIENT_PROCS}) | 10,000 | ${r.options.CLIENTS >= 10_000 ? 'met' : 'scaled down'} |`,
    `| events applied | ${r.events.perS}/s (of ${r.events.target}/s) | 2,000/s | ${verdict(r.events.perS >= 1900)} |`,
    `| personal event latency p50 / p99 | ${r.latencyMs.personal.p50} / ${r.latencyMs.personal.p99} ms (${r.latencyMs.personal.samples} samples) | p99 ≤ ${t.personalP99Ms} ms | ${verdict(r.latencyMs.personal.p99 <= t.personalP99Ms)} |`,
    `| personal event latency incl. the board write, p50 / p99 | ${r.latencyMs.personalFromEventStart.p50} / ${r.latencyMs.personalFromEventStart.p99} ms | — | — |`,
    `| board update latency p50 / p99 | ${r.latencyMs.board.p50} / ${r.latencyMs.board.p99} ms (${r.latencyMs.board.samples} samples) | p99 ≤ ${t.boardP99Ms} ms | ${verdict(r.latencyMs.board.p99 <= t.boardP99Ms)} |`,
    `| engine memory per 1,000 idle clients: RSS / JS heap used | ${r.memory.rssMiBPer1000Idle} / ${r.memory.heapMiBPer1000Idle} MiB | ≤ ${t.mbPer1000Idle} MB | ${verdict(r.memory.rssMiBPer1000Idle <= t.mbPer1000Idle)} |`,
    `| engine CPU (each process, % of a core) | ${r.engineCpuPctOfCore.join(' / ')} (${r.engineCpuPctPer1000Clients} % per 1,000 clients) | — | — |`,
    `| messages delivered to clients | ${r.delivered.perS}/s | — | — |`,
    `| connect + subscribe | ${r.connect.perS} clients/s | — | — |`,
    '',
    `Engine RSS before clients: ${r.memory.engineRssBeforeMiB.join(' / ')} MiB; idle with clients: ${r.memory.engineRssIdleMiB.join(' / ')} MiB.`,
    r.failures.length > 0 ? `\nFailures: ${r.failures.slice(0, 5).join('; ')}` : '',
    '',
  ].join('\n');
}

if (process.env.BENCH_RT_ROLE === 'clients') await clientWorker();
else await main();
