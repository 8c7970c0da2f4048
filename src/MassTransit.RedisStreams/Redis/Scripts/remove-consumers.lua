-- Deletes consumers of a group that have no pending entries and have been idle at least a given time: the one named, or,
-- when none is named, every one but the one excepted. Checked and deleted in one step, so that an entry can never be lost
-- with its consumer (XGROUP DELCONSUMER drops the consumer's pending entries).
--
-- KEYS: the stream. ARGV: the group, the least idle time in ms, the consumer to delete (or ''), the consumer to keep.
-- Returns the names deleted.
local removed = {}
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local name, pending, idle
  for i = 1, #consumer, 2 do
    if consumer[i] == 'name' then
      name = consumer[i + 1]
    elseif consumer[i] == 'pending' then
      pending = consumer[i + 1]
    elseif consumer[i] == 'idle' then
      idle = consumer[i + 1]
    end
  end
  local selected
  if ARGV[3] ~= '' then
    selected = name == ARGV[3]
  else
    selected = name ~= ARGV[4]
  end
  if selected and pending == 0 and idle >= tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
    removed[#removed + 1] = name
  end
end
return removed
