/**
 * Demo mode (`npm start -- --demo`): a few hundred simulated athletes using the engine's
 * public HTTP API exactly as real clients would — profiles, follows, posts, workouts
 * (a few of them cheating, so the moderation queue fills) and a running challenge.
 *
 * Athletes never overlap their own workouts or exceed a handful per hour (anti-cheat would
 * rightly flag them), so the simulator replays the last three hours of each athlete's day
 * first, at up to DEMO_RATE workouts/s, then keeps pace with the clock (about one workout
 * per athlete every 45 minutes: 300 athletes make one every ~9 s).
 */
import { mintToken } from '../../common/index.js';
import { DEMO_ADMIN, type DemoAthlete, demoRoster, seededRandom } from './roster.js';
import { makeWorkout, randomDurationSec } from './workouts.js';

export const DEMO_CHALLENGE_ID = 'demo-challenge';
/** How far back the athletes' timelines start, so the boards fill within minutes. */
const HISTORY_MS = 3 * 3_600_000;
const TICK_MS = 200;
const SETUP_CONCURRENCY = 8;

const POSTS = [
  'New personal best today!',
  'Legs are done. Worth it.',
  'Rain run, nobody else out there.',
  'Recovery day, easy does it.',
  'Who is in for the weekend long one?',
  'Coffee first, then intervals.',
];

export interface DemoLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface DemoOptions {
  /** The engine's own address, e.g. http://127.0.0.1:3000. */
  baseUrl: string;
  /** JWT_SECRET: the simulator mints its athletes' tokens like any identity service would. */
  secret: string;
  athletes: number;
  /** Workouts per second at most. */
  rate: number;
  log: DemoLog;
  seed?: number;
  now?: () => number;
}

interface Scheduled {
  athlete: DemoAthlete;
  /** When this athlete's next workout ends (ms). */
  nextEnd: number;
  durationSec: number;
}

export interface DemoCounters {
  workouts: number;
  posts: number;
  follows: number;
  joined: number;
  failures: number;
}

