--[[
  Raises counter fields to absolute values (never lowers them), so writing a count
  recomputed from Postgres is idempotent and safe against a concurrent older writer.

  Steps, for each (field, value) pair: HSET field value if value > current (or unset).

  KEYS[1] counters (HASH)
  ARGV[1..] pairs: field, absolute value (integer)

  Returns the number of fields raised.
]]
local raised = 0
for i = 1, #ARGV, 2 do
  local current = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '-1')
  if tonumber(ARGV[i + 1]) > current then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    raised = raised + 1
  end
end
return raised
