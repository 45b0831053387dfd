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
 * KEYS[1] window; ARGV rpm, tpm, prompt tokens, wanted[, now ms: tests only ('' for Redis's clock)[, replica id]].
 * The replica id is marked in the window ("seen:<id>"): that replica's admissions are in it (RECONCILE).
 * Counts up to `wanted` requests at once (a lease the caller spends locally), but only far from the limit: within
 * the last 1% of rpm (or with a tpm limit) one request at a time, so the limit holds to the request.
 * Returns {granted (0: refused), requests, tokens, retry-after ms, why, the second it was counted in}.
 */
export const RESERVE = `${RETIRE}
local nowMs
if ARGV[5] and ARGV[5] ~= '' then
  nowMs = tonumber(ARGV[5])
else
  local t = redis.call('TIME')
  nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local sec = math.floor(nowMs / 1000)
local rpm, tpm, tokens, wanted = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
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
local granted = 1
if wanted > 1 and tpm == 0 then
  granted = wanted
  if rpm > 0 then granted = math.max(1, math.min(wanted, math.floor((rpm - req) / 100))) end
end
redis.call('HINCRBY', KEYS[1], 'r:' .. sec, granted)
redis.call('HINCRBY', KEYS[1], 'R', granted)
if tokens > 0 then
  redis.call('HINCRBY', KEYS[1], 't:' .. sec, tokens)
  redis.call('HINCRBY', KEYS[1], 'T', tokens)
end
if ARGV[6] then redis.call('HSET', KEYS[1], 'seen:' .. ARGV[6], 1) end
redis.call('PEXPIRE', KEYS[1], 61000)
return {granted, req + granted, tok + tokens, 0, '', sec}
`;

/**
 * KEYS[1] window; ARGV replica id, everything the replica admitted in the last minute, what it admitted while
 * Redis did not answer (each "second:requests:tokens,...", by the replica's clock).
 * Run when a replica gets Redis back, before it reserves anything: a window that has seen this replica gets what
 * it admitted on local limits; one that has not (Redis restarted empty, or the key is new) gets all it admitted in
 * the minute. Seconds are clamped into the window by Redis's clock. Returns the window's requests.
 */
export const RECONCILE = `${RETIRE}
local sec = tonumber(redis.call('TIME')[1])
local lo = retire(KEYS[1], sec)
local marker = 'seen:' .. ARGV[1]
local list = ARGV[3]
if redis.call('HEXISTS', KEYS[1], marker) == 0 then list = ARGV[2] end
for s, r, t in string.gmatch(list, '(%d+):(%d+):(%d+)') do
  s = math.max(lo, math.min(sec, tonumber(s)))
  r = tonumber(r)
  t = tonumber(t)
  if r > 0 then
    redis.call('HINCRBY', KEYS[1], 'r:' .. s, r)
    redis.call('HINCRBY', KEYS[1], 'R', r)
  end
  if t > 0 then
    redis.call('HINCRBY', KEYS[1], 't:' .. s, t)
    redis.call('HINCRBY', KEYS[1], 'T', t)
  end
end
redis.call('HSET', KEYS[1], marker, 1)
redis.call('PEXPIRE', KEYS[1], 61000)
return tonumber(redis.call('HGET', KEYS[1], 'R') or 0)
`;

/** KEYS[1] window; ARGV count, second. Gives back the unspent part of a lease counted in that second. */
export const RELEASE = `
local f = 'r:' .. ARGV[2]
local n = tonumber(redis.call('HGET', KEYS[1], f) or 0)
local back = math.min(n, tonumber(ARGV[1]))
if back > 0 then
  redis.call('HINCRBY', KEYS[1], f, -back)
  redis.call('HINCRBY', KEYS[1], 'R', -back)
end
return back
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
