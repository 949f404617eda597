/**
 * What every context's routes share: the request's principal (set by the server's auth
 * hook) and the type augmentation that carries it.
 */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
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

/**
 * Route documentation for the OpenAPI document (`/docs/json`). Bodies are described by
 * the same zod schemas the handlers validate with, converted to JSON Schema; Fastify's
 * own validator is switched off in server/app.ts, so zod stays the one validator.
 */
export function routeDoc(doc: {
  summary: string;
  tags: string[];
  body?: z.ZodType;
  description?: string;
}): Record<string, unknown> {
  return {
    summary: doc.summary,
    tags: doc.tags,
    ...(doc.description ? { description: doc.description } : {}),
    ...(doc.body ? { body: z.toJSONSchema(doc.body, { unrepresentable: 'any', io: 'input' }) } : {}),
  };
}
