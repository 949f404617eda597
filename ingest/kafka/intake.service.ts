/**
 * Kafka intake: a consumer-group member on the workout events topic. Each partition's
 * batch is cut into chunks; a chunk is decoded and validated (the HTTP schema), the bad
 * messages go to the dead-letter topic, the good ones through IngestService.ingestMany
 * (ledger group commit, then the pipeline, one user's events in order), and only then is
 * the chunk's last offset committed. A crash anywhere means redelivery, and redelivery
 * changes nothing (the ledger and scoring dedupe on the event id).
 *
 * Back-pressure: before each chunk the engine's load (events in the pipeline from every
 * source plus ledger writes queued) is compared with `maxInFlight`; over it, the partition
 * is paused (its unprocessed messages are fetched again later) until the load falls
 * under half the bound. A failing chunk pauses its partition with an exponential backoff.
 */
import { EventEmitter } from 'node:events';
import { AppError, type Principal } from '../../common/index.js';
import type { WorkoutEvent } from '../event.schema.js';
import type { IngestService } from '../ingest.service.js';
import { deadLetter, decodeMessage } from './dead-letter.js';
import type {
  BatchControl,
  GroupConsumer,
  InboundMessage,
  KafkaClient,
  OutboundMessage,
  PartitionBatch,
  Producer,
} from './kafka.client.js';
import * as m from './metrics.js';

/** Kafka messages come from the platform's own producers: they may carry any user's events. */
const KAFKA_PRINCIPAL: Principal = { sub: 'kafka', roles: ['service'] };

export interface KafkaIntakeOptions {
  topic: string;
  dlqTopic: string;
  groupId: string;
  /** Messages processed and committed together. */
  batchSize: number;
  partitionsConcurrently: number;
  /** Engine load (events in flight + queued ledger writes) above which partitions pause. */
  maxInFlight: number;
  /** Users whose events are applied at the same time within a chunk. */
  applyConcurrency: number;
  maxMessageBytes: number;
  maxBytesPerPartition: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
  /** Create missing topics at start (local runs, tests); production topics usually pre-exist. */
  createTopics: boolean;
  /** Partitions of topics created here. */
  topicPartitions: number;
  lagIntervalMs: number;
  retryBackoffMs: number;
  maxRetryBackoffMs: number;
}

export interface IntakeLog {
  error: (obj: object, msg: string) => void;
  warn: (obj: object, msg: string) => void;
  info: (obj: object, msg: string) => void;
}

export interface ChunkDone {
  partition: number;
  lastOffset: string;
  applied: number;
  duplicates: number;
  deadLettered: number;
}

export class KafkaIntake {
  /** `assigned` (partitions), `chunk` (ChunkDone), `paused`/`resumed` (partition), `pressure-check` (load). */
  readonly events = new EventEmitter();
  private consumer: GroupConsumer | undefined;
  private dlq: Producer | undefined;
  private assigned: number[] = [];
  private readonly pressurePaused = new Map<number, () => void>();
  private readonly backoffs = new Map<number, NodeJS.Timeout>();
  private readonly failures = new Map<number, number>();
  private pressureTimer: NodeJS.Timeout | undefined;
  private lagTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  /** Aborted by stop(): chunks in hand stop between events (the reconciler finishes them). */
  private readonly abort = new AbortController();

  constructor(
    private readonly client: KafkaClient,
    private readonly ingest: IngestService,
    private readonly opts: KafkaIntakeOptions,
    private readonly log: IntakeLog,
    /** The saturation signal; the engine's by default. */
    private readonly load: () => number = () => ingest.load,
  ) {}

  get partitions(): number[] {
    return [...this.assigned];
  }

