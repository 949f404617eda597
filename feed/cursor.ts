/**
 * Feed cursors: opaque to clients, tamper-evident. A cursor carries the seq to read below
 * and is signed (HMAC-SHA256 with the server's secret) together with the reader's id, so
 * an edited, forged or another reader's cursor is refused (400) instead of silently
 * reading from somewhere else.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const VERSION = 'v1';

export class FeedCursors {
  private readonly key: Buffer;

  constructor(secret: string) {
    // A key of its own, derived from the secret, so a cursor signature is never a token signature.
    this.key = createHmac('sha256', secret).update('podium feed cursor').digest();
  }

  private sign(readerId: string, payload: string): Buffer {
    return createHmac('sha256', this.key).update(`${readerId}\n${payload}`).digest().subarray(0, 16);
  }

  encode(readerId: string, before: number): string {
    const payload = `${VERSION}.${before.toString(36)}`;
    return `${Buffer.from(payload).toString('base64url')}.${this.sign(readerId, payload).toString('base64url')}`;
  }

  /** The seq to read below, or undefined when the cursor is not one this server gave this reader. */
  decode(readerId: string, cursor: string): number | undefined {
    const m = /^([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{22})$/.exec(cursor);
    if (!m) return undefined;
    const payload = Buffer.from(m[1]!, 'base64url').toString();
    const given = Buffer.from(m[2]!, 'base64url');
    // Canonical encodings only: base64 ignores the spare bits of the last character, so
    // two spellings would decode to the same signature.
    if (given.toString('base64url') !== m[2] || Buffer.from(payload).toString('base64url') !== m[1]) return undefined;
    const expected = this.sign(readerId, payload);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const p = /^v1\.([0-9a-z]{1,12})$/.exec(payload);
    if (!p) return undefined;
    const before = Number.parseInt(p[1]!, 36);
    return Number.isSafeInteger(before) && before > 0 ? before : undefined;
  }
}
