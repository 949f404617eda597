/**
 * Redis keys of ingest.
 */
import { createHash } from 'node:crypto';

export class IngestKeys {
  constructor(private readonly prefix: string) {}

  /**
   * HASH {state: inflight|done, fp, status, body, type} — one Idempotency-Key of one
   * principal. TTL: the in-flight lease (60 s) while running, then 24 h. Hash tag: the
   * key itself (single-key commands only).
   */
  idempotency(principal: string, key: string): string {
    const digest = createHash('sha256').update(`${principal}\n${key}`).digest('base64url');
    return `${this.prefix}ingest:idem:${digest}`;
  }
}
