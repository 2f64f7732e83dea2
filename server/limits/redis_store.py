"""Counters in Redis (used when REDIS_URL is set): a hash per policy and key, changed only
by Lua scripts, so checking and counting under several keys is one atomic step.

A hash holds c (count), we (window end), na (next try not before) and lu (locked until),
times in milliseconds since 1970 by the app's clock; it expires once none of them matters.
Unlike the database backend, a count is kept whatever becomes of the request's
transaction: callers that must give a count back (an SMS the gateway refused) `refund` it.
Every key of a call sits in one hash slot only on a single Redis server (no cluster).
"""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy.orm import Session

from server.limits import Counter, Limits, Policy

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_MS = datetime.timedelta(milliseconds=1)

# The rule of limits.judge and limits.counted, in Lua.
# KEYS: a counter per limit, then one per limit only looked at. ARGV[1]: "check" (all or
# none) or "force" (count regardless); ARGV[2]: now; ARGV[3]: how many KEYS to count; then
# per key: window, limit, lock, delay_after, delay, cap (-1: none). Returns {1, c, we, na,
# lu, ...} for the counted keys after counting, or {0, c, we, na, lu, ...} for every key as
# found (-1 for what is missing). ARGV[4 + 6 * #KEYS]: what a count weighs (the keys only
# looked at are judged as for a count of 1).
_TAKE = """
local now = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local states = {}
for i = 1, #KEYS do
  local h = redis.call('HMGET', KEYS[i], 'c', 'we', 'na', 'lu')
  states[i] = {tonumber(h[1]), tonumber(h[2]), tonumber(h[3]), tonumber(h[4])}
end
local function param(i, j) return tonumber(ARGV[3 + (i - 1) * 6 + j]) end
local amount = tonumber(ARGV[4 + #KEYS * 6])
if ARGV[1] == 'check' then
  local refused = false
  for i = 1, #KEYS do
    local c, we, na, lu = states[i][1], states[i][2], states[i][3], states[i][4]
    local weight = 1
    if i <= n then weight = amount end
    if c ~= nil then
      if lu ~= nil and now < lu then
        refused = true
      elseif we > now then
        if c + weight > param(i, 2) or (na ~= nil and now < na) then refused = true end
      end
    end
  end
  if refused then
    local out = {0}
    for i = 1, #KEYS do
      for j = 1, 4 do out[#out + 1] = states[i][j] or -1 end
    end
    return out
  end
end
local out = {1}
for i = 1, n do
  local c, we, na, lu = states[i][1], states[i][2], states[i][3], states[i][4]
  local window, limit, lock = param(i, 1), param(i, 2), param(i, 3)
  local after, delay, cap = param(i, 4), param(i, 5), param(i, 6)
  local count, ends
  if c == nil or we <= now then
    count, ends = amount, now + window
  else
    count, ends = c + amount, we
  end
  local nc, nwe, nna, nlu = count, ends, -1, -1
  if lock >= 0 and count >= limit then
    nc, nwe, nlu = 0, now, now + lock
  else
    if lu ~= nil and lu > now then nlu = lu end
    if after >= 0 and count >= after then
      local wait = delay
      for _ = 1, count - after do
        if wait >= cap then break end
        wait = wait * 2
      end
      if wait > cap then wait = cap end
      nna = now + wait
    end
  end
  redis.call('HSET', KEYS[i], 'c', nc, 'we', nwe)
  if nna >= 0 then redis.call('HSET', KEYS[i], 'na', nna) else redis.call('HDEL', KEYS[i], 'na') end
  if nlu >= 0 then redis.call('HSET', KEYS[i], 'lu', nlu) else redis.call('HDEL', KEYS[i], 'lu') end
  redis.call('PEXPIRE', KEYS[i], math.max(nwe, nna, nlu) - now + 1000)
  out[#out + 1] = nc
  out[#out + 1] = nwe
  out[#out + 1] = nna
  out[#out + 1] = nlu
end
return out
"""

_REFUND = """
for i = 1, #KEYS do
  local c = tonumber(redis.call('HGET', KEYS[i], 'c'))
  if c ~= nil and c > 0 then redis.call('HINCRBY', KEYS[i], 'c', -1) end
end
return 0
"""


def _ms(moment: datetime.datetime) -> int:
    return (moment - EPOCH) // _MS


def _moment(ms: int) -> datetime.datetime:
    return EPOCH + ms * _MS


def _params(policy: Policy) -> list[int]:
    return [
        policy.window // _MS,
        policy.limit,
        policy.lock // _MS if policy.lock is not None else -1,
        policy.delay_after if policy.delay_after is not None else -1,
        policy.delay // _MS,
        policy.cap // _MS,
    ]


def _counter(c: Any, we: Any, na: Any, lu: Any) -> Counter | None:
    if c is None or int(c) < 0:
        return None
    return Counter(
        int(c),
        _moment(int(we)),
        _moment(int(na)) if na is not None and int(na) >= 0 else None,
        _moment(int(lu)) if lu is not None and int(lu) >= 0 else None,
    )


class RedisBackend:
    def __init__(self, client: Any, prefix: str = "limit:") -> None:
        self.client = client
        self.prefix = prefix
        self._take = client.register_script(_TAKE)
        self._refund = client.register_script(_REFUND)

    @classmethod
    def from_url(cls, url: str, prefix: str = "limit:") -> RedisBackend:
        import redis

        return cls(redis.Redis.from_url(url), prefix)

    def _key(self, policy: Policy, key: str) -> str:
        return f"{self.prefix}{policy.name}:{key}"

    def _run(
        self,
        mode: str,
        limits: Limits,
        checks: Limits,
        now: datetime.datetime,
        amount: int = 1,
    ) -> tuple[bool, list[Any]]:
        everything = [*limits, *checks]
        args: list[Any] = [mode, _ms(now), len(limits)]
        for policy, _ in everything:
            args.extend(_params(policy))
        args.append(amount)
        reply = self._take(keys=[self._key(p, k) for p, k in everything], args=args)
        values = [int(v) for v in reply]
        states = [_counter(*values[1 + 4 * i : 5 + 4 * i]) for i in range((len(values) - 1) // 4)]
        return values[0] == 1, states

    def take(
        self,
        db: Session | None,
        limits: Limits,
        checks: Limits,
        now: datetime.datetime,
        amount: int = 1,
    ) -> tuple[bool, list[Counter | None]]:
        return self._run("check", limits, checks, now, amount)

    def count(
        self, db: Session | None, policy: Policy, key: str, now: datetime.datetime
    ) -> Counter:
        _, states = self._run("force", [(policy, key)], (), now)
        assert states[0] is not None
        return states[0]

    def read(self, db: Session | None, policy: Policy, key: str) -> Counter | None:
        c, we, na, lu = self.client.hmget(self._key(policy, key), "c", "we", "na", "lu")
        return None if c is None or we is None else _counter(c, we, na, lu)

    def refund(self, db: Session | None, limits: Limits) -> None:
        self._refund(keys=[self._key(p, k) for p, k in limits], args=[])

    def clear(self, db: Session | None, policy: Policy, key: str) -> None:
        self.client.delete(self._key(policy, key))

    def purge(self, db: Session | None, now: datetime.datetime) -> int:
        return 0  # every hash expires by itself
