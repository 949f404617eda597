--[[
  Fills a loading timeline with its newest activities read from Postgres.

  Steps:
    1. No sentinel: the loading lease expired (or the key was wiped): store nothing.
    2. Sentinel >= 0: another reader filled it already: store nothing.
    3. Otherwise remove whatever pushes brought at or below the new floor ARGV[1] (and
       the loading sentinel), ZADD the rows above it and the sentinel at the floor, trim
       to ARGV[2] activities (raising the floor), and EXPIRE the key ARGV[3] s.

  KEYS[1] timeline (ZSET)
  ARGV[1] floor: 0 when the rows are the whole history, else (oldest row's seq - 1)
  ARGV[2] max length     ARGV[3] TTL s
  ARGV[4..] seq, member pairs

  Returns 1 filled, 0 already loaded, -1 lease gone (the caller reads Postgres directly).
]]
local s = redis.call('ZSCORE', KEYS[1], '')
if not s then return -1 end
if tonumber(s) >= 0 then return 0 end
local floor = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', floor)
for i = 4, #ARGV, 2 do
  if tonumber(ARGV[i]) > floor then redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
redis.call('ZADD', KEYS[1], floor, '')
local card = redis.call('ZCARD', KEYS[1])
if card > max + 1 then
  local cut = card - 1 - max
  local last = redis.call('ZRANGE', KEYS[1], cut, cut, 'WITHSCORES')
  redis.call('ZREMRANGEBYRANK', KEYS[1], 1, cut)
  redis.call('ZADD', KEYS[1], last[2], '')
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
