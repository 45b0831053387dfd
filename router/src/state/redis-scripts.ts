// Lua run atomically inside Redis. One hash per deployment holds its last minute in one-second fields
// ("r:<second>" requests, "t:<second>" tokens); the key expires by itself a minute after its last use.
// Seconds come from Redis's clock (TIME), so replicas with skewed clocks still share one window.

/** KEYS[1] window; ARGV rpm, tpm, prompt tokens. Returns {allowed 0|1, requests, tokens, retry-after ms, why}. */
export const RESERVE = `
local t = redis.call('TIME')
local sec = tonumber(t[1])
local nowMs = sec * 1000 + math.floor(tonumber(t[2]) / 1000)
local rpm, tpm, tokens = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local fields = redis.call('HGETALL', KEYS[1])
local req, tok, oldest = 0, 0, sec
local stale = {}
for i = 1, #fields, 2 do
  local f = fields[i]
  local s = tonumber(string.sub(f, 3))
  if s <= sec - 60 then
    stale[#stale + 1] = f
  else
    local v = tonumber(fields[i + 1])
    if string.byte(f, 1) == 114 then
      req = req + v
      if v > 0 and s < oldest then oldest = s end
    else
      tok = tok + v
    end
  end
end
if #stale > 0 then redis.call('HDEL', KEYS[1], unpack(stale)) end
local wait = (oldest + 60) * 1000 - nowMs
if rpm > 0 and req >= rpm then return {0, req, tok, wait, 'rpm_limit'} end
if tpm > 0 and req > 0 and tok + tokens > tpm then return {0, req, tok, wait, 'tpm_limit'} end
redis.call('HINCRBY', KEYS[1], 'r:' .. sec, 1)
if tokens > 0 then redis.call('HINCRBY', KEYS[1], 't:' .. sec, tokens) end
redis.call('PEXPIRE', KEYS[1], 61000)
return {1, req + 1, tok + tokens, 0, ''}
`;

/** KEYS[1] window; ARGV tokens. Completion tokens, counted in the current second. */
export const ADD_TOKENS = `
local sec = redis.call('TIME')[1]
redis.call('HINCRBY', KEYS[1], 't:' .. sec, tonumber(ARGV[1]))
redis.call('PEXPIRE', KEYS[1], 61000)
return 1
`;
