/**
 * The relay worker: moves outbox rows to the broker, oldest first, at least once. Every
 * engine process runs one; the outbox's advisory lock lets one of them relay at a time,
 * the others stand by. Without a publisher (Kafka off) it only keeps the gauges current
 * while the rows wait; a failing publisher is retried with backoff, the rows kept.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import { metricsRegistry } from '../common/index.js';
import type { OutboxRepository, PendingOutboxMessage } from './outbox.repository.js';

const published = new Counter({
  name: 'podium_outbox_published_total',
  help: 'Outbox messages acknowledged by the broker',
  labelNames: ['type'],
  registers: [metricsRegistry],
});
const failures = new Counter({
  name: 'podium_outbox_relay_failures_total',
  help: 'Relay steps that failed (the rows stay and are retried)',
  registers: [metricsRegistry],
});
const pendingGauge = new Gauge({
  name: 'podium_outbox_pending_messages',
  help: 'Outbox rows not yet relayed',
  registers: [metricsRegistry],
});
const oldestGauge = new Gauge({
  name: 'podium_outbox_oldest_age_seconds',
  help: 'Age of the oldest outbox row not yet relayed (0 when empty)',
  registers: [metricsRegistry],
});
const relayDelay = new Histogram({
  name: 'podium_outbox_relay_delay_seconds',
  help: 'Time from outbox insert to broker acknowledgement',
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [metricsRegistry],
});

/** What goes to the broker: a key, a JSON envelope and headers naming the event. */
export interface OutboxRecord {
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** Sends records and resolves once the broker acknowledged all of them. */
export type OutboxPublisher = (records: OutboxRecord[]) => Promise<void>;

export interface OutboxRelayOptions {
  batchSize: number;
  /** Idle wait between polls of an empty outbox. */
  pollMs: number;
  /** Longest wait after consecutive failures. */
  maxBackoffMs: number;
  /** How often the gauges are refreshed. */
  statsIntervalMs?: number;
}

/** Envelope `{id, type, key, occurredAt, data}`; headers `event-id` and `event-type` for routing and dedupe. */
export function outboxRecord(m: PendingOutboxMessage): OutboxRecord {
  const head = JSON.stringify({ id: m.id, type: m.type, key: m.key, occurredAt: m.occurredAt.toISOString() });
  return {
    key: m.key,
    value: `${head.slice(0, -1)},"data":${m.payloadJson}}`,
    headers: { 'event-id': m.id, 'event-type': m.type, 'content-type': 'application/json' },
  };
}

export class OutboxRelay {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastStats = 0;

  constructor(
    private readonly repo: OutboxRepository,
    private readonly publisher: OutboxPublisher | undefined,
    private readonly opts: OutboxRelayOptions,
    private readonly log: { warn: (obj: object, msg: string) => void; info: (obj: object, msg: string) => void },
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Finishes the step in progress (its rows are published and deleted, or kept). */
  async stop(): Promise<void> {
    this.running = false;
    this.nudge();
    await this.loop;
    this.loop = undefined;
  }

  /** Wakes an idle relay now (e.g. right after a transaction appended rows). */
  nudge(): void {
    this.wake?.();
  }

  /**
   * Relays until the outbox is empty (or another process holds the lock); returns how many
   * rows this process relayed. Throws what the publisher throws.
   */
  async drain(): Promise<number> {
    const publisher = this.publisher;
    if (!publisher) return 0;
    let total = 0;
    for (;;) {
      const r = await this.repo.relayPage(this.opts.batchSize, async (rows) => {
        await publisher(rows.map(outboxRecord));
        const now = Date.now();
        for (const row of rows) {
          published.inc({ type: row.type });
          relayDelay.observe((now - row.createdAt.getTime()) / 1000);
        }
      });
      if (r.locked) return total;
      total += r.relayed;
      if (r.relayed < this.opts.batchSize) return total;
    }
  }

  private async run(): Promise<void> {
    let failed = 0;
    while (this.running) {
      let waitMs = this.publisher ? this.opts.pollMs : (this.opts.statsIntervalMs ?? 5000);
      try {
        await this.drain();
        failed = 0;
      } catch (err) {
        failures.inc();
        failed++;
        waitMs = Math.min(this.opts.maxBackoffMs, this.opts.pollMs * 2 ** Math.min(failed, 16));
        this.log.warn({ err, retryInMs: waitMs }, 'outbox relay failed; the rows stay and are retried');
      }
      await this.refreshStats();
      if (this.running) await this.sleep(waitMs);
    }
  }

  private async refreshStats(): Promise<void> {
    const now = Date.now();
    if (now - this.lastStats < (this.opts.statsIntervalMs ?? 5000)) return;
    this.lastStats = now;
    try {
      const s = await this.repo.stats();
      pendingGauge.set(s.pending);
      oldestGauge.set(s.oldestAgeS);
    } catch {
      // Postgres unreachable: the next pass logs through drain(); the gauges keep their last value.
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(this.timer);
        this.wake = undefined;
        resolve();
      };
      this.wake = done;
      this.timer = setTimeout(done, ms);
      this.timer.unref();
    });
  }
}
