/**
 * The engine under test as a child process (`node dist/server/main.js`), exactly as it is
 * deployed, on a free port with its own Postgres schema and Redis key prefix; and the
 * cleanup that removes both afterwards.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import pg from 'pg';
import { projectPath } from '../../common/index.js';
import { createRedis, deleteByPrefix } from '../../persistence/index.js';

export interface Isolation {
  id: string;
  schema: string;
  prefix: string;
}

export function newIsolation(): Isolation {
  const id = randomBytes(4).toString('hex');
  return { id, schema: `bench_${id}`, prefix: `bench:${id}:` };
}

/** Refuses anything but this machine: a benchmark must never load a shared server. */
export function assertLocal(url: string, what: string): void {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (!['127.0.0.1', 'localhost', '::1'].includes(host)) {
    throw new Error(`${what} must point to 127.0.0.1 (got host "${host}")`);
  }
}

export interface EngineOptions {
  iso: Isolation;
  databaseUrl: string;
  redisUrl: string;
  jwtSecret: string;
  /**
   * Extra node arguments for the engine only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`
   * (passed on the command line: NODE_OPTIONS refuses --cpu-prof).
   */
  nodeArgs?: string[];
  readyTimeoutMs?: number;
}

export interface EngineProcess {
  pid: number | undefined;
  port: number;
  /** The last lines the engine logged (pino JSON at LOG_LEVEL=warn). */
  logTail(): string[];
  /** Lines logged at level error or fatal. */
  errorLines(): number;
  /** Those lines grouped by message and error, most frequent first ("12× msg: error"). */
  errorKinds(): string[];
  running(): boolean;
  /** SIGTERM (graceful: drains requests and the ledger batchers), SIGKILL after the deadline. */
  stop(deadlineMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function startEngine(opts: EngineOptions): Promise<EngineProcess> {
  const port = await freePort();
  const args = [...(opts.nodeArgs ?? []), projectPath('dist', 'server', 'main.js')];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: projectPath(),
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: opts.databaseUrl,
      DATABASE_SCHEMA: opts.iso.schema,
      REDIS_URL: opts.redisUrl,
      REDIS_PREFIX: opts.iso.prefix,
      JWT_SECRET: opts.jwtSecret,
      LOG_LEVEL: 'warn',
      KAFKA_BROKERS: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  const tail: string[] = [];
  const errorKinds = new Map<string, number>();
  let errors = 0;
  let partial = '';
  const collect = (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      if (/"level":(50|60)\b/.test(line)) {
        errors++;
        const kind = errorKind(line);
        errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1);
      }
      tail.push(line.length > 500 ? `${line.slice(0, 500)}…` : line);
      if (tail.length > 40) tail.shift();
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
  });

  const handle: EngineProcess = {
    pid: child.pid,
    port,
    logTail: () => [...tail],
    errorLines: () => errors,
    errorKinds: () => [...errorKinds.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n}× ${k}`),
    running: () => exit === undefined,
    async stop(deadlineMs = 20_000) {
      if (exit) return exit;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };

  try {
    await waitReady(port, () => exit, opts.readyTimeoutMs ?? 60_000);
  } catch (err) {
    await handle.stop(5_000);
    throw new Error(`${(err as Error).message}\nengine output:\n${tail.join('\n')}`);
  }
  return handle;
}

/** "msg: err.message" of a pino JSON line, for counting errors by kind. */
function errorKind(line: string): string {
  try {
    const entry = JSON.parse(line) as { msg?: string; err?: { message?: string } };
    return `${entry.msg ?? ''}${entry.err?.message ? `: ${entry.err.message}` : ''}`.slice(0, 200);
  } catch {
    return line.slice(0, 200);
  }
}

async function waitReady(port: number, exited: () => unknown, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited()) throw new Error('the engine exited before it was ready');
    const status = await new Promise<number>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/readyz', timeout: 1000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(0));
    });
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`GET /readyz not 200 within ${timeoutMs} ms (last: ${status})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Drops the schema and every Redis key under the prefix (SCAN + UNLINK). */
export async function dropIsolation(iso: Isolation, databaseUrl: string, redisUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${iso.schema}" CASCADE`);
  } finally {
    await client.end();
  }
  const redis = createRedis(redisUrl);
  try {
    return await deleteByPrefix(redis, iso.prefix);
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}
