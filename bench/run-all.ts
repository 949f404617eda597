/**
 * `npm run bench`: runs every benchmark of the project (package.json's `bench:<name>` scripts),
 * one after another — never two at once: they would measure each other — then writes one summary,
 * bench/RESULTS.md: each headline figure beside its target and the baseline its bench measured in
 * the same run, with a met/missed verdict (figures read by bench/lib/results-summary.ts from the
 * bench/results/<name>.json each bench writes).
 *
 * A bench that fails (non-zero exit, no results written, over its time limit) is recorded as such
 * and the next one runs. Each outcome is kept in bench/results/run-all.json, so a later summary
 * still says which figures are from a failed or older run.
 *
 * Environment:
 *   BENCH_ONLY=ingest,feed   run only these benches (the summary still covers all of them)
 *   BENCH_SUMMARY_ONLY=1     run nothing: rebuild RESULTS.md from the existing results
 *   BENCH_TIMEOUT_S=1800     per bench: SIGTERM after this, SIGKILL 30 s later
 * The npm script builds once; each bench then runs from dist/ (its own `npm run -s build` skipped).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { projectPath } from '../common/index.js';
import { describeMachine } from './lib/machine.js';
import { BENCH_DATABASE_URL, BENCH_REDIS_URL } from './lib/options.js';
import type { Machine } from './lib/report.js';
import { type BenchFigures, DASH, EXTRACTORS, type Figure, runOf } from './lib/results-summary.js';

const REDIS_URL = BENCH_REDIS_URL;
const DATABASE_URL = BENCH_DATABASE_URL;
const TIMEOUT_S = Number(process.env.BENCH_TIMEOUT_S ?? 1800);
const RECORD = projectPath('bench', 'results', 'run-all.json');
const SUMMARY = projectPath('bench', 'RESULTS.md');
const log = (msg: string) => process.stdout.write(`[bench] ${msg}\n`);

interface Bench {
  name: string;
  /** What runs it: the compiled file when the script is `… && node dist/bench/x.js`, else the script. */
  argv: string[];
}

interface Outcome {
  status: 'ok' | 'failed';
  detail: string;
  exit: number | null;
  seconds: number;
  startedAt: string;
  finishedAt: string;
  resultsWritten: boolean;
}

interface RunRecord {
  startedAt: string;
  machine: Machine | null;
  runs: Record<string, Outcome>;
}

function benches(): Bench[] {
  const pkg = JSON.parse(readFileSync(projectPath('package.json'), 'utf8')) as { scripts?: Record<string, string> };
  return Object.entries(pkg.scripts ?? {})
    .filter(([key]) => key.startsWith('bench:'))
    .map(([key, script]) => {
      const compiled = /\bnode (dist\/bench\/\S+\.js)\s*$/.exec(script)?.[1];
      return {
        name: key.slice('bench:'.length),
        argv: compiled ? [process.execPath, compiled] : ['npm', 'run', '-s', key],
      };
    });
}

const resultsFile = (name: string) => projectPath('bench', 'results', `${name}.json`);
const mtimeMs = (path: string) => (existsSync(path) ? statSync(path).mtimeMs : 0);

function readRecord(): RunRecord | null {
  try {
    return JSON.parse(readFileSync(RECORD, 'utf8')) as RunRecord;
  } catch {
    return null;
  }
}

