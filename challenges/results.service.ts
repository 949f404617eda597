/**
 * The end of a challenge: once its end + grace has passed, under the challenge's lock,
 * admission is closed in Redis, the final ranks of its board are archived with the
 * challenge's closing (one fenced transaction), the podium gets award records, and
 * `ChallengeWon` / `ChallengeCompleted` are emitted. Runs once across processes: the
 * BullMQ tick goes to one worker, the lock serialises the rest, and the fenced close
 * transaction refuses a second close and any stale lock holder.
 */
import type { DomainEvents } from '../common/index.js';
import type { AdmissionStore } from './admission.store.js';
import type { Challenge, ChallengesRepository, ResultRow } from './challenges.repository.js';
import type { ChallengesService } from './challenges.service.js';

/** A page of the challenge's board (`<metric>:alltime:challenge:<id>`), rank order, totals as scores. */
export type BoardReader = (
  metric: string,
  challengeId: string,
  offset: number,
  limit: number,
) => Promise<{ entries: Array<{ rank: number; userId: string; score: number }>; total: number }>;

export type AwardGranter = (input: {
  userId: string;
  kind: string;
  sourceRef: string;
  credits: number;
  meta: Record<string, unknown>;
}) => Promise<{
  awardId: string;
}>;

export interface ResultsSettings {
  /** Ends + this = when the close runs (late events still land first). */
  closeGraceMs: number;
  /** Ranks 1…winners get a `challenge.won` award and a ChallengeWon event. */
  winners: number;
  winCredits: number;
}

export interface ResultsDeps {
  repo: ChallengesRepository;
  store: AdmissionStore;
  challenges: ChallengesService;
  board: BoardReader;
  grantAward: AwardGranter;
  bus: DomainEvents;
  now: () => number;
  settings: ResultsSettings;
  log: { info: (obj: object, msg: string) => void; error: (obj: object, msg: string) => void };
}

const PAGE = 1000;

export class ResultsService {
  constructor(private readonly deps: ResultsDeps) {}

  /** The scheduler's tick: closes every due challenge; returns the ids it closed or finished. */
  async closeDue(): Promise<string[]> {
    const ids = await this.deps.repo.due(new Date(this.deps.now()), this.deps.settings.closeGraceMs);
    const done: string[] = [];
    for (const id of ids) {
      try {
        if (await this.close(id)) done.push(id);
      } catch (err) {
        this.deps.log.error({ err, challengeId: id }, 'challenge close failed');
      }
    }
    return done;
  }

  /** The periodic repair: every open challenge's Redis admissions recorded in Postgres (see ChallengesService.sweep). */
  async sweepOpen(): Promise<number> {
    let n = 0;
    for (const id of await this.deps.repo.openIds()) {
      const c = await this.deps.repo.find(id);
      if (c) n += await this.deps.challenges.sweep(c);
    }
    return n;
  }

  /** Closes one challenge (if due) and finishes its awards; true when it did work. */
  async close(id: string): Promise<boolean> {
    const { repo, challenges } = this.deps;
    const c = await repo.find(id);
    if (!c) return false;
    if (c.status === 'closed' && c.awardedAt) return false;
    return challenges.withLock(c, async (lease) => {
      const fresh = (await repo.find(id))!;
      if (fresh.status === 'closed' && fresh.awardedAt) return false; // done while we waited for the lock
      let closedNow = false;
      if (fresh.status === 'open') {
        if (this.deps.now() < +fresh.endsAt + this.deps.settings.closeGraceMs) return false;
        await challenges.ensureLoaded(fresh);
        await this.deps.store.markClosed(id); // no join or leave from here on
        await challenges.drain(); // this process's entry writes are in before the results
        await challenges.sweep(fresh); // and admissions whose process died before their commit
        const results = await this.finalRanks(fresh);
        lease.signal.throwIfAborted(); // the lock was lost: leave the close to its new holder
        closedNow = await repo.closeWithResults(id, lease.fence, results);
        if (closedNow) this.deps.log.info({ challengeId: id, ranked: results.length }, 'challenge closed');
      }
      await this.award((await repo.find(id))!);
      return true;
    });
  }

  /**
   * Final ranks: the challenge board (participants' events inside the window), then the
   * participants who recorded nothing, in arrival order, with score 0.
   */
  private async finalRanks(c: Challenge): Promise<ResultRow[]> {
    const participants = await this.deps.repo.entries(c.id, 'joined');
    const isParticipant = new Set(participants.map((p) => p.userId));
    const out: ResultRow[] = [];
    const ranked = new Set<string>();
    for (let offset = 0; ; offset += PAGE) {
      const page = await this.deps.board(c.metric, c.id, offset, PAGE);
      for (const e of page.entries) {
        if (!isParticipant.has(e.userId)) continue; // left before the end
        ranked.add(e.userId);
        out.push({ rank: out.length + 1, userId: e.userId, score: e.score });
      }
      if (page.entries.length < PAGE) break;
    }
    for (const p of participants) {
      if (!ranked.has(p.userId)) out.push({ rank: out.length + 1, userId: p.userId, score: 0 });
    }
    return out;
  }

  /** Award records for the podium (idempotent per user and challenge), then the events. */
  private async award(c: Challenge): Promise<void> {
    if (c.awardedAt) return;
    const { settings, bus, repo } = this.deps;
    const top = await repo.results(c.id, Math.max(settings.winners, 10));
    const winners = top.filter((r) => r.rank <= settings.winners && r.score > 0);
    for (const w of winners) {
      const { awardId } = await this.deps.grantAward({
        userId: w.userId,
        kind: 'challenge.won',
        sourceRef: `challenge:${c.id}`,
        credits: settings.winCredits,
        meta: { challengeId: c.id, name: c.name, rank: w.rank, score: w.score },
      });
      bus.emit('ChallengeWon', {
        challengeId: c.id,
        name: c.name,
        userId: w.userId,
        rank: w.rank,
        score: w.score,
        awardId,
      });
    }
    const counts = await repo.entryCounts(c.id);
    bus.emit('ChallengeCompleted', {
      challengeId: c.id,
      name: c.name,
      closedAt: (c.closedAt ?? new Date(this.deps.now())).toISOString(),
      participants: counts.joined,
      top: top.slice(0, 10),
    });
    await repo.markAwarded(c.id);
  }
}
