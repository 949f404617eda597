/**
 * The outbox table (`outbox_messages`). Writers append inside the transaction of the state
 * change the fact describes, so a fact is recorded if and only if its change committed.
 * The relay reads pages in `seq` order under a per-schema advisory lock (one relay at a time
 * across engine processes) and deletes what Kafka acknowledged, in the same transaction.
 */
import type { DomainEventMap, DomainEventName } from '../common/index.js';
import type { Pool, PoolClient } from '../persistence/index.js';

export interface OutboxMessage<K extends DomainEventName = DomainEventName> {
  /** What consumers dedupe on: deterministic per fact, e.g. `PointsAwarded:<eventId>`. */
  id: string;
  type: K;
  /** Kafka key: the aggregate the fact is about (a userId, a board id…). */
  key: string;
  payload: DomainEventMap[K];
  occurredAt: string | Date;
}

/** A row as the relay reads it; `payload` stays JSON text (no parse/serialize round trip). */
export interface PendingOutboxMessage {
  seq: number;
  id: string;
  type: string;
  key: string;
  payloadJson: string;
  occurredAt: Date;
  createdAt: Date;
}

export type RelayPageResult = { locked: true } | { locked: false; relayed: number };

const RELAY_LOCK = ':podium-outbox-relay';

export class OutboxRepository {
  constructor(private readonly pool: Pool) {}

  /**
   * Records facts. Pass the client of the transaction that makes the state change; the
   * same id twice is recorded once.
   */
  async append(tx: Pick<PoolClient, 'query'>, messages: OutboxMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await tx.query(
      `INSERT INTO outbox_messages (id, type, key, payload, occurred_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[], $5::timestamptz[])
       ON CONFLICT (id) DO NOTHING`,
      [
        messages.map((m) => m.id),
        messages.map((m) => m.type),
        messages.map((m) => m.key),
        messages.map((m) => JSON.stringify(m.payload)),
        messages.map((m) => (m.occurredAt instanceof Date ? m.occurredAt.toISOString() : m.occurredAt)),
      ],
    );
  }

  /**
   * One relay step: takes the relay lock, hands the oldest `limit` rows to `publish` and
   * deletes them once it resolved. A failure or crash anywhere leaves the rows for the next
   * attempt (at-least-once). `locked` when another process is relaying right now.
   */
  async relayPage(limit: number, publish: (rows: PendingOutboxMessage[]) => Promise<void>): Promise<RelayPageResult> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const lock = await client.query<{ ok: boolean }>(
        'SELECT pg_try_advisory_xact_lock(hashtext(current_schema() || $1)) AS ok',
        [RELAY_LOCK],
      );
      if (!lock.rows[0]?.ok) {
        await client.query('ROLLBACK');
        return { locked: true };
      }
      const { rows } = await client.query(
        `SELECT seq, id, type, key, payload::text AS payload_json, occurred_at, created_at
           FROM outbox_messages ORDER BY seq LIMIT $1`,
        [limit],
      );
      const page: PendingOutboxMessage[] = rows.map((r) => ({
        seq: Number(r.seq),
        id: r.id,
        type: r.type,
        key: r.key,
        payloadJson: r.payload_json,
        occurredAt: r.occurred_at,
        createdAt: r.created_at,
      }));
      if (page.length > 0) {
        await publish(page);
        await client.query('DELETE FROM outbox_messages WHERE seq = ANY($1::bigint[])', [page.map((m) => m.seq)]);
      }
      await client.query('COMMIT');
      return { locked: false, relayed: page.length };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  /** Rows waiting and the age of the oldest, for the gauges. */
  async stats(): Promise<{ pending: number; oldestAgeS: number }> {
    const { rows } = await this.pool.query<{ pending: string; age: number | null }>(
      `SELECT (SELECT count(*) FROM outbox_messages) AS pending,
              (SELECT extract(epoch FROM now() - created_at)::float8 FROM outbox_messages ORDER BY seq LIMIT 1) AS age`,
    );
    return { pending: Number(rows[0]?.pending ?? 0), oldestAgeS: Math.max(0, rows[0]?.age ?? 0) };
  }
}
