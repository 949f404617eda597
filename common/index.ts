export type { Principal, Role } from './auth.js';
export { hasRole, mintToken, ROLES, requireRole, requireSelfOr, TokenVerifier } from './auth.js';
export type { ErrorCode } from './errors.js';
export { AppError, issuesToDetails } from './errors.js';
export { principalOf } from './http.js';
export { metricsRegistry } from './metrics.js';
export { projectPath } from './paths.js';
export type { Periods } from './periods.js';
export { isoWeekOf, isValidTimeZone, localDay, monthOf, periodsOf } from './periods.js';
