-- POST request bodies read from files, one after another, and a JSON summary.
--
--   wrk -s bench/post.lua URL -- PATH CONTENT_TYPE BODY_FILE [BODY_FILE ...]
--
-- Requests are formatted once in init(), as wrk's SCRIPTING notes advise, so
-- the load generator spends its time on the network, not on Lua strings.
-- done() prints one line of JSON that bench/wrk.py reads.

local requests = {}
local next_index = 0

function init(args)
  local path, content_type = args[1], args[2]
  for i = 3, #args do
    local file = assert(io.open(args[i], "rb"))
    local body = file:read("*a")
    file:close()
    requests[#requests + 1] = wrk.format("POST", path, { ["Content-Type"] = content_type }, body)
  end
  assert(#requests > 0, "no request bodies given")
end

function request()
  next_index = next_index % #requests + 1
  return requests[next_index]
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %.1f, "p99_us": %.1f, "max_us": %.1f, '
      .. '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
