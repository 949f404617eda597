--[[
  Releases a lock only if this holder still has it (compare and delete), so a holder whose
  TTL ran out can never delete the lock a newer holder took.

  KEYS[1]  lock (STRING holder token)
  ARGV[1]  this holder's token

  Returns 1 released, 0 not held by this token.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
