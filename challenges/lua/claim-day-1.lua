--[[
  Claims one of a user's challenge slots for a start day ("at most N challenges that start
  on the same day"), in the user's slot {u:<id>}.

  Steps:
    1. The challenge is in the set already → return 2 (a repeated join keeps its claim).
    2. SCARD ≥ limit → return 0 (over the limit, nothing changed).
    3. SADD, EXPIRE → return 1.

  KEYS[1]  the user's claims for the day (SET of challenge ids)
  ARGV[1]  challenge id
  ARGV[2]  limit
  ARGV[3]  TTL seconds

  Returns 1 claimed now, 2 already claimed, 0 over the limit.
]]
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 2 end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
