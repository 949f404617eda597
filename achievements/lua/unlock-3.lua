--[[
  Claims achievement tiers for one cause, atomically: each tier is unlocked once,
  whatever the concurrency or the replays; and re-arms the thresholds the next workouts
  are checked against (see apply-workout-7.lua).

  Steps, for each (field, unlockedAt) pair:
    1. HSETNX field "<unlockedAt>|<ref>": the first claim wins; it raises the
       achievement's level (KEYS[2]) to the tier's rank (bronze 1 … platinum 4).
    2. If the field was already set by the same ref (a replay of the same event or
       award), it is still this cause's unlock: report it with its stored time.
    3. A field held by another ref is not reported.
    4. If ARGV[3] is not '': replace KEYS[3] by the given thresholds (computed by the
       caller as if every claim succeeded: a tier claimed by another cause is unlocked
       all the same).

  KEYS[1] unlocked tiers (HASH)   KEYS[2] levels: achievement id → highest rank (HASH)
  KEYS[3] next thresholds (HASH)
  ARGV[1] ref of the cause (`ev:<eventId>` or `aw:<awardId>`)
  ARGV[2] n claims   ARGV[3] catalogue version, or '' to leave KEYS[3] alone
  ARGV[4 .. 3 + 2n] pairs: field `<achievementId>:<tier>`, unlockedAt ms
  ARGV[4 + 2n ..] pairs: counter field, next threshold

  Returns a flat list {field, unlockedAt ms, new (1 = set now, 0 = set earlier by ref)}.
]]
local RANK = {bronze = 1, silver = 2, gold = 3, platinum = 4}
local ref = ARGV[1]
local n = tonumber(ARGV[2])
local out = {}
for i = 4, 3 + 2 * n, 2 do
  local field, at = ARGV[i], ARGV[i + 1]
  if redis.call('HSETNX', KEYS[1], field, at .. '|' .. ref) == 1 then
    local id, tier = string.match(field, '^(.*):(%a+)$')
    local rank = RANK[tier] or 0
    if rank > tonumber(redis.call('HGET', KEYS[2], id) or '0') then redis.call('HSET', KEYS[2], id, rank) end
    out[#out + 1] = field
    out[#out + 1] = at
    out[#out + 1] = 1
  else
    local current = redis.call('HGET', KEYS[1], field)
    local storedAt, storedRef = string.match(current, '^(%d+)|(.*)$')
    if storedRef == ref then
      out[#out + 1] = field
      out[#out + 1] = storedAt
      out[#out + 1] = 0
    end
  end
end
if ARGV[3] ~= '' then
  redis.call('DEL', KEYS[3])
  redis.call('HSET', KEYS[3], 'v', ARGV[3])
  for i = 4 + 2 * n, #ARGV, 2 do redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1]) end
end
return out
