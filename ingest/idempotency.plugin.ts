/**
 * Idempotency-Key for every POST (API.md "Idempotency"), as one Fastify plugin:
 * same key + same body → the stored response byte for byte with `Idempotent-Replayed:
 * true`; same key + other body → 422; same key while the first runs → 409.
 * Keys are scoped per principal and kept 24 h in Redis.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError, projectPath } from '../common/index.js';
import type { Redis } from '../persistence/index.js';
import { IngestKeys } from './keys.js';

const BEGIN = readFileSync(projectPath('ingest', 'lua', 'idempotency-begin-1.lua'), 'utf8');
const KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;
const DAY_MS = 86_400_000;

type BeginReply = ['new'] | ['mismatch'] | ['inflight'] | ['done', string, string, string];

interface IdemCommands {
  podiumIdemBegin(key: string, fingerprint: string, leaseMs: number): Promise<BeginReply>;
}

export interface IdempotencyOptions {
  redis: Redis;
  prefix: string;
  ttlMs?: number;
  inFlightLeaseMs?: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyKey?: string;
  }
}

export const idempotencyPlugin = fp<IdempotencyOptions>(
  async (app, opts) => {
    const keys = new IngestKeys(opts.prefix);
    const ttlMs = opts.ttlMs ?? DAY_MS;
    const leaseMs = opts.inFlightLeaseMs ?? 60_000;
    if (!('podiumIdemBegin' in opts.redis)) {
      opts.redis.defineCommand('podiumIdemBegin', { numberOfKeys: 1, lua: BEGIN });
    }
    const redis = opts.redis as Redis & IdemCommands;

    // preHandler: after auth (onRequest) and body parsing, before the route runs.
    app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
      if (request.method !== 'POST') return;
      const header = request.headers['idempotency-key'] ?? request.headers['x-idempotency-key'];
      if (header === undefined) return;
      const key = Array.isArray(header) ? header[0] : header;
      if (key === undefined || !KEY_PATTERN.test(key)) {
        throw new AppError('invalid_request', 'Idempotency-Key must be 1–255 printable ASCII characters');
      }
      const redisKey = keys.idempotency(request.principal?.sub ?? 'anonymous', key);
      const fingerprint = createHash('sha256')
        .update(`${request.method} ${request.routeOptions.url}\n${JSON.stringify(request.body ?? null)}`)
        .digest('base64url');
      const r = await redis.podiumIdemBegin(redisKey, fingerprint, leaseMs);
      switch (r[0]) {
        case 'new':
          request.idempotencyKey = redisKey;
          return;
        case 'mismatch':
          throw new AppError('idempotency_key_reused', 'this Idempotency-Key was used with a different request');
        case 'inflight':
          throw new AppError('idempotency_in_flight', 'a request with this Idempotency-Key is still running');
        case 'done':
          return reply.code(Number(r[1])).header('content-type', r[2]).header('idempotent-replayed', 'true').send(r[3]);
      }
    });

    // Store what the first request answered; a 5xx frees the key so the client may retry.
    app.addHook('onSend', async (request, reply, payload) => {
      const key = request.idempotencyKey;
      if (!key) return payload;
      request.idempotencyKey = undefined;
      if (reply.statusCode >= 500 || typeof payload !== 'string') {
        await redis.del(key);
      } else {
        await redis
          .multi()
          .hset(key, {
            state: 'done',
            status: reply.statusCode,
            type: String(reply.getHeader('content-type') ?? 'application/json; charset=utf-8'),
            body: payload,
          })
          .pexpire(key, ttlMs)
          .exec();
      }
      return payload;
    });
  },
  { name: 'podium-idempotency' },
);
