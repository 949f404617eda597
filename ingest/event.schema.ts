/**
 * The workout event envelope of API.md and its hard rules. A failure here is a 400
 * `invalid_request` and nothing is stored.
 */
import { z } from 'zod';
import { isValidTimeZone } from '../common/index.js';
import { ACTIVITIES, metCalories } from './met.js';

export const REGIONS = ['eu-west', 'us-east', 'ap-southeast'] as const;
export const MAX_FUTURE_MS = 5 * 60_000;
export const MAX_AGE_MS = 30 * 86_400_000;
export const MAX_ROUTE_POINTS = 20_000;

/** Ids become parts of Redis keys and hash tags: no braces, no whitespace. */
const idString = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[^\s{}]+$/, 'must not contain whitespace or braces');

const routePoint = z.tuple([z.number().min(-90).max(90), z.number().min(-180).max(180), z.number().min(0)]);

const workoutSchema = z
  .object({
    activity: z.enum(ACTIVITIES),
    durationSec: z.number().int().min(60).max(86_400),
    distanceM: z.number().finite().min(0).max(1_000_000).optional(),
    avgHeartRate: z.number().min(40).max(220).optional(),
    maxHeartRate: z.number().min(40).max(220).optional(),
    calories: z.number().finite().min(0).optional(),
    weightKg: z.number().min(20).max(400).optional(),
    route: z.array(routePoint).max(MAX_ROUTE_POINTS).optional(),
  })
  .superRefine((w, ctx) => {
    if (w.avgHeartRate !== undefined && w.maxHeartRate !== undefined && w.maxHeartRate < w.avgHeartRate) {
      ctx.addIssue({ code: 'custom', path: ['maxHeartRate'], message: 'must be ≥ avgHeartRate' });
    }
    if (w.route) {
      for (let i = 1; i < w.route.length; i++) {
        if ((w.route[i] as number[])[2]! < (w.route[i - 1] as number[])[2]!) {
          ctx.addIssue({ code: 'custom', path: ['route', i, 2], message: 'route seconds must not decrease' });
          break;
        }
      }
    }
    if (w.calories !== undefined && w.weightKg !== undefined) {
      const limit = 2 * metCalories(w.activity, w.weightKg, w.durationSec);
      if (w.calories > limit) {
        ctx.addIssue({
          code: 'custom',
          path: ['calories'],
          message: `exceeds twice the MET estimate (${Math.round(limit)} kcal for this activity, weight and duration)`,
        });
      }
    }
  });

export function eventSchema(now: () => number = Date.now) {
  return z
    .object({
      id: idString,
      type: z.literal('workout.completed'),
      userId: idString,
      occurredAt: z.iso.datetime({ offset: true }),
      region: z.enum(REGIONS).optional(),
      timezone: z.string().max(64).refine(isValidTimeZone, 'unknown IANA time zone').optional(),
      workout: workoutSchema,
    })
    .superRefine((e, ctx) => {
      const at = Date.parse(e.occurredAt);
      const t = now();
      if (at > t + MAX_FUTURE_MS) {
        ctx.addIssue({ code: 'custom', path: ['occurredAt'], message: 'more than 5 minutes in the future' });
      } else if (at < t - MAX_AGE_MS) {
        ctx.addIssue({ code: 'custom', path: ['occurredAt'], message: 'older than 30 days' });
      }
    });
}

export type WorkoutEvent = z.infer<ReturnType<typeof eventSchema>>;

export const batchEnvelopeSchema = z.object({
  events: z.array(z.unknown()).min(1).max(1000),
});
