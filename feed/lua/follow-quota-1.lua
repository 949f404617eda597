--[[
  The daily follow limit as a sliding window: at most ARGV[3] follow requests in any
  ARGV[2] ms. One ZSET per user, token → time; atomic, so concurrent requests never
  take more than the limit.

  Steps:
    1. ZREMRANGEBYSCORE tokens older than the window.
    2. ZCARD >= limit: refuse, with the ms until the oldest token leaves the window.
    3. Otherwise ZADD the token at ARGV[1] and PEXPIRE the key to the window.

  KEYS[1] quota log (ZSET)
  ARGV[1] now ms    ARGV[2] window ms    ARGV[3] limit    ARGV[4] token (unique per request)

  Returns {1, remaining} when taken, {0, retryAfterMs} when refused.
]]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  if oldest[2] == nil then return { 0, window } end
  return { 0, tonumber(oldest[2]) + window - now }
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return { 1, limit - n - 1 }
