--[[
  Admits a user to a group unless it is full: the group's member set is the gate, so
  concurrent joins never admit more than the capacity (Postgres then records the member,
  with its own capacity check as the durable guard).

  Steps:
    1. Sentinel '' absent: the set is not cached: return -1 (load it, then retry).
    2. Already a member: return 0.
    3. Members (SCARD - 1 for the sentinel) >= ARGV[2]: return -2 (full).
    4. SADD the user and EXPIRE the set ARGV[3] s.

  KEYS[1] group members (SET, '' = loaded)
  ARGV[1] user id    ARGV[2] capacity    ARGV[3] TTL s

  Returns 1 admitted, 0 already a member, -1 not loaded, -2 full.
]]
if redis.call('SISMEMBER', KEYS[1], '') == 0 then return -1 end
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 0 end
if redis.call('SCARD', KEYS[1]) - 1 >= tonumber(ARGV[2]) then return -2 end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
