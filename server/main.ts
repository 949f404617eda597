/**
 * `npm start`: migrate, start the HTTP server, run the reconciler, shut down gracefully.
 */
import pino from 'pino';
import { DemoSimulator } from '../web/index.js';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { createEngine } from './engine.js';

async function main(): Promise<void> {
  // `npm start -- --demo` is the same as DEMO=true (web/README.md).
  const config = loadConfig(process.argv.includes('--demo') ? { ...process.env, DEMO: 'true' } : process.env);
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
  if (config.realtime.enabled) {
    // socket.io on the same HTTP server; its sockets close before the server does.
    engine.realtime.attach(app.server);
    app.addHook('preClose', () => engine.realtime.detach());
  }

  // Repair what a crash left committed but unapplied, before taking traffic.
  // Rows younger than RECONCILE_MIN_AGE_MS may be in flight in another running engine.
  await engine.reconciler.runOnce();
  engine.reconciler.start();
  engine.outboxRelay.start(); // relays to Kafka when KAFKA_BROKERS is set, else the rows wait

  let demo: DemoSimulator | undefined;
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
      await demo?.stop();
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

  if (config.demo.enabled) {
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.http.port;
    log.warn(
      `DEMO mode: open http://localhost:${port}/ and pick a demo user. /demo/token hands out tokens to anyone: never in production.`,
    );
    if (!config.antiCheat.enabled) log.warn('ANTICHEAT_ENABLED=false: the demo cheaters will not reach moderation');
    const host = ['0.0.0.0', '::'].includes(config.http.host) ? '127.0.0.1' : config.http.host;
    demo = new DemoSimulator({
      baseUrl: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
      secret: config.auth.secret,
      athletes: config.demo.athletes,
      rate: config.demo.rate,
      log,
    });
    demo.start().catch((err) => log.error({ err }, 'demo: simulator stopped'));
  }

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
