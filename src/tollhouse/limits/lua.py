"""The Redis side of the counters: one Lua script, run atomically, for a batch of calls.

ARGV[1] is JSON: ``{"s": [settlements], "a": [admissions]}``, each one the array of its
NamedTuple's fields (``Settlement``, ``Admission``, ``Op`` … in counters.py); settlements run first so the
capacity they free is there for the admissions. Each admission is checked as a whole and
applied all or nothing (see ``counters.py`` for the op kinds). Time is Redis's own
(``TIME``), so replicas with skewed clocks agree on leases and session ages.

A counter is a hash: ``u`` used, ``h`` held, ``r:<rid>`` each live reservation's amount;
``<key>:z`` orders the reservations by expiry so that leaked ones are dropped; ``<key>:a:<n>``
marks an alert threshold as fired for the current window.

The reply is text, one line per admission: ``1`` or ``0``, then per op
``ok,used,held,reset_ms,fired1 fired2``, separated by ``;`` (integers printed with ``%d``:
cjson would print large ones in exponent form).
"""

from __future__ import annotations

SCRIPT = r"""
local req = cjson.decode(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local function num(v)
  if v then return tonumber(v) end
  return 0
end

local function expire(key, e)
  if e[1] == 'i' then
    redis.call('PEXPIRE', key, e[2])
  elseif e[1] == 'c' then
    redis.call('PEXPIREAT', key, e[3])
  elseif redis.call('PTTL', key) < 0 then
    redis.call('PEXPIRE', key, e[2])
  end
end

local function reset(key, e)
  if e[1] == 'i' then return 0 end
  local ttl = redis.call('PTTL', key)
  if ttl >= 0 then return ttl end
  if e[1] == 'c' then return math.max(e[3] - now, 0) end
  return e[2]
end

-- A reservation index must outlive the reservations it tracks and the hash holding them,
-- or a leaked reservation could never be found again.
local function keep_index(key, lease)
  local z = key .. ':z'
  local keep = math.max(redis.call('PTTL', key), lease)
  if redis.call('PTTL', z) < keep then redis.call('PEXPIRE', z, keep) end
end

local function release(key, rid)
  local field = 'r:' .. rid
  local amount = redis.call('HGET', key, field)
  if amount then
    redis.call('HINCRBY', key, 'h', -tonumber(amount))
    redis.call('HDEL', key, field)
  end
end

local function purge(key)
  local z = key .. ':z'
  local ids = redis.call('ZRANGEBYSCORE', z, '-inf', now, 'LIMIT', 0, 256)
  for i = 1, #ids do
    release(key, ids[i])
    redis.call('ZREM', z, ids[i])
  end
end

for _, s in ipairs(req.s) do
  local rid = s[1]
  for _, r in ipairs(s[2]) do
    release(r[1], rid)
    redis.call('ZREM', r[1] .. ':z', rid)
    if r[3] > 0 then
      redis.call('HINCRBY', r[2], 'u', r[3])
      expire(r[2], r[4])
      if redis.call('EXISTS', r[2] .. ':z') == 1 then keep_index(r[2], 0) end
    end
  end
end

local function check(op)
  local key, kind, amount, limit = op[1], op[2], op[3], op[4]
  if kind == 3 then
    local first = redis.call('GET', key)
    local elapsed = 0
    if first then elapsed = now - tonumber(first) end
    return elapsed <= limit, elapsed, 0
  end
  if kind == 2 then purge(key) end
  local v = redis.call('HMGET', key, 'u', 'h')
  local used, held = num(v[1]), math.max(num(v[2]), 0)
  local counted = used + amount
  if kind == 2 then counted = counted + held end
  return counted <= limit, used, held
end

local function apply(op, rid, lease, used, held)
  local key, kind, amount = op[1], op[2], op[3]
  if kind == 3 then
    redis.call('SET', key, now, 'NX')
    expire(key, op[5])
    return ''
  end
  if kind == 1 then
    redis.call('HINCRBY', key, 'u', amount)
  else
    redis.call('HINCRBY', key, 'h', amount)
    redis.call('HSET', key, 'r:' .. rid, amount)
  end
  expire(key, op[5])
  if kind == 2 then
    redis.call('ZADD', key .. ':z', now + lease, rid)
    keep_index(key, lease)
  end
  local fired = {}
  local level = used + held + amount
  local ttl = reset(key, op[5])
  if ttl <= 0 then ttl = op[5][2] end
  for _, threshold in ipairs(op[7]) do
    if level >= threshold then
      if redis.call('SET', key .. ':a:' .. string.format('%d', threshold), 1, 'NX', 'PX', ttl) then
        fired[#fired + 1] = string.format('%d', threshold)
      end
    end
  end
  return table.concat(fired, ' ')
end

local lines = {}
for _, a in ipairs(req.a) do
  local rid, ops, lease = a[1], a[2], a[3]
  local oks, useds, helds = {}, {}, {}
  local admitted = true
  for i, op in ipairs(ops) do
    local ok, used, held = check(op)
    oks[i], useds[i], helds[i] = ok, used, held
    if not ok and op[6] then admitted = false end
  end
  local parts = {}
  for i, op in ipairs(ops) do
    local fired = ''
    if admitted then fired = apply(op, rid, lease, useds[i], helds[i]) end
    local ok = 0
    if oks[i] then ok = 1 end
    parts[i] = string.format('%d,%d,%d,%d,', ok, useds[i], helds[i], reset(op[1], op[5])) .. fired
  end
  local head = '0'
  if admitted then head = '1' end
  lines[#lines + 1] = head .. ';' .. table.concat(parts, ';')
end
return table.concat(lines, '\n')
"""
