-- For each entry still pending for this consumer: XCLAIM it to the consumer itself with JUSTID (the delivery count stays)
-- and the given idle time. 0 keeps an entry in work from being claimed by others; a time past the claim timeout hands it to
-- them at once.
--
-- KEYS: the stream. ARGV: the group, the consumer, the idle time in ms, then the entry IDs.
-- Returns the IDs that are no longer this consumer's: acknowledged, or claimed by another consumer.
local lost = {}
for i = 4, #ARGV do
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[2])
  if #pending > 0 then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'IDLE', ARGV[3], 'JUSTID')
  else
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
