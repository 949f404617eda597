--[[
  Pushes one activity into several timelines (home feeds) at once: the fan-out's unit of
  work. A timeline is a ZSET seq → '<activityId>:<actorId>' whose sentinel member '' holds
  its floor as score: the timeline has every activity of its feed above the floor (older
  ones are read from Postgres). Sentinel -1 = being loaded (timeline-mark-1.lua).

  Steps, for each KEYS[i]:
    1. No sentinel: the timeline is not cached (expired, or its reader inactive): skip it;
       the next read rebuilds it from Postgres.
    2. seq at or below the floor: skip (a read below the floor asks Postgres).
    3. ZADD the member; when a loaded timeline then holds more than ARGV[3] + ARGV[4]
       activities, trim it to ARGV[3]: drop the oldest and raise the floor to the newest
       dropped seq (a loading one is trimmed by its fill).

  KEYS[1..n] timelines (ZSET), all with one hash tag (callers group them by shard)
  ARGV[1] seq (score)    ARGV[2] member '<activityId>:<actorId>'
  ARGV[3] max length     ARGV[4] slack (activities allowed above the max between trims)

  Returns the number of timelines that received the activity.
]]
local seq = tonumber(ARGV[1])
local max = tonumber(ARGV[3])
local limit = max + tonumber(ARGV[4]) + 1
local n = 0
for i = 1, #KEYS do
  local key = KEYS[i]
  local floor = redis.call('ZSCORE', key, '')
  if floor then
    floor = tonumber(floor)
    if seq > floor then
      local added = redis.call('ZADD', key, seq, ARGV[2])
      n = n + added
      if added == 1 and floor >= 0 then
        local card = redis.call('ZCARD', key)
        if card > limit then
          local cut = card - 1 - max
          local last = redis.call('ZRANGE', key, cut, cut, 'WITHSCORES')
          redis.call('ZREMRANGEBYRANK', key, 1, cut)
          redis.call('ZADD', key, last[2], '')
        end
      end
    end
  end
end
return n
