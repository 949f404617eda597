/**
 * The figures of one run, as a console table, JSON (`bench/results/ingest.json`) and a
 * Markdown table (`bench/results/ingest.md`), each with the machine it ran on and the
 * targets beside the measured values.
 */
import type { LedgerCeiling, RedisCeiling } from './ceilings.js';
import { CPU_GROUPS, type CpuUsage } from './cpu.js';
import type { PhaseResult } from './http-load.js';
import type { Durability, TableWrites } from './ledger-check.js';
import type { OutcomeTally } from './workload.js';

export interface Targets {
  singleEventsPerS: number;
  singleP99Ms: number;
  batchEventsPerS: number;
}

export const TARGETS: Targets = { singleEventsPerS: 4_000, singleP99Ms: 25, batchEventsPerS: 20_000 };

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  redis: string;
  postgres: string;
  commit: string;
  date: string;
}

export interface PhaseContext {
  /** What the engine decided for the accepted events (whole phase, warm-up included). */
  outcomes?: OutcomeTally;
  cpu?: CpuUsage;
  cpuPerEventUs?: Record<string, number>;
  /** Machine busy (% of one core) in the 2 s before the phase, after waiting for quiet. */
  backgroundPct?: number;
}

export interface Report {
  /** True when nothing failed (no non-2xx, no transport error, engine clean, ledger consistent). */
  valid: boolean;
  machine: Machine;
  note: string;
  options: Record<string, string | number>;
  targets: Targets;
  /** The engine and the machine for 3 s after start, before any load: the fixed background cost. */
  idleCpu?: CpuUsage;
  single?: PhaseResult & PhaseContext & { meets: { throughput: boolean; p99: boolean } };
  batch?: PhaseResult & PhaseContext & { meets: { throughput: boolean } };
  redis: RedisCeiling[];
  ledger: LedgerCeiling[];
  durability?: Durability;
  /** Postgres rows written per event that reached the ledger, by table (HTTP phases only). */
  pgWrites: TableWrites[];
  engine: { exit: string; errorLogLines: number };
  /** What disturbed the measurement without invalidating it (e.g. other jobs on the machine). */
  warnings: string[];
  /** Everything that makes this run invalid (must be empty). */
  failures: string[];
}

const n0 = (v: number) => Math.round(v).toLocaleString('en-US');
const n1 = (v: number) => v.toFixed(1);
/** A latency cell; '—' when no request completed inside the window (a 0 would read as "fast"). */
const lat = (p: PhaseResult, q: 'p50' | 'p99') => (p.requests > 0 ? n1(p.latencyMs[q]) : '—');
const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');

export const LOADGEN_NOTE =
  'The load generator, the engine, Redis and Postgres all run on this same machine and share its cores; ' +
  'the figures are what the engine reaches under that contention, not on dedicated hardware.';

function pathRows(r: Report): string[][] {
  const rows: string[][] = [];
  const t = r.targets;
  if (r.single) {
    const s = r.single;
    rows.push([
      'POST /v1/events',
      String(s.concurrency),
      n0(s.eventsPerS),
      `≥ ${n0(t.singleEventsPerS)}`,
      lat(s, 'p50'),
      lat(s, 'p99'),
      `≤ ${t.singleP99Ms}`,
      String(s.failedRequests),
      s.meets.throughput && s.meets.p99 ? 'met' : 'MISSED',
    ]);
  }
  if (r.batch) {
    const b = r.batch;
    rows.push([
      `POST /v1/events/batch (×${b.eventsPerRequest})`,
      String(b.concurrency),
      n0(b.eventsPerS),
      `≥ ${n0(t.batchEventsPerS)}`,
      lat(b, 'p50'),
      lat(b, 'p99'),
      '—',
      `${b.failedRequests} req / ${b.failedEvents} ev`,
      mark(b.meets.throughput),
    ]);
  }
  return rows;
}

const PATH_HEAD = ['path', 'conc.', 'events/s', 'target', 'p50 ms', 'p99 ms', 'p99 target', 'non-2xx', 'verdict'];
const pctCell = (v: number | undefined) => (v === undefined ? '—' : `${Math.round(v)} %`);
const CPU_HEAD = ['phase', 'before', ...CPU_GROUPS, 'busiest other processes'];

