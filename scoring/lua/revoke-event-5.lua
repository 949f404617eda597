--[[
  Takes a confirmed cheat's contribution back out of a user's counters, exactly once
  (anti-cheat's compensation; the event's recorded outcome gives the amounts).

  Steps:
    1. If the revocation ran before (KEYS[1] exists), change nothing and return the
       current figures.
    2. For the all-time, day, week and month hashes (KEYS[2..5]) that exist (a period
       hash past its TTL has nothing left to correct): HINCRBY minus the event's points,
       capped, held, workouts, distanceM, durationSec and calories; a field that would
       fall below 0 is set to 0. TTLs are left as they are.
    3. Set the marker KEYS[1] (TTL ARGV[8]) and return the figures.

  KEYS[1] revoked marker (STRING)   KEYS[2] all-time totals (HASH)
  KEYS[3] day totals (HASH)         KEYS[4] ISO week totals (HASH)   KEYS[5] month totals (HASH)
  ARGV[1] awarded points   ARGV[2] capped points   ARGV[3] held points
  ARGV[4] workouts (1 if the event counted, 0 if it was held)
  ARGV[5] distanceM   ARGV[6] durationSec   ARGV[7] calories (integers; 0 when held)
  ARGV[8] marker TTL s

  Returns {duplicate (0|1), all-time points, workouts, distanceM, durationSec, held,
  day points, day held}
]]
local function figures(dup)
  local t = redis.call('HMGET', KEYS[2], 'points', 'workouts', 'distanceM', 'durationSec', 'held')
  local d = redis.call('HMGET', KEYS[3], 'points', 'held')
  local reply = {dup}
  for i = 1, 5 do reply[#reply + 1] = tonumber(t[i] or '0') end
  for i = 1, 2 do reply[#reply + 1] = tonumber(d[i] or '0') end
  return reply
end

if redis.call('EXISTS', KEYS[1]) == 1 then return figures(1) end

local fields = {
  {'points', tonumber(ARGV[1])}, {'capped', tonumber(ARGV[2])}, {'held', tonumber(ARGV[3])},
  {'workouts', tonumber(ARGV[4])}, {'distanceM', tonumber(ARGV[5])}, {'durationSec', tonumber(ARGV[6])},
  {'calories', tonumber(ARGV[7])},
}
for i = 2, 5 do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    for _, f in ipairs(fields) do
      if f[2] ~= 0 then
        local v = redis.call('HINCRBY', KEYS[i], f[1], -f[2])
        if v < 0 then redis.call('HSET', KEYS[i], f[1], 0) end
      end
    end
  end
end
redis.call('SET', KEYS[1], '1', 'EX', ARGV[8])
return figures(0)
