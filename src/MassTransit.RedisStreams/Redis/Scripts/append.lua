-- Appends entries to one stream, in order, each under an entry ID higher than any the transport gave out before on this
-- Redis (the clock key keeps the last one), so that entry IDs order appends across streams; then, when an idle reader armed
-- the stream's wake flag, clears the flag and publishes one wake-up for the whole call.
--
-- KEYS: the stream, its wake flag, the clock, its duplicate keys of this window and of the one before, its delayed set and its
-- delayed entries; all in the stream's hash slot (a key a mode does not use may be the stream itself).
-- ARGV[1]: the mode; ARGV[2]: PUBLISH, or SPUBLISH on a Redis Cluster, whose wake channels are sharded; ARGV[3]: the wake channel.
--
-- Mode 'entries': ARGV[4] is '1' to append only to a stream that exists (NOMKSTREAM); ARGV[5] the duplicate detection window
-- in ms (0: off); then per entry its duplicate key (or ''), its number of fields and its field/value pairs. An entry whose
-- key is in the sent keys of this window or the one before, or is the key of an entry appended earlier in the call, is not
-- appended again; the keys of the entries appended are added to this window's, which lives two windows. Returns one element per entry: its ID, 0 when NOMKSTREAM found no stream, '=' when it was
-- a duplicate, or the error prefixed with '!'.
--
-- Mode 'due': appends the messages of the delayed set that are due, oldest due first, at most ARGV[4], each removed from the
-- delayed set in the same step, so that a message is never in both places and never in neither. A held message is a
-- MessagePack array: its flags (NOMKSTREAM, token mapped in scheduled-tokens), then its field/value pairs. Returns how many
-- were appended, the next due time (-1 when none is left) and the moved tokens whose flags say they are mapped. A message
-- the stream refuses stays held, and the call fails with the error once the messages moved before it are accounted for.
--
-- Mode 'move': KEYS[4] is the stream the entries come from (in the same hash slot); ARGV[4..] per entry its ID there, its
-- number of fields and its field/value pairs. Each entry that is still in the source is appended and deleted from the
-- source in the same step, so that it is never in both streams and never in neither. Returns one element per entry: its new
-- ID, 0 when the source no longer had it (another operator moved or deleted it), or the error prefixed with '!'.
local stream, wake, clock = KEYS[1], KEYS[2], KEYS[3]
local mode, publish, channel = ARGV[1], ARGV[2], ARGV[3]

local time = redis.call('TIME')
local now = time[1] * 1000 + math.floor(time[2] / 1000)

-- The ID of the next entry: the server's time in ms, or the clock's if that is later (the clock never goes back), with a
-- sequence that counts up within the millisecond.
local ms, seq = now, 0
local clockMs, clockSeq = string.match(redis.call('GET', clock) or '', '^(%d+)-(%d+)$')
if clockMs and tonumber(clockMs) >= ms then
  ms, seq = tonumber(clockMs), tonumber(clockSeq) + 1
end

local lastId = nil
local failure = nil

-- Appends one entry whose field/value pairs are fields[first..]: returns its ID, false when NOMKSTREAM found no stream, or nil
-- and the error.
local function append(fields, first, final, onlyIfExists)
  local function add(id)
    if onlyIfExists then
      return redis.pcall('XADD', stream, 'NOMKSTREAM', id, unpack(fields, first, final))
    end
    return redis.pcall('XADD', stream, id, unpack(fields, first, final))
  end
  local id = add(string.format('%d-%d', ms, seq))
  if type(id) == 'table' and id.err and string.find(id.err, 'equal or smaller', 1, true) then
    -- Another writer appended under a higher ID of its own: the stream picks the ID, and the clock goes on from there.
    id = add('*')
    if type(id) == 'string' then
      local chosenMs, chosenSeq = string.match(id, '^(%d+)-(%d+)$')
      ms, seq = tonumber(chosenMs), tonumber(chosenSeq)
    end
  end
  if type(id) == 'table' and id.err then
    return nil, id.err
  end
  if id then
    lastId = id
    seq = seq + 1
  end
  return id