function cpuRows(r: Report): string[][] {
  const rows: string[][] = [];
  if (r.idleCpu) {
    const idle = r.idleCpu;
    rows.push(['no load', '—', ...CPU_GROUPS.map((g) => pctCell(idle.groups[g])), idle.topOther.join(', ') || '—']);
  }
  for (const [name, phase] of [
    ['single', r.single],
    ['batch', r.batch],
  ] as const) {
    const cpu = phase?.cpu;
    if (!phase || !cpu) continue;
    rows.push([
      name,
      pctCell(phase.backgroundPct),
      ...CPU_GROUPS.map((g) => pctCell(cpu.groups[g])),
      cpu.topOther.join(', ') || '—',
    ]);
  }
  return rows;
}

const PER_EVENT_GROUPS = ['engine', 'postgres', 'redis', 'loadgen'];
const PER_EVENT_HEAD = ['phase', ...PER_EVENT_GROUPS.map((g) => `${g} µs`), 'sum µs', 'ev/s if 2 cores did only this'];

/** CPU time per accepted event (µs) by group: the figure to shrink, whatever the machine. */
export function cpuPerEventUs(cpu: CpuUsage | undefined, eventsPerS: number): Record<string, number> | undefined {
  if (!cpu || eventsPerS <= 0) return undefined;
  // % of one core ÷ events/s = centi-core-seconds per event; × 1e4 gives µs.
  return Object.fromEntries(PER_EVENT_GROUPS.map((g) => [g, Math.round(((cpu.groups[g] ?? 0) * 10_000) / eventsPerS)]));
}

function perEventRows(r: Report): string[][] {
  const rows: string[][] = [];
  for (const phase of [r.single, r.batch]) {
    const us = phase?.cpuPerEventUs;
    if (!phase || !us) continue;
    const cells = PER_EVENT_GROUPS.map((g) => us[g] ?? 0);
    const sum = cells.reduce((a, b) => a + b, 0);
    rows.push([phase.name, ...cells.map((v) => n0(v)), n0(sum), sum > 0 ? n0((r.machine.cpus * 1e6) / sum) : '—']);
  }
  return rows;
}

function ceilingRows(r: Report): string[][] {
  return [
    ...r.redis.map((c) => [`Redis ${c.name}`, `${n0(c.opsPerS)} ops/s`, `p50 ${c.p50Ms} ms, p99 ${c.p99Ms} ms`]),
    ...r.ledger.map((c) => [
      `Ledger ${c.name}`,
      `${n0(c.eventsPerS)} events/s`,
      `${c.concurrency} callers × ${c.eventsPerCall} events, ${n1(c.windowS)} s`,
    ]),
  ];
}

const OUTCOME_HEAD = ['phase', 'accepted', 'points awarded', 'capped', 'held', 'flagged', 'unlocked'];

function outcomeRows(r: Report): string[][] {
  const rows: string[][] = [];
  for (const phase of [r.single, r.batch]) {
    const t = phase?.outcomes;
    if (!phase || !t || t.events === 0) continue;
    const share = (v: number) => `${Math.round((100 * v) / t.events)} %`;
    rows.push([
      phase.name,
      n0(t.events),
      share(t.awarded),
      share(t.capped),
      share(t.held),
      share(t.flagged),
      share(t.unlocked),
    ]);
  }
  return rows;
}

const WRITES_HEAD = ['table', 'inserts/event', 'updates/event', 'deletes/event'];

function writesRows(r: Report): string[][] {
  return r.pgWrites.map((w) => [
    w.table,
    w.insertsPerEvent.toFixed(2),
    w.updatesPerEvent.toFixed(2),
    w.deletesPerEvent.toFixed(2),
  ]);
}

