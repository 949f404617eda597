--[[
  Releases a held event's points after a moderator dismissed its flags, exactly once, as
  if they had been awarded at the event's time: under the daily cap of the event's day.

  Steps:
    1. If the release ran before (KEYS[1] exists), return its stored outcome.
    2. Decide the award: ARGV[2] if given (rebuild re-applies the recorded one), else
       min(held, cap − the day's points); the rest is capped.
    3. On the all-time, day, week and month hashes (KEYS[2..5]): HINCRBY held minus the
       held points (not below 0), and points, capped, workouts + 1, distanceM,
       durationSec, calories as the apply script would have; refresh the period TTLs.
    4. Store "awarded:capped:dayTotal" in KEYS[1] (TTL ARGV[7]) and return it.

  KEYS[1] released marker (STRING)   KEYS[2] all-time totals (HASH)
  KEYS[3] day totals (HASH)          KEYS[4] ISO week totals (HASH)   KEYS[5] month totals (HASH)
  ARGV[1] held points   ARGV[2] forced award ('' = decide by the cap)   ARGV[3] daily cap
  ARGV[4] distanceM   ARGV[5] durationSec   ARGV[6] calories (integers)
  ARGV[7] marker TTL s   ARGV[8] day TTL s   ARGV[9] week TTL s   ARGV[10] month TTL s

  Returns {duplicate (0|1), awarded, capped, day total after}
]]
local stored = redis.call('GET', KEYS[1])
if stored then
  local a, c, d = string.match(stored, '^(%d+):(%d+):(%d+)$')
  return {1, tonumber(a), tonumber(c), tonumber(d)}
end

local held = tonumber(ARGV[1])
local dayTotal = tonumber(redis.call('HGET', KEYS[3], 'points') or '0')
local awarded
if ARGV[2] ~= '' then
  awarded = math.min(held, tonumber(ARGV[2]))
else
  awarded = math.max(0, math.min(held, tonumber(ARGV[3]) - dayTotal))
end
local capped = held - awarded

local ttls = {0, tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])}
for i = 2, 5 do
  local key = KEYS[i]
  if held > 0 then
    local v = redis.call('HINCRBY', key, 'held', -held)
    if v < 0 then redis.call('HSET', key, 'held', 0) end
  end
  redis.call('HINCRBY', key, 'points', awarded)
  redis.call('HINCRBY', key, 'workouts', 1)
  redis.call('HINCRBY', key, 'distanceM', ARGV[4])
  redis.call('HINCRBY', key, 'durationSec', ARGV[5])
  redis.call('HINCRBY', key, 'calories', ARGV[6])
  if capped > 0 then redis.call('HINCRBY', key, 'capped', capped) end
  if ttls[i - 1] > 0 then redis.call('EXPIRE', key, ttls[i - 1]) end
end

dayTotal = dayTotal + awarded
redis.call('SET', KEYS[1], awarded .. ':' .. capped .. ':' .. dayTotal, 'EX', ARGV[7])
return {0, awarded, capped, dayTotal}
