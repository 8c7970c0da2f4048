-- Holds host records: until the server's time plus the hold, no retention pass removes them, so that an entry about to be
-- written (or held as a delayed message) may name them. A hold never shortens an earlier, longer one. A record given with its
-- JSON is stored first unless it is there (a live process restores its own record this way); one given without, and not
-- stored, is not held.
--
-- KEYS: the hosts hash and the held set beside it (its hash slot).
-- ARGV: the hold in ms, then per record its ID and its JSON ('' for none).
-- Returns how many records are held.
local time = redis.call('TIME')
local untilMs = time[1] * 1000 + math.floor(time[2] / 1000) + tonumber(ARGV[1])
local held = 0
for i = 2, #ARGV, 2 do
  local id, json = ARGV[i], ARGV[i + 1]
  if json ~= '' then
    redis.call('HSETNX', KEYS[1], id, json)
  end
  if redis.call('HEXISTS', KEYS[1], id) == 1 then
    local current = redis.call('ZSCORE', KEYS[2], id)
    if not current or tonumber(current) < untilMs then
      redis.call('ZADD', KEYS[2], untilMs, id)
    end
    held = held + 1
  end
end
return held
