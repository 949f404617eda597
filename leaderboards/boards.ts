/**
 * What a board is: metric × window × scope (API.md "Leaderboards"), its id string
 * (`points:daily:region:eu-west`, the same string sockets subscribe to), and the per-board
 * settings (time zone, shard count) chosen by rules with wildcards.
 */
export const METRICS = ['points', 'distance', 'duration', 'workouts'] as const;
export const WINDOWS = ['daily', 'weekly', 'monthly', 'alltime'] as const;
/** Windows whose periods end and are closed on schedule. */
export const CLOSING_WINDOWS = ['daily', 'weekly', 'monthly'] as const;

export type Metric = (typeof METRICS)[number];
export type Window = (typeof WINDOWS)[number];
export type ClosingWindow = (typeof CLOSING_WINDOWS)[number];

/** The tally field of a metric (short names: tallies exist per user and period). */
export const METRIC_FIELD: Record<Metric, 'p' | 'w' | 'd' | 's'> = {
  points: 'p',
  workouts: 'w',
  distance: 'd',
  duration: 's',
};

export type Scope =
  | { kind: 'global' }
  | { kind: 'region'; region: string }
  | { kind: 'challenge'; id: string }
  | { kind: 'friends' };

/** Scopes stored as sorted sets; `friends` is computed at read time from the global board. */
export type StoredScope = Exclude<Scope, { kind: 'friends' }>;

export interface BoardRef {
  metric: Metric;
  window: Window;
  scope: StoredScope;
}

export function scopeId(scope: Scope): string {
  switch (scope.kind) {
    case 'global':
    case 'friends':
      return scope.kind;
    case 'region':
      return `region:${scope.region}`;
    case 'challenge':
      return `challenge:${scope.id}`;
  }
}

export function boardId(metric: Metric, window: Window, scope: Scope): string {
  return `${metric}:${window}:${scopeId(scope)}`;
}

/** Ids that end up in keys and hash tags: no braces, no whitespace (like event and user ids). */
export const ID_PATTERN = /^[^\s{}]{1,128}$/;

/** Parses `global`, `friends`, `region:<r>`, `challenge:<id>`; undefined when not one of them. */
export function parseScope(raw: string, regions: readonly string[]): Scope | undefined {
  if (raw === 'global' || raw === 'friends') return { kind: raw };
  if (raw.startsWith('region:')) {
    const region = raw.slice('region:'.length);
    return regions.includes(region) ? { kind: 'region', region } : undefined;
  }
  if (raw.startsWith('challenge:')) {
    const id = raw.slice('challenge:'.length);
    return ID_PATTERN.test(id) ? { kind: 'challenge', id } : undefined;
  }
  return undefined;
}

export function allowedScopes(regions: readonly string[]): string[] {
  return ['global', 'friends', ...regions.map((r) => `region:${r}`), 'challenge:<id>'];
}

/** A challenge's board covers the challenge's own time box: it has the all-time window only. */
export function windowsOf(scope: Scope): readonly Window[] {
  return scope.kind === 'challenge' ? ['alltime'] : WINDOWS;
}

/**
 * A setting chosen per board by rules `<metric>:<window>:<scope>=<value>`, each part exact
 * or `*` (and `region:*`, `challenge:*` for any region or challenge). The most specific
 * matching rule wins; among equally specific ones, the last.
 */
export interface BoardRule<T> {
  metric: string;
  window: string;
  scope: string;
  value: T;
}

export function parseBoardRules<T>(
  spec: string,
  parseValue: (raw: string) => T | undefined,
  what: string,
): BoardRule<T>[] {
  const rules: BoardRule<T>[] = [];
  for (const part of spec.split(',').map((s) => s.trim())) {
    if (!part) continue;
    const eq = part.lastIndexOf('=');
    const pattern = eq > 0 ? part.slice(0, eq) : '';
    const [metric, window, ...scopeParts] = pattern.split(':');
    const scope = scopeParts.join(':');
    const value = eq > 0 ? parseValue(part.slice(eq + 1)) : undefined;
    const metricOk = metric === '*' || (METRICS as readonly string[]).includes(metric ?? '');
    const windowOk = window === '*' || (WINDOWS as readonly string[]).includes(window ?? '');
    if (!metricOk || !windowOk || !scope || value === undefined) {
      throw new Error(`${what}: cannot read "${part}" (expected <metric|*>:<window|*>:<scope|*>=<value>)`);
    }
    rules.push({ metric: metric!, window: window!, scope, value });
  }
  return rules;
}

function scopeMatch(pattern: string, scope: string): number {
  if (pattern === scope) return 2;
  if (pattern === '*') return 0;
  if (pattern.endsWith(':*') && scope.startsWith(pattern.slice(0, -1))) return 1;
  return -1;
}

export function resolveBoardRule<T>(rules: readonly BoardRule<T>[], b: BoardRef, fallback: T): T {
  let best = fallback;
  let bestScore = -1;
  const scope = scopeId(b.scope);
  for (const r of rules) {
    if (r.metric !== '*' && r.metric !== b.metric) continue;
    if (r.window !== '*' && r.window !== b.window) continue;
    const s = scopeMatch(r.scope, scope);
    if (s < 0) continue;
    const score = (r.metric === '*' ? 0 : 1) + (r.window === '*' ? 0 : 1) + s;
    if (score >= bestScore) {
      best = r.value;
      bestScore = score;
    }
  }
  return best;
}
