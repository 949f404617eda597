/**
 * A closed-loop HTTP load generator on node:http with a keep-alive Agent: `concurrency`
 * workers each send one request, wait for the whole answer, and send the next, until the
 * deadline. Only requests that complete inside the measurement window (after warm-up)
 * count towards throughput and latency; errors are counted over the whole run, warm-up
 * included, because a benchmark that hides failures is worthless.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface HttpTarget {
  host: string;
  port: number;
  token: string;
  agent: http.Agent;
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/** POSTs a JSON payload and reads the whole answer; rejects on transport errors and timeouts. */
export function postJson(target: HttpTarget, path: string, payload: string, timeoutMs: number): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent: target.agent,
        host: target.host,
        port: target.port,
        method: 'POST',
        path,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          authorization: `Bearer ${target.token}`,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** What one answer meant, in events. */
export interface Verdict {
  okEvents: number;
  failedEvents: number;
  /** Set when anything failed: a short class such as "HTTP 500 internal" (counted per class). */
  failure?: string;
}

export interface Workload {
  path: string;
  eventsPerRequest: number;
  /** Builds the next request body (not timed). */
  prepare(): string;
  /** Judges an answer (not timed). */
  check(answer: HttpAnswer): Verdict;
}

export interface PhaseOptions {
  name: string;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  requestTimeoutMs: number;
  shouldStop: () => boolean;
  /** Called at the start and the end of the measurement window (e.g. CPU snapshots). */
  onWindowStart?: () => void;
  onWindowEnd?: () => void;
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface PhaseResult {
  name: string;
  concurrency: number;
  eventsPerRequest: number;
  /** Length of the measurement window, seconds. */
  windowS: number;
  /** Completed inside the window. */
  requests: number;
  okEvents: number;
  requestsPerS: number;
  eventsPerS: number;
  /** Per request, milliseconds, over requests completed inside the window. */
  latencyMs: LatencySummary;
  /** Over the whole run (warm-up and tail included). */
  totalRequests: number;
  totalOkEvents: number;
  failedRequests: number;
  failedEvents: number;
  failures: Record<string, number>;
  failureSamples: string[];
  aborted: boolean;
}

export async function runPhase(target: HttpTarget, work: Workload, opts: PhaseOptions): Promise<PhaseResult> {
  const start = performance.now();
  const windowStart = start + opts.warmupMs;
  const end = windowStart + opts.durationMs;
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  const failureSamples: string[] = [];
  let windowOkEvents = 0;
  let totalRequests = 0;
  let totalOkEvents = 0;
  let failedRequests = 0;
  let failedEvents = 0;

  const windowStartTimer = setTimeout(() => opts.onWindowStart?.(), opts.warmupMs);
  const windowEndTimer = setTimeout(() => opts.onWindowEnd?.(), opts.warmupMs + opts.durationMs);

  const noteFailure = (kind: string, sample: string) => {
    failures[kind] = (failures[kind] ?? 0) + 1;
    if (failureSamples.length < 5) failureSamples.push(`${kind}: ${sample.slice(0, 300)}`);
  };

  const worker = async () => {
    while (!opts.shouldStop() && performance.now() < end) {
      const payload = work.prepare();
      const t0 = performance.now();
      let verdict: Verdict;
      let sample = '';
      try {
        const answer = await postJson(target, work.path, payload, opts.requestTimeoutMs);
        sample = answer.body;
        verdict = work.check(answer);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        verdict = { okEvents: 0, failedEvents: work.eventsPerRequest, failure: `transport ${e.code ?? e.message}` };
        sample = e.message;
      }
      const t1 = performance.now();
      totalRequests++;
      totalOkEvents += verdict.okEvents;
      if (verdict.failure) {
        failedRequests++;
        failedEvents += verdict.failedEvents;
        noteFailure(verdict.failure, sample);
      }
      if (t1 >= windowStart && t1 <= end) {
        latencies.push(t1 - t0);
        windowOkEvents += verdict.okEvents;
      }
    }
  };

  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  clearTimeout(windowStartTimer);
  clearTimeout(windowEndTimer);
  const aborted = opts.shouldStop();
  const windowS = Math.max(0, Math.min(performance.now(), end) - windowStart) / 1000;
  return {
    name: opts.name,
    concurrency: opts.concurrency,
    eventsPerRequest: work.eventsPerRequest,
    windowS,
    requests: latencies.length,
    okEvents: windowOkEvents,
    requestsPerS: windowS > 0 ? latencies.length / windowS : 0,
    eventsPerS: windowS > 0 ? windowOkEvents / windowS : 0,
    latencyMs: summarize(latencies),
    totalRequests,
    totalOkEvents,
    failedRequests,
    failedEvents,
    failures,
    failureSamples,
    aborted,
  };
}

/** Nearest-rank percentiles. */
export function summarize(samples: number[]): LatencySummary {
  if (samples.length === 0) return { p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };
  const sorted = Float64Array.from(samples).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  let sum = 0;
  for (const v of sorted) sum += v;
  return { p50: at(50), p90: at(90), p99: at(99), max: sorted[sorted.length - 1]!, mean: sum / sorted.length };
}
