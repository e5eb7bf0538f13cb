-- One benchmark scenario for wrk, described by a spec file (see bench/load.py):
--   method GET | path /users/{v} | header Name: value | body text | mode MODE | tag RUNTAG
--   value V   (repeated: the pool that {v} takes its values from)
-- Modes: "cycle" walks the pool round-robin; "refresh" uses each value once and
-- queues the refresh_token of every 200 answer (a rotation chain per connection);
-- {n} in path, header or body becomes a value unique to this run.
-- Every answer outside 2xx is counted; done() prints one line "BENCHJSON {...}" with the numbers the harness keeps.

local spec = { headers = {}, values = {} }
thread_index = 0
local thread_count = 1
local threads = {}
local counter, cursor = 0, 0
local queue, head, tail = {}, 1, 0
non2xx = 0

local function read_spec(path)
  for line in io.lines(path) do
    local key, rest = line:match("^(%S+) (.*)$")
    if key == "value" then
      spec.values[#spec.values + 1] = rest
    elseif key == "header" then
      local name, value = rest:match("^([^:]+): (.*)$")
      spec.headers[name] = value
    elseif key then
      spec[key] = rest
    end
  end
end

function setup(thread)
  thread:set("thread_index", #threads)
  threads[#threads + 1] = thread
end

function init(args)
  read_spec(args[1])
  thread_count = tonumber(args[2])
  spec.mode = spec.mode or "cycle"
  spec.tag = spec.tag or "x"
  -- Each thread owns every thread_count-th value, so no two threads share one.
  local mine = {}
  for i = 1, #spec.values do
    if (i - 1) % thread_count == thread_index then
      mine[#mine + 1] = spec.values[i]
    end
  end
  if #mine == 0 then mine = spec.values end
  spec.values = mine
  for i = 1, #mine do queue[i] = mine[i] end
  tail = #mine
  cursor = 0
end

local function next_value()
  if spec.mode == "refresh" then
    local value = queue[head]
    if value == nil then return "exhausted" end
    queue[head] = nil
    head = head + 1
    return value
  end
  if #spec.values == 0 then return "" end
  cursor = cursor % #spec.values + 1
  return spec.values[cursor]
end

local function fill(text, value, unique)
  if text == nil then return nil end
  text = text:gsub("{v}", function() return value end)
  return (text:gsub("{n}", function() return unique end))
end

function request()
  local value = next_value()
  counter = counter + 1
  local unique = spec.tag .. "t" .. thread_index .. "n" .. counter
  local headers = {}
  for name, template in pairs(spec.headers) do
    headers[name] = fill(template, value, unique)
  end
  return wrk.format(spec.method, fill(spec.path, value, unique), headers,
    fill(spec.body, value, unique))
end

function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
  if spec.mode == "refresh" and status == 200 then
    local token = body:match('"refresh_token"%s*:%s*"([^"]+)"')
    if token then
      tail = tail + 1
      queue[tail] = token
    end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("non2xx") end
  io.write(string.format(
    'BENCHJSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d, "non2xx": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, bad,
    latency:percentile(50), latency:percentile(99)))
end
