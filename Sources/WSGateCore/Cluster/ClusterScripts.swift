import WSGateRedis

/// The Lua scripts of the cluster. Each runs atomically in Redis, so a room's order is decided in
/// one place for every gateway (docs/SPEC.md "Cluster").
///
/// A room's hash (`meta`) holds `epoch` (a random id, made when Redis first sees the room, so that a
/// Redis that lost the room gives it a new one), `seq` (the last offset given) and `p:<gateway>`,
/// each gateway's last publish counter there: the idempotency key of its messages, so that a publish
/// retried after a lost reply is not published twice.
enum ClusterScripts {
    /// The stream is trimmed with `MAXLEN ~` (whole radix-tree nodes, so it keeps at least the
    /// length and a little more), which costs far less per message than exact trimming.
    /// KEYS: meta, stream. ARGV: channel, stream length, gateway id, counter, kind, sender, data,
    /// a new epoch (used if the room has none). Returns `{1, offset}`, or `{0}` for a duplicate.
    static let publish = RedisScript(
        """
        local gw = 'p:' .. ARGV[3]
        local state = redis.call('HMGET', KEYS[1], 'epoch', gw)
        local counter = tonumber(ARGV[4])
        if counter <= tonumber(state[2] or '0') then return {0} end
        local epoch = state[1]
        if not epoch then
          epoch = ARGV[8]
          redis.call('HSET', KEYS[1], 'epoch', epoch)
        end
        local offset = redis.call('HINCRBY', KEYS[1], 'seq', 1)
        redis.call('HSET', KEYS[1], gw, counter)
        local id = ARGV[3] .. ':' .. ARGV[4]
        redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], offset .. '-0',
          'e', epoch, 'm', id, 'k', ARGV[5], 's', ARGV[6], 'd', ARGV[7])
        redis.call('PUBLISH', ARGV[1],
          epoch .. '\\n' .. offset .. '\\n' .. id .. '\\n' .. ARGV[5] .. '\\n' .. ARGV[6] .. '\\n' .. ARGV[7])
        return {1, offset}
        """)

    /// KEYS: meta, stream. ARGV: a new epoch (used if the room has none), an offset to read back (0:
    /// none), how many history messages (notices skipped) to return.
    /// Returns `{epoch, seq, {entry at offset} or {}, {history entries, newest first}}`.
    static let sync = RedisScript(
        """
        local epoch = redis.call('HGET', KEYS[1], 'epoch')
        if not epoch then
          epoch = ARGV[1]
          redis.call('HSET', KEYS[1], 'epoch', epoch)
        end
        local seq = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
        local at = {}
        local check = tonumber(ARGV[2])
        if check > 0 then at = redis.call('XRANGE', KEYS[2], check .. '-0', check .. '-0') end
        local history = {}
        local want = tonumber(ARGV[3])
        local upper = '+'
        while want > 0 do
          local batch = redis.call('XREVRANGE', KEYS[2], upper, '-', 'COUNT', 100)
          if #batch == 0 then break end
          for _, entry in ipairs(batch) do
            if entry[2][6] ~= 'n' then
              table.insert(history, entry)
              want = want - 1
              if want == 0 then break end
            end
          end
          if #batch < 100 then break end
          upper = '(' .. batch[#batch][1]
        end
        return {epoch, seq, at, history}
        """)

    /// KEYS: meta. ARGV: the epoch the gateway holds, a new one. Replaces the epoch if it is still the
    /// one held (or missing). Returns `{epoch, seq}` as they are now.
    static let rotate = RedisScript(
        """
        local epoch = redis.call('HGET', KEYS[1], 'epoch')
        if (not epoch) or epoch == ARGV[1] then
          epoch = ARGV[2]
          redis.call('HSET', KEYS[1], 'epoch', epoch)
        end
        return {epoch, tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')}
        """)

    /// KEYS: the gateways' sorted set (each gateway's counts in the hash `<key>:<gateway>`). ARGV:
    /// gateway id, time to live in ms, then room, count pairs. Writes this gateway's counts with their
    /// expiry, forgets gateways that expired, and returns every live gateway's room, count pairs.
    static let presence = RedisScript(
        """
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        local mine = KEYS[1] .. ':' .. ARGV[1]
        redis.call('DEL', mine)
        for i = 3, #ARGV, 2 do redis.call('HSET', mine, ARGV[i], ARGV[i + 1]) end
        redis.call('PEXPIRE', mine, ARGV[2])
        redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        local out = {}
        for _, gateway in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
          local counts = redis.call('HGETALL', KEYS[1] .. ':' .. gateway)
          for j = 1, #counts, 2 do
            table.insert(out, counts[j])
            table.insert(out, counts[j + 1])
          end
        end
        return out
        """)

    static let all = [publish, sync, rotate, presence]
}
