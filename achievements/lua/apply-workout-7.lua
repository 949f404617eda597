--[[
  Applies one workout to a user's achievement state, exactly once, and says whether the
  catalogue needs evaluating (returning the state it needs when it does).

  The counter fields the event can move and this activity's records are read once
  (HMGET) and the changed ones written back once (HSET) at the end of step 5.

  Steps:
    1. Running maxima from scoring's absolute totals (idempotent, also on a duplicate):
       field = max(current, value) for each ARGV pair.
    2. If the event was applied before (KEYS[1] exists) or is held (ARGV[1] = '0'),
       skip to 6.
    3. Mark it applied (KEYS[1], TTL ARGV[10]); add to act.<a>.workouts/distanceM/
       durationSec (and act.distinct on the activity's first workout) and time.early /
       time.night per the flags.
    4. Add the day to the runs of consecutive days (KEYS[3]): no-op if a run covers it;
       else merge with the run ending the day before and the run starting the day
       after. A new day bumps days.active (and days.weekend on a weekend); the merged
       run's length raises streak.longest. Only the newest ARGV[11] runs are kept.
    5. Personal records (KEYS[4]) per kind: distance (if > 0) and duration higher is
       better, pace (if given) lower is better; ties go to the earlier occurredAt, then
       the smaller event id, so the record is the same whatever the replay order.
       rec.any.distance / rec.any.duration keep the best over all activities.
    6. Decide whether to evaluate: always on a duplicate (to report its own unlocks);
       otherwise only if some touched counter, or this activity's record
       (rec.<a>.distance, rec.<a>.duration, and rec.<a>.pace as minus the pace, so
       that higher is better for all), reached the next threshold armed for it in
       KEYS[7] (or KEYS[7] is missing or of another catalogue version). Most events stop
       here with a four-item answer.
    7. Return the touched counters, this activity's records, and what is unlocked: the
       compact levels (KEYS[6]) on a first application, the full unlocked hash (whose
       refs tell which unlocks were this event's) on a duplicate.

  KEYS[1] applied marker (STRING)   KEYS[2] counters (HASH)   KEYS[3] runs (ZSET)
  KEYS[4] records (HASH)            KEYS[5] unlocked tiers (HASH, read only)
  KEYS[6] levels (HASH, read only)  KEYS[7] next thresholds (HASH, read only)
  ARGV[1] '1' count this workout, '0' held (read and maxima only)
  ARGV[2] activity   ARGV[3] distanceM (int)   ARGV[4] durationSec (int)
  ARGV[5] pace in centiseconds per km ('' if under 1 km)
  ARGV[6] occurredAt ms   ARGV[7] event id   ARGV[8] local day number
  ARGV[9] flags: 'w' weekend day, 'e' early bird, 'n' night owl (any combination)
  ARGV[10] marker TTL s   ARGV[11] runs kept   ARGV[12] catalogue version
  ARGV[13] n, then n pairs (counter field, absolute value) for step 1

  Returns {duplicate (0|1), newDay (0|1), {field, previous ('' if none), new value} for
  each record strictly improved, evaluate (0 no, 1 yes, 2 yes and re-arm: KEYS[7] was
  missing, stale or reached)} and, when evaluate is not 0, also
  {value of each touched counter: the ARGV pair fields in order, then act.<a>.workouts,
  act.<a>.distanceM, act.<a>.durationSec, time.early, time.night, days.active,
  days.weekend, streak.longest, act.distinct, rec.any.distance, rec.any.duration},
  {records <a>.distance, <a>.duration, <a>.pace ('' if none)}, HGETALL levels (first
  application) or HGETALL unlocked (duplicate)}.
]]
local marker, counters, runs, records, unlocked, levels, armed = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local activity = ARGV[2]
local function int(v) return string.format('%d', v) end

-- Every counter field this event can move, read once; written back once (dirty ones).
local n = tonumber(ARGV[13])
local fields = {}
for i = 0, n - 1 do fields[#fields + 1] = ARGV[14 + 2 * i] end
local a = 'act.' .. activity .. '.'
for _, f in ipairs({a .. 'workouts', a .. 'distanceM', a .. 'durationSec', 'time.early', 'time.night', 'days.active',
  'days.weekend', 'streak.longest', 'act.distinct', 'rec.any.distance', 'rec.any.duration'}) do
  fields[#fields + 1] = f
end
local raw = redis.call('HMGET', counters, unpack(fields))
local c, dirty = {}, {}
for i, f in ipairs(fields) do c[f] = tonumber(raw[i]) end
local function set(f, v)
  c[f] = v
  dirty[#dirty + 1] = f
end

for i = 0, n - 1 do
  local f, v = ARGV[14 + 2 * i], tonumber(ARGV[15 + 2 * i])
  if v > (c[f] or -1) then set(f, v) end
end

local own = redis.call('HMGET', records, activity .. '.distance', activity .. '.duration', activity .. '.pace')
local duplicate = redis.call('EXISTS', marker)
local newDay = 0
local changes = {}
local recordWrites = {}

if duplicate == 0 and ARGV[1] == '1' then
  redis.call('SET', marker, '1', 'EX', ARGV[10])
  local flags = ARGV[9]
  set(a .. 'workouts', (c[a .. 'workouts'] or 0) + 1)
  if c[a .. 'workouts'] == 1 then set('act.distinct', (c['act.distinct'] or 0) + 1) end
  set(a .. 'distanceM', (c[a .. 'distanceM'] or 0) + tonumber(ARGV[3]))
  set(a .. 'durationSec', (c[a .. 'durationSec'] or 0) + tonumber(ARGV[4]))
  if string.find(flags, 'e', 1, true) then set('time.early', (c['time.early'] or 0) + 1) end
  if string.find(flags, 'n', 1, true) then set('time.night', (c['time.night'] or 0) + 1) end

  -- Runs of consecutive days.
  local day = tonumber(ARGV[8])
  local startDay, endDay = day, day
  newDay = 1
  local before = redis.call('ZREVRANGEBYSCORE', runs, day, '-inf', 'LIMIT', 0, 1)[1]
  if before then
    local s, e = string.match(before, '^(-?%d+):(-?%d+)$')
    s, e = tonumber(s), tonumber(e)
    if e >= day then
      newDay = 0
    elseif e == day - 1 then
      startDay = s
      redis.call('ZREM', runs, before)
    end
  end
  if newDay == 1 then
    local after = redis.call('ZRANGEBYSCORE', runs, day + 1, day + 1)[1]
    if after then
      endDay = tonumber(string.match(after, ':(-?%d+)$'))
      redis.call('ZREM', runs, after)
    end
    redis.call('ZADD', runs, startDay, startDay .. ':' .. endDay)
    set('days.active', (c['days.active'] or 0) + 1)
    if string.find(flags, 'w', 1, true) then set('days.weekend', (c['days.weekend'] or 0) + 1) end
    local length = endDay - startDay + 1
    if length > (c['streak.longest'] or 0) then set('streak.longest', length) end
    local kept = tonumber(ARGV[11])
    local count = redis.call('ZCARD', runs)
    if count > kept then redis.call('ZREMRANGEBYRANK', runs, 0, count - kept - 1) end
  end

  -- Personal records.
  local at, eventId = tonumber(ARGV[6]), ARGV[7]
  local function consider(i, kind, value, lowerIsBetter)
    local current = own[i]
    local v = tonumber(value)
    local store, improved, previous = false, false, ''
    if not current then
      store, improved = true, true
    else
      local cv, cat, cid = string.match(current, '^(%d+)|(%d+)|(.*)$')
      cv, cat = tonumber(cv), tonumber(cat)
      previous = cv
      if v ~= cv then
        if lowerIsBetter then improved = v < cv else improved = v > cv end
        store = improved
      elseif at ~= cat then
        store = at < cat
      else
        store = eventId < cid
      end
    end
    local field = activity .. '.' .. kind
    if store then
      own[i] = value .. '|' .. ARGV[6] .. '|' .. eventId
      recordWrites[#recordWrites + 1] = field
      recordWrites[#recordWrites + 1] = own[i]
    end
    if not lowerIsBetter and v > (c['rec.any.' .. kind] or -1) then set('rec.any.' .. kind, v) end
    if improved then
      changes[#changes + 1] = field
      changes[#changes + 1] = tostring(previous)
      changes[#changes + 1] = value
    end
  end
  if tonumber(ARGV[3]) > 0 then consider(1, 'distance', ARGV[3], false) end
  consider(2, 'duration', ARGV[4], false)
  if ARGV[5] ~= '' then consider(3, 'pace', ARGV[5], true) end
end

if #dirty > 0 then
  local kv = {}
  for _, f in ipairs(dirty) do
    kv[#kv + 1] = f
    kv[#kv + 1] = int(c[f])
  end
  redis.call('HSET', counters, unpack(kv))
end
if #recordWrites > 0 then redis.call('HSET', records, unpack(recordWrites)) end

local counted = #fields
local armable = {}
for i, f in ipairs(fields) do armable[i] = c[f] or 0 end
local r = 'rec.' .. activity .. '.'
for i, kind in ipairs({'distance', 'duration', 'pace'}) do
  fields[#fields + 1] = r .. kind
  local v = own[i] and tonumber(string.match(own[i], '^(%d+)|')) or nil
  if v and kind == 'pace' then v = -v end
  armable[#armable + 1] = v or false
  own[i] = own[i] or ''
end

local evaluate = 0
if duplicate == 1 then
  evaluate = 1
else
  local next = redis.call('HMGET', armed, 'v', unpack(fields))
  if next[1] ~= ARGV[12] then
    evaluate = 2
  else
    for i = 1, #fields do
      if next[i + 1] and armable[i] and armable[i] >= tonumber(next[i + 1]) then
        evaluate = 2
        break
      end
    end
  end
end
if evaluate == 0 then return {duplicate, newDay, changes, 0} end

local values = {}
for i = 1, counted do values[i] = int(armable[i]) end

local tiers
if duplicate == 1 then tiers = redis.call('HGETALL', unlocked) else tiers = redis.call('HGETALL', levels) end
return {duplicate, newDay, changes, evaluate, values, own, tiers}
