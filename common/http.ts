/**
 * What every context's routes share: the request's principal (set by the server's auth
 * hook) and the type augmentation that carries it.
 */
import type { FastifyRequest } from 'fastify';
import type { Principal } from './auth.js';
import { AppError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('unauthorized', 'missing bearer token');
  return request.principal;
}
