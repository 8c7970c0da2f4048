-- The archive mark of a stream: the ID of its newest entry that is in the archive. Readers read the entries up to it from the
-- archive and the ones after it from the stream; retention removes from the stream only entries at or below it.
--
-- KEYS: the stream, its mark ({<stream>}:archived, in the stream's hash slot).
-- ARGV: an ID: moves the mark forward to the ID (never back) and returns the mark. trim.lua ('to-mark') removes the
-- entries at or below the mark that no consumer group still needs.
local markKey, id = KEYS[2], ARGV[1]

local function less(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end

local mark = redis.call('GET', markKey)
if not mark or less(mark, id) then
  redis.call('SET', markKey, id)
  mark = id
end
return mark
