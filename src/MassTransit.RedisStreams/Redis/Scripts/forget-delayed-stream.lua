-- Removes a stream from the set of streams with delayed messages when nothing waits for it, in the same step as the check,
-- so that a message held meanwhile keeps its stream there. On one Redis only: on a Cluster the two keys are in different
-- slots, and the caller removes, looks and adds back instead.
--
-- KEYS: delayed-streams and the stream's delayed set.
-- ARGV: the stream key.
-- Returns 1 when the stream was removed, 0 when messages wait for it (or it was not there).
if redis.call('ZCARD', KEYS[2]) > 0 then
  return 0
end
return redis.call('SREM', KEYS[1], ARGV[1])