export class DemoSimulator {
  readonly roster: DemoAthlete[];
  readonly counters: DemoCounters = { workouts: 0, posts: 0, follows: 0, joined: 0, failures: 0 };
  private readonly rnd: () => number;
  private readonly now: () => number;
  private readonly tokens = new Map<string, Promise<string>>();
  private queue: Scheduled[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private budget = 0;
  challengeReady = false;

  constructor(private readonly opts: DemoOptions) {
    this.roster = demoRoster(opts.athletes, opts.seed ?? 42);
    this.rnd = seededRandom((opts.seed ?? 42) + 1);
    this.now = opts.now ?? Date.now;
  }

  /** Profiles, follows and the challenge first (awaited), then workouts in the background. */
  async start(): Promise<void> {
    const started = this.now();
    await this.forEach(this.roster, (a) =>
      this.call('PUT', `/v1/users/${a.id}`, this.serviceToken(), {
        displayName: a.displayName,
        region: a.region,
        timezone: a.timezone,
      }),
    );
    await this.forEach(this.roster, (a) => this.followSome(a));
    await this.setUpChallenge();
    const now = this.now();
    this.queue = this.roster
      .map((athlete) => ({ athlete, nextEnd: now - this.rnd() * HISTORY_MS, durationSec: randomDurationSec(this.rnd) }))
      .sort((a, b) => a.nextEnd - b.nextEnd);
    this.opts.log.info(
      { athletes: this.roster.length, ms: this.now() - started, challenge: this.challengeReady, ...this.counters },
      'demo: athletes ready, workouts starting',
    );
    if (this.stopped) return; // stopped while setting up
    this.timer = setInterval(() => {
      if (this.running) return; // the engine is behind: wait rather than pile up requests
      this.running = this.tick().finally(() => {
        this.running = undefined;
      });
    }, TICK_MS);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** Sends the workouts that are due, at most DEMO_RATE per second. */
  async tick(): Promise<void> {
    // At most one second's worth saved up (and at least one workout, for rates below 1/s).
    this.budget = Math.min(Math.max(1, this.opts.rate), this.budget + (this.opts.rate * TICK_MS) / 1000);
    const now = this.now();
    const due: Scheduled[] = [];
    while (this.budget >= 1 && this.queue.length > 0 && this.queue[0]!.nextEnd <= now) {
      due.push(this.queue.shift()!);
      this.budget -= 1;
    }
    await Promise.all(due.map((s) => this.workout(s)));
    for (const s of due) this.reschedule(s);
  }

  private async workout(s: Scheduled): Promise<void> {
    const event = makeWorkout(s.athlete, s.nextEnd, this.rnd, { durationSec: s.durationSec });
    const res = await this.call('POST', '/v1/events', this.serviceToken(), event);
    if (res.ok) this.counters.workouts++;
    if (res.ok && this.rnd() < 0.1) {
      const text = POSTS[Math.floor(this.rnd() * POSTS.length)]!;
      if ((await this.call('POST', '/v1/posts', await this.tokenOf(s.athlete.id), { text })).ok) this.counters.posts++;
    }
  }

  /**
   * The next workout starts 5–25 min after this one ended: never overlapping, never more than
   * a few an hour (anti-cheat flags both), yet often enough that the boards keep moving.
   */
  private reschedule(s: Scheduled): void {
    s.durationSec = randomDurationSec(this.rnd);
    s.nextEnd += (5 + this.rnd() * 20) * 60_000 + s.durationSec * 1000;
    if (this.stopped) return;
    let i = this.queue.findIndex((q) => q.nextEnd > s.nextEnd);
    if (i < 0) i = this.queue.length;
    this.queue.splice(i, 0, s);
  }

  /** Each athlete follows 3–8 others, mostly from their own region. */
  private async followSome(a: DemoAthlete): Promise<void> {
    const token = await this.tokenOf(a.id);
    const count = 3 + Math.floor(this.rnd() * 6);
    for (let k = 0; k < count; k++) {
      const other = this.roster[Math.floor(this.rnd() * this.roster.length)]!;
      if (other.id === a.id) continue;
      if ((await this.call('PUT', `/v1/users/${other.id}/followers/me`, token)).ok) this.counters.follows++;
    }
  }

  /** A week-long distance challenge that a third of the athletes rush to join; skipped without the API. */
  private async setUpChallenge(): Promise<void> {
    const admin = await mintToken(this.opts.secret, { sub: DEMO_ADMIN, roles: ['admin'] });
    const existing = await this.call('GET', `/v1/challenges/${DEMO_CHALLENGE_ID}`, admin);
    if (!existing.ok) {
      const created = await this.call('POST', '/v1/challenges', admin, {
        id: DEMO_CHALLENGE_ID,
        name: 'Demo week: most distance',
        metric: 'distance',
        startsAt: new Date(this.now() - HISTORY_MS - 3_600_000).toISOString(),
        endsAt: new Date(this.now() + 7 * 86_400_000).toISOString(),
        capacity: Math.max(10, Math.round(this.roster.length / 4)),
      });
      if (!created.ok) {
        this.opts.log.warn({ status: created.status }, 'demo: no challenges API, running without a challenge');
        return;
      }
    }
    this.challengeReady = true;
    const joiners = this.roster.filter(() => this.rnd() < 0.33);
    await this.forEach(joiners, async (a) => {
      const res = await this.call('POST', `/v1/challenges/${DEMO_CHALLENGE_ID}/join`, await this.tokenOf(a.id));
      if (res.ok) this.counters.joined++;
    });
  }

  private serviceToken(): Promise<string> {
    return this.token('demo-simulator', 'service');
  }

  private tokenOf(userId: string): Promise<string> {
    return this.token(userId, 'user');
  }

  private token(sub: string, role: 'user' | 'service'): Promise<string> {
    const key = `${role}:${sub}`;
    let t = this.tokens.get(key);
    if (!t) {
      t = mintToken(this.opts.secret, { sub, roles: [role] }, '7d');
      this.tokens.set(key, t);
    }
    return t;
  }

  private async call(method: string, path: string, token: string | Promise<string>, body?: unknown) {
    try {
      const res = await fetch(`${this.opts.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${await token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok && res.status !== 404) {
        this.counters.failures++;
        if (this.counters.failures <= 5 || this.counters.failures % 100 === 0) {
          this.opts.log.warn({ method, path, status: res.status, body: text.slice(0, 200) }, 'demo: request refused');
        }
      }
      return { ok: res.ok, status: res.status };
    } catch (err) {
      this.counters.failures++;
      if (!this.stopped) this.opts.log.warn({ method, path, err: (err as Error).message }, 'demo: request failed');
      return { ok: false, status: 0 };
    }
  }

  private async forEach<T>(items: T[], fn: (item: T) => Promise<unknown>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < items.length && !this.stopped) await fn(items[next++]!);
    };
    await Promise.all(Array.from({ length: SETUP_CONCURRENCY }, worker));
  }
}
