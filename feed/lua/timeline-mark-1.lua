--[[
  Starts loading a timeline from Postgres: before the query, so that pushes arriving while
  it runs are kept (timeline-push-n.lua accepts them into a loading timeline) and the fill
  then adds the rows: nothing committed during the query is lost.

  Steps:
    1. If the sentinel '' exists, return its score (the floor, or -1 when another reader
       is loading it).
    2. Otherwise ZADD '' at -1 (loading) and EXPIRE the key ARGV[1] s (the loading lease:
       a reader that dies leaves nothing behind for long).

  KEYS[1] timeline (ZSET)
  ARGV[1] lease s

  Returns the sentinel's score as a string: '-1' loading, else the floor (already loaded).
]]
local f = redis.call('ZSCORE', KEYS[1], '')
if f then return f end
redis.call('ZADD', KEYS[1], -1, '')
redis.call('EXPIRE', KEYS[1], ARGV[1])
return '-1'
