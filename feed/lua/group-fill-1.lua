--[[
  Caches a group's member set from Postgres rows, unless it is cached already.

  Steps:
    1. If KEYS[1] exists, leave it (another request filled it, and joins since are in it).
    2. SADD the sentinel '' and the members (in slices: unpack has a stack limit), EXPIRE.

  KEYS[1] group members (SET)
  ARGV[1] TTL s    ARGV[2..] member ids

  Returns 1 when filled, 0 when it was cached.
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SADD', KEYS[1], '')
for i = 2, #ARGV, 1000 do
  redis.call('SADD', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
