/**
 * Domain events: what happened, told to whoever cares (feed, realtime, …) inside this
 * process. Cross-process delivery is the listener's job (realtime uses the socket.io
 * Redis adapter; feed fan-out goes through BullMQ). A failing listener is logged and
 * never fails the event that emitted it.
 */
import { EventEmitter } from 'node:events';

export interface DomainEventMap {
  PointsAwarded: {
    userId: string;
    eventId: string;
    awarded: number;
    capped: number;
    held: number;
    dailyTotal: number;
    day: string;
    occurredAt: string;
    activity: string;
    durationSec: number;
    distanceM?: number;
  };
  /** A user's own rank on a board moved (emitted by leaderboards for the user's first application of an event). */
  RankChanged: {
    userId: string;
    /** `points:daily:global` */
    board: string;
    period: string;
    rank: number;
    /** null when the user was not on the board before. */
    previousRank: number | null;
    score: number;
  };
  /** A board period closed: final standings archived to Postgres, awards granted (socket `leaderboard:closed`). */
  LeaderboardClosed: {
    board: string;
    period: string;
    closedAt: string;
    total: number;
    top: Array<{ rank: number; userId: string; score: number }>;
    awards: Array<{ place: number; userId: string; score: number }>;
  };
  /** An achievement tier was unlocked (once per user × achievement × tier; socket `achievement:unlocked`, feed). */
  AchievementUnlocked: {
    userId: string;
    achievementId: string;
    name: string;
    tier: 'bronze' | 'silver' | 'gold' | 'platinum';
    unlockedAt: string;
    /** What unlocked it: `ev:<eventId>` or `aw:<awardId>`. */
    source: string;
    /** Redeemable credits granted with it. */
    credits: number;
  };
  /** A workout beat the user's record for its activity (not emitted for the first effort). */
  PersonalRecordAchieved: {
    userId: string;
    eventId: string;
    activity: string;
    record: 'distance' | 'duration' | 'pace';
    value: number;
    previous: number;
    unit: 'm' | 's' | 's/km';
    occurredAt: string;
  };
  /** Anti-cheat opened a flag (socket `flag:new` to moderators). `held`: the event's points are withheld. */
  CheatFlagged: {
    flagId: string;
    eventId: string;
    userId: string;
    rule: string;
    severity: 'low' | 'medium' | 'high';
    held: boolean;
    heldPoints: number;
    evidence: Record<string, unknown>;
    createdAt: string;
  };
  /** A moderator confirmed a cheat and its contribution left every counter, period total and open board. */
  PointsRevoked: {
    userId: string;
    eventId: string;
    flagId: string;
    decidedBy: string;
    /** Awarded points taken back (0 when the event was held). */
    points: number;
    /** Held points forfeited. */
    held: number;
    workouts: number;
    distanceM: number;
    durationSec: number;
    /** The user's local day the event counted in. */
    day: string;
    occurredAt: string;
    revokedAt: string;
  };
  /** A moderator dismissed the flags of a held event: its points counted, under that day's cap. */
  PointsReleased: {
    userId: string;
    eventId: string;
    flagId: string;
    decidedBy: string;
    awarded: number;
    capped: number;
    dailyTotal: number;
    day: string;
    occurredAt: string;
    releasedAt: string;
  };
  /** An award record was granted (leaderboard podium, challenge result…), with its credits. */
  RewardGranted: {
    userId: string;
    awardId: string;
    kind: string;
    sourceRef: string;
    credits: number;
    grantedAt: string;
  };
  /** A waitlisted user got a place in a challenge (a participant left, or capacity grew); socket `challenge:promoted`. */
  ChallengePromoted: { challengeId: string; userId: string; promotedAt: string };
  /** A queued challenge join was processed (peak buffering); socket `challenge:joined` to the user. */
  ChallengeJoinSettled: {
    challengeId: string;
    userId: string;
    status: 'joined' | 'waitlisted' | 'rejected';
    position?: number;
    reason?: string;
  };
  /** A user finished a closed challenge on its podium (award record granted; feed `challenge.won`). */
  ChallengeWon: { challengeId: string; name: string; userId: string; rank: number; score: number; awardId: string };
  /** A challenge ended and its final ranks were archived. */
  ChallengeCompleted: {
    challengeId: string;
    name: string;
    closedAt: string;
    participants: number;
    top: Array<{ rank: number; userId: string; score: number }>;
  };
  /**
   * An activity reached feeds (feed context; socket `feed:item`). Push mode: told once per
   * delivered page of followers, `recipients` = those followers (the first page also names
   * the author, whose own feed has it). Pull mode (an author above the fan-out threshold):
   * told once with `recipients: []`; readers merge it on read.
   */
  ActivityPosted: {
    activity: { id: string; actorId: string; verb: string; object: Record<string, unknown>; createdAt: string };
    mode: 'push' | 'pull';
    recipients: string[];
  };
}

export type DomainEventName = keyof DomainEventMap;
type Listener<K extends DomainEventName> = (payload: DomainEventMap[K]) => void | Promise<void>;

export class DomainEvents {
  private readonly emitter = new EventEmitter({ captureRejections: false });
  /** Listener promises still running: shutdown waits for them before closing what they use. */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly onError: (err: unknown, name: string) => void = () => {}) {
    this.emitter.setMaxListeners(100);
  }

  on<K extends DomainEventName>(name: K, listener: Listener<K>): () => void {
    const wrapped = (payload: DomainEventMap[K]) => {
      try {
        const r = listener(payload);
        if (r instanceof Promise) {
          const tracked = r.catch((err) => this.onError(err, name));
          this.inFlight.add(tracked);
          void tracked.finally(() => this.inFlight.delete(tracked));
        }
      } catch (err) {
        this.onError(err, name);
      }
    };
    this.emitter.on(name, wrapped);
    return () => this.emitter.off(name, wrapped);
  }

  emit<K extends DomainEventName>(name: K, payload: DomainEventMap[K]): void {
    this.emitter.emit(name, payload);
  }

  /** Resolves once every listener started so far (and any they emitted in turn) has finished. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }
}
