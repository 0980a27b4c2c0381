/**
 * @internal the Lua script of one shared token-bucket decision, run atomically by Redis (`EVALSHA`). It is
 * `TokenBucket.refill` and `WarmUp` written again on Redis's own clock (`TIME`), so hosts whose clocks disagree
 * cannot mint tokens, plus the lease: a holder asking for `need` tokens gets all of them or none, topped up to its
 * share of the fleet's lease budget when the bucket has more. Holders are counted in a sorted set by last call.
 *
 * KEYS: bucket hash, holders sorted set. ARGV: capacity, rate (tokens/ms), initialTokens, warmupPeriod (ms),
 * coldFactor, need, held, giveBack, holder, leaseBudget, ttl (ms), holderWindow (ms).
 * Returns { granted, waitMs, holders, perHolder }.
 */
export const BUCKET_SCRIPT = `
if redis.replicate_commands then redis.replicate_commands() end
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local initial = tonumber(ARGV[3])
local warmupMs = tonumber(ARGV[4])
local coldFactor = tonumber(ARGV[5])
local need = tonumber(ARGV[6])
local held = tonumber(ARGV[7])
local giveBack = tonumber(ARGV[8])
local holder = ARGV[9]
local budget = tonumber(ARGV[10])
local ttl = tonumber(ARGV[11])
local holderWindow = tonumber(ARGV[12])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local stable = 1 / rate
local threshold, maxCold, slope, coolPerMs = 0, 0, 0, 0
if warmupMs > 0 then
  local coldMs = stable * coldFactor
  threshold = 0.5 * warmupMs / stable
  maxCold = threshold + 2 * warmupMs / (stable + coldMs)
  slope = (coldMs - stable) / (maxCold - threshold)
  coolPerMs = maxCold / warmupMs
end
local function rateAt(c)
  if warmupMs == 0 or c <= threshold then return rate end
  return 1 / (stable + slope * (c - threshold))
end
local s = redis.call('HMGET', KEYS[1], 't', 'u', 'c')
local tokens, updated, cold
if s[1] then
  tokens = tonumber(s[1]); updated = tonumber(s[2]); cold = tonumber(s[3])
else
  tokens = initial; updated = now; cold = maxCold
end
local elapsed = now - updated
if elapsed < 0 then
  updated = now
elseif elapsed > 0 then
  updated = now
  if tokens < capacity then
    local r = rateAt(cold)
    local fillMs = (capacity - tokens) / r
    if elapsed < fillMs then
      tokens = tokens + r * elapsed
      elapsed = 0
    else
      tokens = capacity
      elapsed = elapsed - fillMs
    end
  end
  if elapsed > 0 and warmupMs > 0 then cold = math.min(maxCold, cold + elapsed * coolPerMs) end
end
if giveBack > 0 then tokens = math.min(capacity, tokens + giveBack) end
redis.call('ZADD', KEYS[2], now, holder)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - holderWindow)
local holders = redis.call('ZCARD', KEYS[2])
local perHolder = math.floor(budget / math.max(1, holders))
local granted, waitMs = 0, 0
if tokens + 1e-9 >= need then
  local extra = math.max(0, math.min(perHolder - held, math.floor(tokens - need + 1e-9)))
  granted = need + extra
  tokens = math.max(0, tokens - granted)
  if cold > 0 then cold = math.max(0, cold - granted) end
else
  waitMs = math.ceil((need - tokens) / rateAt(cold))
end
redis.call('HSET', KEYS[1], 't', string.format('%.17g', tokens), 'u', string.format('%.17g', updated), 'c', string.format('%.17g', cold))
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], holderWindow * 2)
return { granted, waitMs, holders, perHolder }
`;
