-- Check-and-reserve for one request, atomically (see limits/counters.rs).
-- KEYS[1..n]: the counters; KEYS[n+1]: the set of revoked key ids.
-- ARGV: n, lease, lease_ttl_ms, key_id (or ''), then 4 values per counter:
--   'r', capacity, cost, 0          a per-minute token bucket
--   'c', max, 0, 0                  concurrency slots (a sorted set of leases)
--   'b', limit, cost, expires_ms    a budget in micro-dollars (expires_ms 0: never)
-- Returns {1, remaining...} | {0, index, retry_after_ms} | {-1} (key revoked).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = tonumber(ARGV[1])
local lease = ARGV[2]
local ttl = tonumber(ARGV[3])
if ARGV[4] ~= '' and redis.call('SISMEMBER', KEYS[n + 1], ARGV[4]) == 1 then
  return {-1}
end
-- `window` and `until_full` come from buckets.lua, which redis.rs puts before this.
local out = {1}
local level = {}
for i = 1, n do
  local at = 4 + (i - 1) * 4
  local kind, a, b = ARGV[at + 1], tonumber(ARGV[at + 2]), tonumber(ARGV[at + 3])
  local key = KEYS[i]
  if kind == 'r' then
    local v = redis.call('HMGET', key, 't', 'at')
    local tokens = a
    if v[1] then
      tokens = math.min(a, tonumber(v[1]) + (now - tonumber(v[2])) * a / window)
    end
    local need = math.min(b, a)
    if tokens < need then
      return {0, i, math.max(1, math.ceil((need - tokens) * window / a))}
    end
    level[i] = tokens
    out[#out + 1] = math.floor(tokens - b)
  elseif kind == 'c' then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
    local held = redis.call('ZCARD', key)
    if held >= a then
      return {0, i, 1000}
    end
    out[#out + 1] = a - held - 1
  else
    local v = redis.call('HMGET', key, 's', 'r')
    local left = a - (tonumber(v[1]) or 0) - (tonumber(v[2]) or 0)
    if left <= 0 or b > left then
      local expires = tonumber(ARGV[at + 4])
      local wait = 86400000
      if expires > 0 then
        wait = math.max(1000, expires - now)
      end
      return {0, i, wait}
    end
    out[#out + 1] = left - b
  end
end
for i = 1, n do
  local at = 4 + (i - 1) * 4
  local kind, a, b = ARGV[at + 1], tonumber(ARGV[at + 2]), tonumber(ARGV[at + 3])
  local key = KEYS[i]
  if kind == 'r' then
    redis.call('HSET', key, 't', level[i] - b, 'at', now)
    redis.call('PEXPIRE', key, until_full(level[i] - b, a))
  elseif kind == 'c' then
    redis.call('ZADD', key, now + ttl, lease)
    redis.call('PEXPIRE', key, ttl * 2)
  else
    redis.call('HINCRBY', key, 'r', b)
    local expires = tonumber(ARGV[at + 4])
    if expires > 0 then
      redis.call('PEXPIREAT', key, expires + 86400000)
    end
  end
end
return out
