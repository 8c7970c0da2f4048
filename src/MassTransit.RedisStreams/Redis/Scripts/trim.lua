-- Trims a stream by a retention policy without removing an entry any consumer group still needs.
--
-- What a group still needs starts at its oldest pending entry, or else the first entry after its last delivered one; the
-- lowest of these over all groups is the safe point, and every entry from it on stays. By age, the stream is trimmed (XTRIM
-- MINID) to the lower of the age limit and the safe point. By length, XTRIM MAXLEN is safe when the entries from the safe
-- point on are no more than the limit, counted by the lagging group's lag or by reading at most the limit of them; otherwise
-- the stream is trimmed to the safe point.
--
-- KEYS: the stream. ARGV: the most entries to keep (-1: no limit), the oldest age to keep in ms (-1: no limit), how many
-- entries at most to count when that decides between the two ways to trim, and optionally 'plan'.
-- Returns the entries removed, the group that kept the policy from removing more (or ''), and why nothing was trimmed by
-- length ('' or 'uncounted').
--
-- With 'plan' nothing is trimmed: the same targets are worked out, and it returns the entries the trim would remove, the
-- group, the note, the target ('MINID <id>', 'MAXLEN <n>' or ''), and 'exact' or 'at-least' for the count. Entries below a
-- MINID target are counted from both ends, at most the probe limit from each; when both ends hold more, the count is a
-- lower bound.
--
-- With 'to-mark' and a second key, the stream's archive mark ({<stream>}:archived), the policy arguments are ignored: the
-- entries at or below the mark go, down to the safe point, and it returns the entries removed, the group, '' and the mark
-- ('' when there is none, and nothing is trimmed).
local key = KEYS[1]
local maxEntries = tonumber(ARGV[1])
local maxAge = tonumber(ARGV[2])
local probe = tonumber(ARGV[3])
local plan = ARGV[4] == 'plan'
local mark
if ARGV[4] == 'to-mark' then
  mark = redis.call('GET', KEYS[2])
  if not mark or redis.call('EXISTS', key) == 0 then
    return { 0, '', '', mark or '' }
  end
end

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

if mark then
  local ms, seq = string.match(mark, '^(%d+)-(%d+)$')
  local target = string.format('%d-%d', tonumber(ms), tonumber(seq) + 1)
  if safe ~= nil and less(safe, target) then
    target, kept = safe, holder
  end
  redis.call('XTRIM', key, 'MINID', target)
  return { before - redis.call('XLEN', key), kept, '', mark }
end

if plan then
  -- How many entries are below an ID: read from the oldest up to the limit, else from the ID up, else a lower bound.
  local function below(id)
    if id == '0-0' then
      return 0, true
    end
    local older = #redis.call('XRANGE', key, '-', '(' .. id, 'COUNT', probe + 1)
    if older <= probe then
      return older, true
    end
    local newer = #redis.call('XRANGE', key, id, '+', 'COUNT', probe + 1)
    if newer <= probe then
      return before - newer, true
    end
    return older, false
  end

  local target, removed, exact = '', 0, true
  if maxAge >= 0 then
    local time = redis.call('TIME')
    local minId = string.format('%d-0', math.max(0, time[1] * 1000 + math.floor(time[2] / 1000) - maxAge))
    if safe ~= nil and less(safe, minId) then
      minId, kept = safe, holder
    end
    removed, exact = below(minId)
    target = 'MINID ' .. minId
  end
  -- Not exact: more than the probe limit stay above the age target, so more than the limit stay.
  local left = before - removed
  if maxEntries >= 0 and (left > maxEntries or (not exact and maxEntries < probe)) then
    local toLength = safe == nil
    if not toLength and type(holderLag) == 'number' and holderLag > maxEntries then
      removed, exact = below(safe)
      target, kept = 'MINID ' .. safe, holder
    elseif not toLength then
      local limit = math.min(maxEntries + 1, probe)
      local needed = #redis.call('XRANGE', key, safe, '+', 'COUNT', limit)
      if needed < limit then
        toLength = true
      elseif limit == maxEntries + 1 then
        removed, exact = below(safe)
        target, kept = 'MINID ' .. safe, holder
      else
        kept, note = holder, 'uncounted'
      end
    end
    if toLength then
      removed, exact = before - maxEntries, true
      target = 'MAXLEN ' .. maxEntries
    end
  elseif maxEntries >= 0 and not exact then
    -- Whether the length limit would remove more is not known without counting past the limit.
    note = 'uncounted'
  end
  return { removed, kept, note, target, exact and 'exact' or 'at-least' }
end

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
