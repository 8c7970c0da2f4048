-- Removes the given host records whose hold still ends before the cutoff: retention found that nothing names them. In the
-- same step as the check, so that a record held again since retention looked (a write about to name it) stays.
--
-- KEYS: the hosts hash and the held set beside it (its hash slot).
-- ARGV: the cutoff in Unix ms, then the record IDs.
-- Returns how many were removed.
local cutoff = tonumber(ARGV[1])
local removed = 0
for i = 2, #ARGV do
  local heldUntil = redis.call('ZSCORE', KEYS[2], ARGV[i])
  if heldUntil and tonumber(heldUntil) < cutoff then
    redis.call('HDEL', KEYS[1], ARGV[i])
    redis.call('ZREM', KEYS[2], ARGV[i])
    removed = removed + 1
  end
end
return removed
