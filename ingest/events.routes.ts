/**
 * POST /v1/events and POST /v1/events/batch (API.md "Events").
 */
import type { FastifyInstance } from 'fastify';
import { AppError, issuesToDetails, principalOf, routeDoc } from '../common/index.js';
import { batchEnvelopeSchema, eventSchema } from './event.schema.js';
import type { IngestService } from './ingest.service.js';

export interface EventsRoutesOptions {
  ingest: IngestService;
  batchBodyLimit: number;
}

export async function eventsRoutes(app: FastifyInstance, opts: EventsRoutesOptions): Promise<void> {
  const { ingest } = opts;

  const event = eventSchema();
  const single = routeDoc({ summary: 'Submit one workout event', tags: ['events'], body: event });
  const batch = routeDoc({
    summary: 'Submit up to 1000 events, answered per item in order',
    tags: ['events'],
    body: batchEnvelopeSchema.extend({ events: event.array().min(1).max(1000) }),
  });

  app.post('/v1/events', { schema: single }, async (request, reply) => {
    const result = await ingest.submit(request.body, principalOf(request));
    return reply.code(result.duplicate ? 200 : 201).send(result);
  });

  app.post('/v1/events/batch', { bodyLimit: opts.batchBodyLimit, schema: batch }, async (request, reply) => {
    const envelope = batchEnvelopeSchema.safeParse(request.body);
    if (!envelope.success) {
      throw new AppError(
        'invalid_request',
        'expected {"events": [...]} with 1 to 1000 events',
        issuesToDetails(envelope.error.issues),
      );
    }
    const results = await ingest.submitBatch(envelope.data.events, principalOf(request));
    return reply.code(200).send({ results });
  });
}
