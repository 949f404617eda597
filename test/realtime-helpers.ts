/**
 * Socket tests need a listening engine (startTestEngine only readies the app): this starts
 * one with the socket server attached, on a free port, in a given isolation (several
 * engines may share one schema and key prefix, as processes of one deployment do), and
 * gives socket.io clients that wait on events, never on time.
 */
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { io as connectClient, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, expect } from 'vitest';
import { mintToken, type Role } from '../common/index.js';
import { buildApp } from '../server/app.js';
import { type Config, loadConfig } from '../server/config.js';
import { createEngine, type Engine } from '../server/engine.js';
import { bearer, dropIsolation, testIsolation } from './helpers.js';

export type Isolation = ReturnType<typeof testIsolation>;
export { testIsolation };

export interface RealtimeEngine {
  app: FastifyInstance;
  engine: Engine;
  config: Config;
  url: string;
  token(sub: string, roles?: Role[], expiresIn?: string | number): Promise<string>;
  close(): Promise<void>;
}

export async function startRealtimeEngine(iso: Isolation, env: Record<string, string> = {}): Promise<RealtimeEngine> {
  const config = loadConfig({ ...iso.env, RECONCILE_INTERVAL_MS: '3600000', ...env });
  const log = pino({ level: 'silent' });
  const engine = await createEngine(config, { log, migrate: true });
  const app = await buildApp(engine, log);
  engine.realtime.attach(app.server);
  app.addHook('preClose', () => engine.realtime.detach());
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    app,
    engine,
    config,
    url: `http://127.0.0.1:${port}`,
    token: (sub, roles = ['user'], expiresIn = '1h') => mintToken(config.auth.secret, { sub, roles }, expiresIn),
    async close() {
      await app.close();
      await engine.close();
    },
  };
}

/** A client that records every event it receives, so a test can wait for the one it needs. */
/**
 * One test file's engine with its socket server: started before the file's tests, closed
 * after them with every client it opened, its schema and keys dropped.
 */
export class RealtimeSuite {
  rt!: RealtimeEngine;
  /** A service token, for posting events. */
  service = '';
  readonly iso = testIsolation();
  private readonly clients: TestClient[] = [];

  constructor(env: Record<string, string> = {}) {
    beforeAll(async () => {
      this.rt = await startRealtimeEngine(this.iso, env);
      this.service = await this.rt.token('svc', ['service']);
    });
    afterAll(async () => {
      for (const c of this.clients) c.close();
      await this.rt?.close();
      await dropIsolation(this.iso.schema, this.iso.prefix);
    });
  }

  /** Closes `c` after the file, like the clients `client` opens. */
  track = (c: TestClient): TestClient => {
    this.clients.push(c);
    return c;
  };

  /** A connected client of `sub`, closed after the file. */
  client = async (sub: string, roles: Role[] = ['user']): Promise<TestClient> => {
    const c = await connect(this.rt.url, await this.rt.token(sub, roles));
    this.clients.push(c);
    return c;
  };

  /** Posts an event as the service; it must be accepted. */
  post = async (event: Record<string, unknown>): Promise<void> => {
    const res = await this.rt.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: bearer(this.service),
      payload: event,
    });
    expect(res.statusCode, res.body).toBeLessThan(300);
  };
}

export class TestClient {
  readonly received: Array<{ event: string; payload: unknown; at: number }> = [];
  private waiters: Array<() => void> = [];

  constructor(readonly socket: Socket) {
    socket.onAny((event: string, payload: unknown) => {
      this.received.push({ event, payload, at: Date.now() });
      this.wake();
    });
    for (const ev of ['connect', 'disconnect', 'connect_error']) socket.on(ev, () => this.wake());
  }

  of<T = Record<string, unknown>>(event: string): T[] {
    return this.received.filter((r) => r.event === event).map((r) => r.payload as T);
  }

  /** Resolves when `check` returns a value (re-checked on every event), rejects after `timeoutMs`. */
  async until<T>(what: string, check: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = check();
      if (v !== undefined && v !== false) return v;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timed out waiting for ${what}; received: ${JSON.stringify(this.received.slice(-5))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The first `event` payload matching `match`. */
  next<T = Record<string, unknown>>(event: string, match: (p: T) => boolean = () => true, timeoutMs?: number) {
    return this.until(`${event}`, () => this.of<T>(event).find(match), timeoutMs);
  }

  /** Emits with an ack and resolves with the ack's reply. */
  request<T = Record<string, unknown>>(event: string, payload: unknown, timeoutMs = 10_000): Promise<T> {
    return this.socket.timeout(timeoutMs).emitWithAck(event, payload) as Promise<T>;
  }

  close(): void {
    this.socket.close();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** Connects over WebSocket, no automatic reconnection; resolves once connected. */
export async function connect(url: string, token: string | undefined): Promise<TestClient> {
  const socket = connectClient(url, {
    transports: ['websocket'],
    reconnection: false,
    auth: token === undefined ? {} : { token },
    forceNew: true,
  });
  const client = new TestClient(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return client;
}

/** Resolves with the connect_error a refused handshake gives. */
export async function refusedConnect(url: string, auth: Record<string, unknown>): Promise<Error & { data?: unknown }> {
  const socket = connectClient(url, { transports: ['websocket'], reconnection: false, auth, forceNew: true });
  try {
    return await new Promise((resolve, reject) => {
      socket.once('connect', () => reject(new Error('connected, expected a refusal')));
      socket.once('connect_error', (err) => resolve(err as Error & { data?: unknown }));
    });
  } finally {
    socket.close();
  }
}
