/**
 * A flag as API.md's moderation routes show it, and the deterministic flag id: one flag
 * per (event, rule), whatever the replays.
 */
import { createHash } from 'node:crypto';
import type { DomainEventMap } from '../common/index.js';
import type { FlagRow, FlagStatus } from './flags.repository.js';
import type { RuleId, Severity } from './rules.js';

export interface FlagView {
  id: string;
  eventId: string;
  userId: string;
  rule: RuleId;
  severity: Severity;
  evidence: Record<string, unknown>;
  status: FlagStatus;
  heldPoints: number;
  createdAt: string;
  decidedBy?: string;
  decidedAt?: string;
  note?: string;
}

export function flagIdOf(eventId: string, rule: string): string {
  return `fl_${createHash('sha256').update(`${eventId}\n${rule}`).digest('base64url').slice(0, 22)}`;
}

export function flagView(f: FlagRow): FlagView {
  return {
    id: f.id,
    eventId: f.eventId,
    userId: f.userId,
    rule: f.rule,
    severity: f.severity,
    evidence: f.evidence,
    status: f.status,
    heldPoints: f.heldPoints,
    createdAt: f.createdAt.toISOString(),
    ...(f.decidedBy ? { decidedBy: f.decidedBy } : {}),
    ...(f.decidedAt ? { decidedAt: f.decidedAt.toISOString() } : {}),
    ...(f.note ? { note: f.note } : {}),
  };
}

/** A new flag as the `CheatFlagged` fact (bus and outbox); `held` when the event's points were withheld. */
export function cheatFlaggedFact(f: FlagRow, held = f.heldPoints > 0): DomainEventMap['CheatFlagged'] {
  return {
    flagId: f.id,
    eventId: f.eventId,
    userId: f.userId,
    rule: f.rule,
    severity: f.severity,
    held,
    heldPoints: f.heldPoints,
    evidence: f.evidence,
    createdAt: f.createdAt.toISOString(),
  };
}
