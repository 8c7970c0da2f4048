-- Moves one key beside a stream from its name before it started with the key prefix (KEYS[1], {p:S}:x) to its name now
-- (KEYS[2], p:{p:S}:x); both share a hash slot. When the new key exists too (an instance of the new version already used
-- it), the two are merged: sets and sorted sets by union (a token keeps its earlier due time), hashes field by field (the new
-- key's value wins), a clock keeps the later entry ID.
--
-- ARGV: 'clock' when the key is an entry clock, else ''. Returns 1 when a key was moved.
local kind = redis.call('TYPE', KEYS[1])['ok']
if kind == 'none' then
  return 0
end
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('RENAME', KEYS[1], KEYS[2])
  return 1
end
if kind == 'set' then
  redis.call('SUNIONSTORE', KEYS[2], KEYS[2], KEYS[1])
elseif kind == 'zset' then
  redis.call('ZUNIONSTORE', KEYS[2], 2, KEYS[2], KEYS[1], 'AGGREGATE', 'MIN')
elseif kind == 'hash' then
  local fields = redis.call('HGETALL', KEYS[1])
  for i = 1, #fields, 2 do
    redis.call('HSETNX', KEYS[2], fields[i], fields[i + 1])
  end
elseif kind == 'string' and ARGV[1] == 'clock' then
  local oldMs, oldSeq = string.match(redis.call('GET', KEYS[1]) or '', '^(%d+)-(%d+)$')
  local newMs, newSeq = string.match(redis.call('GET', KEYS[2]) or '', '^(%d+)-(%d+)$')
  oldMs, oldSeq, newMs, newSeq = tonumber(oldMs or 0), tonumber(oldSeq or 0), tonumber(newMs or 0), tonumber(newSeq or 0)
  if oldMs > newMs or (oldMs == newMs and oldSeq > newSeq) then
    redis.call('SET', KEYS[2], oldMs .. '-' .. oldSeq)
  end
end
redis.call('DEL', KEYS[1])
return 1
