-- Trims a stream by a retention policy without removing an entry any consumer group still needs.
--
-- What a group still needs starts at its oldest pending entry, or else the first entry after its last delivered one; the
-- lowest of these over all groups is the safe point, and every entry from it on stays. By age, the stream is trimmed (XTRIM
-- MINID) to the lower of the age limit and the safe point. By length, XTRIM MAXLEN is safe when the entries from the safe
-- point on are no more than the limit, counted by the lagging group's lag or by reading at most the limit of them; otherwise
-- the stream is trimmed to the safe point.
--
-- KEYS: the stream. ARGV: the most entries to keep (-1: no limit), the oldest age to keep in ms (-1: no limit), and how many
-- entries at most to count when that decides between the two ways to trim.
-- Returns the entries removed, the group that kept the policy from removing more (or ''), and why nothing was trimmed by
-- length ('' or 'uncounted').
local key = KEYS[1]
local maxEntries = tonumber(ARGV[1])
local maxAge = tonumber(ARGV[2])
local probe = tonumber(ARGV[3])

local function less(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end

local safe, holder, holderLag = nil, '', nil
for _, group in ipairs(redis.call('XINFO', 'GROUPS', key)) do
  local name, last, pending, lag
  for i = 1, #group, 2 do
    local field = group[i]
    if field == 'name' then
      name = group[i + 1]
    elseif field == 'last-delivered-id' then
      last = group[i + 1]
    elseif field == 'pending' then
      pending = group[i + 1]
    elseif field == 'lag' then
      lag = group[i + 1]
    end
  end
  local lastMs, lastSeq = string.match(last, '^(%d+)-(%d+)$')
  local need = string.format('%d-%d', tonumber(lastMs), tonumber(lastSeq) + 1)
  if pending > 0 then
    local oldest = redis.call('XPENDING', key, name, '-', '+', 1)
    if #oldest > 0 and less(oldest[1][1], need) then
      need = oldest[1][1]
    end
  end
  if safe == nil or less(need, safe) then
    safe, holder, holderLag = need, name, lag
  end
end

local before = redis.call('XLEN', key)
local kept, note = '', ''
if maxAge >= 0 then
  local time = redis.call('TIME')
  local target = string.format('%d-0', math.max(0, time[1] * 1000 + math.floor(time[2] / 1000) - maxAge))
  if safe ~= nil and less(safe, target) then
    target, kept = safe, holder
  end
  redis.call('XTRIM', key, 'MINID', target)
end
if maxEntries >= 0 and redis.call('XLEN', key) > maxEntries then
  if safe == nil then
    redis.call('XTRIM', key, 'MAXLEN', maxEntries)
  elseif type(holderLag) == 'number' and holderLag > maxEntries then
    -- The lagging group alone has more unread entries than the policy keeps.
    redis.call('XTRIM', key, 'MINID', safe)
    kept = holder
  else
    local limit = math.min(maxEntries + 1, probe)
    local needed = #redis.call('XRANGE', key, safe, '+', 'COUNT', limit)
    if needed < limit then
      redis.call('XTRIM', key, 'MAXLEN', maxEntries)
    elseif limit == maxEntries + 1 then
      redis.call('XTRIM', key, 'MINID', safe)
      kept = holder
    else
      kept, note = holder, 'uncounted'
    end
  end
end
return { before - redis.call('XLEN', key), kept, note }
