/**
 * GPS fixture generator for the rule tests: real-looking traces (a point every few
 * seconds, a few metres of seeded GPS noise) along a straight line or around a loop at a
 * given speed, and the edits a cheater makes (a teleport).
 */
import type { RoutePoint } from '../geo.js';

const EARTH_RADIUS_M = 6_371_008.8;
const RAD = Math.PI / 180;

/** Deterministic noise (mulberry32), so a fixture is the same on every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The point `distanceM` from (lat, lng) along `bearingDeg` (great circle). */
export function destination(lat: number, lng: number, bearingDeg: number, distanceM: number): [number, number] {
  const d = distanceM / EARTH_RADIUS_M;
  const b = bearingDeg * RAD;
  const p1 = lat * RAD;
  const l1 = lng * RAD;
  const p2 = Math.asin(Math.sin(p1) * Math.cos(d) + Math.cos(p1) * Math.sin(d) * Math.cos(b));
  const l2 = l1 + Math.atan2(Math.sin(b) * Math.sin(d) * Math.cos(p1), Math.cos(d) - Math.sin(p1) * Math.sin(p2));
  return [p2 / RAD, ((l2 / RAD + 540) % 360) - 180];
}

export interface TraceOptions {
  /** Start point; default the Vondelpark, Amsterdam. */
  start?: [number, number];
  speedMps: number;
  durationSec: number;
  /** Seconds between fixes (watches record every 1–5 s). */
  everySec?: number;
  /** Random GPS error per fix, metres (typical 2–5 m outdoors). */
  jitterM?: number;
  seed?: number;
}

const VONDELPARK: [number, number] = [52.358, 4.868];

function jittered(p: [number, number], jitterM: number, rand: () => number): [number, number] {
  if (jitterM <= 0) return p;
  return destination(p[0], p[1], rand() * 360, rand() * jitterM);
}

function round(p: [number, number], s: number): RoutePoint {
  return [Math.round(p[0] * 1e6) / 1e6, Math.round(p[1] * 1e6) / 1e6, s];
}

/** Along a straight line heading `bearingDeg`. */
export function lineTrace(o: TraceOptions & { bearingDeg?: number }): RoutePoint[] {
  const every = o.everySec ?? 5;
  const rand = rng(o.seed ?? 1);
  const [lat, lng] = o.start ?? VONDELPARK;
  const out: RoutePoint[] = [];
  for (let s = 0; s <= o.durationSec; s += every) {
    const p = destination(lat, lng, o.bearingDeg ?? 60, o.speedMps * s);
    out.push(round(jittered(p, o.jitterM ?? 3, rand), s));
  }
  return out;
}

/** Laps around a circle of `radiusM` (a park loop, a track). */
export function loopTrace(o: TraceOptions & { radiusM: number }): RoutePoint[] {
  const every = o.everySec ?? 5;
  const rand = rng(o.seed ?? 2);
  const [lat, lng] = o.start ?? VONDELPARK;
  const out: RoutePoint[] = [];
  for (let s = 0; s <= o.durationSec; s += every) {
    const angle = ((o.speedMps * s) / o.radiusM / RAD) % 360;
    const p = destination(lat, lng, angle, o.radiusM);
    out.push(round(jittered(p, o.jitterM ?? 3, rand), s));
  }
  return out;
}

/** A cheater's edit: every point from `index` on moved `offsetM` along `bearingDeg` (a jump between two fixes). */
export function teleport(route: RoutePoint[], index: number, offsetM: number, bearingDeg = 60): RoutePoint[] {
  return route.map((p, i) => (i < index ? p : round(destination(p[0], p[1], bearingDeg, offsetM), p[2])));
}
