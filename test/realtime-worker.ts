/**
 * An emitter-only worker for realtime-processes.test.ts: the engine without HTTP or sockets
 * (as a Kafka consumer or a job runner is), applying the events in WORKER_EVENTS (JSON)
 * and exiting. Its pushes reach sockets only through the Redis emitter and dirty marks.
 */
import pino from 'pino';
import { loadConfig } from '../server/config.js';
import { createEngine } from '../server/engine.js';

const config = loadConfig(process.env);
const engine = await createEngine(config, { log: pino({ level: 'silent' }), migrate: false, jobs: false });
const events = JSON.parse(process.env.WORKER_EVENTS ?? '[]') as unknown[];
for (const event of events) await engine.ingest.submit(event, { sub: 'worker', roles: ['service'] }, 'worker');
await engine.close(); // writes the last dirty marks
process.exit(0);