/** Runs one bench to its end (or its time limit), its output passed through; keeps the tail of stderr. */
async function runBench(bench: Bench): Promise<Outcome> {
  const started = Date.now();
  const before = mtimeMs(resultsFile(bench.name));
  log(`${bench.name}: ${bench.argv.join(' ')}`);
  let tail = '';
  let timedOut = false;
  const exit = await new Promise<{ code: number | null; error?: string }>((resolve) => {
    const child = spawn(bench.argv[0]!, bench.argv.slice(1), {
      cwd: projectPath(),
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    child.stderr.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      tail = (tail + chunk.toString()).slice(-4000);
    });
    let kill: NodeJS.Timeout | undefined;
    const limit = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM'); // lets the bench drop its schema, keys and child processes
      kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    }, TIMEOUT_S * 1000);
    child.on('error', (err) => resolve({ code: null, error: err.message }));
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      clearTimeout(kill);
      resolve({ code, error: signal ? `killed by ${signal}` : undefined });
    });
  });
  const resultsWritten = mtimeMs(resultsFile(bench.name)) > before;
  // The error's message, not the last frame of its stack.
  const lastLine =
    tail
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('at ') && l !== '}' && l !== '^')
      .pop() ?? '';
  let detail = 'ok';
  if (timedOut) detail = `over BENCH_TIMEOUT_S=${TIMEOUT_S}`;
  else if (exit.error) detail = exit.error;
  else if (exit.code !== 0) detail = `exit ${exit.code}${lastLine ? `: ${lastLine.slice(0, 200)}` : ''}`;
  else if (!resultsWritten) detail = `exit 0 but bench/results/${bench.name}.json was not written`;
  const ok = detail === 'ok';
  log(`${bench.name}: ${ok ? 'done' : `FAILED (${detail})`} in ${Math.round((Date.now() - started) / 1000)} s`);
  return {
    status: ok ? 'ok' : 'failed',
    detail,
    exit: exit.code,
    seconds: (Date.now() - started) / 1000,
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date().toISOString(),
    resultsWritten,
  };
}

/** The machine without touching Redis or Postgres (summary only, or when they are down). */
function localMachine(): Machine {
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? '?',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    redis: '?',
    postgres: '?',
    commit: gitCommit(),
    date: new Date().toISOString(),
  };
}

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: projectPath(), encoding: 'utf8' }).trim();
    return `${head} (working tree at run time)`;
  } catch {
    return '?';
  }
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const mdRow = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;

/** The figures of one bench for the table, or the reason there are none. */
function benchSection(name: string, outcome: Outcome | undefined): BenchFigures & { date: string; commit: string } {
  const file = resultsFile(name);
  // A results file newer than the recorded outcome comes from a later `npm run bench:<name>`.
  const current = outcome && mtimeMs(file) <= Date.parse(outcome.finishedAt) + 1000 ? outcome : undefined;
  const failure = (text: string, verdict: Figure['verdict'] = 'missed'): Figure => ({
    figure: 'run',
    measured: text,
    target: DASH,
    baseline: DASH,
    verdict,
  });
  if (current?.status === 'failed' && !current.resultsWritten) {
    const older = existsSync(file)
      ? [`older figures (${runOf(readJson(file)).date}) remain in results/${name}.json`]
      : [];
    return { figures: [failure(`FAILED: ${current.detail}`)], notes: older, date: current.startedAt, commit: DASH };
  }
  if (!existsSync(file)) return { figures: [failure('no results yet', DASH)], notes: [], date: DASH, commit: DASH };
  const json = readJson(file);
  const extract = EXTRACTORS[name];
  const section = extract
    ? extract(json)
    : { figures: [{ ...failure(`see results/${name}.md`, DASH), figure: 'no extractor' }], notes: [] };
  if (current?.status === 'failed')
    section.notes.unshift(`the run FAILED (${current.detail}); figures as it wrote them`);
  return { ...section, ...runOf(json) };
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    return { error: `unreadable: ${(err as Error).message}` };
  }
}

