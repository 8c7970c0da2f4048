-- The archive mark of a stream: the ID of its newest entry that is in the archive. Readers read the entries up to it from the
-- archive and the ones after it from the stream; retention removes from the stream only entries at or below it.
--
-- KEYS: the stream, its mark ({<stream>}:archived, in the stream's hash slot).
-- ARGV: 'mark' and an ID: moves the mark forward to the ID (never back) and returns the mark.
--       'trim': removes the stream's entries at or below the mark, but none that a consumer group still needs (its oldest
--       pending entry, or the first after its last delivered one, as trim.lua); returns the entries removed, the mark, and
--       the group that kept entries at or below the mark ('' when none).
local stream, markKey = KEYS[1], KEYS[2]

local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end

local function less(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  return am < bm or (am == bm and as < bs)
end

local mark = redis.call('GET', markKey)

if ARGV[1] == 'mark' then
  if not mark or less(mark, ARGV[2]) then
    redis.call('SET', markKey, ARGV[2])
    mark = ARGV[2]
  end
  return mark
end

if not mark or redis.call('EXISTS', stream) == 0 then
  return { 0, mark or '', '' }
end

local ms, seq = parse(mark)
local target = string.format('%d-%d', ms, seq + 1)
local kept = ''
for _, group in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
  local name, last, pending
  for i = 1, #group, 2 do
    local field = group[i]
    if field == 'name' then
      name = group[i + 1]
    elseif field == 'last-delivered-id' then
      last = group[i + 1]
    elseif field == 'pending' then
      pending = group[i + 1]
    end
  end
  local lastMs, lastSeq = parse(last)
  local need = string.format('%d-%d', lastMs, lastSeq + 1)
  if pending > 0 then
    local oldest = redis.call('XPENDING', stream, name, '-', '+', 1)
    if #oldest > 0 and less(oldest[1][1], need) then
      need = oldest[1][1]
    end
  end
  if less(need, target) then
    target, kept = need, name
  end
end

local before = redis.call('XLEN', stream)
redis.call('XTRIM', stream, 'MINID', target)
return { before - redis.call('XLEN', stream), mark, kept }
