/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof`, e.g. the engine run by the ingest
 * benchmark with BENCH_ENGINE_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/podium-prof'):
 * self time by package/area and by function, so a bottleneck can be named without a GUI.
 *
 *   node dist/bench/cpuprofile-summary.js /tmp/podium-prof/<file>.cpuprofile [top=25]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Groups a script URL into something a reader recognises: a package, a project folder, node internals. */
function areaOf(url: string, fn: string): string {
  if (url === '') return fn.startsWith('(') ? fn : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return url.split('/')[0]!.replace(/^node:/, 'node:');
  const dist = /\/dist\/([^/]+)\//.exec(url);
  if (dist) return `podium/${dist[1]}`;
  return url;
}

function main(argv: string[]): number {
  const [file, topArg] = argv;
  if (!file) {
    process.stderr.write('usage: cpuprofile-summary <file.cpuprofile> [top]\n');
    return 2;
  }
  const top = Number(topArg ?? 25);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const byArea = new Map<string, number>();
  const byFn = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const area = areaOf(url, functionName);
    byArea.set(area, (byArea.get(area) ?? 0) + us);
    const name = `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*\/(node_modules|dist)\//, '')}:${lineNumber + 1}` : ''}`;
    byFn.set(name, (byFn.get(name) ?? 0) + us);
  }
  const print = (title: string, m: Map<string, number>) => {
    process.stdout.write(`\n${title}\n`);
    for (const [k, us] of [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      process.stdout.write(
        `${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}\n`,
      );
    }
  };
  process.stdout.write(
    `${file}: ${(total / 1e6).toFixed(1)} s sampled over ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s\n`,
  );
  print('self time by area', byArea);
  print('self time by function', byFn);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
