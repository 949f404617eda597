--[[
  Reads what the assess step needs about one event of a user, in one round trip.

  Steps:
    1. GET the event's verdict marker (KEYS[1]): set when the event was assessed before.
    2. GET the user's review flag (KEYS[3]).
    3. The user's newest ARGV[3] workouts (ZREVRANGE of KEYS[2]) and the workouts
       ending between ARGV[1] and ARGV[2] (ZRANGEBYSCORE of KEYS[2]).

  KEYS[1] verdict marker (STRING)   KEYS[2] history (ZSET, score = end ms)
  KEYS[3] review flag (STRING)
  ARGV[1] window from (ms)   ARGV[2] window to (ms)   ARGV[3] newest count

  Returns {marker or '', review or '', {newest members}, {window members}}
]]
local marker = redis.call('GET', KEYS[1]) or ''
local review = redis.call('GET', KEYS[3]) or ''
local n = tonumber(ARGV[3])
local recent = redis.call('ZREVRANGE', KEYS[2], 0, n - 1)
local around = redis.call('ZRANGEBYSCORE', KEYS[2], ARGV[1], ARGV[2])
return {marker, review, recent, around}
