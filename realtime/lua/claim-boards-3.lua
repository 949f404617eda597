--[[
  Claims the changed boards this process computes in this tick: each board at most once per
  tick across all engine processes, and only boards someone watches.

  Steps:
    1. Drop expired watches (ZREMRANGEBYSCORE watched -inf now).
    2. For every dirty board:
       - nobody watches it → forget the mark (no work for rooms without subscribers);
       - already claimed in this tick (ticks[board] >= tick) → keep the mark for the next tick
         (it was marked again after that claim, so there is news to push later);
       - else, while fewer than ARGV[3] are claimed: remove the mark, ticks[board] = tick, claim it.
       Boards left over stay dirty for another process in this tick or the next tick.
    3. Refresh the TTLs.

  KEYS[1]  dirty boards (SET)
  KEYS[2]  watched boards (ZSET board → expiry unix ms)
  KEYS[3]  last claimed tick per board (HASH)
  ARGV[1]  tick number (floor(now / tick ms))
  ARGV[2]  now, unix ms
  ARGV[3]  most boards to claim
  ARGV[4]  TTL of KEYS[3] in ms

  Returns the claimed board ids (possibly empty).
]]
local tick = tonumber(ARGV[1])
local max = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])
local claimed = {}
local members = redis.call('SMEMBERS', KEYS[1])
for i = 1, #members do
  local board = members[i]
  if not redis.call('ZSCORE', KEYS[2], board) then
    redis.call('SREM', KEYS[1], board)
  else
    local last = tonumber(redis.call('HGET', KEYS[3], board) or '-1')
    if last < tick and #claimed < max then
      redis.call('SREM', KEYS[1], board)
      redis.call('HSET', KEYS[3], board, tick)
      claimed[#claimed + 1] = board
    end
  end
end
if #claimed > 0 then redis.call('PEXPIRE', KEYS[3], ARGV[4]) end
return claimed
