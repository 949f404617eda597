--[[
  Applies one committed follow or unfollow to a user's cached follow set.

  Steps:
    1. INCR the generation KEYS[2] (and refresh its TTL), so a fill that read Postgres
       before this change does not store its stale rows.
    2. If the set KEYS[1] is cached, SADD or SREM the member; if not, nothing (the next
       read loads it from Postgres, which has the change).

  KEYS[1] follow set (SET)       KEYS[2] generation (STRING)
  ARGV[1] 'add' | 'remove'       ARGV[2] member (user id)     ARGV[3] TTL s

  Returns 1 when the cached set changed, else 0.
]]
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] == 'add' then return redis.call('SADD', KEYS[1], ARGV[2]) end
return redis.call('SREM', KEYS[1], ARGV[2])
