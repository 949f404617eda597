--[[
  Admits one user to a challenge, atomically in the challenge's slot {c:<id>}.

  Steps:
    1. No meta hash → return {-1} (state not loaded: the caller loads it from Postgres, retries).
    2. Meta state not 'open' → return {-2} (closed).
    3. Already joined or waitlisted → change nothing, return the current status (dedupe).
    4. Otherwise take the next admission number n (HINCRBY meta n): it is the user's
       arrival seq and the entry's version. Fewer participants than `cap` → joined;
       else, when the waitlist is below ARGV[2] (0 = no limit) → waitlisted at the end
       (FIFO by seq); else return {-3} (waitlist full) with nothing changed.

  KEYS[1]  meta (HASH cap, state, n)
  KEYS[2]  joined (ZSET userId → seq)
  KEYS[3]  waitlist (ZSET userId → seq)
  KEYS[4]  versions (HASH userId → ver)
  ARGV[1]  user id
  ARGV[2]  most users on the waitlist (0 = unlimited)

  Returns {duplicate (0|1), status (1 joined | 2 waitlisted), seq, ver, position (waitlist, 0 when joined)}
  or {-1} not loaded, {-2} closed, {-3} waitlist full.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
local meta = redis.call('HMGET', KEYS[1], 'cap', 'state')
if meta[2] ~= 'open' then return {-2} end
local user = ARGV[1]

local s = redis.call('ZSCORE', KEYS[2], user)
if s then return {1, 1, tonumber(s), tonumber(redis.call('HGET', KEYS[4], user) or s), 0} end
s = redis.call('ZSCORE', KEYS[3], user)
if s then
  return {1, 2, tonumber(s), tonumber(redis.call('HGET', KEYS[4], user) or s), redis.call('ZRANK', KEYS[3], user) + 1}
end

local cap = tonumber(meta[1])
if redis.call('ZCARD', KEYS[2]) < cap then
  local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
  redis.call('ZADD', KEYS[2], n, user)
  redis.call('HSET', KEYS[4], user, n)
  return {0, 1, n, n, 0}
end
local maxWait = tonumber(ARGV[2])
local waiting = redis.call('ZCARD', KEYS[3])
if maxWait > 0 and waiting >= maxWait then return {-3} end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('ZADD', KEYS[3], n, user)
redis.call('HSET', KEYS[4], user, n)
-- n is the largest seq so far, so the new entry is last: its position is the new size.
return {0, 2, n, n, waiting + 1}
