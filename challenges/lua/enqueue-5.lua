--[[
  Queued join (peak buffering): puts a join request on the challenge's stream unless the
  user is already admitted or already queued, in the challenge's slot {c:<id>}.

  Steps:
    1. Participant or waitlisted → return the status like join-4.lua's duplicate answer
       (nothing queued; the caller re-records it, as a repeated direct join does).
    2. Already queued (pending hash) → return {2} (nothing changes: one request per user).
    3. XADD the request (field u = user id), HSET pending user → stream id; return {3, id}.

  KEYS[1]  joined (ZSET userId → seq)
  KEYS[2]  waitlist (ZSET userId → seq)
  KEYS[3]  versions (HASH userId → ver)
  KEYS[4]  pending (HASH userId → stream id)
  KEYS[5]  the join stream (STREAM)
  ARGV[1]  user id

  Returns {1, status (1 joined | 2 waitlisted), seq, ver, position} admitted already,
  {2} queued already, {3, stream id} queued now.
]]
local user = ARGV[1]
local s = redis.call('ZSCORE', KEYS[1], user)
if s then return {1, 1, tonumber(s), tonumber(redis.call('HGET', KEYS[3], user) or s), 0} end
s = redis.call('ZSCORE', KEYS[2], user)
if s then
  return {1, 2, tonumber(s), tonumber(redis.call('HGET', KEYS[3], user) or s), redis.call('ZRANK', KEYS[2], user) + 1}
end
if redis.call('HEXISTS', KEYS[4], user) == 1 then return {2} end
local id = redis.call('XADD', KEYS[5], '*', 'u', user)
redis.call('HSET', KEYS[4], user, id)
return {3, id}
