/**
 * Builds the realtime context. `createRealtime` runs in every engine process and worker:
 * it turns domain events into pushes and dirty marks (through the Redis emitter until a
 * socket server is attached). `attach` puts the socket.io server on a process's HTTP server
 * and starts the board ticker there; `detach` (before the HTTP server closes) ends it.
 */
import type { Server as HttpServer } from 'node:http';
import { Emitter } from '@socket.io/redis-emitter';
import { type DomainEvents, TokenVerifier } from '../common/index.js';
import { decodeTotal, type Leaderboards } from '../leaderboards/index.js';
import type { Redis } from '../persistence/index.js';
import { RealtimeKeys } from './keys.js';
import type { RealtimeLog, RoomEmitter } from './ports.js';
import { RankNotifier, RealtimePublisher } from './publisher.service.js';
import { type GatewayStats, RealtimeGateway } from './realtime.gateway.js';
import { type ParsedBoard, parseBoard } from './rooms.js';
import { BoardTicker, type BoardTop } from './ticker.service.js';
import { TickerStore } from './ticker.store.js';
import { DirtyMarks, WatchedBoards } from './watch.service.js';

export interface RealtimeSettings {
  /** Attach the socket server in `npm start` processes. */
  enabled: boolean;
  tickMs: number;
  topN: number;
  maxSubscriptions: number;
  maxMessagesPerS: number;
  maxBuffered: number;
  maxMessageBytes: number;
  rankThrottleMs: number;
  claimBatch: number;
  resyncMs: number;
  watchTtlMs: number;
}

export interface RealtimeDeps {
  redis: Redis;
  prefix: string;
  bus: DomainEvents;
  /** Top-N reads: the board directory (periods, shards, tie encoding) and the board store. */
  leaderboards: Pick<Leaderboards, 'directory' | 'boards'>;
  regions: readonly string[];
  secret: string;
  /** The engine's clock (board periods). */
  now: () => number;
  log: RealtimeLog;
  /** The board of a challenge (null: no such challenge); default `points:alltime:challenge:<id>`. */
  challengeBoard?: (challengeId: string) => Promise<string | null>;
}

export interface Realtime {
  keys: RealtimeKeys;
  /** The socket server of this process once attached. */
  gateway(): RealtimeGateway | undefined;
  ticker(): BoardTicker | undefined;
  attach(server: HttpServer): RealtimeGateway;
  /** Disconnects this process's sockets and stops its ticker (call before the HTTP server closes). */
  detach(): Promise<void>;
  /** Emits to rooms on every process (adapter when attached, emitter otherwise). */
  emit: RoomEmitter;
  /** Whether a board (`metric:window:scope`) has subscribers on any process (a copy at most ~1 s old). */
  isWatched(board: string): boolean;
  stats(): GatewayStats | undefined;
  close(): Promise<void>;
}

export function createRealtime(settings: RealtimeSettings, deps: RealtimeDeps): Realtime {
  const keys = new RealtimeKeys(deps.prefix);
  const store = new TickerStore(deps.redis, keys, settings.watchTtlMs);
  const watched = new WatchedBoards(
    store,
    { refreshMs: 1000, watchTtlMs: settings.watchTtlMs, localBoards: () => new Set() },
    deps.log,
  );
  const dirty = new DirtyMarks(store, watched, 10, deps.log);

  const emitter = new Emitter(deps.redis, { key: keys.channel() });
  const viaEmitter: RoomEmitter = (rooms, event, payload, volatile) =>
    void (volatile ? emitter.to(rooms).volatile : emitter.to(rooms)).emit(event, payload);
  let gateway: RealtimeGateway | undefined;
  let ticker: BoardTicker | undefined;
  let sub: Redis | undefined;
  let emit: RoomEmitter = viaEmitter;

  const ranks = new RankNotifier(() => emit, settings.rankThrottleMs);
  const publisher = new RealtimePublisher({ bus: deps.bus, emit: () => emit, dirty, ranks });
  publisher.start();
  watched.start();

  const parse = (id: string): ParsedBoard | undefined => {
    const r = parseBoard(id, deps.regions);
    return r.ok ? r.board : undefined;
  };
  const read = async (b: ParsedBoard): Promise<BoardTop> => {
    const { directory, boards } = deps.leaderboards;
    const period = directory.periodAt(b.ref, deps.now());
    const page = await boards.top(directory.loc(b.ref, period), 0, settings.topN);
    const spec = directory.tieSpec(b.ref);
    return {
      period,
      top: page.entries.map((e) => ({ rank: e.rank, userId: e.userId, score: decodeTotal(e.score, spec) })),
    };
  };

  const realtime: Realtime = {
    keys,
    gateway: () => gateway,
    ticker: () => ticker,
    emit: (rooms, event, payload, volatile) => emit(rooms, event, payload, volatile),
    isWatched: (board) => watched.has(board),
    stats: () => gateway?.stats,
    attach(server) {
      if (gateway) throw new Error('realtime is already attached to a server');
      sub = deps.redis.duplicate();
      sub.on('error', (err) => deps.log.error({ err }, 'realtime: adapter subscriber error'));
      const g = new RealtimeGateway(server, {
        settings,
        verifier: new TokenVerifier(deps.secret),
        regions: deps.regions,
        pub: deps.redis,
        sub,
        channel: keys.channel(),
        snapshot: (b) => {
          if (!ticker) throw new Error('realtime is detached');
          return ticker.snapshot(b);
        },
        challengeBoard: deps.challengeBoard ?? (async (id) => `points:alltime:challenge:${id}`),
        onFirstSubscriber: (board) => {
          watched.announce(board).catch((err) => deps.log.error({ err }, 'realtime: watch announce failed'));
          // Processes learn of a new watch within a second; changes they applied meanwhile
          // were not marked, so look again once they surely know.
          setTimeout(() => dirty.mark([board]), 1000 + settings.tickMs).unref();
        },
        log: deps.log,
      });
      gateway = g;
      watched.setLocalBoards(() => g.localBoards());
      const io = g.io;
      emit = (rooms, event, payload, volatile) =>
        void (volatile ? io.to(rooms).volatile : io.to(rooms)).emit(event, payload);
      ticker = new BoardTicker({
        store,
        watched,
        dirty,
        ranks,
        emit: (rooms, event, payload, volatile) => emit(rooms, event, payload, volatile),
        parse,
        read,
        log: deps.log,
        tickMs: settings.tickMs,
        claimBatch: settings.claimBatch,
        resyncMs: settings.resyncMs,
      });
      ticker.start();
      return g;
    },
    async detach() {
      const g = gateway;
      if (!g) return;
      await ticker?.stop();
      ticker = undefined;
      emit = viaEmitter;
      watched.setLocalBoards(() => new Set());
      gateway = undefined;
      await g.close();
      await sub?.quit().catch(() => sub?.disconnect());
      sub = undefined;
    },
    async close() {
      await realtime.detach();
      publisher.stop();
      ranks.stop();
      watched.stop();
      await dirty.flush();
    },
  };
  return realtime;
}
