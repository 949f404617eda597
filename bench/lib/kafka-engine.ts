/**
 * The engine as deployed (`node dist/server/main.js`) with the Kafka intake on, for
 * `npm run bench:kafka`: its own schema, prefix, topics and group.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { projectPath } from '../../common/index.js';
import { freePort, type Isolation } from './engine-process.js';

export interface KafkaEngine {
  child: ChildProcess;
  tail: string[];
  rssMiB(): number;
  stop(): Promise<number | null>;
}

export interface KafkaEngineOptions {
  iso: Isolation;
  databaseUrl: string;
  redisUrl: string;
  brokers: string;
  topics: { topic: string; dlq: string; out: string; group: string };
  batchSize: number;
  partitions: number;
}

/** `node dist/server/main.js` with the Kafka intake on, ready when /readyz answers 200. */
export async function startKafkaEngine(o: KafkaEngineOptions): Promise<KafkaEngine> {
  const { iso, topics: t } = o;
  const port = await freePort();
  const child = spawn(process.execPath, [projectPath('dist', 'server', 'main.js')], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      JWT_SECRET: 'bench',
      DATABASE_URL: o.databaseUrl,
      DATABASE_SCHEMA: iso.schema,
      REDIS_URL: o.redisUrl,
      REDIS_PREFIX: iso.prefix,
      KAFKA_BROKERS: o.brokers,
      KAFKA_TOPIC: t.topic,
      KAFKA_DLQ_TOPIC: t.dlq,
      KAFKA_EVENTS_OUT_TOPIC: t.out,
      KAFKA_GROUP_ID: t.group,
      KAFKA_BATCH_SIZE: String(o.batchSize),
      KAFKA_PARTITIONS_CONCURRENCY: String(o.partitions),
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  const collect = (d: Buffer) => {
    tail.push(
      ...d
        .toString()
        .split('\n')
        .filter(Boolean)
        .map((l) => l.slice(0, 400)),
    );
    tail.splice(0, Math.max(0, tail.length - 30));
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`engine exited:\n${tail.join('\n')}`);
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i > 600) throw new Error(`engine not ready:\n${tail.join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    tail,
    rssMiB: () => {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : 0;
    },
    async stop() {
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(kill);
      return code;
    },
  };
}
