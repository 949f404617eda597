--[[
  Changes a challenge's capacity (run under the challenge lock), promoting waitlisted users
  in arrival order while there is room. Never drops a participant.

  Steps:
    1. No meta → {-1}. A newer lock holder already changed it (meta fence > ARGV[2]) → {-5}.
       Participants above the new capacity → {-4, participants}.
    2. HSET meta cap and fence; while participants < cap and the waitlist is not empty: ZPOPMIN the
       waitlist, ZADD to joined with its seq, give it the next version.

  KEYS[1]  meta (HASH cap, state, n)
  KEYS[2]  joined (ZSET userId → seq)
  KEYS[3]  waitlist (ZSET userId → seq)
  KEYS[4]  versions (HASH userId → ver)
  ARGV[1]  new capacity (integer ≥ 1)
  ARGV[2]  the caller's fencing token

  Returns {1, then per promoted user: id, seq, ver}, or {-1} not loaded, {-4, participants} too
  small, {-5} fenced out (a stale lock holder).
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
local fence = tonumber(ARGV[2])
if tonumber(redis.call('HGET', KEYS[1], 'fence') or '0') > fence then return {-5} end
local cap = tonumber(ARGV[1])
local joined = redis.call('ZCARD', KEYS[2])
if joined > cap then return {-4, joined} end
redis.call('HSET', KEYS[1], 'cap', cap, 'fence', fence)
local out = {1}
while redis.call('ZCARD', KEYS[2]) < cap do
  local p = redis.call('ZPOPMIN', KEYS[3])
  if #p == 0 then break end
  local v = redis.call('HINCRBY', KEYS[1], 'n', 1)
  redis.call('ZADD', KEYS[2], p[2], p[1])
  redis.call('HSET', KEYS[4], p[1], v)
  out[#out + 1] = p[1]
  out[#out + 1] = tonumber(p[2])
  out[#out + 1] = v
end
return out
