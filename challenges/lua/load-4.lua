--[[
  Loads a challenge's admission state from Postgres rows (Redis is a rebuildable view),
  unless another process loaded it first: the meta hash is written last and checked first,
  and the whole load is one script, so no join can see a half-loaded state.

  Steps:
    1. Meta exists → return 0 (already loaded; the rows passed are ignored).
    2. DEL joined, waitlist, versions; ZADD / HSET each row; HSET meta cap, state, n, fence.

  KEYS[1]  meta (HASH cap, state, n)
  KEYS[2]  joined (ZSET userId → seq)
  KEYS[3]  waitlist (ZSET userId → seq)
  KEYS[4]  versions (HASH userId → ver)
  ARGV[1]  capacity
  ARGV[2]  state ('open' | 'closed')
  ARGV[3]  admission counter (the largest ver in Postgres)
  ARGV[4]  the challenge row's fence (Postgres)
  ARGV[5..] rows, 4 values each: user id, 'j' | 'w', seq, ver

  Returns 1 when loaded, 0 when it was there already.
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
for i = 5, #ARGV, 4 do
  local key = KEYS[3]
  if ARGV[i + 1] == 'j' then key = KEYS[2] end
  redis.call('ZADD', key, ARGV[i + 2], ARGV[i])
  redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 3])
end
redis.call('HSET', KEYS[1], 'cap', ARGV[1], 'state', ARGV[2], 'n', ARGV[3], 'fence', ARGV[4])
return 1
