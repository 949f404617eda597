--[[
  Raises a member's score on an unsharded board (ZADD GT) and tells how its rank moved,
  in one atomic step (for RankChanged).

  Steps:
    1. ZREVRANK of the member before (absent → 0).
    2. ZADD GT CH; nothing changed → return {0, 0, 0}.
    3. ZREVRANK after.

  KEYS[1]  board (ZSET)
  ARGV[1]  score (packed)   ARGV[2]  member (user id)

  Returns {changed (0|1), rank before (1-based, 0 = was not on the board), rank after (1-based)}
]]
local before = redis.call('ZREVRANK', KEYS[1], ARGV[2])
if redis.call('ZADD', KEYS[1], 'GT', 'CH', ARGV[1], ARGV[2]) == 0 then return {0, 0, 0} end
local after = redis.call('ZREVRANK', KEYS[1], ARGV[2])
return {1, before and before + 1 or 0, after + 1}
