/**
 * Domain events → socket pushes. Personal events go to the user's room, `flag:new` to the
 * moderators, `leaderboard:closed` to the board's room; anything that moves a board marks
 * it dirty for the ticker. Emission goes through the Redis adapter (in a process holding
 * sockets) or the Redis emitter (a worker), so it reaches a socket on any process.
 */
import type { DomainEventMap, DomainEvents } from '../common/index.js';
import { METRICS } from '../leaderboards/index.js';
import type { RoomEmitter } from './ports.js';
import { boardRoom, challengeRoom, MODERATION_ROOM, userRoom, watchRoom } from './rooms.js';
import type { DirtyMarks } from './watch.service.js';

export interface RankChange {
  userId: string;
  board: string;
  period: string;
  rank: number;
  previousRank: number | null;
  score: number;
}

/**
 * `rank:changed` to the sockets of the user that watch the board, at most once per
 * `throttleMs` per user × board, the latest value sent at the end of the window.
 * The throttle is per process (a user's events may be applied by several processes).
 */
export class RankNotifier {
  private readonly state = new Map<string, { last: number; pending?: RankChange; timer?: NodeJS.Timeout }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly emit: () => RoomEmitter,
    private readonly throttleMs: number,
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.max(1000, throttleMs));
    this.sweeper.unref();
  }

  notify(change: RankChange): void {
    if (change.previousRank === change.rank) return;
    const key = `${change.board}|${change.userId}`;
    const now = Date.now();
    const s = this.state.get(key);
    if (!s || now - s.last >= this.throttleMs) {
      this.state.set(key, { last: now });
      this.send(change);
      return;
    }
    // Keep the first previous rank of the window so the trailing message spans the whole move.
    s.pending = { ...change, previousRank: s.pending?.previousRank ?? change.previousRank };
    if (!s.timer) {
      s.timer = setTimeout(
        () => {
          const latest = s.pending;
          s.pending = undefined;
          s.timer = undefined;
          s.last = Date.now();
          if (latest && latest.previousRank !== latest.rank) this.send(latest);
        },
        this.throttleMs - (now - s.last),
      );
      s.timer.unref();
    }
  }

  stop(): void {
    clearInterval(this.sweeper);
    for (const s of this.state.values()) if (s.timer) clearTimeout(s.timer);
    this.state.clear();
  }

  private send(c: RankChange): void {
    this.emit()([watchRoom(c.board, c.userId)], 'rank:changed', c);
  }

  private sweep(): void {
    const before = Date.now() - this.throttleMs;
    for (const [k, s] of this.state) if (!s.timer && s.last < before) this.state.delete(k);
  }
}

export interface PublisherDeps {
  bus: DomainEvents;
  emit: () => RoomEmitter;
  dirty: DirtyMarks;
  ranks: RankNotifier;
}

type Metric = (typeof METRICS)[number];

/** The metrics whose boards a points award changed (held points change nothing, as in leaderboards). */
function metricsOfAward(e: DomainEventMap['PointsAwarded']): Metric[] {
  if (e.held > 0) return [];
  const out: Metric[] = ['workouts', 'duration'];
  if (e.awarded > 0) out.push('points');
  if ((e.distanceM ?? 0) > 0) out.push('distance');
  return out;
}

export class RealtimePublisher {
  private readonly off: Array<() => void> = [];

  constructor(private readonly deps: PublisherDeps) {}

  start(): void {
    const { bus, dirty, ranks } = this.deps;
    const emit = (rooms: string[], event: string, payload: unknown) => this.deps.emit()(rooms, event, payload);
    this.off.push(
      bus.on('PointsAwarded', (e) => {
        dirty.markMetrics(metricsOfAward(e));
        emit([userRoom(e.userId)], 'points:awarded', {
          userId: e.userId,
          eventId: e.eventId,
          awarded: e.awarded,
          capped: e.capped,
          held: e.held,
          dailyTotal: e.dailyTotal,
          day: e.day,
          occurredAt: e.occurredAt,
          activity: e.activity,
        });
      }),
      bus.on('RankChanged', (e) => {
        dirty.mark([e.board]);
        ranks.notify(e);
      }),
      bus.on('PointsRevoked', () => dirty.markMetrics(METRICS)),
      bus.on('PointsReleased', () => dirty.markMetrics(METRICS)),
      bus.on('LeaderboardClosed', (e) => {
        dirty.mark([e.board]); // its room moves on to the new period
        emit([boardRoom(e.board)], 'leaderboard:closed', e);
      }),
      bus.on('AchievementUnlocked', (e) => {
        emit([userRoom(e.userId)], 'achievement:unlocked', {
          userId: e.userId,
          achievementId: e.achievementId,
          name: e.name,
          tier: e.tier,
          unlockedAt: e.unlockedAt,
          credits: e.credits,
        });
      }),
      bus.on('ActivityPosted', (e) => {
        // Push mode names the followers whose feeds got it (one broadcast for the page);
        // pull mode (authors above the fan-out threshold) is merged on read: not pushed.
        if (e.mode === 'push' && e.recipients.length > 0) emit(e.recipients.map(userRoom), 'feed:item', e.activity);
      }),
      bus.on('ChallengePromoted', (e) => emit([userRoom(e.userId)], 'challenge:promoted', e)),
      // A queued join's final status (peak buffering), to the joiner wherever they are connected.
      bus.on('ChallengeJoinSettled', (e) => emit([userRoom(e.userId)], 'challenge:joined', e)),
      bus.on('ChallengeCompleted', (e) => emit([challengeRoom(e.challengeId)], 'challenge:completed', e)),
      bus.on('CheatFlagged', (e) => {
        emit([MODERATION_ROOM], 'flag:new', {
          id: e.flagId,
          eventId: e.eventId,
          userId: e.userId,
          rule: e.rule,
          severity: e.severity,
          held: e.held,
          heldPoints: e.heldPoints,
          evidence: e.evidence,
          createdAt: e.createdAt,
          status: 'open',
        });
      }),
    );
  }

  stop(): void {
    for (const off of this.off.splice(0)) off();
  }
}
