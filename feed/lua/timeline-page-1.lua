--[[
  One page of a timeline, newest first, above its floor; refreshes its TTL (a feed lives
  FEED_TTL_S from its last read).

  Steps:
    1. No sentinel, or sentinel -1 (loading): not cached: return nil (the caller loads it).
    2. ZREVRANGEBYSCORE from below ARGV[1] down to above the floor, at most ARGV[2] items.
    3. EXPIRE ARGV[3] s (0 = leave the TTL).

  KEYS[1] timeline (ZSET)
  ARGV[1] before: exclusive upper seq, or '+inf'    ARGV[2] limit    ARGV[3] TTL s

  Returns nil, or {floor, seq1, member1, seq2, member2, …}.
]]
local f = redis.call('ZSCORE', KEYS[1], '')
if not f or tonumber(f) < 0 then return nil end
local max = '+inf'
if ARGV[1] ~= '+inf' then max = '(' .. ARGV[1] end
local rows = redis.call('ZREVRANGEBYSCORE', KEYS[1], max, '(' .. f, 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
if ARGV[3] ~= '0' then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
local out = { f }
for i = 1, #rows, 2 do
  out[#out + 1] = rows[i + 1]
  out[#out + 1] = rows[i]
end
return out
