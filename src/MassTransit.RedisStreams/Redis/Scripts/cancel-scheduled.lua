-- Removes a held message before it is due.
--
-- KEYS: the stream's delayed set and its delayed entries. ARGV: the token.
-- Returns 1 when the message was held, 0 when it was not (appended already, or never scheduled).
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return removed
