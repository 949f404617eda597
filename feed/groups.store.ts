/**
 * Group admission in Redis: the member set of a group is the gate that concurrent joins
 * pass one at a time (lua/group-join-1.lua), filled from Postgres on first use
 * (lua/group-fill-1.lua). Postgres records the member afterwards and has the last word.
 */
import { readFileSync } from 'node:fs';
import { projectPath } from '../common/index.js';
import type { Redis } from '../persistence/index.js';
import type { FeedKeys } from './keys.js';

const lua = (name: string) => readFileSync(projectPath('feed', 'lua', name), 'utf8');
const JOIN = lua('group-join-1.lua');
const FILL = lua('group-fill-1.lua');

export const GROUP_CACHE_TTL_S = 86_400;

interface GroupCommands {
  podiumFeedGroupJoin(key: string, userId: string, capacity: number, ttlS: number): Promise<number>;
  podiumFeedGroupFill(key: string, ttlS: number, ...members: string[]): Promise<number>;
}

export type Admission = 'admitted' | 'member' | 'not-loaded' | 'full';

export class GroupsStore {
  private readonly redis: Redis & GroupCommands;

  constructor(
    redis: Redis,
    private readonly keys: FeedKeys,
  ) {
    if (!('podiumFeedGroupJoin' in redis)) {
      redis.defineCommand('podiumFeedGroupJoin', { numberOfKeys: 1, lua: JOIN });
      redis.defineCommand('podiumFeedGroupFill', { numberOfKeys: 1, lua: FILL });
    }
    this.redis = redis as Redis & GroupCommands;
  }

  async join(groupId: string, userId: string, capacity: number): Promise<Admission> {
    const r = await this.redis.podiumFeedGroupJoin(
      this.keys.groupMembers(groupId),
      userId,
      capacity,
      GROUP_CACHE_TTL_S,
    );
    return r === 1 ? 'admitted' : r === 0 ? 'member' : r === -1 ? 'not-loaded' : 'full';
  }

  async fill(groupId: string, members: readonly string[]): Promise<void> {
    await this.redis.podiumFeedGroupFill(this.keys.groupMembers(groupId), GROUP_CACHE_TTL_S, ...members);
  }

  async remove(groupId: string, userId: string): Promise<void> {
    await this.redis.srem(this.keys.groupMembers(groupId), userId);
  }
}
