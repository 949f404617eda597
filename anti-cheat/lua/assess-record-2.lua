--[[
  Records the verdict of one event and adds the workout to the user's history, once.

  Steps:
    1. SET the verdict marker KEYS[1] NX with its TTL. If it was set already (a replay,
       or a concurrent application of the same event), change nothing and return the
       stored verdict: the first decision stands.
    2. ZADD the workout to the history KEYS[2]; drop entries ending before ARGV[6] and
       all but the newest ARGV[5]; refresh the history TTL.

  KEYS[1] verdict marker (STRING)   KEYS[2] history (ZSET, score = end ms)
  ARGV[1] verdict JSON   ARGV[2] TTL s of marker and history
  ARGV[3] score (end ms)   ARGV[4] member   ARGV[5] entries kept   ARGV[6] oldest end kept (ms)

  Returns '' when recorded, else the verdict stored before.
]]
local set = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2])
if not set then
  return redis.call('GET', KEYS[1]) or ''
end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[6])
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -tonumber(ARGV[5]) - 1)
redis.call('EXPIRE', KEYS[2], ARGV[2])
return ''
