/**
 * The demo's cast, derived from a seed so the web routes (which list demo users to sign in
 * as) and the simulator (which makes them work out) agree without sharing state.
 */

export const REGION_CITIES = {
  'eu-west': { timezone: 'Europe/Amsterdam', center: [52.3676, 4.9041] },
  'us-east': { timezone: 'America/New_York', center: [40.7812, -73.9665] },
  'ap-southeast': { timezone: 'Asia/Singapore', center: [1.2903, 103.852] },
} as const;
export type DemoRegion = keyof typeof REGION_CITIES;
export const DEMO_REGIONS = Object.keys(REGION_CITIES) as DemoRegion[];

/** How a cheater cheats (each trips a different anti-cheat rule). */
export const CHEATS = ['car', 'teleport', 'flat_heart', 'inflated_distance'] as const;
export type Cheat = (typeof CHEATS)[number];

export interface DemoAthlete {
  id: string;
  displayName: string;
  region: DemoRegion;
  timezone: string;
  /** Where their routes start: near their region's city. */
  home: [number, number];
  weightKg: number;
  /** Average heart rate at an easy effort; harder efforts add to it. */
  easyHr: number;
  /** Speed multiplier of the athlete (0.8 casual … 1.3 club runner). */
  fitness: number;
  favourite: 'run' | 'walk' | 'cycle' | 'swim' | 'strength' | 'yoga' | 'hiit';
  cheat?: Cheat;
}

export const DEMO_MODERATOR = 'demo-moderator';
export const DEMO_ADMIN = 'demo-admin';

/** A small seeded generator (mulberry32): the same seed gives the same cast and workouts. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = [
  'Ada',
  'Bram',
  'Chen',
  'Dara',
  'Eli',
  'Fenna',
  'Gus',
  'Hana',
  'Ivo',
  'Jun',
  'Kai',
  'Lena',
  'Milo',
  'Noor',
  'Omar',
  'Pia',
  'Quinn',
  'Rosa',
  'Sami',
  'Tess',
  'Uma',
  'Vik',
  'Wen',
  'Yara',
  'Zoe',
];
const LAST = [
  'Bakker',
  'Cruz',
  'Dijkstra',
  'Evans',
  'Fischer',
  'Garcia',
  'Hughes',
  'Ito',
  'Jansen',
  'Kim',
  'Lopez',
  'Meyer',
  'Nguyen',
  'Okafor',
  'Patel',
  'Rossi',
  'Singh',
  'Tan',
  'Visser',
  'Wong',
];
const FAVOURITES: DemoAthlete['favourite'][] = [
  'run',
  'run',
  'run',
  'cycle',
  'cycle',
  'walk',
  'swim',
  'hiit',
  'strength',
  'yoga',
];

/** `count` athletes spread over the regions; about one in thirty cheats (at least three). */
export function demoRoster(count: number, seed = 42): DemoAthlete[] {
  const rnd = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const cheaters = Math.max(3, Math.round(count / 30));
  const athletes: DemoAthlete[] = [];
  for (let i = 0; i < count; i++) {
    const region = DEMO_REGIONS[i % DEMO_REGIONS.length]!;
    const city = REGION_CITIES[region];
    const athlete: DemoAthlete = {
      id: `athlete-${String(i + 1).padStart(3, '0')}`,
      displayName: `${pick(FIRST)} ${pick(LAST)}`,
      region,
      timezone: city.timezone,
      // Within ~5 km of the city centre.
      home: [city.center[0] + (rnd() - 0.5) * 0.09, city.center[1] + (rnd() - 0.5) * 0.14],
      weightKg: Math.round(55 + rnd() * 35),
      easyHr: Math.round(115 + rnd() * 20),
      fitness: 0.8 + rnd() * 0.5,
      favourite: pick(FAVOURITES),
    };
    // The last few athletes cheat, one way each, in turn.
    if (i >= count - cheaters) athlete.cheat = CHEATS[(count - 1 - i) % CHEATS.length];
    athletes.push(athlete);
  }
  return athletes;
}
