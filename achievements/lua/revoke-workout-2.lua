--[[
  Takes a workout confirmed as cheating out of the user's achievement counters, once.

  Steps:
    1. If KEYS[1] exists (revoked before), return 0.
    2. Mark it (KEYS[1], TTL ARGV[5]); HINCRBY act.<a>.workouts −1, distanceM and
       durationSec by minus the workout's (never below 0), act.distinct −1 when the
       activity has no workout left, time.early / time.night −1 per the flags.
    Days, streak runs and personal records are not recomputed, and unlocked tiers stay.

  KEYS[1] revoke marker (STRING)   KEYS[2] counters (HASH)
  ARGV[1] activity   ARGV[2] distanceM (int)   ARGV[3] durationSec (int)
  ARGV[4] flags: 'e' early bird, 'n' night owl   ARGV[5] marker TTL s

  Returns 1 if the counters were moved now, 0 if revoked before.
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], '1', 'EX', ARGV[5])
local function down(field, by)
  local current = tonumber(redis.call('HGET', KEYS[2], field) or '0')
  local value = math.max(0, current - by)
  redis.call('HSET', KEYS[2], field, value)
  return value
end
local a = 'act.' .. ARGV[1] .. '.'
if down(a .. 'workouts', 1) == 0 then down('act.distinct', 1) end
down(a .. 'distanceM', tonumber(ARGV[2]))
down(a .. 'durationSec', tonumber(ARGV[3]))
if string.find(ARGV[4], 'e', 1, true) then down('time.early', 1) end
if string.find(ARGV[4], 'n', 1, true) then down('time.night', 1) end
return 1
