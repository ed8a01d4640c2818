//! The Lua scripts that make each shared step atomic in Redis. Every number that may exceed 2^31
//! is written with `%.0f` (Lua numbers are doubles: exact below 2^53, and a `seq` is a time in
//! microseconds, about 2^51), and the time is Redis's own (`TIME`), so that the instances'
//! clocks never decide an order.

use std::sync::LazyLock;

use redis::Script;

/// Holds a source's lease: renews it when `ARGV[1]` (this instance's lease value, or empty) still
/// holds it, takes it with a new fencing token when nobody does. KEYS: lease, fence. ARGV: the
/// value held, the instance, the lease in ms. Returns `{1, value}` when held, `{0, holder}` when
/// another instance holds it.
pub static HOLD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local current = redis.call('GET', KEYS[1])
if current and current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {1, current}
end
if current then return {0, current} end
local token = redis.call('INCR', KEYS[2])
local value = ARGV[2] .. '|' .. token
redis.call('SET', KEYS[1], value, 'PX', ARGV[3])
return {1, value}
",
    )
});

/// Gives a lease up (at shutdown), if it is still this instance's. KEYS: lease. ARGV: value.
pub static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
",
    )
});

/// Stamps and appends one entry (a sample or a failure) of a source, fenced: only the lease's
/// holder, in the current epoch, may. KEYS: lease, seq, samples, epoch. ARGV: lease value, epoch,
/// source, kind (`s` sample, `f` failure), data or reason, ms of history to keep, the lowest `seq`
/// the publisher accepts, its receive time in ms. Returns the `seq` as a string, or `-1` (fenced:
/// the lease is another's) or `-2` (the epoch changed).
pub static PUBLISH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return '-1' end
if redis.call('GET', KEYS[4]) ~= ARGV[2] then return '-2' end
local t = redis.call('TIME')
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
local seq = math.max(last + 1, now_us, tonumber(ARGV[7]))
local text = string.format('%.0f', seq)
redis.call('SET', KEYS[2], text)
local oldest = string.format('%.0f', math.floor(now_us / 1000) - tonumber(ARGV[6]))
redis.call('XADD', KEYS[3], 'MINID', '~', oldest, '*',
  'q', text, 'e', ARGV[2], 'src', ARGV[3], 'k', ARGV[4], 't', ARGV[8], 'd', ARGV[5])
return text
",
    )
});

/// Redeems a single-use nonce (a WebSocket ticket's, a pending login's) once across the
/// instances, judged by Redis's clock alone: refused once expired by `TIME` (an instance whose
/// clock lags would still take it for valid), and refused when it was issued before the book of
/// redeemed nonces began (Redis lost its data, and with it what was redeemed: the book begins
/// again, now). The nonce is kept until its expiry and the margin by Redis's clock, whatever the
/// redeeming instance's clock says. KEYS: the nonce's key, the book's beginning. ARGV: the
/// expiry (ms, the issuer's clock), the lifetime (ms), the margin (ms). Returns 1 the first time,
/// 0 ever after, -1 expired, -2 issued before the book began.
pub static REDEEM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expiry = tonumber(ARGV[1])
if now >= expiry then return -1 end
local since = tonumber(redis.call('GET', KEYS[2]) or '')
if not since then
  since = now
  redis.call('SET', KEYS[2], string.format('%.0f', now))
end
if expiry - tonumber(ARGV[2]) < since then return -2 end
local keep = string.format('%.0f', expiry - now + tonumber(ARGV[3]))
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', keep) then return 1 end
return 0
",
    )
});

/// Marks the beginning of the book of redeemed nonces (see [`REDEEM`]) when there is none: at
/// an instance's joining, before it signs tickets with the shared key. KEYS: the book's
/// beginning. Returns 1 when it began now.
pub static BEGIN_BOOK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local t = redis.call('TIME')
redis.call('SET', KEYS[1], string.format('%.0f', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)))
return 1
",
    )
});

/// Takes one attempt from each budget in order (GCRA: a theoretical arrival time per budget),
/// stopping at the first that is spent, which is also appended to the blocks stream. KEYS: the
/// budgets, then the blocks stream. ARGV: each budget's attempts per minute, then each one's
/// subject. Returns `{0, 0}`, or `{i, wait_ms}` for the spent budget `i` (from 1).
pub static SPEND: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local n = #KEYS - 1
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 1, n do
  local burst = tonumber(ARGV[i])
  local period = 60000 / burst
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat < now then tat = now end
  local allowed_at = tat + period - burst * period
  if allowed_at > now then
    local wait = math.ceil(allowed_at - now)
    redis.call('XADD', KEYS[n + 1], 'MAXLEN', '~', 1000, '*', 's', ARGV[n + i], 'w', string.format('%.0f', wait))
    return {i, wait}
  end
  local new = tat + period
  redis.call('SET', KEYS[i], string.format('%.0f', new), 'PX', string.format('%.0f', math.ceil(new - now)))
end
return {0, 0}
",
    )
});

/// Gives back the attempt a right password took from each budget (a login that succeeds is not
/// a guess): each theoretical arrival time moves back one period, never before now. KEYS: the
/// budgets. ARGV: each one's attempts per minute.
pub static REFUND: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 1, #KEYS do
  local period = 60000 / tonumber(ARGV[i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  local back = tat - period
  if back > now then
    redis.call('SET', KEYS[i], string.format('%.0f', back), 'PX', string.format('%.0f', math.ceil(back - now)))
  elseif tat > 0 then
    redis.call('DEL', KEYS[i])
  end
end
return 0
",
    )
});

/// Claims a notification's delivery for the holder of its source's lease, fenced by the lease's
/// token: refused when the lease is not `ARGV[1]` (another instance holds it, or nobody), when a
/// newer token claimed it, or when some instance marked it done. A claim of an older token that
/// was never marked done is taken over (its holder died before or while sending). KEYS: the
/// source's lease, the delivery's claim. ARGV: the lease value held here, the claim's TTL in ms.
/// Returns `{1, token}` (claimed, with this token), `{0, 0}` (not the holder, or a newer claim),
/// `{2, token}` (done, by that token).
pub static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local claim = redis.call('GET', KEYS[2])
if claim then
  local by = string.match(claim, '^done:(%d+)$')
  if by then return {2, tonumber(by)} end
end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0, 0} end
local token = tonumber(string.match(ARGV[1], '|(%d+)$'))
if not token then return redis.error_reply('a lease value without a token') end
if claim and tonumber(claim) and tonumber(claim) > token then return {0, 0} end
redis.call('SET', KEYS[2], string.format('%.0f', token), 'PX', ARGV[2])
return {1, token}
",
    )
});

/// Marks a notification's delivery done (its receiver accepted it) under `ARGV[1]`'s token,
/// unless it is marked done already: whoever claims it later is told so and does not send it.
/// KEYS: the delivery's claim. ARGV: the token, the TTL in ms. Returns 1 when marked, 0 when it
/// was done already.
pub static DONE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local claim = redis.call('GET', KEYS[1])
if claim and string.match(claim, '^done:') then return 0 end
redis.call('SET', KEYS[1], 'done:' .. ARGV[1], 'PX', ARGV[2])
return 1
",
    )
});

/// Raises a number kept as a string to `ARGV[1]` if it is below (or missing). KEYS: the number.
/// Returns 1 when raised, 0 when it was already there or above (a second factor's time step: a
/// code is taken once across the cluster).
pub static RAISE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local current = tonumber(redis.call('GET', KEYS[1]) or '-1')
local wanted = tonumber(ARGV[1])
if current >= wanted then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
",
    )
});
