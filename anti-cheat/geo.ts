/**
 * Route geometry for the GPS rules: great-circle distances, per-segment speeds and a
 * route fingerprint. Pure and allocation-light: a route may carry 20,000 points.
 */
import { createHash } from 'node:crypto';

/** `[latitude, longitude, secondsFromStart]`, as API.md's `route`. */
export type RoutePoint = readonly [number, number, number];

const EARTH_RADIUS_M = 6_371_008.8;
const RAD = Math.PI / 180;

/** Great-circle distance in metres (haversine). */
export function haversineM(lat1: number, lng1: number, lat2: number, lng2: number): number {
  const dLat = (lat2 - lat1) * RAD;
  const dLng = (lng2 - lng1) * RAD;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

export interface Jump {
  /** Index of the segment's second point. */
  index: number;
  distanceM: number;
  seconds: number;
  /** Infinity when both points carry the same second. */
  speedMps: number;
}

export interface RouteStats {
  points: number;
  lengthM: number;
  /** Seconds from the first to the last point. */
  spanSec: number;
  /** Segments of at least `minJumpM` faster than `maxSpeedMps`. */
  jumps: Jump[];
}

/** One pass over the route: its length and the segments no body could cover in their time. */
export function routeStats(route: readonly RoutePoint[], maxSpeedMps: number, minJumpM: number): RouteStats {
  let lengthM = 0;
  const jumps: Jump[] = [];
  for (let i = 1; i < route.length; i++) {
    const a = route[i - 1]!;
    const b = route[i]!;
    const d = haversineM(a[0], a[1], b[0], b[1]);
    lengthM += d;
    if (d < minJumpM) continue;
    const dt = b[2] - a[2];
    const speed = dt > 0 ? d / dt : Number.POSITIVE_INFINITY;
    if (speed > maxSpeedMps) jumps.push({ index: i, distanceM: d, seconds: dt, speedMps: speed });
  }
  const spanSec = route.length > 1 ? route[route.length - 1]![2] - route[0]![2] : 0;
  return { points: route.length, lengthM, spanSec, jumps };
}

/**
 * Fingerprint of a route: its points snapped to a grid of `gridDeg` degrees (about 11 m
 * at 1e-4) with their seconds, hashed. The same trace resubmitted (under another id, or
 * by another account) has the same fingerprint; GPS noise of a real second run does not.
 */
export function routeFingerprint(route: readonly RoutePoint[], gridDeg: number): string {
  const h = createHash('sha256');
  const parts: string[] = [];
  for (const [lat, lng, s] of route) {
    parts.push(`${Math.round(lat / gridDeg)},${Math.round(lng / gridDeg)},${Math.round(s)}`);
    if (parts.length === 512) {
      h.update(parts.join(';'));
      parts.length = 0;
    }
  }
  h.update(parts.join(';'));
  return h.digest('base64url').slice(0, 32);
}
