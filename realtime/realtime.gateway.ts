/**
 * The socket.io server on the engine's HTTP server (path `/socket.io`): the JWT handshake,
 * user and moderation rooms, `subscribe`/`unsubscribe`, per-socket limits (subscriptions,
 * message rate, buffered messages, message size) and the Redis adapter that makes every
 * room span all engine processes.
 */
import type { Server as HttpServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { decodeJwt } from 'jose';
import { Counter, Gauge } from 'prom-client';
import { Server, type Socket } from 'socket.io';
import {
  AppError,
  type ErrorCode,
  hasRole,
  issuesToDetails,
  metricsRegistry,
  type Principal,
  type TokenVerifier,
} from '../common/index.js';
import type { Redis } from '../persistence/index.js';
import type { RealtimeLog } from './ports.js';
import {
  boardOfRoom,
  boardRoom,
  challengeRoom,
  MODERATION_ROOM,
  type ParsedBoard,
  parseBoard,
  subscriptionSchema,
  userRoom,
  watchRoom,
} from './rooms.js';
import type { BoardTop } from './ticker.service.js';

export interface GatewaySettings {
  maxSubscriptions: number;
  maxMessagesPerS: number;
  maxBuffered: number;
  maxMessageBytes: number;
}

export interface GatewayDeps {
  settings: GatewaySettings;
  verifier: TokenVerifier;
  regions: readonly string[];
  /** Redis clients of the adapter: `pub` may be shared, `sub` is dedicated (subscriber mode). */
  pub: Redis;
  sub: Redis;
  channel: string;
  /** The current top-N for a new subscriber; `toRoom`: push it to the whole room (it is news there too). */
  snapshot: (board: ParsedBoard) => Promise<{ top: BoardTop; toRoom: boolean }>;
  /** The board a challenge subscription watches; null = no such challenge. */
  challengeBoard: (challengeId: string) => Promise<string | null>;
  /** A board got its first subscriber in this process. */
  onFirstSubscriber: (board: string) => void;
  log: RealtimeLog;
}

interface SocketState {
  principal: Principal;
  /** Board ids this socket subscribed to. */
  boards: Set<string>;
  windowStart: number;
  messages: number;
  expiry?: NodeJS.Timeout;
  closing?: boolean;
}

type Ack = (reply: unknown) => void;
type ErrorReply = { ok: false; error: { code: ErrorCode; message: string; details?: unknown } };

const errorReply = (code: ErrorCode, message: string, details?: unknown): ErrorReply => ({
  ok: false,
  error: { code, message, ...(details === undefined ? {} : { details }) },
});

const connected = new Gauge({
  name: 'podium_realtime_sockets',
  help: 'Socket.io connections held by this process',
  registers: [metricsRegistry],
});
const closedByServer = new Counter({
  name: 'podium_realtime_disconnects_total',
  help: 'Connections ended, by reason (slow_consumer, rate_limited, unauthorized, transport close, …)',
  labelNames: ['reason'],
  registers: [metricsRegistry],
});

/** Longest timer Node accepts (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface GatewayStats {
  sockets: number;
  /** Most packets seen queued for one socket (never above maxBuffered + 1). */
  maxBuffered: number;
  disconnects: Record<string, number>;
}

export class RealtimeGateway {
  readonly io: Server;
  private readonly local = new Set<string>();
  private closing = false;
  readonly stats: GatewayStats = { sockets: 0, maxBuffered: 0, disconnects: {} };

  constructor(
    httpServer: HttpServer,
    private readonly deps: GatewayDeps,
  ) {
    this.io = new Server(httpServer, {
      path: '/socket.io',
      serveClient: false,
      maxHttpBufferSize: deps.settings.maxMessageBytes,
      adapter: createAdapter(deps.pub, deps.sub, { key: deps.channel }),
      // During shutdown no new connection is taken (it would hold the HTTP server open).
      allowRequest: (_req, cb) => cb(this.closing ? 'shutting down' : null, !this.closing),
    });
    // The upgrade request (headers, its socket) would otherwise stay referenced for the
    // connection's life; nothing reads it after the handshake (socket.io's memory advice).
    this.io.engine.on('connection', (raw: { request: unknown }) => {
      raw.request = null;
    });
    const adapter = this.io.of('/').adapter;
    adapter.on('create-room', (room: string) => {
      const board = boardOfRoom(room);
      if (board !== undefined) {
        this.local.add(board);
        deps.onFirstSubscriber(board);
      }
    });
    adapter.on('delete-room', (room: string) => {
      const board = boardOfRoom(room);
      if (board !== undefined) this.local.delete(board);
    });
    this.io.use((socket, next) => {
      const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
      deps.verifier.verify(typeof token === 'string' ? token : undefined).then(
        (principal) => {
          socket.data = this.newState(principal);
          next();
        },
        (err: unknown) => {
          const appErr = err instanceof AppError ? err : new AppError('unauthorized', 'invalid token');
          next(Object.assign(new Error(appErr.message), { data: { code: appErr.code } }));
        },
      );
    });
    this.io.on('connection', (socket) => this.onConnection(socket, token(socket)));
  }