function textTable(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function mdTable(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

function machineLine(m: Machine): string {
  return `${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB; node ${m.node}; Redis ${m.redis}; PostgreSQL ${m.postgres}; commit ${m.commit}`;
}

function failureLines(r: Report): string[] {
  const lines = r.failures.map((f) => `- ${f}`);
  for (const phase of [r.single, r.batch]) {
    for (const s of phase?.failureSamples ?? []) lines.push(`  - sample (${phase?.name}): ${s}`);
  }
  return lines;
}

export function renderText(r: Report): string {
  const out = [
    `Podium ingest benchmark — ${r.machine.date}`,
    `machine: ${machineLine(r.machine)}`,
    `NOTE: ${r.note}`,
    '',
    textTable(PATH_HEAD, pathRows(r)),
    '',
    'CPU during the measurement window (% of one core; "before" = machine busy just before the phase):',
    textTable(CPU_HEAD, cpuRows(r)),
    '',
    'CPU per accepted event (µs), from the same window:',
    textTable(PER_EVENT_HEAD, perEventRows(r)),
    '',
    'Ceilings, same machine, same run:',
    textTable(['what', 'rate', 'detail'], ceilingRows(r)),
  ];
  if (r.durability) {
    const d = r.durability;
    out.push(
      '',
      `Durability: ${n0(d.acknowledged)} events acknowledged (2xx), ${n0(d.ledgerRows)} ledger rows, ` +
        `${n0(d.unapplied)} unapplied after shutdown — ${d.ok ? 'consistent' : 'INCONSISTENT'}`,
    );
  }
  if (outcomeRows(r).length > 0) {
    out.push('', 'Outcomes of the accepted events (share of events):', textTable(OUTCOME_HEAD, outcomeRows(r)));
  }
  if (r.pgWrites.length > 0) {
    out.push('', 'Postgres rows written per event that reached the ledger:', textTable(WRITES_HEAD, writesRows(r)));
  }
  out.push(`Engine: exit ${r.engine.exit}, ${r.engine.errorLogLines} error log lines`);
  if (r.warnings.length > 0) out.push('', 'Warnings:', ...r.warnings.map((w) => `- ${w}`));
  out.push('', r.failures.length === 0 ? 'Run valid: no errors.' : 'RUN INVALID:', ...failureLines(r));
  return out.join('\n');
}

export function renderMarkdown(r: Report): string {
  const opts = Object.entries(r.options)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const out = [
    '# Ingest benchmark — latest run',
    '',
    `Generated by \`npm run bench:ingest\` on ${r.machine.date}. See [README](../README.md) for what is measured.`,
    '',
    `- Machine: ${machineLine(r.machine)}`,
    `- Options: ${opts}`,
    `- **${r.note}**`,
    '',
    '## HTTP paths',
    '',
    mdTable(PATH_HEAD, pathRows(r)),
    '',
    '## CPU during the measurement window (% of one core)',
    '',
    '"before" is the machine\'s busy time in the 2 s before the phase; "other" is everything outside the named',
    'groups (kernel, other jobs on the machine). A large "other" means the figures were disturbed.',
    '',
    mdTable(CPU_HEAD, cpuRows(r)),
    '',
    '## CPU per accepted event (µs)',
    '',
    'The same window divided by the events accepted in it. The last column is the rate all cores could sustain',
    'if they did nothing else — an upper bound on this machine for the code as it is.',
    '',
    mdTable(PER_EVENT_HEAD, perEventRows(r)),
    '',
    '## Ceilings (same machine, same run)',
    '',
    mdTable(['what', 'rate', 'detail'], ceilingRows(r)),
    '',
  ];
  if (r.durability) {
    const d = r.durability;
    out.push(
      `Durability check: ${n0(d.acknowledged)} events acknowledged, ${n0(d.ledgerRows)} ledger rows, ` +
        `${n0(d.unapplied)} unapplied after shutdown — ${d.ok ? 'consistent' : '**inconsistent**'}.`,
      '',
    );
  }
  if (outcomeRows(r).length > 0) {
    out.push('## Outcomes of the accepted events', '', mdTable(OUTCOME_HEAD, outcomeRows(r)), '');
  }
  if (r.pgWrites.length > 0) {
    out.push('## Postgres rows written per event', '', mdTable(WRITES_HEAD, writesRows(r)), '');
  }
  if (r.warnings.length > 0) out.push('Warnings:', '', ...r.warnings.map((w) => `- ${w}`), '');
  out.push(
    r.failures.length === 0 ? 'Run valid: no non-2xx answers, no transport errors.' : '**Run invalid:**',
    ...failureLines(r),
    '',
  );
  return out.join('\n');
}
