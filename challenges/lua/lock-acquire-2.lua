--[[
  Takes a lock and hands out a fencing token, in one step (the lock's hash tag).

  Steps:
    1. SET lock token NX PX ttl; held by someone else → return 0.
    2. INCR the fencing counter; when it is not above ARGV[3] (the fence Postgres already
       holds: Redis lost the counter), set it to ARGV[3] + 1. Return it.

  KEYS[1]  lock (STRING holder token, PX ttl)
  KEYS[2]  fencing counter (STRING integer)
  ARGV[1]  random token of this holder
  ARGV[2]  TTL milliseconds
  ARGV[3]  floor: the largest fence already written to Postgres

  Returns the fencing token (≥ 1), or 0 when the lock is held.
]]
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
local f = redis.call('INCR', KEYS[2])
local floor = tonumber(ARGV[3])
if f <= floor then
  f = floor + 1
  redis.call('SET', KEYS[2], f)
end
return f
