/**
 * Who used the CPU during a measurement window: the engine, this load generator, Redis,
 * Postgres and everything else, read from /proc (Linux). On a small shared machine that
 * is the first question about any throughput figure. Figures are in "% of one core"
 * (200 % = both cores of a 2-core machine). Redis and Postgres are whole servers, so other
 * clients' work (tests running at the same time) counts there too; "other" is the
 * machine's busy time (/proc/stat) minus the named groups, kernel time included.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const CLK_TCK = 100; // USER_HZ: 100 on every Linux the project targets (`getconf CLK_TCK`)
const GROUP_OF_COMM: Record<string, string> = { 'redis-server': 'redis', postgres: 'postgres' };
export const CPU_GROUPS = ['engine', 'loadgen', 'redis', 'postgres', 'other', 'machine'] as const;

interface ProcSample {
  comm: string;
  /** Own CPU seconds (user + system); processes that ended in between only show in "other". */
  self: number;
}

export interface CpuSnapshot {
  at: number;
  procs: Map<number, ProcSample>;
  machine?: number;
}

export interface CpuUsage {
  /** % of one core per group (see CPU_GROUPS). */
  groups: Record<string, number>;
  /** The busiest processes outside the named groups, e.g. "node 85 %". */
  topOther: string[];
}

function readProc(pid: string): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    // Fields after "(comm)": utime and stime are fields 14 and 15 (1-based).
    const rest = stat.slice(close + 2).split(' ');
    return { comm: stat.slice(stat.indexOf('(') + 1, close), self: (Number(rest[11]) + Number(rest[12])) / CLK_TCK };
  } catch {
    return undefined; // exited meanwhile
  }
}

/** Busy seconds of all cores together (everything but idle and iowait). */
function machineBusySeconds(): number | undefined {
  try {
    const v = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    return (total - (v[3] ?? 0) - (v[4] ?? 0)) / CLK_TCK;
  } catch {
    return undefined;
  }
}

export class CpuMeter {
  constructor(private readonly enginePid: () => number | undefined = () => undefined) {}

  snapshot(): CpuSnapshot {
    const procs = new Map<number, ProcSample>();
    let entries: string[] = [];
    try {
      entries = readdirSync('/proc');
    } catch {
      // no /proc: nothing to report
    }
    for (const entry of entries) {
      if (!/^\d+$/.test(entry)) continue;
      const sample = readProc(entry);
      if (sample) procs.set(Number(entry), sample);
    }
    return { at: performance.now(), procs, machine: machineBusySeconds() };
  }

  usage(from: CpuSnapshot, to: CpuSnapshot): CpuUsage {
    const wall = (to.at - from.at) / 1000;
    const groups: Record<string, number> = {};
    const others = new Map<string, number>();
    if (wall <= 0) return { groups, topOther: [] };
    const pct = (seconds: number) => Math.max(0, (100 * seconds) / wall);
    const engine = this.enginePid();
    let named = 0;
    for (const [pid, now] of to.procs) {
      const before = from.procs.get(pid);
      const group = pid === engine ? 'engine' : pid === process.pid ? 'loadgen' : GROUP_OF_COMM[now.comm];
      const d = Math.max(0, now.self - (before?.self ?? 0));
      if (group) {
        groups[group] = (groups[group] ?? 0) + pct(d);
        named += d;
      } else if (d > 0) {
        others.set(now.comm, (others.get(now.comm) ?? 0) + pct(d));
      }
    }
    if (from.machine !== undefined && to.machine !== undefined) {
      groups.machine = pct(to.machine - from.machine);
      groups.other = pct(to.machine - from.machine - named);
    }
    const topOther = [...others.entries()]
      .sort((a, b) => b[1] - a[1])
      .filter(([, v]) => v >= 5)
      .slice(0, 4)
      .map(([comm, v]) => `${comm} ${Math.round(v)} %`);
    return { groups, topOther };
  }

  /** Machine busy (% of one core) over `sampleMs`. */
  async machineBusy(sampleMs = 2000): Promise<number | undefined> {
    const a = machineBusySeconds();
    await new Promise((r) => setTimeout(r, sampleMs));
    const b = machineBusySeconds();
    return a === undefined || b === undefined ? undefined : (100 * (b - a)) / (sampleMs / 1000);
  }

  /**
   * Waits (at most `maxWaitMs`) until the machine is quieter than `thresholdPct` of one
   * core, so that another job's burst does not land in a measurement. Returns the last
   * background figure; the caller reports it either way.
   */
  async waitForQuiet(thresholdPct: number, maxWaitMs: number, shouldStop: () => boolean): Promise<number | undefined> {
    const deadline = performance.now() + maxWaitMs;
    for (;;) {
      const busy = await this.machineBusy();
      if (busy === undefined || busy <= thresholdPct || shouldStop() || performance.now() >= deadline) return busy;
    }
  }
}
