--[[
  Records the top-N computed for claimed boards and tells which ones changed, so a board's
  room gets an update only when its top-N (or period) differs from the last one pushed, and
  an update computed in an older tick never overwrites a newer one.

  Steps, for each (board, payload) pair:
    1. old = HGET tops board (`<tick>|<payload>`).
    2. stale → 'S' (drop it): the old tick is later than ARGV[1], or, for the ticker
       (ARGV[3] = 'tick'), equal — then a subscriber's snapshot of the same tick was recorded,
       read after this computation's read. A snapshot (ARGV[3] = 'snapshot') of the tick the
       ticker already pushed is compared (it was read later).
    3. old payload == payload → '=' (unchanged: nothing to send).
    4. else HSET tops board `<tick>|<payload>` → 'C' .. old payload ('C' alone when none).
    Then refresh the TTL.

  KEYS[1]  last pushed payload per board (HASH)
  ARGV[1]  tick number of this computation
  ARGV[2]  TTL of KEYS[1] in ms
  ARGV[3]  'tick' (the ticker's computation) or 'snapshot' (a new subscriber's read)
  ARGV[4…] board1, payload1, board2, payload2, …

  Returns one string per pair, in order: 'S', '=', or 'C<old payload>'.
]]
local tick = tonumber(ARGV[1])
local strict = ARGV[3] == 'tick'
local out = {}
for i = 4, #ARGV, 2 do
  local board, payload = ARGV[i], ARGV[i + 1]
  local old = redis.call('HGET', KEYS[1], board)
  local oldTick, oldPayload = -1, ''
  if old then
    local bar = string.find(old, '|', 1, true)
    oldTick = tonumber(string.sub(old, 1, bar - 1))
    oldPayload = string.sub(old, bar + 1)
  end
  if oldTick > tick or (strict and oldTick == tick) then
    out[#out + 1] = 'S'
  elseif old and oldPayload == payload then
    out[#out + 1] = '='
  else
    redis.call('HSET', KEYS[1], board, tick .. '|' .. payload)
    out[#out + 1] = 'C' .. oldPayload
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return out