/** `run` says whose machine and commit the header shows: this run's, the last run's, or (none yet) now. */
function summary(
  all: Bench[],
  record: RunRecord | null,
  ran: string[],
  run: { label: string; machine: Machine },
): string {
  const machine = run.machine;
  const rows: string[] = [];
  const runs: string[] = [];
  const notes: string[] = [];
  const tally = { met: 0, missed: 0, [DASH]: 0 };
  for (const { name } of all) {
    const outcome = record?.runs[name];
    const s = benchSection(name, outcome);
    for (const f of s.figures) {
      rows.push(
        mdRow([name, f.figure, f.measured, f.target, f.baseline, f.verdict === 'missed' ? '**missed**' : f.verdict]),
      );
      tally[f.verdict]++;
    }
    for (const n of s.notes) notes.push(`- ${name}: ${n}`);
    const last = outcome
      ? `${outcome.status === 'ok' ? 'ok' : `FAILED (${outcome.detail})`}, ${outcome.startedAt}`
      : 'never';
    const duration = outcome ? `${Math.round(outcome.seconds)} s` : DASH;
    runs.push(mdRow([name, last, s.date, s.commit, duration, `[results/${name}.md](results/${name}.md)`]));
  }
  const how =
    ran.length > 0
      ? `This invocation ran: ${ran.join(', ')}.`
      : 'Summary only (`BENCH_SUMMARY_ONLY=1`): no benchmark ran; rebuilt from `bench/results/*.json`.';
  return [
    '# Benchmark results — summary',
    '',
    `Written by \`npm run bench\` (bench/run-all.ts) on ${new Date().toISOString()}. ${how}`,
    '',
    `- ${run.label}: commit ${machine.commit}; each bench's own date and commit are in the runs table.`,
    `- Machine: ${[
      `${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB`,
      `node ${machine.node}`,
      machine.redis === '?' ? '' : `Redis ${machine.redis}`,
      machine.postgres === '?' ? '' : `PostgreSQL ${machine.postgres}`,
    ]
      .filter(Boolean)
      .join('; ')}`,
    `- **All figures share one ${machine.cpus}-core machine**: each bench's load generator, the engine, Redis and Postgres`,
    '  (and whatever else ran on the machine then) compete for the same cores. The figures are what the engine reaches',
    '  under that contention, not the capacity of dedicated hardware; the baseline beside each figure was measured by the',
    '  same bench in the same run on the same machine, so the comparison holds better than the absolute value.',
    '',
    '## Figures',
    '',
    '"—" is a figure the results file does not hold (an older or partial run) or a figure without a target.',
    '',
    mdRow(['bench', 'figure', 'measured', 'target', 'same-run baseline', 'verdict']),
    mdRow(['---', '---', '---:', '---', '---', '---']),
    ...rows,
    '',
    `${tally.met} met, ${tally.missed} missed, ${tally[DASH]} without a target or a value.`,
    '',
    ...(notes.length > 0 ? ['## Notes', '', ...notes, ''] : []),
    '## Runs',
    '',
    mdRow(['bench', 'last `npm run bench`', 'results from', 'commit', 'duration', 'details']),
    mdRow(['---', '---', '---', '---', '---:', '---']),
    ...runs,
    '',
  ].join('\n');
}

async function main(): Promise<number> {
  const all = benches();
  const known = all.map((b) => b.name);
  const only = (process.env.BENCH_ONLY ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = only.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    console.error(`BENCH_ONLY: unknown bench ${unknown.join(', ')}; known: ${known.join(', ')}`);
    return 2;
  }
  const summaryOnly = process.env.BENCH_SUMMARY_ONLY === '1';
  if (!Number.isFinite(TIMEOUT_S) || TIMEOUT_S <= 0) {
    console.error('BENCH_TIMEOUT_S must be a positive number of seconds');
    return 2;
  }
  const selected = summaryOnly ? [] : all.filter((b) => only.length === 0 || only.includes(b.name));
  const previous = readRecord();
  const record: RunRecord = { startedAt: new Date().toISOString(), machine: null, runs: { ...previous?.runs } };
  const ran: string[] = [];
  let run = previous?.machine
    ? { label: `Last \`npm run bench\` started ${previous.startedAt}`, machine: previous.machine }
    : { label: 'No `npm run bench` recorded yet; this machine now', machine: localMachine() };
  if (selected.length > 0) {
    record.machine = await describeMachine(REDIS_URL, DATABASE_URL).catch(() => localMachine());
    run = { label: `This run started ${record.startedAt}`, machine: record.machine };
    let interrupted = false;
    process.once('SIGINT', () => {
      interrupted = true; // the running bench gets the same SIGINT and cleans up; no further bench starts
    });
    for (const bench of selected) {
      if (interrupted) break;
      record.runs[bench.name] = await runBench(bench);
      ran.push(bench.name);
      writeFileSync(RECORD, `${JSON.stringify(record, null, 2)}\n`);
    }
  }
  writeFileSync(SUMMARY, summary(all, selected.length > 0 ? record : previous, ran, run));
  log(`wrote bench/RESULTS.md (${ran.length} bench(es) run, ${all.length} summarised)`);
  return ran.some((name) => record.runs[name]?.status === 'failed') ? 1 : 0;
}

process.exitCode = await main();
