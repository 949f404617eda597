/**
 * Socket.io room names and the subscription payloads (API.md "Sockets"): what a client may
 * subscribe to and how a board id (`points:daily:global`) is read and checked.
 */
import { z } from 'zod';
import { type BoardRef, METRICS, type Metric, WINDOWS, type Window } from '../leaderboards/index.js';

/** Every socket of a user (personal events). */
export const userRoom = (userId: string): string => `u:${userId}`;
/** Moderators and admins (`flag:new`). */
export const MODERATION_ROOM = 'mod';
/** Subscribers of a board (`leaderboard:update`, `leaderboard:closed`). */
export const boardRoom = (board: string): string => `b:${board}`;
/** Subscribers of a challenge (its board's updates and challenge-level events). */
export const challengeRoom = (challengeId: string): string => `c:${challengeId}`;
/** The sockets of one user subscribed to one board: where that user's `rank:changed` for it goes. */
export const watchRoom = (board: string, userId: string): string => `w:${board}|${userId}`;
/** The board id of a board room, undefined for other rooms. */
export const boardOfRoom = (room: string): string | undefined => (room.startsWith('b:') ? room.slice(2) : undefined);

/** Ids that end up in keys and rooms: no braces, no whitespace (as leaderboards and ingest require). */
const ID_PATTERN = /^[^\s{}]{1,128}$/;

export const subscriptionSchema = z.union([
  z.object({ board: z.string().min(1).max(300) }).strict(),
  z
    .object({ challenge: z.string().regex(ID_PATTERN, 'a challenge id: 1–128 characters, no spaces or braces') })
    .strict(),
]);
export type Subscription = z.infer<typeof subscriptionSchema>;

export interface ParsedBoard {
  id: string;
  ref: BoardRef;
}

export type BoardParse = { ok: true; board: ParsedBoard } | { ok: false; message: string; allowed: string[] };

/**
 * Reads `metric:window:scope` for a stored board. `friends` is refused: it is a different
 * board for every caller (their followees), so it has no shared room; the client reads it
 * over HTTP or watches `global`.
 */
export function parseBoard(raw: string, regions: readonly string[]): BoardParse {
  const [metric, window, ...rest] = raw.split(':');
  const scope = rest.join(':');
  if (!(METRICS as readonly string[]).includes(metric ?? '')) {
    return { ok: false, message: `unknown metric "${metric}"`, allowed: [...METRICS] };
  }
  if (!(WINDOWS as readonly string[]).includes(window ?? '')) {
    return { ok: false, message: `unknown window "${window}"`, allowed: [...WINDOWS] };
  }
  const m = metric as Metric;
  const w = window as Window;
  const scopes = ['global', ...regions.map((r) => `region:${r}`), 'challenge:<id>'];
  if (scope === 'global')
    return { ok: true, board: { id: raw, ref: { metric: m, window: w, scope: { kind: 'global' } } } };
  if (scope.startsWith('region:') && regions.includes(scope.slice('region:'.length))) {
    const region = scope.slice('region:'.length);
    return { ok: true, board: { id: raw, ref: { metric: m, window: w, scope: { kind: 'region', region } } } };
  }
  if (scope.startsWith('challenge:') && ID_PATTERN.test(scope.slice('challenge:'.length))) {
    if (w !== 'alltime') {
      return { ok: false, message: 'a challenge board has the alltime window only', allowed: ['alltime'] };
    }
    const id = scope.slice('challenge:'.length);
    return { ok: true, board: { id: raw, ref: { metric: m, window: w, scope: { kind: 'challenge', id } } } };
  }
  if (scope === 'friends') {
    return { ok: false, message: 'the friends scope is per caller and cannot be subscribed to', allowed: scopes };
  }
  return { ok: false, message: `unknown scope "${scope}"`, allowed: scopes };
}
