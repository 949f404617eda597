/**
 * JWT principals (API.md "Auth"): HS256 tokens with `sub` and `roles`. Verification and
 * minting live here so the HTTP server, the socket handshake and the CLI share one rule.
 */
import { jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { AppError } from './errors.js';

export const ROLES = ['user', 'moderator', 'admin', 'service'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  sub: string;
  roles: Role[];
}

const claimsSchema = z.object({
  sub: z.string().min(1).max(128),
  roles: z.array(z.enum(ROLES)).default(['user']),
});

export class TokenVerifier {
  private readonly key: Uint8Array;

  constructor(secret: string) {
    this.key = new TextEncoder().encode(secret);
  }

  /** Throws AppError('unauthorized') for a missing, malformed, expired or forged token. */
  async verify(token: string | undefined): Promise<Principal> {
    if (!token) throw new AppError('unauthorized', 'missing bearer token');
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'] }));
    } catch (err) {
      throw new AppError('unauthorized', `invalid token: ${(err as Error).message}`);
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) throw new AppError('unauthorized', 'token lacks a valid sub or roles claim');
    return claims.data;
  }

  async verifyHeader(header: string | undefined): Promise<Principal> {
    const match = header?.match(/^Bearer\s+(\S+)$/i);
    if (!match) throw new AppError('unauthorized', 'expected "Authorization: Bearer <JWT>"');
    return this.verify(match[1]);
  }
}

export async function mintToken(
  secret: string,
  principal: Principal,
  expiresIn: string | number = '12h',
): Promise<string> {
  return new SignJWT({ roles: principal.roles })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(principal.sub)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}

export function hasRole(p: Principal, ...roles: Role[]): boolean {
  return p.roles.some((r) => roles.includes(r));
}

export function requireRole(p: Principal, ...roles: Role[]): void {
  if (!hasRole(p, ...roles)) {
    throw new AppError('forbidden', `requires one of the roles: ${roles.join(', ')}`);
  }
}

/** A user acts for itself; service and admin act for anyone. */
export function requireSelfOr(p: Principal, userId: string, ...roles: Role[]): void {
  if (p.sub === userId && hasRole(p, 'user')) return;
  if (hasRole(p, ...roles)) return;
  throw new AppError('forbidden', `may not act for user ${userId}`);
}
