--[[
  Adds one operation's contribution (a workout event, or an anti-cheat adjustment) to a
  user's board tallies, exactly once, and returns the tallies' absolute values.

  Variable key count: n = 1 + number of tallies (every key in the user's slot {u:<id>}).

  Steps:
    1. SADD the op id to the seen set KEYS[1]. Already there → change nothing (duplicate),
       but still return the current values, so a replay can repair a half-written board.
    2. Otherwise, for each tally KEYS[2..n]: HINCRBY each metric by its delta (a result
       below 0 becomes 0); for a positive delta, raise the metric's reached-at field to
       ARGV[6] unless it is later already (reached-at = the latest moment of an event
       that raised the total: order-independent, so a rebuild reproduces it).
    3. EXPIRE each tally when asked (relative seconds: the engine's clock and Redis's
       may differ); EXPIRE the seen set.

  KEYS[1]     seen op ids (SET)
  KEYS[2..n]  tallies (HASH p pa w wa d da s sa: points, workouts, distance m, duration s,
              each with the unix second it was reached)
  ARGV[1]     op id
  ARGV[2..5]  deltas for p, w, d, s (integers, may be negative)
  ARGV[6]     moment of the operation, unix seconds
  ARGV[7]     TTL of the seen set, seconds
  ARGV[8..]   TTL s per tally in KEYS order; 0 = leave the TTL as it is

  Returns {duplicate (0|1), then for each tally: p, pa, w, wa, d, da, s, sa}
]]
local fields = {'p', 'w', 'd', 's'}
local duplicate = redis.call('SADD', KEYS[1], ARGV[1]) == 0
local at = tonumber(ARGV[6])

if not duplicate then
  for i = 2, #KEYS do
    local key = KEYS[i]
    for j = 1, 4 do
      local delta = tonumber(ARGV[1 + j])
      if delta ~= 0 then
        local f = fields[j]
        local v = redis.call('HINCRBY', key, f, delta)
        if v < 0 then redis.call('HSET', key, f, 0) end
        if delta > 0 then
          local prev = tonumber(redis.call('HGET', key, f .. 'a') or '-1')
          if at > prev then redis.call('HSET', key, f .. 'a', at) end
        end
      end
    end
    local ttl = tonumber(ARGV[6 + i])
    if ttl > 0 then redis.call('EXPIRE', key, ttl) end
  end
  redis.call('EXPIRE', KEYS[1], ARGV[7])
end

local reply = {duplicate and 1 or 0}
for i = 2, #KEYS do
  local v = redis.call('HMGET', KEYS[i], 'p', 'pa', 'w', 'wa', 'd', 'da', 's', 'sa')
  for j = 1, 8 do reply[#reply + 1] = tonumber(v[j] or '0') end
end
return reply
