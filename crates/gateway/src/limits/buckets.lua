-- What reserve.lua and settle.lua share about token buckets; redis.rs puts it first.
-- A bucket refills its capacity over one window.
local window = 60000
-- A bucket's counter lives until the bucket is full again, and a window more: a debt
-- (a request larger than the bucket, or usage past its reservation) takes longer than
-- a window to repay, and an expired counter would forgive it. At most a day.
local function until_full(level, capacity)
  local ms = window
  if capacity > 0 and level < capacity then
    ms = math.ceil(window * (capacity - level) / capacity) + window
  end
  return math.min(ms, 86400000)
end
