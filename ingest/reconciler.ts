/**
 * Repairs crashes between "committed to the ledger" and "applied": re-runs the pipeline
 * for rows that stayed unapplied (at start, then periodically). Safe to run in several
 * processes at once, because applying is idempotent on the event id.
 */
import type { IngestService } from './ingest.service.js';
import type { LedgerRepository } from './ledger.repository.js';

export interface ReconcilerOptions {
  intervalMs: number;
  /** Rows younger than this may still be in flight in some process. */
  minAgeMs: number;
  pageSize?: number;
}

export class Reconciler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly ledger: LedgerRepository,
    private readonly ingest: IngestService,
    private readonly opts: ReconcilerOptions,
    private readonly log: { info: (obj: object, msg: string) => void; error: (obj: object, msg: string) => void },
  ) {}

  /** Applies every unapplied row older than `minAgeMs`; returns how many. */
  async runOnce(minAgeMs = this.opts.minAgeMs): Promise<number> {
    let total = 0;
    let after = 0;
    for (;;) {
      const rows = await this.ledger.unapplied(minAgeMs, this.opts.pageSize ?? 500, after);
      if (rows.length === 0) break;
      await Promise.all(rows.map((row) => this.ingest.applyAndRecord(row.body)));
      total += rows.length;
      after = rows[rows.length - 1]!.seq;
    }
    await this.ledger.drain(); // the outcomes are recorded before we report done
    if (total > 0) this.log.info({ applied: total }, 'reconciler applied unapplied ledger rows');
    return total;
  }

  start(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.runOnce().catch((err) => {
        this.log.error({ err }, 'reconciler run failed');
        return 0;
      });
      void this.running.finally(() => {
        this.running = undefined;
      });
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