end

local result
if mode == 'entries' then
  local sent, sentBefore = KEYS[4], KEYS[5]
  local onlyIfExists = ARGV[4] == '1'
  local window = tonumber(ARGV[5])
  result = {}
  -- Where each entry's arguments start, and the duplicate keys to look up: both windows are asked once for the whole call
  -- (SMISMEMBER), and the keys of the entries appended are remembered once at the end, rather than two commands per entry.
  local starts, lookup = {}, {}
  local i, count = 6, #ARGV
  while i <= count do
    starts[#starts + 1] = i
    if window > 0 and ARGV[i] ~= '' then
      lookup[#lookup + 1] = ARGV[i]
    end
    i = i + 2 + 2 * tonumber(ARGV[i + 1])
  end
  local known = {}
  if #lookup > 0 then
    local before, current = redis.call('SMISMEMBER', sentBefore, unpack(lookup)), redis.call('SMISMEMBER', sent, unpack(lookup))
    for j, key in ipairs(lookup) do
      if before[j] == 1 or current[j] == 1 then
        known[key] = true
      end
    end
  end
  local remembered = {}
  for _, first in ipairs(starts) do
    local key = ARGV[first]
    local final = first + 1 + 2 * tonumber(ARGV[first + 1])
    local checked = window > 0 and key ~= ''
    if checked and known[key] then
      result[#result + 1] = '='
    else
      local id, err = append(ARGV, first + 2, final, onlyIfExists)
      if err then
        result[#result + 1] = '!' .. err
      elseif id then
        result[#result + 1] = id
        -- A later entry of this call with the same key is a duplicate of this one.
        if checked then
          known[key] = true
          remembered[#remembered + 1] = key
        end
      else
        result[#result + 1] = 0
      end
    end
  end
  if #remembered > 0 then
    redis.call('SADD', sent, unpack(remembered))
    redis.call('PEXPIRE', sent, 2 * window)
  end
elseif mode == 'due' then
  local delayed, entries = KEYS[6], KEYS[7]
  local due = redis.call('ZRANGEBYSCORE', delayed, '-inf', now, 'LIMIT', 0, tonumber(ARGV[4]))
  local moved, mapped = 0, {}
  for _, token in ipairs(due) do
    local data = redis.call('HGET', entries, token)
    if data then
      local fields = cmsgpack.unpack(data)
      local id, err = append(fields, 2, #fields, string.sub(fields[1], 1, 1) == '1')
      if err then
        -- This one stays held; those moved before it still move the clock and wake the readers below.
        failure = err
        break
      end
      if id then
        moved = moved + 1
      end
      if string.sub(fields[1], 2, 2) == '1' then
        mapped[#mapped + 1] = token
      end
    end
    redis.call('ZREM', delayed, token)
    redis.call('HDEL', entries, token)
  end
  if not failure then
    local next = redis.call('ZRANGE', delayed, 0, 0, 'WITHSCORES')
    result = { moved, next[2] or '-1', mapped }
  end
elseif mode == 'move' then
  local source = KEYS[4]
  result = {}
  local i = 4
  while i <= #ARGV do
    local sourceId = ARGV[i]
    local first, final = i + 2, i + 1 + 2 * tonumber(ARGV[i + 1])
    if #redis.call('XRANGE', source, sourceId, sourceId) == 0 then
      result[#result + 1] = 0
    else
      local id, err = append(ARGV, first, final, false)
      if err then
        result[#result + 1] = '!' .. err
      else
        redis.call('XDEL', source, sourceId)
        result[#result + 1] = id
      end
    end
    i = final + 1
  end
else
  return redis.error_reply('unknown mode ' .. tostring(mode))
end

if lastId then
  redis.call('SET', clock, lastId)
  if redis.call('DEL', wake) == 1 then
    redis.call(publish, channel, 'x')
  end
end
if failure then
  return redis.error_reply(failure)
end
return result
