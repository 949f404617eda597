/**
 * The follow policy on top of the plain graph (FollowsService): at most N follow requests
 * a user per 24 h, private profiles reached only through approved requests, and the feed
 * kept in step (backfill on follow, tidy on unfollow; the fan-out decision recounted).
 * Checking that the target exists and is not the caller is the route's job.
 */
import { AppError } from '../common/index.js';
import type { ActivitiesStore } from './activities.store.js';
import type { FeedService } from './feed.service.js';
import type { FollowsService } from './follows.service.js';
import type { FollowRequest, SocialRepository } from './social.repository.js';
import type { SocialStore } from './social.store.js';

/** What PUT /v1/users/{userId}/followers/me answers. */
export interface FollowOutcome {
  userId: string;
  followerId: string;
  /** True when the caller follows the user now. */
  following: boolean;
  /** True when something new was recorded (a follow, or a request). */
  created: boolean;
  /** Present for a private user: the follow waits for their approval. */
  requested?: true;
}

/** What the follow routes call (follows.routes.ts). */
export interface FollowPolicy {
  follow(followerId: string, userId: string): Promise<FollowOutcome>;
  /** Unfollows, or withdraws a pending request; true when something was removed. */
  unfollow(followerId: string, userId: string): Promise<boolean>;
}

export interface SocialSettings {
  /** Follow requests a user may make in `windowMs` (default 50 a day). */
  followLimit: number;
  windowMs: number;
}

export interface SocialDeps {
  follows: FollowsService;
  repo: SocialRepository;
  store: SocialStore;
  activities: ActivitiesStore;
  feed: FeedService;
  /** The profile's `private` flag (users context); undefined for a user without a profile. */
  isPrivate: (userId: string) => Promise<boolean>;
  now: () => number;
}

export class SocialService implements FollowPolicy {
  constructor(
    private readonly d: SocialDeps,
    private readonly settings: SocialSettings,
  ) {}

  async follow(followerId: string, userId: string): Promise<FollowOutcome> {
    const outcome = (following: boolean, created: boolean, requested = false): FollowOutcome => ({
      userId,
      followerId,
      following,
      created,
      ...(requested ? { requested: true as const } : {}),
    });
    if (await this.d.follows.isFollowing(followerId, userId)) return outcome(true, false);
    const isPrivate = await this.d.isPrivate(userId);
    if (isPrivate && (await this.d.repo.hasRequest(followerId, userId))) return outcome(false, false, true);

    const quota = await this.d.store.take(followerId, this.d.now(), this.settings.windowMs, this.settings.followLimit);
    if (!quota.ok) {
      throw new AppError('rate_limited', `at most ${this.settings.followLimit} follow requests a day`, {
        retryAfterS: Math.ceil(quota.retryAfterMs / 1000),
      });
    }
    let created = false;
    try {
      created = isPrivate
        ? await this.d.repo.addRequest(followerId, userId)
        : await this.d.follows.follow(followerId, userId);
    } finally {
      // A request that changed nothing (a concurrent twin won) or failed costs nothing.
      if (!created) await this.d.store.refund(followerId, quota.token);
    }
    if (isPrivate) return outcome(false, created, true);
    if (created) await this.afterFollow(followerId, userId);
    return outcome(true, created);
  }

  async unfollow(followerId: string, userId: string): Promise<boolean> {
    const [removed, withdrawn] = await Promise.all([
      this.d.follows.unfollow(followerId, userId),
      this.d.repo.removeRequest(followerId, userId),
    ]);
    if (removed) await this.afterUnfollow(followerId, userId);
    return removed || withdrawn;
  }

  /** The user approves a pending request; `created` false when the requester follows already. */
  async approve(userId: string, requesterId: string): Promise<FollowOutcome> {
    const pending = await this.d.repo.removeRequest(requesterId, userId);
    if (!pending && !(await this.d.follows.isFollowing(requesterId, userId))) {
      throw new AppError('not_found', `no follow request from ${requesterId}`);
    }
    const created = await this.d.follows.follow(requesterId, userId);
    if (created) await this.afterFollow(requesterId, userId);
    return { userId, followerId: requesterId, following: true, created };
  }

  /** The user removes a follower or declines their request; true when something was removed. */
  removeFollower(userId: string, followerId: string): Promise<boolean> {
    return this.unfollow(followerId, userId);
  }

  requests(userId: string, limit: number): Promise<FollowRequest[]> {
    return this.d.repo.requests(userId, limit);
  }

  async counts(userId: string): Promise<{ followers: number; following: number }> {
    const [followers, following] = await Promise.all([
      this.d.repo.followerCount(userId),
      this.d.repo.followingCount(userId),
    ]);
    return { followers, following };
  }

  private async afterFollow(followerId: string, userId: string): Promise<void> {
    await this.d.activities.forgetFollowerCount(userId);
    await this.d.feed.onFollow(followerId, userId);
  }

  private async afterUnfollow(followerId: string, userId: string): Promise<void> {
    await this.d.activities.forgetFollowerCount(userId);
    await this.d.feed.onUnfollow(followerId, userId);
  }
}
