-- Holds a message until it is due, when a delayed message pump appends it (append.lua, mode 'due'). The same token again
-- replaces the message, so a retried schedule holds it once. Announces the due time when it is now the stream's earliest.
-- Returns how many messages wait for the stream now: 1 tells the caller the set was empty, so that retention may have taken
-- the stream out of delayed-streams meanwhile and the caller records it there again.
--
-- KEYS: the stream's delayed set (token -> due time in Unix ms) and its delayed entries (token -> packed entry).
-- ARGV: the token, the due time in Unix ms, the packed entry, the announcement channel, the stream key.
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if first[1] == ARGV[1] then
  redis.call('PUBLISH', ARGV[4], ARGV[2] .. ' ' .. ARGV[5])
end
return redis.call('ZCARD', KEYS[1])
