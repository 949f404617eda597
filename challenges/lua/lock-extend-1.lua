--[[
  Extends a lock's TTL only if this holder still has it (compare and PEXPIRE).

  KEYS[1]  lock (STRING holder token)
  ARGV[1]  this holder's token
  ARGV[2]  new TTL milliseconds

  Returns 1 extended, 0 lost (expired, or another holder has it).
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
