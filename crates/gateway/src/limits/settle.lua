-- Settles one request (see limits/counters.rs).
-- KEYS[1..n]: the counters. ARGV: n, lease, then 4 values per counter:
--   'r', capacity, delta, 0         tokens taken beyond the reservation (< 0 gives back)
--   'c', 0, 0, 0                    frees the lease
--   'b', reserved, spent, expires   turns the reservation into the real spend
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = tonumber(ARGV[1])
local lease = ARGV[2]
-- `window` and `until_full` come from buckets.lua, which redis.rs puts before this.
for i = 1, n do
  local at = 2 + (i - 1) * 4
  local kind, a, b = ARGV[at + 1], tonumber(ARGV[at + 2]), tonumber(ARGV[at + 3])
  local key = KEYS[i]
  if kind == 'r' then
    local v = redis.call('HMGET', key, 't', 'at')
    if v[1] then
      local tokens = math.min(a, tonumber(v[1]) + (now - tonumber(v[2])) * a / window)
      local left = math.min(a, tokens - b)
      redis.call('HSET', key, 't', left, 'at', now)
      redis.call('PEXPIRE', key, until_full(left, a))
    end
  elseif kind == 'c' then
    redis.call('ZREM', key, lease)
  else
    local r = redis.call('HINCRBY', key, 'r', -a)
    if r < 0 then
      redis.call('HSET', key, 'r', 0)
    end
    redis.call('HINCRBY', key, 's', b)
    local expires = tonumber(ARGV[at + 4])
    if expires > 0 then
      redis.call('PEXPIREAT', key, expires + 86400000)
    end
  end
end
return 1
