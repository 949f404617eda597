/**
 * What cannot become a workout event goes to the dead-letter topic with the reason and
 * where it came from, so it never blocks its partition and can be inspected or replayed.
 */
import type { InboundMessage, OutboundMessage } from './kafka.client.js';

export const KNOWN_EVENT_TYPES: readonly string[] = ['workout.completed'];

export type DeadLetterReason =
  | 'empty_message'
  | 'payload_too_large'
  | 'invalid_json'
  | 'unknown_event_type'
  | 'invalid_event';

/** Header names on dead letters (the original key, value and headers are kept as they were). */
export const DLQ_HEADERS = {
  reason: 'podium-dlq-reason',
  detail: 'podium-dlq-detail',
  topic: 'podium-original-topic',
  partition: 'podium-original-partition',
  offset: 'podium-original-offset',
  timestamp: 'podium-original-timestamp',
  group: 'podium-consumer-group',
  at: 'podium-dlq-at',
} as const;

const MAX_DETAIL = 2000;

export type Decoded =
  | { ok: true; raw: Record<string, unknown> }
  | { ok: false; reason: DeadLetterReason; detail: string };

/** Bytes → a JSON object that claims to be a known event type; the schema checks the rest. */
export function decodeMessage(value: Buffer | null, maxBytes: number): Decoded {
  if (value === null || value.length === 0) return { ok: false, reason: 'empty_message', detail: 'no value' };
  if (value.length > maxBytes) {
    return { ok: false, reason: 'payload_too_large', detail: `${value.length} bytes > ${maxBytes}` };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(value.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: 'invalid_json', detail: (err as Error).message };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, reason: 'invalid_event', detail: 'expected a JSON object' };
  }
  const type = (raw as { type?: unknown }).type;
  if (typeof type === 'string' && !KNOWN_EVENT_TYPES.includes(type)) {
    return { ok: false, reason: 'unknown_event_type', detail: `unknown event type "${type.slice(0, 100)}"` };
  }
  return { ok: true, raw: raw as Record<string, unknown> };
}

export interface Origin {
  topic: string;
  partition: number;
  groupId: string;
}

export function deadLetter(
  msg: InboundMessage,
  origin: Origin,
  reason: DeadLetterReason,
  detail: string,
  now = new Date(),
): OutboundMessage {
  return {
    key: msg.key,
    value: msg.value ?? Buffer.alloc(0),
    headers: {
      ...msg.headers,
      [DLQ_HEADERS.reason]: reason,
      [DLQ_HEADERS.detail]: detail.length > MAX_DETAIL ? `${detail.slice(0, MAX_DETAIL - 1)}…` : detail,
      [DLQ_HEADERS.topic]: origin.topic,
      [DLQ_HEADERS.partition]: String(origin.partition),
      [DLQ_HEADERS.offset]: msg.offset,
      [DLQ_HEADERS.timestamp]: msg.timestamp,
      [DLQ_HEADERS.group]: origin.groupId,
      [DLQ_HEADERS.at]: now.toISOString(),
    },
  };
}
