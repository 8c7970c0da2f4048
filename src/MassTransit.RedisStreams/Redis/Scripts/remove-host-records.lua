-- Removes the host records whose hold ended before the cutoff: a time older than every entry and every delayed message of
-- the bus, so that nothing names them any more. In the same step as the check, so that a record held again meanwhile stays.
--
-- KEYS: the hosts hash and the held set beside it (its hash slot).
-- ARGV: the cutoff in Unix ms, the most records to remove.
-- Returns how many were removed.
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(ids) do
  redis.call('HDEL', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
end
return #ids
