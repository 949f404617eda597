--[[
  Fills a user's cached follow set from Postgres rows, unless a change raced the read.

  Steps:
    1. If the generation KEYS[2] differs from ARGV[1] (the value read before the rows),
       a follow or unfollow committed meanwhile: fill nothing (the next read loads again).
    2. If the set KEYS[1] exists already, leave it (another reader filled it).
    3. Otherwise SADD the sentinel '' and the members, and EXPIRE it.

  KEYS[1] follow set (SET)       KEYS[2] generation (STRING)
  ARGV[1] generation read before the Postgres query ('0' when absent)
  ARGV[2] TTL s                  ARGV[3..] members

  Returns 1 when the set holds the rows now (filled or found), 0 when skipped.
]]
if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[1] then return 0 end
if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end
redis.call('SADD', KEYS[1], '')
for i = 3, #ARGV, 1000 do -- in slices: unpack has a stack limit
  redis.call('SADD', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
