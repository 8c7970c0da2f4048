-- Renews or gives up a lease (a key holding its holder's random ID, with an expiry) that this holder has; taking a free one
-- is a plain SET NX PX.
--
-- KEYS: the lease. ARGV: 'renew' or 'release', the holder, and for 'renew' the lease time in ms.
-- Returns 1 when this holder had the lease (renewed, or given up), 0 when it had lost it.
if redis.call('GET', KEYS[1]) ~= ARGV[2] then
  return 0
end
if ARGV[1] == 'renew' then
  return redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return redis.call('DEL', KEYS[1])
