/**
 * Intake of workout events: validate → append to the ledger (durable) → apply through
 * the pipeline the server composed (anti-cheat, scoring, …) → record the outcome.
 * Every step is idempotent on the event id, so a duplicate or a replay changes nothing.
 */
import { Counter, Histogram } from 'prom-client';
import { AppError, hasRole, issuesToDetails, metricsRegistry, type Principal } from '../common/index.js';
import { eventSchema, type WorkoutEvent } from './event.schema.js';
import type { AppendResult, LedgerRepository, LedgerRow, StoredOutcome } from './ledger.repository.js';

const accepted = new Counter({
  name: 'podium_events_accepted_total',
  help: 'Events appended to the ledger for the first time',
  labelNames: ['source'],
  registers: [metricsRegistry],
});
const rejected = new Counter({
  name: 'podium_events_rejected_total',
  help: 'Events refused at intake',
  labelNames: ['source', 'code'],
  registers: [metricsRegistry],
});
const duplicates = new Counter({
  name: 'podium_events_duplicate_total',
  help: 'Events whose id had been seen before',
  labelNames: ['source'],
  registers: [metricsRegistry],
});
const applyLatency = new Histogram({
  name: 'podium_event_apply_seconds',
  help: 'Time from ledger commit to the pipeline outcome of one event',
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  registers: [metricsRegistry],
});

/** Applies one event to every context; must be idempotent on the event id. */
export type EventApplier = (event: WorkoutEvent, restore?: StoredOutcome) => Promise<StoredOutcome>;

export interface EventResult {
  eventId: string;
  duplicate: boolean;
  points: StoredOutcome['points'];
  dailyTotal: number;
  dailyRemaining: number;
  flags: unknown[];
  unlocked: unknown[];
}

export type BatchItemResult =
  | ({ status: 200 | 201 } & EventResult)
  | { status: number; eventId?: string; error: ReturnType<AppError['toBody']>['error'] };

export class IngestService {
  private readonly schema = eventSchema();
  private inFlight = 0;

  constructor(
    private readonly ledger: LedgerRepository,
    private readonly apply: EventApplier,
    private readonly log: { error: (obj: object, msg: string) => void },
  ) {}

  /** Validates and authorizes one raw event; throws AppError 400/403. */
  parse(raw: unknown, principal: Principal, source = 'http'): WorkoutEvent {
    const parsed = this.schema.safeParse(raw);
    if (!parsed.success) {
      rejected.inc({ source, code: 'invalid_request' });
      throw new AppError('invalid_request', 'invalid workout event', issuesToDetails(parsed.error.issues));
    }
    const event = parsed.data;
    if (!hasRole(principal, 'service') && !(hasRole(principal, 'user') && principal.sub === event.userId)) {
      rejected.inc({ source, code: 'forbidden' });
      throw new AppError('forbidden', `may not submit events for user ${event.userId}`);
    }
    return event;
  }

  async submit(raw: unknown, principal: Principal, source = 'http'): Promise<EventResult> {
    const event = this.parse(raw, principal, source);
    return this.ingest(event, source);
  }

  /**
   * `POST /v1/events/batch`: every item answered in order. Invalid or forbidden items get
   * their 4xx and change nothing; the valid ones are appended together (one ledger group
   * commit) and applied like `ingestMany`. An item stored but not applied (a context failed)
   * answers 503 `unavailable`: it is durable, the reconciler applies it, and resending it
   * (same id) returns its outcome. Only a failing append (Postgres down) fails the whole call.
   */
  async submitBatch(raws: unknown[], principal: Principal, source = 'http'): Promise<BatchItemResult[]> {
    const results: BatchItemResult[] = new Array(raws.length);
    const valid: { index: number; event: WorkoutEvent }[] = [];
    for (const [index, raw] of raws.entries()) {
      try {
        valid.push({ index, event: this.parse(raw, principal, source) });
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        results[index] = errorItem(raw, err);
      }
    }
    const settled = await this.applyInOrder(
      valid.map((v) => v.event),
      source,
    );
    for (const [k, r] of settled.entries()) {
      const { index, event } = valid[k]!;
      if ('value' in r) {
        results[index] = { status: r.value.duplicate ? 200 : 201, ...r.value };
      } else {
        if (!(r.err instanceof AppError)) {
          this.log.error({ err: r.err, eventId: event.id }, 'batch item stored but not applied; the reconciler will');
        }
        const err =
          r.err instanceof AppError
            ? r.err
            : new AppError('unavailable', 'stored but not applied yet; resend the same event id for its outcome');
        results[index] = errorItem(event, err);
      }
    }
    return results;
  }

  /** Events between intake and outcome plus queued ledger writes: the back-pressure signal. */
  get load(): number {
    return this.inFlight + this.ledger.pending;
  }

  /** A validated event: durable first, then applied. */
  async ingest(event: WorkoutEvent, source = 'http'): Promise<EventResult> {
    this.inFlight++;
    try {
      return await this.settle(event, await this.ledger.append(event, source), source);
    } finally {
      this.inFlight--;
    }
  }

