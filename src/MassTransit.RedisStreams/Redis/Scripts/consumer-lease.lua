-- The leases of the running instances of a bus on their consumer names, so that two live instances never read under one name.
--
-- KEYS: the leases (a sorted set of name -> expiry in Unix ms, by the server's clock) and the holders (a hash of name ->
-- the random ID of the instance that holds it); they share a hash tag.
-- ARGV[1] is the mode, ARGV[2] the name, ARGV[3] the holder.
--
-- 'take': takes the name unless another holder has it, or had it until less than the quarantine ago, so that a dead
-- instance's entries are claimed before anyone takes its name back. ARGV[4]: the lease time in ms; ARGV[5]: the quarantine
-- in ms. Returns 1 when taken, 0 when not.
--
-- 'renew': renews this holder's lease, or takes the name again if it is free, and reports the names whose leases ran out
-- after 'since'. ARGV[4]: the lease time; ARGV[5]: the quarantine; ARGV[6]: the gap limit; ARGV[7]: since (Unix ms; negative:
-- that many ms before now, for a first renewal); ARGV[8]: how long a lease that ran out is remembered (0: leave the old ones
-- for a later renewal to forget); all in ms. Returns where the next report starts, the status (1 renewed; 2 taken again,
-- because Redis had lost it or it was free; 0 another holder has it), the names whose leases ran out — this holder's own
-- among them when it had run out before this renewal — and the server's time. A renewal more than the gap limit after the previous one means this instance could not
-- reach Redis, or stood still, for longer than a live lease can go unrenewed; so may the others, if Redis itself was down.
-- It reports nothing then, and nothing that runs out within a lease time after: the others get a full lease time to renew
-- before anyone takes them for dead.
--
-- 'release': gives the name up if this holder has it, so that nobody takes it for dead and a restart gets it at once.
-- Returns 1 when it was this holder's.
local leases, holders = KEYS[1], KEYS[2]
local mode, name, holder = ARGV[1], ARGV[2], ARGV[3]

if mode == 'release' then
  if redis.call('HGET', holders, name) == holder then
    redis.call('ZREM', leases, name)
    redis.call('HDEL', holders, name)
    return 1
  end
  return 0
end

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl, quarantine = tonumber(ARGV[4]), tonumber(ARGV[5])

-- Free for this holder: nobody holds it, this holder does, or the other holder's lease ran out longer than the quarantine ago.
local function free()
  local current = redis.call('HGET', holders, name)
  if not current or current == holder then
    return true
  end
  local expiry = tonumber(redis.call('ZSCORE', leases, name))
  return not expiry or expiry + quarantine <= now
end

if mode == 'take' then
  if not free() then
    return 0
  end
  redis.call('ZADD', leases, string.format('%d', now + ttl), name)
  redis.call('HSET', holders, name, holder)
  return 1
end

if mode ~= 'renew' then
  return redis.error_reply('unknown mode ' .. tostring(mode))
end

local status = 1
if redis.call('HGET', holders, name) ~= holder then
  if free() then
    status = 2
    redis.call('HSET', holders, name, holder)
  else
    status = 0
  end
end

-- The deaths are read before this holder's own lease is renewed, so that it learns when its own had run out.
local since = tonumber(ARGV[7])
local dead = {}
if since < 0 then
  since = now + since
elseif now - since > tonumber(ARGV[6]) then
  since = now + ttl
end
if since < now then
  dead = redis.call('ZRANGEBYSCORE', leases, string.format('(%d', since), string.format('%d', now))
  since = now
end
if status ~= 0 then
  redis.call('ZADD', leases, string.format('%d', now + ttl), name)
end

local remembered = tonumber(ARGV[8])
if remembered > 0 then
  for _, old in ipairs(redis.call('ZRANGEBYSCORE', leases, '-inf', string.format('(%d', now - remembered))) do
    redis.call('ZREM', leases, old)
    redis.call('HDEL', holders, old)
  end
end
return { since, status, dead, now }
