import WSGateRedis

/// The Lua scripts of the cluster. Each runs atomically in Redis, so a room's order is decided in
/// one place for every gateway (docs/SPEC.md "Cluster").
///
/// A room's hash (`meta`) holds `epoch` (a random id, made when Redis first sees the room, so that a
/// Redis that lost the room gives it a new one), `seq` (the last offset given) and `p:<gateway>`,
/// each gateway's last publish counter there: the idempotency key of its messages, so that a publish
/// retried after a lost reply is not published twice.
enum ClusterScripts {
    /// Publishes a batch of one gateway's messages, in order: each gets the room's next offset and an
    /// entry in the stream, and the batch goes out as one PUBLISH (`ClusterMessage.batch` reads it).
    /// A message whose counter is not above the gateway's last one was published already (a retry
    /// after a lost reply) and is skipped. The stream is trimmed with `MAXLEN ~` (whole radix-tree
    /// nodes: it keeps at least the length, and a little more), far cheaper than exact trimming.
    /// KEYS: meta, stream. ARGV: channel, stream length, gateway id, a new epoch (used if the room has
    /// none), then counter, kind, sender, data for each message. Returns how many were published.
    static let publish = RedisScript(
        """
        local gw = 'p:' .. ARGV[3]
        local state = redis.call('HMGET', KEYS[1], 'epoch', 'seq', gw)
        local epoch = state[1]
        if not epoch then
          epoch = ARGV[4]
          redis.call('HSET', KEYS[1], 'epoch', epoch)
        end
        local seq = tonumber(state[2] or '0')
        local last = tonumber(state[3] or '0')
        local parts = {}
        for i = 5, #ARGV, 4 do
          local counter = tonumber(ARGV[i])
          if counter > last then
            seq = seq + 1
            last = counter
            local id = ARGV[3] .. ':' .. ARGV[i]
            redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], seq .. '-0',
              'e', epoch, 'm', id, 'k', ARGV[i + 1], 's', ARGV[i + 2], 'd', ARGV[i + 3])
            parts[#parts + 1] = seq .. '\\n' .. id .. '\\n' .. ARGV[i + 1] .. '\\n' .. ARGV[i + 2] .. '\\n'
              .. #ARGV[i + 3] .. '\\n' .. ARGV[i + 3]
          end
        end
        if #parts > 0 then
          redis.call('HSET', KEYS[1], 'seq', seq, gw, last)
          redis.call('PUBLISH', ARGV[1], epoch .. '\\n' .. #parts .. '\\n' .. table.concat(parts))
        end
        return #parts
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
