/**
 * The one error type of the engine: a machine-readable `code` (API.md's snake_case codes)
 * and the HTTP status it maps to. Routes throw these; server/ turns them into the
 * `{"error": {code, message, details?}}` body.
 */
export type ErrorCode =
  | 'invalid_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'idempotency_key_reused'
  | 'idempotency_in_flight'
  | 'capacity_full'
  | 'challenge_ended'
  | 'registration_not_open'
  | 'premium_required'
  | 'region_mismatch'
  | 'challenge_day_limit'
  | 'conflict'
  | 'rate_limited'
  | 'payload_too_large'
  | 'unavailable'
  | 'internal';

const STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  idempotency_key_reused: 422,
  idempotency_in_flight: 409,
  capacity_full: 409,
  challenge_ended: 409,
  registration_not_open: 409,
  premium_required: 403,
  region_mismatch: 403,
  challenge_day_limit: 409,
  conflict: 409,
  rate_limited: 429,
  payload_too_large: 413,
  unavailable: 503,
  internal: 500,
};

export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
    this.status = STATUS[code];
  }

  toBody(): { error: { code: ErrorCode; message: string; details?: unknown } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

/** zod issues → the `details` array of an `invalid_request` error. */
export function issuesToDetails(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
): Array<{ path: string; message: string }> {
  return issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}
