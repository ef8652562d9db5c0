-- Shared by the bench's wrk scripts (loaded with dofile; wrk runs with bench/wrk as its cwd).
--  * setup() numbers the threads: thread_id (1..n) is set before each thread's init().
--  * response() counts answers that are not what the endpoint must give: a non-2xx status, or
--    a body other than expect_body when a script sets it (the notify must read "success").
--  * next_prepared(), a request() for scripts that fill `prepared`: in order, wrapping around.
--  * done() prints the run as one JSON line, "BENCH_JSON {...}", for bench/load.py.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

bad = 0
bad_sample = ""
expect_body = nil
wraps = 0

function response(status, headers, body)
  if status < 200 or status > 299 or (expect_body ~= nil and body ~= expect_body) then
    bad = bad + 1
    if bad_sample == "" then
      bad_sample = status .. " " .. string.sub(body or "", 1, 160)
    end
  end
end

-- The prepared requests of this thread (filled by a script's init()). A script that sets
-- `request = next_prepared` sends them in order: past the last one it starts again and counts a
-- wrap (for the notifies: more redeliveries than planned).
prepared = {}
local position = 0

function next_prepared()
  position = position + 1
  if position > #prepared then
    position = 1
    wraps = wraps + 1
  end
  return prepared[position]
end

function read_lines(path)
  local lines = {}
  local file = assert(io.open(path, "r"))
  for line in file:lines() do
    if line ~= "" then
      table.insert(lines, line)
    end
  end
  file:close()
  assert(#lines > 0, path .. " is empty")
  return lines
end

local function json_safe(text)
  return (string.gsub(text, "[^%w %.,:;/_=%-%(%)%[%]]", "?"))
end

function done(summary, latency, requests)
  local bad_total, wraps_total, sample = 0, 0, ""
  for _, thread in ipairs(threads) do
    bad_total = bad_total + (thread:get("bad") or 0)
    wraps_total = wraps_total + (thread:get("wraps") or 0)
    local s = thread:get("bad_sample")
    if sample == "" and s ~= nil then
      sample = s
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %.0f, ' ..
    '"p90_us": %.0f, "p99_us": %.0f, "max_us": %.0f, "mean_us": %.1f, "connect": %d, ' ..
    '"read": %d, "write": %d, "timeout": %d, "status": %d, "bad": %d, "wraps": %d, ' ..
    '"bad_sample": "%s"}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max, latency.mean, e.connect,
    e.read, e.write, e.timeout, e.status, bad_total, wraps_total, json_safe(sample)))
end
