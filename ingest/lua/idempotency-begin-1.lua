--[[
  Claims an Idempotency-Key for a request, or says why it cannot.

  Steps:
    1. No record: store {state=inflight, fp=fingerprint} with the in-flight lease; 'new'.
    2. Record with another fingerprint (other body/route): 'mismatch'.
    3. Record still in flight: 'inflight'.
    4. Record done: 'done' with the stored status, content type and body.

  KEYS[1] the key's record (HASH)
  ARGV[1] request fingerprint (method, path and body hash)
  ARGV[2] in-flight lease in ms (a crashed request frees the key after it)

  Returns {'new'} | {'mismatch'} | {'inflight'} | {'done', status, contentType, body}.
]]
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  redis.call('HSET', KEYS[1], 'state', 'inflight', 'fp', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'new'}
end
if redis.call('HGET', KEYS[1], 'fp') ~= ARGV[1] then
  return {'mismatch'}
end
if state == 'inflight' then
  return {'inflight'}
end
local r = redis.call('HMGET', KEYS[1], 'status', 'type', 'body')
return {'done', r[1], r[2], r[3]}
