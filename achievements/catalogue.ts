/**
 * The achievement catalogue: a versioned JSON file (default `achievements/catalogue.json`)
 * validated once at start. A malformed catalogue stops the engine with the file, the JSON
 * path and the reason, instead of unlocking the wrong badges.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ACTIVITIES } from '../ingest/index.js';

export const TIERS = ['bronze', 'silver', 'gold', 'platinum'] as const;
export type Tier = (typeof TIERS)[number];

const slug = z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'must be a lower-case slug (a-z, 0-9, -), at most 64 chars');
const activity = z.enum(ACTIVITIES);
const totalField = z.enum(['points', 'workouts', 'distanceM', 'durationSec']);

/** What an achievement watches. Each kind maps to one metric of the user's state (see evaluator.ts). */
const watchSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('total'), field: totalField }).strict(),
  z.object({ type: z.literal('window'), window: z.enum(['daily', 'weekly', 'monthly']), field: totalField }).strict(),
  z.object({ type: z.literal('activity'), activity, field: z.enum(['workouts', 'distanceM', 'durationSec']) }).strict(),
  z.object({ type: z.literal('streak') }).strict(),
  z.object({ type: z.literal('activeDays') }).strict(),
  z.object({ type: z.literal('weekendDays') }).strict(),
  z.object({ type: z.literal('timeOfDay'), slot: z.enum(['early', 'night']) }).strict(),
  z.object({ type: z.literal('distinctActivities') }).strict(),
  z
    .object({
      type: z.literal('record'),
      activity: z.union([activity, z.literal('any')]),
      record: z.enum(['distance', 'duration', 'pace']),
    })
    .strict(),
  z
    .object({
      type: z.literal('awards'),
      kind: z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, 'must be an award kind like "leaderboard.podium"'),
    })
    .strict(),
]);

export type Watch = z.infer<typeof watchSchema>;

const threshold = z.number().positive().finite();
const tiersSchema = z
  .object({
    bronze: threshold,
    silver: threshold.optional(),
    gold: threshold.optional(),
    platinum: threshold.optional(),
  })
  .strict();

const achievementSchema = z
  .object({
    id: slug,
    name: z.string().min(1).max(80),
    category: slug,
    description: z.string().max(300).default(''),
    watch: watchSchema,
    tiers: tiersSchema,
  })
  .strict()
  .superRefine((a, ctx) => {
    // Pace is better when lower: its thresholds fall; every other metric's rise.
    const lowerIsBetter = a.watch.type === 'record' && a.watch.record === 'pace';
    if (a.watch.type === 'record' && a.watch.record === 'pace' && a.watch.activity === 'any') {
      ctx.addIssue({ code: 'custom', path: ['watch', 'activity'], message: 'a pace record needs one activity' });
    }
    let previous: { tier: Tier; value: number } | undefined;
    let gap: Tier | undefined;
    for (const tier of TIERS) {
      const value = a.tiers[tier];
      if (value === undefined) {
        gap ??= tier;
        continue;
      }
      if (gap) {
        ctx.addIssue({ code: 'custom', path: ['tiers', tier], message: `"${tier}" given without "${gap}"` });
      }
      if (previous && (lowerIsBetter ? value >= previous.value : value <= previous.value)) {
        ctx.addIssue({
          code: 'custom',
          path: ['tiers', tier],
          message: `must be ${lowerIsBetter ? 'below' : 'above'} ${previous.tier} (${previous.value}): tiers get harder`,
        });
      }
      previous = { tier, value };
    }
  });

const catalogueSchema = z
  .object({
    version: z.number().int().positive(),
    /** Redeemable credits granted with each tier unlocked. */
    tierCredits: z
      .object({
        bronze: z.number().int().nonnegative(),
        silver: z.number().int().nonnegative(),
        gold: z.number().int().nonnegative(),
        platinum: z.number().int().nonnegative(),
      })
      .strict(),
    /** Credits of a `leaderboard.podium` award by place (1st, 2nd, 3rd) when a board period closes. */
    podiumCredits: z.array(z.number().int().nonnegative()).length(3),
    timeSlots: z
      .object({
        earlyBirdBeforeHour: z.number().int().min(1).max(12),
        nightOwlFromHour: z.number().int().min(12).max(23),
      })
      .strict(),
    achievements: z.array(achievementSchema).min(1),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    for (const [i, a] of c.achievements.entries()) {
      if (seen.has(a.id))
        ctx.addIssue({ code: 'custom', path: ['achievements', i, 'id'], message: `duplicate id "${a.id}"` });
      seen.add(a.id);
    }
  });

export type Catalogue = z.infer<typeof catalogueSchema>;
export type Achievement = Catalogue['achievements'][number];

/** `achievements.3.tiers.silver` → `achievements[3] ("busy-week").tiers.silver`. */
function describePath(path: ReadonlyArray<PropertyKey>, raw: unknown): string {
  let out = '';
  let node: unknown = raw;
  for (const part of path) {
    if (typeof part === 'number') {
      out += `[${part}]`;
      node = Array.isArray(node) ? node[part] : undefined;
      const id = (node as { id?: unknown } | undefined)?.id;
      if (typeof id === 'string') out += ` ("${id}")`;
    } else {
      out += out ? `.${String(part)}` : String(part);
      node = node && typeof node === 'object' ? (node as Record<string, unknown>)[String(part)] : undefined;
    }
  }
  return out || '(root)';
}

/** Validates a parsed catalogue; `source` names the file in the error. */
export function parseCatalogue(raw: unknown, source: string): Catalogue {
  const parsed = catalogueSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  at ${describePath(i.path, raw)}: ${i.message}`);
    throw new Error(`invalid achievements catalogue ${source}:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

export function loadCatalogue(path: string): Catalogue {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read achievements catalogue ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`invalid achievements catalogue ${path}:\n  at (root): not JSON: ${(err as Error).message}`);
  }
  return parseCatalogue(raw, path);
}

const tierLists = new WeakMap<Achievement, ReadonlyArray<{ tier: Tier; threshold: number }>>();

/** The tiers an achievement defines, easiest first, with their thresholds (bronze is rank 0). */
export function tiersOf(a: Achievement): ReadonlyArray<{ tier: Tier; threshold: number }> {
  let out = tierLists.get(a);
  if (!out) {
    out = TIERS.flatMap((tier) => (a.tiers[tier] === undefined ? [] : [{ tier, threshold: a.tiers[tier] }]));
    tierLists.set(a, out);
  }
  return out;
}