  async start(): Promise<void> {
    const { opts } = this;
    if (opts.createTopics) {
      await this.client.ensureTopics([
        { topic: opts.topic, partitions: opts.topicPartitions },
        { topic: opts.dlqTopic, partitions: opts.topicPartitions },
      ]);
    }
    this.dlq = await this.client.producer();
    const consumer = this.client.consumer({
      groupId: opts.groupId,
      topic: opts.topic,
      partitionsConcurrently: opts.partitionsConcurrently,
      sessionTimeoutMs: opts.sessionTimeoutMs,
      heartbeatIntervalMs: opts.heartbeatIntervalMs,
      rebalanceTimeoutMs: opts.rebalanceTimeoutMs,
      maxBytesPerPartition: opts.maxBytesPerPartition,
    });
    consumer.onAssignment((partitions) => {
      m.rebalances.inc();
      m.consumerLag.reset();
      this.assigned = partitions;
      m.assignedPartitions.set(partitions.length);
      this.log.info({ topic: opts.topic, partitions }, 'kafka partitions assigned');
      this.events.emit('assigned', partitions);
    });
    consumer.onCrash((err, restarting) => {
      this.log.error({ err, restarting }, 'kafka consumer crashed');
    });
    this.consumer = consumer;
    await consumer.run((batch, control) => this.handle(batch, control));
    this.lagTimer = setInterval(() => void this.refreshLag(), opts.lagIntervalMs);
    this.lagTimer.unref();
  }

