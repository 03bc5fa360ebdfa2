// The Lua scripts of budget reservations. Each runs atomically in Redis, so replicas on one Redis cannot
// both take the last of a budget. Amounts are integer nano-dollars (as the cost records keep them); a
// reservation is a member `<id>:<nano>` of a limit's holds set, scored by the time (ms, Redis's clock) it
// lapses. Limits come as KEYS pairs (holds set, spend hash) after KEYS[1], the month's alert flags.

/** Shared by both scripts: the clock, lapsed reservations, and alerts raised once per month and level. */
const PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local alerts = {}
local function held(holds)
  redis.call('ZREMRANGEBYSCORE', holds, '-inf', now)
  local sum = 0
  for _, member in ipairs(redis.call('ZRANGE', holds, 0, -1)) do
    sum = sum + tonumber(string.match(member, ':(%d+)$'))
  end
  return sum
end
local function check_alerts(i, alert_id, spent, limit, threshold)
  if spent >= limit * threshold and redis.call('HSETNX', KEYS[1], alert_id .. ':warning', now) == 1 then
    alerts[#alerts + 1] = {i, 'warning'}
  end
  if spent >= limit and redis.call('HSETNX', KEYS[1], alert_id .. ':exceeded', now) == 1 then
    alerts[#alerts + 1] = {i, 'exceeded'}
  end
  -- Flags of a month outlive it a little, then go.
  redis.call('PEXPIRE', KEYS[1], 3456000000)
end
local function add_hold(holds, member, lapses_at)
  redis.call('ZADD', holds, lapses_at, member)
  -- The set goes with its last reservation.
  if redis.call('PTTL', holds) < lapses_at - now then redis.call('PEXPIRE', holds, lapses_at - now) end
end
`;

/**
 * Reserves ARGV[2] nano-dollars as member ARGV[1] for ARGV[3] ms against every limit, or against none.
 * ARGV[4]: the alert threshold (0..1); then per limit: its amount, its spend field, its id.
 * Returns `{1, 0, 0, alerts, spent}` when reserved, `{0, i, left, alerts, spent}` when limit i refused it
 * (`left` = limit - spent - held, possibly negative); `alerts` = `{{i, level}, ...}` raised now.
 */
export const RESERVE_SCRIPT = `${PRELUDE}
local member, amount, ttl, threshold = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local n = (#KEYS - 1) / 2
local spent_of = {}
local refused, left = 0, 0
for i = 1, n do
  local limit, field, alert_id = tonumber(ARGV[2 + 3 * i]), ARGV[3 + 3 * i], ARGV[4 + 3 * i]
  local holding = held(KEYS[2 * i])
  local spent = tonumber(redis.call('HGET', KEYS[2 * i + 1], field) or '0')
  spent_of[i] = spent
  check_alerts(i, alert_id, spent, limit, threshold)
  if refused == 0 and spent + holding + amount > limit then
    refused, left = i, limit - spent - holding
  end
end
if refused > 0 then return {0, refused, left, alerts, spent_of} end
for i = 1, n do add_hold(KEYS[2 * i], member, now + ttl) end
return {1, 0, 0, alerts, spent_of}
`;

/**
 * Ends reservation ARGV[1] with its real cost ARGV[2] (0 when the call failed). ARGV[3]: the alert threshold;
 * ARGV[4]: how long the spend hashes the gateway writes are kept (ms); ARGV[5]: how long (ms) a cost another
 * service records stays held, until its record has surely landed; ARGV[6]: that hold's member. Then per limit:
 * its amount, its spend field, its id, and `1` when the gateway records its spend here, `0` when another
 * service does (the bridge's cost records). Returns `{alerts, spent}`.
 */
export const SETTLE_SCRIPT = `${PRELUDE}
local member, cost, threshold = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local keep, settle, settle_member = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local n = (#KEYS - 1) / 2
local spent_of = {}
for i = 1, n do
  local limit, field, alert_id, here = tonumber(ARGV[3 + 4 * i]), ARGV[4 + 4 * i], ARGV[5 + 4 * i], ARGV[6 + 4 * i]
  local holds, spend = KEYS[2 * i], KEYS[2 * i + 1]
  redis.call('ZREM', holds, member)
  local spent
  if here == '1' then
    spent = redis.call('HINCRBY', spend, field, cost)
    redis.call('PEXPIRE', spend, keep)
  else
    spent = tonumber(redis.call('HGET', spend, field) or '0')
    if cost > 0 and settle > 0 then add_hold(holds, settle_member, now + settle) end
  end
  spent_of[i] = spent
  check_alerts(i, alert_id, spent, limit, threshold)
end
return {alerts, spent_of}
`;
