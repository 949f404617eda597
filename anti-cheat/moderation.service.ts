/**
 * The moderator's side: list flags (the open queue from Redis, anything else from
 * Postgres), decide one (recorded and audited in one transaction, then compensated),
 * and the users under review.
 */
import { AppError } from '../common/index.js';
import type { StoredOutcome, WorkoutEvent } from '../ingest/index.js';
import type { ScoringService } from '../scoring/index.js';
import type { AntiCheatStore } from './anti-cheat.store.js';
import type { CompensationService } from './compensation.service.js';
import type { CompensationPlan } from './compensations.repository.js';
import { type FlagView, flagView } from './flag-view.js';
import {
  type Decision,
  DecisionConflict,
  type FlagFilter,
  type FlagsRepository,
  type Position,
} from './flags.repository.js';

/** The ledger's record of an event (ingest's), as the engine hands it in. */
export type EventLoader = (
  eventId: string,
) => Promise<{ event: WorkoutEvent; outcome: StoredOutcome | null } | undefined>;

export interface ModerationDeps {
  repo: FlagsRepository;
  store: AntiCheatStore;
  scoring: ScoringService;
  compensations: CompensationService;
  loadEvent: EventLoader;
  now: () => number;
  leaseMs: number;
  reviewAfter: number;
  log: { error: (obj: object, msg: string) => void };
}

export interface FlagPage {
  flags: FlagView[];
  nextCursor: string | null;
}

export interface DecidedFlag extends FlagView {
  /** Other flags of the same event closed by this decision (a decision is about the event). */
  relatedFlags: string[];
  /** What the decision changed: `done`, or `pending` when a step failed and the resumer will finish it. */
  compensation: { kind: 'revoke' | 'release'; status: 'done' | 'pending' } | null;
}

export function encodeCursor(p: Position): string {
  return Buffer.from(`${p.createdAtMs}.${p.id}`).toString('base64url');
}

export function decodeCursor(raw: string): Position {
  const text = Buffer.from(raw, 'base64url').toString('utf8');
  const m = /^(\d{1,15})\.(fl_[A-Za-z0-9_-]{1,64})$/.exec(text);
  if (!m)
    throw new AppError('invalid_request', 'cursor: not a cursor this API returned', [
      { path: 'cursor', message: 'invalid' },
    ]);
  return { createdAtMs: Number(m[1]), id: m[2]! };
}

export class ModerationService {
  constructor(private readonly deps: ModerationDeps) {}

  async list(filter: FlagFilter, limit: number, cursor?: string): Promise<FlagPage> {
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    const fromQueue = filter.status === 'open' && !filter.userId && !filter.rule && !filter.severity;
    const rows = fromQueue
      ? await this.deps.store.listOpen(after, limit + 1)
      : (await this.deps.repo.list(filter, after, limit + 1)).map(flagView);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      flags: page,
      nextCursor:
        rows.length > limit && last ? encodeCursor({ createdAtMs: Date.parse(last.createdAt), id: last.id }) : null,
    };
  }

  async get(flagId: string): Promise<FlagView> {
    const f = await this.deps.repo.find(flagId);
    if (!f) throw new AppError('not_found', `no flag ${flagId}`);
    return flagView(f);
  }

  async decide(flagId: string, decision: Decision, moderator: string, note?: string): Promise<DecidedFlag> {
    const { repo, store, scoring } = this.deps;
    const flag = await repo.find(flagId);
    if (!flag) throw new AppError('not_found', `no flag ${flagId}`);
    if (flag.status !== 'open') throw new AppError('conflict', `flag ${flagId} was ${flag.status} already`);
    const row = await this.deps.loadEvent(flag.eventId);
    if (!row?.outcome) {
      throw new AppError('conflict', `event ${flag.eventId} is still being applied; decide again in a moment`);
    }
    const { event, outcome } = row;
    const held = outcome.points.held > 0;
    const kind = decision === 'confirm' ? 'revoke' : held ? 'release' : undefined;
    const plan: CompensationPlan | undefined = kind && {
      kind,
      eventId: event.id,
      userId: event.userId,
      flagId,
      occurredAt: event.occurredAt,
      timeZone: outcome.timeZone,
      ...(event.region ? { region: event.region } : {}),
      activity: event.workout.activity,
      durationSec: event.workout.durationSec,
      distanceM: event.workout.distanceM ?? 0,
      calories: event.workout.calories ?? 0,
      points: outcome.points,
      counted: !held,
      review: false,
      decidedBy: moderator,
    };
    const before = { scoring: await scoring.figures(event.userId, outcome.day) };
    const at = new Date(this.deps.now());
    let decided: Awaited<ReturnType<FlagsRepository['decide']>>;
    try {
      decided = await repo.decide({
        flagId,
        decision,
        decidedBy: moderator,
        note,
        at,
        plan,
        leaseMs: this.deps.leaseMs,
        before,
        reviewAfter: this.deps.reviewAfter,
      });
    } catch (err) {
      if (err instanceof DecisionConflict) throw new AppError('conflict', err.message);
      throw err;
    }
    if (!decided) throw new AppError('not_found', `no flag ${flagId}`);
    const dequeued = store.dequeue(decided.flags.map((f) => ({ id: f.id, createdAt: f.createdAt.toISOString() })));
    dequeued.catch(() => {}); // awaited below; a failure must not count as unhandled meanwhile

    let compensation: DecidedFlag['compensation'] = null;
    if (plan) {
      compensation = { kind: plan.kind, status: 'done' };
      try {
        await this.deps.compensations.run({
          eventId: plan.eventId,
          kind: plan.kind,
          plan: { ...plan, review: decided.underReview },
          result: null,
          status: 'pending',
          attempts: 1,
          decidedAt: at,
        });
      } catch (err) {
        // The decision stands; the resumer finishes the compensation.
        this.deps.log.error({ err, flagId, eventId: plan.eventId }, 'compensation interrupted; left for the resumer');
        compensation = { kind: plan.kind, status: 'pending' };
      }
    }
    await dequeued; // the open queue in Redis, beside the compensation
    const [first, ...others] = decided.flags;
    return { ...flagView(first!), relatedFlags: others.map((f) => f.id), compensation };
  }

  reviews() {
    return this.deps.repo.reviews();
  }

  /** Lifts a review: the user's next events are judged by the rules again. */
  async endReview(userId: string): Promise<void> {
    const existed = await this.deps.repo.endReview(userId);
    await this.deps.store.clearReview(userId);
    if (!existed) throw new AppError('not_found', `user ${userId} is not under review`);
  }
}
