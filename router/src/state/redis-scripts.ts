// Lua run atomically inside Redis. One hash per deployment holds its last minute in one-second fields
// ("r:<second>" requests, "t:<second>" tokens), running totals of those fields ("R", "T") and the oldest second
// that may still hold some ("lo"). Each call retires only the seconds that left the window since the last call
// (usually none or one), so a request costs a handful of hash operations whatever the rate; the key expires by
// itself a minute after its last use. Seconds come from Redis's clock (TIME): replicas with skewed clocks still
// share one window.

/** Retire seconds older than the window; leaves R, T and lo describing the last 60 seconds. */
const RETIRE = `
local function retire(key, sec)
  local first = sec - 59
  local lo = redis.call('HGET', key, 'lo')
  if not lo then
    redis.call('HSET', key, 'lo', first)
    return first
  end
  lo = tonumber(lo)
  if lo >= first then return lo end
  if first - lo > 60 then
    redis.call('DEL', key)
  else
    local r, t = 0, 0
    local stale = {}
    for s = lo, first - 1 do
      local v = redis.call('HMGET', key, 'r:' .. s, 't:' .. s)
      if v[1] then r = r + tonumber(v[1]); stale[#stale + 1] = 'r:' .. s end
      if v[2] then t = t + tonumber(v[2]); stale[#stale + 1] = 't:' .. s end
    end
    if #stale > 0 then
      redis.call('HDEL', key, unpack(stale))
      if r > 0 then redis.call('HINCRBY', key, 'R', -r) end
      if t > 0 then redis.call('HINCRBY', key, 'T', -t) end
    end
  end
  redis.call('HSET', key, 'lo', first)
  return first
end
`;

/**
 * KEYS[1] window; ARGV rpm, tpm, prompt tokens[, now ms: tests only, instead of Redis's clock].
 * Returns {allowed 0|1, requests, tokens, retry-after ms, why}.
 */
export const RESERVE = `${RETIRE}
local nowMs
if ARGV[4] then
  nowMs = tonumber(ARGV[4])
else
  local t = redis.call('TIME')
  nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local sec = math.floor(nowMs / 1000)
local rpm, tpm, tokens = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local lo = retire(KEYS[1], sec)
local totals = redis.call('HMGET', KEYS[1], 'R', 'T')
local req, tok = tonumber(totals[1] or 0), tonumber(totals[2] or 0)
local why = ''
if rpm > 0 and req >= rpm then why = 'rpm_limit'
elseif tpm > 0 and req > 0 and tok + tokens > tpm then why = 'tpm_limit' end
if why ~= '' then
  -- Free again when the oldest second with requests leaves the window.
  local oldest = sec
  for s = lo, sec do
    if redis.call('HEXISTS', KEYS[1], 'r:' .. s) == 1 then oldest = s; break end
  end
  return {0, req, tok, (oldest + 60) * 1000 - nowMs, why}
end
redis.call('HINCRBY', KEYS[1], 'r:' .. sec, 1)
redis.call('HINCRBY', KEYS[1], 'R', 1)
if tokens > 0 then
  redis.call('HINCRBY', KEYS[1], 't:' .. sec, tokens)
  redis.call('HINCRBY', KEYS[1], 'T', tokens)
end
redis.call('PEXPIRE', KEYS[1], 61000)
return {1, req + 1, tok + tokens, 0, ''}
`;

/** KEYS[1] window; ARGV tokens. Completion tokens, counted in the current second. */
export const ADD_TOKENS = `${RETIRE}
local sec = tonumber(redis.call('TIME')[1])
retire(KEYS[1], sec)
redis.call('HINCRBY', KEYS[1], 't:' .. sec, tonumber(ARGV[1]))
redis.call('HINCRBY', KEYS[1], 'T', tonumber(ARGV[1]))
redis.call('PEXPIRE', KEYS[1], 61000)
return 1
`;