  /**
   * Stops between events (an unfinished chunk stays uncommitted and is redelivered; what it
   * appended but did not apply is the reconciler's), leaves the group, closes the DLQ producer.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort(new Error('kafka intake stopping'));
    clearInterval(this.lagTimer);
    clearInterval(this.pressureTimer);
    for (const t of this.backoffs.values()) clearTimeout(t);
    await this.consumer?.stop();
    await this.dlq?.disconnect();
    this.consumer = undefined;
    this.dlq = undefined;
    m.pausedPartitions.set(0);
    m.assignedPartitions.set(0);
  }

  private async handle(batch: PartitionBatch, control: BatchControl): Promise<void> {
    const { partition } = batch;
    const size = this.opts.batchSize;
    for (let i = 0; i < batch.messages.length; i += size) {
      if (this.stopping || !control.isActive()) return;
      if (this.load() >= this.opts.maxInFlight) {
        this.pauseForPressure(partition, control);
        return;
      }
      const chunk = batch.messages.slice(i, i + size);
      const timer = m.batchLatency.startTimer();
      // A slow chunk must not look like a dead member: keep heartbeating while it runs (a
      // rebalance reported here makes the commit below fail, which is what should happen).
      const beat = setInterval(() => control.heartbeat().catch(() => {}), this.opts.heartbeatIntervalMs);
      let done: ChunkDone;
      try {
        done = await this.process(batch, chunk);
      } catch (err) {
        // Stopping: the chunk is left uncommitted; its appended events are the reconciler's.
        if (!this.stopping) this.backoff(partition, control, err);
        return;
      } finally {
        clearInterval(beat);
      }
      // A Kafka error here (partition revoked, rebalance) propagates: the client rejoins and
      // whoever owns the partition next gets the chunk again — a replay that changes nothing.
      await control.commit(done.lastOffset);
      timer();
      m.batchSize.observe(chunk.length);
      m.consumerLag.set(
        { topic: batch.topic, partition },
        Math.max(0, Number(batch.highWatermark) - Number(done.lastOffset) - 1),
      );
      this.failures.delete(partition);
      this.events.emit('chunk', done);
      await control.heartbeat();
    }
  }

  private async process(batch: PartitionBatch, chunk: InboundMessage[]): Promise<ChunkDone> {
    const origin = { topic: batch.topic, partition: batch.partition, groupId: this.opts.groupId };
    const dead: Array<{ message: OutboundMessage; reason: string }> = [];
    const events: WorkoutEvent[] = [];
    for (const msg of chunk) {
      const decoded = decodeMessage(msg.value, this.opts.maxMessageBytes);
      if (!decoded.ok) {
        dead.push({ message: deadLetter(msg, origin, decoded.reason, decoded.detail), reason: decoded.reason });
        continue;
      }
      try {
        events.push(this.ingest.parse(decoded.raw, KAFKA_PRINCIPAL, 'kafka'));
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        const body = err.toBody().error;
        const detail = JSON.stringify({ message: body.message, details: body.details });
        dead.push({ message: deadLetter(msg, origin, 'invalid_event', detail), reason: 'invalid_event' });
      }
    }
    const [results] = await Promise.all([
      events.length > 0
        ? this.ingest.ingestMany(events, 'kafka', {
            concurrency: this.opts.applyConcurrency,
            signal: this.abort.signal,
          })
        : Promise.resolve([]),
      dead.length > 0
        ? this.dlq!.send(
            this.opts.dlqTopic,
            dead.map((d) => d.message),
          )
        : Promise.resolve(),
    ]);
    const duplicates = results.filter((r) => r.duplicate).length;
    for (const d of dead) m.deadLetters.inc({ reason: d.reason });
    m.messages.inc({ topic: batch.topic, outcome: 'applied' }, results.length - duplicates);
    m.messages.inc({ topic: batch.topic, outcome: 'duplicate' }, duplicates);
    m.messages.inc({ topic: batch.topic, outcome: 'dead_lettered' }, dead.length);
    return {
      partition: batch.partition,
      lastOffset: chunk[chunk.length - 1]!.offset,
      applied: results.length - duplicates,
      duplicates,
      deadLettered: dead.length,
    };
  }

  private pauseForPressure(partition: number, control: BatchControl): void {
    if (this.pressurePaused.has(partition)) return;
    this.pressurePaused.set(partition, control.pause());
    m.pauses.inc();
    this.updatePausedGauge();
    this.events.emit('paused', partition);
    if (this.pressureTimer) return;
    this.pressureTimer = setInterval(() => {
      const load = this.load();
      this.events.emit('pressure-check', load);
      if (load >= this.opts.maxInFlight / 2 && !this.stopping) return;
      clearInterval(this.pressureTimer);
      this.pressureTimer = undefined;
      for (const [p, resume] of this.pressurePaused) {
        resume();
        this.events.emit('resumed', p);
      }
      this.pressurePaused.clear();
      this.updatePausedGauge();
    }, 20);
    this.pressureTimer.unref();
  }

  private backoff(partition: number, control: BatchControl, err: unknown): void {
    m.batchFailures.inc();
    const n = (this.failures.get(partition) ?? 0) + 1;
    this.failures.set(partition, n);
    const delay = Math.min(this.opts.maxRetryBackoffMs, this.opts.retryBackoffMs * 2 ** (n - 1));
    this.log.error({ err, partition, attempt: n, retryInMs: delay }, 'kafka chunk failed; retrying after backoff');
    console.error('DBG FAIL', err);
    if (this.backoffs.has(partition)) return;
    const resume = control.pause();
    this.updatePausedGauge();
    const timer = setTimeout(() => {
      this.backoffs.delete(partition);
      this.updatePausedGauge();
      resume();
    }, delay);
    timer.unref();
    this.backoffs.set(partition, timer);
  }

  private updatePausedGauge(): void {
    m.pausedPartitions.set(new Set([...this.pressurePaused.keys(), ...this.backoffs.keys()]).size);
  }

  private async refreshLag(): Promise<void> {
    if (this.assigned.length === 0) return;
    try {
      const lags = await this.client.lag(this.opts.groupId, this.opts.topic);
      const mine = new Set(this.assigned);
      for (const l of lags) {
        if (mine.has(l.partition)) m.consumerLag.set({ topic: this.opts.topic, partition: l.partition }, l.lag);
      }
    } catch (err) {
      this.log.warn({ err }, 'could not read consumer lag');
    }
  }
}
