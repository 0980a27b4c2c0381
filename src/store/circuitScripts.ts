/**
 * @internal the Lua scripts of a circuit shared through Redis (each one atomic). The record is a hash
 * `{state, openedAt, origin}` that exists only while the circuit is OPEN (and expires); the trial lock is a string
 * holding its owner, set with NX and an expiry, so a dead holder's lock runs out.
 */

/** KEYS: record. Returns { state, openedAt, origin } or nil fields. */
export const READ_CIRCUIT = `return redis.call('HMGET', KEYS[1], 'state', 'openedAt', 'origin')`;

/**
 * KEYS: record, lock. ARGV: state, openedAt, ttl (ms), owner, channel, message, origin. OPEN writes the record with
 * its expiry and releases the owner's trial lock (a trial elsewhere keeps its own); CLOSED deletes the record and
 * any trial lock (a closed circuit has no trial); the change is published.
 */
export const PUBLISH_CIRCUIT = `
if ARGV[1] == 'OPEN' then
  redis.call('HSET', KEYS[1], 'state', 'OPEN', 'openedAt', ARGV[2], 'origin', ARGV[7])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  if redis.call('GET', KEYS[2]) == ARGV[4] then redis.call('DEL', KEYS[2]) end
else
  redis.call('DEL', KEYS[1], KEYS[2])
end
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 1
`;

/**
 * KEYS: record, lock. ARGV: owner, ttl (ms). Returns 1 when taken (or already held by this owner), 0 when another
 * instance holds it, 2 when the fleet has no open record (nothing to trial: a close just happened, or the opening
 * was never shared), in which case no lock is taken, so a close can never leave a lock behind.
 */
export const ACQUIRE_TRIAL = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 2 end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[2]) == ARGV[1] then return 1 end
return 0
`;

/** KEYS: lock. ARGV: owner. */
export const RELEASE_TRIAL = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`;
