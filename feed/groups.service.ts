/**
 * Groups (communities): create (the creator must be at least `minAge` by the date of birth
 * on their profile), join, leave, members. Capacity holds under any concurrency twice
 * over: Redis admits at most `capacity` members (one Lua script per join, so the herd is
 * turned away without touching Postgres), and Postgres counts them again in the
 * transaction that records the member, so even a stale or lost Redis set cannot overfill.
 */
import { AppError } from '../common/index.js';
import type { Group, GroupMember, GroupsRepository } from './groups.repository.js';
import type { GroupsStore } from './groups.store.js';

export interface GroupsSettings {
  /** Members a new group may hold (5,000). */
  capacity: number;
  /** Minimum age, in full years, to create a group (16). */
  minAge: number;
}

export interface GroupsDeps {
  repo: GroupsRepository;
  store: GroupsStore;
  /** The profile's date of birth (YYYY-MM-DD), undefined when unknown (users context). */
  birthDateOf: (userId: string) => Promise<string | undefined>;
  now: () => number;
}

/** Full years between a YYYY-MM-DD birth date and `now` (UTC). */
export function ageOn(birthDate: string, now: Date): number {
  const [y, m, d] = birthDate.split('-').map(Number) as [number, number, number];
  let age = now.getUTCFullYear() - y;
  const month = now.getUTCMonth() + 1;
  if (month < m || (month === m && now.getUTCDate() < d)) age--;
  return age;
}

export class GroupsService {
  /** Loads of member sets in flight: a herd of joins on a cold group loads it once per process. */
  private readonly loading = new Map<string, Promise<void>>();

  constructor(
    private readonly d: GroupsDeps,
    readonly settings: GroupsSettings,
  ) {}

  async create(creatorId: string, id: string, name: string): Promise<Group> {
    const birthDate = await this.d.birthDateOf(creatorId);
    if (!birthDate) {
      throw new AppError('forbidden', 'creating a group requires a date of birth on the profile', [
        { path: 'birthDate', message: 'is not on the profile' },
      ]);
    }
    if (ageOn(birthDate, new Date(this.d.now())) < this.settings.minAge) {
      throw new AppError('forbidden', `creating a group requires an age of at least ${this.settings.minAge}`);
    }
    const group = await this.d.repo.create(id, name, creatorId, this.settings.capacity);
    if (!group) throw new AppError('conflict', `group ${id} exists`);
    return group;
  }

  async get(id: string): Promise<Group> {
    const group = await this.d.repo.find(id);
    if (!group) throw new AppError('not_found', `no group ${id}`);
    return group;
  }

  /** Joins; `created` false when the user was a member already. Full → 409 capacity_full. */
  async join(groupId: string, userId: string): Promise<{ created: boolean }> {
    const group = await this.get(groupId);
    let admission = await this.d.store.join(groupId, userId, group.capacity);
    if (admission === 'not-loaded') {
      await this.load(groupId);
      admission = await this.d.store.join(groupId, userId, group.capacity);
    }
    if (admission === 'full') throw full(group);
    if (admission === 'not-loaded') throw new AppError('unavailable', 'group admission is busy, retry');
    // Recorded also for 'member': Redis may know of a member whose Postgres row never committed.
    let recorded: Awaited<ReturnType<GroupsRepository['addMember']>>;
    try {
      recorded = await this.d.repo.addMember(groupId, userId);
    } catch (err) {
      if (admission === 'admitted') await this.d.store.remove(groupId, userId).catch(() => {});
      throw err;
    }
    if (recorded === 'full') {
      await this.d.store.remove(groupId, userId);
      throw full(group);
    }
    return { created: recorded === 'added' };
  }

  private load(groupId: string): Promise<void> {
    let p = this.loading.get(groupId);
    if (!p) {
      p = (async () => this.d.store.fill(groupId, await this.d.repo.memberIds(groupId)))().finally(() =>
        this.loading.delete(groupId),
      );
      this.loading.set(groupId, p);
    }
    return p;
  }

  /** True when the user was a member. */
  async leave(groupId: string, userId: string): Promise<boolean> {
    await this.get(groupId);
    const removed = await this.d.repo.removeMember(groupId, userId);
    await this.d.store.remove(groupId, userId);
    return removed;
  }

  async members(groupId: string, after: string, limit: number): Promise<GroupMember[]> {
    await this.get(groupId);
    return this.d.repo.members(groupId, after, limit);
  }
}

function full(group: Group): AppError {
  return new AppError('capacity_full', `group ${group.id} is full (${group.capacity} members)`);
}