  /** Board ids with at least one subscriber in this process. */
  localBoards(): ReadonlySet<string> {
    return this.local;
  }

  /** Stops taking connections and disconnects this process's sockets (others keep theirs). */
  async close(): Promise<void> {
    this.closing = true;
    this.io.local.disconnectSockets(true);
    this.io.engine.close();
    // Not adapter.close(): it fires unsubscribes without awaiting them, and the caller closes
    // the subscriber connection next anyway (which ends its subscriptions).
  }

  private newState(principal: Principal): SocketState {
    return { principal, boards: new Set(), windowStart: Date.now(), messages: 0 };
  }

  private onConnection(socket: Socket, rawToken: string | undefined): void {
    const state = socket.data as SocketState;
    const { principal } = state;
    this.stats.sockets++;
    connected.inc();
    void socket.join(userRoom(principal.sub));
    if (hasRole(principal, 'moderator', 'admin')) void socket.join(MODERATION_ROOM);

    // A connection lives no longer than its token.
    const exp = rawToken ? decodeJwt(rawToken).exp : undefined;
    if (exp !== undefined) {
      state.expiry = setTimeout(
        () => this.refuse(socket, 'unauthorized', 'token expired'),
        Math.min(MAX_TIMER_MS, Math.max(0, exp * 1000 - Date.now())),
      );
      state.expiry.unref();
    }

    // Slow consumers: packets queue in engine.io's write buffer while the client does not
    // read; past the cap the connection is dropped with its buffer (volatile board updates
    // are not queued at all).
    const conn = socket.conn as unknown as { writeBuffer: unknown[]; on(ev: 'packetCreate', fn: () => void): void };
    conn.on('packetCreate', () => {
      const queued = conn.writeBuffer.length + 1;
      if (queued > this.stats.maxBuffered) this.stats.maxBuffered = queued;
      if (queued > this.deps.settings.maxBuffered && !state.closing) {
        state.closing = true;
        // Out of every room now, so no broadcast queues more for it before the close below.
        void this.io.of('/').adapter.delAll(socket.id);
        setImmediate(() => {
          this.count('slow_consumer');
          this.deps.log.warn({ userId: principal.sub, queued }, 'realtime: slow consumer disconnected');
          socket.conn.close(true); // discard the buffer: that memory is the point
        });
      }
    });

    // Every client message counts against the rate limit; above it the message is refused,
    // above twice it the connection is closed.
    socket.use((packet, next) => {
      const [event, ...args] = packet as [string, ...unknown[]];
      const last = args[args.length - 1];
      const ack = typeof last === 'function' ? (last as Ack) : undefined;
      const now = Date.now();
      if (now - state.windowStart >= 1000) {
        state.windowStart = now;
        state.messages = 0;
      }
      state.messages++;
      const max = this.deps.settings.maxMessagesPerS;
      if (state.messages > 2 * max) return this.refuse(socket, 'rate_limited', `more than ${2 * max} messages/s`);
      if (state.messages > max) {
        return this.reply(socket, ack, errorReply('rate_limited', `at most ${max} messages/s`), event);
      }
      if (event !== 'subscribe' && event !== 'unsubscribe') {
        return this.reply(socket, ack, errorReply('invalid_request', `unknown event "${event}"`), event);
      }
      next();
    });
    socket.on('subscribe', (payload: unknown, ack?: Ack) => void this.subscribe(socket, state, payload, ack));
    socket.on('unsubscribe', (payload: unknown, ack?: Ack) => void this.unsubscribe(socket, state, payload, ack));
    socket.on('disconnect', (reason) => {
      this.stats.sockets--;
      connected.dec();
      if (state.expiry) clearTimeout(state.expiry);
      if (reason === 'server namespace disconnect' || reason === 'forced close') return;
      this.count(reason.replaceAll(' ', '_'));
    });
  }

