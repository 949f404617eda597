--[[
  Applies one workout to a user's counters, exactly once, under the daily points cap.

  Steps:
    1. If the event was applied before (KEYS[1] exists), return its stored outcome.
    2. Decide points: held → nothing counts; restore → the recorded award;
       otherwise award min(points, cap − today's points), the rest is capped.
    3. HINCRBY points/workouts/distanceM/durationSec/calories into the all-time,
       day, week and month hashes; refresh the period TTLs.
    4. Store the outcome under KEYS[1] (with its TTL) and return it.

  KEYS[1] applied marker (STRING)      KEYS[2] all-time totals (HASH)
  KEYS[3] day totals (HASH)            KEYS[4] ISO week totals (HASH)
  KEYS[5] month totals (HASH)
  ARGV[1] points before the cap        ARGV[2] daily cap
  ARGV[3] '1' if anti-cheat holds the points, else '0'
  ARGV[4] distanceM  ARGV[5] durationSec  ARGV[6] calories (integers)
  ARGV[7] marker TTL s  ARGV[8] day TTL s  ARGV[9] week TTL s  ARGV[10] month TTL s
  ARGV[11] forced award for rebuild ('' = decide by the cap)

  Returns {duplicate (0|1), awarded, capped, held, dayTotal, then for each of KEYS[2..5]
  its current points, workouts, distanceM, durationSec} — the absolute totals that
  leaderboards write (also on a duplicate, so a replay repairs a half-applied event).
]]
local function withTotals(reply)
  for i = 2, 5 do
    local v = redis.call('HMGET', KEYS[i], 'points', 'workouts', 'distanceM', 'durationSec')
    for j = 1, 4 do reply[#reply + 1] = tonumber(v[j] or '0') end
  end
  return reply
end

local stored = redis.call('GET', KEYS[1])
if stored then
  local a, c, h, d = string.match(stored, '^(%d+):(%d+):(%d+):(%d+)$')
  return withTotals({1, tonumber(a), tonumber(c), tonumber(h), tonumber(d)})
end

local points = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local dayTotal = tonumber(redis.call('HGET', KEYS[3], 'points') or '0')
local awarded, capped, held = 0, 0, 0

if ARGV[3] == '1' then
  held = points
else
  if ARGV[11] ~= '' then
    awarded = tonumber(ARGV[11])
  else
    awarded = math.max(0, math.min(points, cap - dayTotal))
  end
  capped = points - awarded
end

local ttls = {0, tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])}
for i = 2, 5 do
  local key = KEYS[i]
  if held > 0 then
    redis.call('HINCRBY', key, 'held', held)
  else
    redis.call('HINCRBY', key, 'points', awarded)
    redis.call('HINCRBY', key, 'workouts', 1)
    redis.call('HINCRBY', key, 'distanceM', ARGV[4])
    redis.call('HINCRBY', key, 'durationSec', ARGV[5])
    redis.call('HINCRBY', key, 'calories', ARGV[6])
    if capped > 0 then redis.call('HINCRBY', key, 'capped', capped) end
  end
  if ttls[i - 1] > 0 then redis.call('EXPIRE', key, ttls[i - 1]) end
end

dayTotal = dayTotal + awarded
redis.call('SET', KEYS[1], awarded .. ':' .. capped .. ':' .. held .. ':' .. dayTotal, 'EX', ARGV[7])
return withTotals({0, awarded, capped, held, dayTotal})
