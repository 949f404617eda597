--[[
  Takes a user out of a challenge (participant or waitlisted) and, when a participant
  left, promotes the first waitlisted user while there is room, in the challenge's slot.

  Steps:
    1. No meta hash → {-1} (not loaded). Meta state not 'open' → {-2} (closed).
    2. ZREM from joined, else from the waitlist; in neither → {0} (nothing changed).
    3. The leaver's change takes the next counter value (its version); its versions field
       becomes the tombstone -ver, so the repair sweep can record a leave whose commit was lost.
    4. While participants < cap and the waitlist is not empty: ZPOPMIN the waitlist (lowest
       seq = first arrived), ZADD it to joined with its seq, give it the next version.

  KEYS[1]  meta (HASH cap, state, n)
  KEYS[2]  joined (ZSET userId → seq)
  KEYS[3]  waitlist (ZSET userId → seq)
  KEYS[4]  versions (HASH userId → ver; -ver once left)
  ARGV[1]  user id

  Returns {1 was joined | 2 was waitlisted, leaver's seq, leaver's ver, then per promoted user: id, seq, ver}
  or {0} not in the challenge, {-1} not loaded, {-2} closed.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
local meta = redis.call('HMGET', KEYS[1], 'cap', 'state')
if meta[2] ~= 'open' then return {-2} end
local user = ARGV[1]

local was = 1
local seq = redis.call('ZSCORE', KEYS[2], user)
if seq then
  redis.call('ZREM', KEYS[2], user)
else
  was = 2
  seq = redis.call('ZSCORE', KEYS[3], user)
  if not seq then return {0} end
  redis.call('ZREM', KEYS[3], user)
end
local ver = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[4], user, -ver)

local out = {was, tonumber(seq), ver}
local cap = tonumber(meta[1])
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