  /**
   * Validated events in producer order (the Kafka path): appended together (one ledger
   * group commit), then applied like `ingest` — one user's events in the given order,
   * at most `concurrency` users at a time (a batch must not stampede the pools). After a
   * failure that user's later events are skipped (never applied out of order); the call
   * rejects with the first failure once the rest settled, so a retry is a clean replay.
   * `signal` (shutdown) stops it between events: what was appended but not applied stays
   * in the ledger for the reconciler, and the call rejects with the abort reason.
   */
  async ingestMany(
    events: WorkoutEvent[],
    source = 'http',
    opts: { concurrency?: number; signal?: AbortSignal } = {},
  ): Promise<EventResult[]> {
    const settled = await this.applyInOrder(events, source, opts);
    const failed = settled.find((r) => 'err' in r);
    if (failed && 'err' in failed) throw failed.err;
    return settled.map((r) => (r as { value: EventResult }).value);
  }

  /**
   * Appends all (one group commit; a failure rejects, nothing acknowledged), then applies
   * one user's events in order, `concurrency` users at a time. After a user's failure their
   * later events are skipped (stored, left to the reconciler) with the same error.
   */
  private async applyInOrder(
    events: WorkoutEvent[],
    source: string,
    opts: { concurrency?: number; signal?: AbortSignal } = {},
  ): Promise<Settled[]> {
    const { concurrency = 64, signal } = opts;
    if (events.length === 0) return [];
    this.inFlight += events.length;
    try {
      const appended = await Promise.all(events.map((e) => this.ledger.append(e, source)));
      const byUser = new Map<string, number[]>();
      for (const [i, e] of events.entries()) {
        const list = byUser.get(e.userId);
        if (list) list.push(i);
        else byUser.set(e.userId, [i]);
      }
      const queues = [...byUser.values()];
      const results: Settled[] = new Array(events.length);
      let next = 0;
      const worker = async () => {
        while (next < queues.length) {
          let failure: { err: unknown } | undefined;
          for (const i of queues[next++]!) {
            if (signal?.aborted) failure ??= { err: signal.reason };
            if (failure) {
              results[i] = failure;
              continue;
            }
            try {
              results[i] = { value: await this.settle(events[i]!, appended[i]!, source) };
            } catch (err) {
              failure = { err };
              results[i] = failure;
            }
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(Math.max(1, concurrency), queues.length) }, worker));
      return results;
    } finally {
      this.inFlight -= events.length;
    }
  }

  private async settle(event: WorkoutEvent, appended: AppendResult, source: string): Promise<EventResult> {
    if (appended.status === 'new') {
      accepted.inc({ source });
      const outcome = await this.applyAndRecord(event);
      return toResult(event.id, false, outcome);
    }
    duplicates.inc({ source });
    return this.duplicateOutcome(event.id);
  }

  /** Runs the pipeline and records its outcome in the ledger (batched, not awaited). */
  async applyAndRecord(event: WorkoutEvent, restore?: StoredOutcome): Promise<StoredOutcome> {
    const end = applyLatency.startTimer();
    const outcome = await this.apply(event, restore);
    end();
    this.ledger.markApplied(event.id, outcome, event).catch((err) => {
      // Not fatal: the row stays unapplied and the reconciler re-applies it (idempotent).
      this.log.error({ err, eventId: event.id }, 'could not record outcome in the ledger');
    });
    return outcome;
  }

  /**
   * Rebuild: re-applies a ledger row. A recorded outcome is restored as it was decided
   * (so the cap gives the same answer whatever the order); an unrecorded one is applied.
   */
  async replay(row: LedgerRow): Promise<void> {
    if (row.outcome) await this.apply(row.body, row.outcome);
    else await this.applyAndRecord(row.body);
  }

  /** The original outcome of a seen id; applies the stored body if it never was. */
  private async duplicateOutcome(eventId: string): Promise<EventResult> {
    const row: LedgerRow | undefined = (await this.ledger.findByEventIds([eventId])).get(eventId);
    if (!row) throw new AppError('internal', `ledger lost event ${eventId}`);
    const outcome = row.outcome ?? (await this.applyAndRecord(row.body));
    return toResult(eventId, true, outcome);
  }
}

type Settled = { value: EventResult } | { err: unknown };

function errorItem(raw: unknown, err: AppError): BatchItemResult {
  const id = (raw as { id?: unknown } | null)?.id;
  return { status: err.status, ...(typeof id === 'string' ? { eventId: id } : {}), error: err.toBody().error };
}

function toResult(eventId: string, duplicate: boolean, o: StoredOutcome): EventResult {
  return {
    eventId,
    duplicate,
    points: o.points,
    dailyTotal: o.dailyTotal,
    dailyRemaining: o.dailyRemaining,
    flags: o.flags,
    unlocked: o.unlocked,
  };
}
