/**
 * `npm start`: migrate, start the HTTP server, run the reconciler, shut down gracefully.
 */
import pino from 'pino';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { createEngine } from './engine.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = pino({ level: config.log.level, redact: ['req.headers.authorization'] });
  if (config.auth.isDevSecret) {
    log.warn('JWT_SECRET is not set: using the development secret. Never run production like this.');
  }
  let engine: Awaited<ReturnType<typeof createEngine>>;
  try {
    engine = await createEngine(config, { log, migrate: true });
  } catch (err) {
    log.fatal((err as Error).message);
    process.exit(1);
  }
  const app = await buildApp(engine, log);

  // Repair what a crash left committed but unapplied, before taking traffic.
  // Rows younger than RECONCILE_MIN_AGE_MS may be in flight in another running engine.
  await engine.reconciler.runOnce();
  engine.reconciler.start();
  engine.outboxRelay.start(); // relays to Kafka when KAFKA_BROKERS is set, else the rows wait

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: draining requests');
    const force = setTimeout(() => {
      log.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.http.shutdownTimeoutMs);
    force.unref();
    try {
      await app.close(); // stops accepting, waits for in-flight requests
      await engine.close(); // flushes the ledger batchers, closes pools
      log.info('bye');
      process.exit(0);
    } catch (err) {
      log.error({ err }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  await app.listen({ port: config.http.port, host: config.http.host });

  if (engine.kafkaIntake) {
    try {
      await engine.kafkaIntake.start();
    } catch (err) {
      log.fatal({ err }, `cannot start the Kafka intake (KAFKA_BROKERS=${config.kafka.brokers.join(',')})`);
      process.exit(1);
    }
  }
}

void main();
