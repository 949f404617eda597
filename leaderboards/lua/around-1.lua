--[[
  A member's rank on an unsharded board and the entries around it, in one atomic read.

  Steps:
    1. ZREVRANK of the member; absent → return {}.
    2. ZREVRANGE from rank − ARGV[2] to rank + ARGV[2] WITHSCORES.

  KEYS[1]  board (ZSET)
  ARGV[1]  member (user id)
  ARGV[2]  how many entries on each side

  Returns {} when the member is not on the board, else {rank (0-based), first rank of the
  entries (0-based), member1, score1, member2, score2, …}
]]
local rank = redis.call('ZREVRANK', KEYS[1], ARGV[1])
if not rank then return {} end
local n = tonumber(ARGV[2])
local from = math.max(0, rank - n)
local reply = {rank, from}
local entries = redis.call('ZREVRANGE', KEYS[1], from, rank + n, 'WITHSCORES')
for i = 1, #entries do reply[#reply + 1] = entries[i] end
return reply