  private async resolve(payload: unknown): Promise<{ board: ParsedBoard; challenge?: string } | ErrorReply> {
    const parsed = subscriptionSchema.safeParse(payload);
    if (!parsed.success) {
      return errorReply(
        'invalid_request',
        'expected {"board": "<metric>:<window>:<scope>"} or {"challenge": "<id>"}',
        issuesToDetails(parsed.error.issues),
      );
    }
    let id: string;
    let challenge: string | undefined;
    if ('challenge' in parsed.data) {
      challenge = parsed.data.challenge;
      const b = await this.deps.challengeBoard(challenge);
      if (b === null) return errorReply('not_found', `no challenge ${challenge}`);
      id = b;
    } else {
      id = parsed.data.board;
    }
    const board = parseBoard(id, this.deps.regions);
    if (!board.ok) {
      return errorReply('invalid_request', board.message, [
        { path: 'board', message: board.message, allowed: board.allowed },
      ]);
    }
    return { board: board.board, challenge };
  }

  private async subscribe(socket: Socket, state: SocketState, payload: unknown, ack: Ack | undefined): Promise<void> {
    const target = await this.resolve(payload);
    if ('ok' in target) return this.reply(socket, ack, target, 'subscribe');
    const { board, challenge } = target;
    const max = this.deps.settings.maxSubscriptions;
    if (!state.boards.has(board.id) && state.boards.size >= max) {
      return this.reply(
        socket,
        ack,
        errorReply('rate_limited', `at most ${max} subscriptions per connection; unsubscribe first`),
        'subscribe',
      );
    }
    state.boards.add(board.id);
    const rooms = [boardRoom(board.id), watchRoom(board.id, state.principal.sub)];
    if (challenge !== undefined) rooms.push(challengeRoom(challenge));
    await socket.join(rooms);
    let snap: { top: BoardTop; toRoom: boolean };
    try {
      snap = await this.deps.snapshot(board);
    } catch (err) {
      this.deps.log.error({ err, board: board.id }, 'realtime: cannot read a board for a subscriber');
      // Not subscribed after an error: the client retries the whole subscribe.
      state.boards.delete(board.id);
      await Promise.all(rooms.map((r) => socket.leave(r)));
      return this.reply(socket, ack, errorReply('unavailable', 'board not readable now; retry'), 'subscribe');
    }
    // The current top at once (joined first, so no change between the read and the join is missed).
    const update = { board: board.id, period: snap.top.period, top: snap.top.top };
    if (snap.toRoom) this.io.to(rooms.filter((r) => !r.startsWith('w:'))).emit('leaderboard:update', update);
    else socket.emit('leaderboard:update', update);
    ack?.({ ok: true, board: board.id, period: snap.top.period });
  }

  private async unsubscribe(socket: Socket, state: SocketState, payload: unknown, ack: Ack | undefined): Promise<void> {
    const target = await this.resolve(payload);
    if ('ok' in target) return this.reply(socket, ack, target, 'unsubscribe');
    const { board, challenge } = target;
    state.boards.delete(board.id);
    await Promise.all([
      socket.leave(boardRoom(board.id)),
      socket.leave(watchRoom(board.id, state.principal.sub)),
      challenge !== undefined ? socket.leave(challengeRoom(challenge)) : undefined,
    ]);
    ack?.({ ok: true, board: board.id });
  }

  /** An error goes to the ack when the client asked for one, else as a `server:error` event. */
  private reply(socket: Socket, ack: Ack | undefined, reply: ErrorReply, event: string): void {
    if (ack) ack(reply);
    else socket.emit('server:error', { ...reply.error, event });
  }

  /** Tells the client why, then closes the connection (the client does not reconnect by itself). */
  private refuse(socket: Socket, code: ErrorCode, message: string): void {
    const state = socket.data as SocketState;
    if (state.closing) return;
    state.closing = true;
    this.count(code);
    socket.emit('server:error', { code, message });
    socket.disconnect(true);
  }

  private count(reason: string): void {
    this.stats.disconnects[reason] = (this.stats.disconnects[reason] ?? 0) + 1;
    closedByServer.inc({ reason });
  }
}

function token(socket: Socket): string | undefined {
  const t = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
  return typeof t === 'string' ? t : undefined;
}
