-- wrk script: GET a random path from $WRK_PATHS (one per line), each request from a different client
-- (loopback-range) address behind one proxy (X-Forwarded-For, the server runs with NUM_PROXIES=1), so no per-address
-- throttle is hit; Accept-Encoding like a browser (gzip on the server side is part of what is measured).
local paths = {}

function init(args)
  local file = assert(io.open(os.getenv("WRK_PATHS"), "r"))
  for line in file:lines() do
    if #line > 0 then paths[#paths + 1] = line end
  end
  file:close()
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
end

function request()
  local path = paths[math.random(#paths)]
  local ip = string.format("127.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
  return wrk.format("GET", path, {["X-Forwarded-For"] = ip, ["Accept-Encoding"] = "gzip",
                                  ["Accept-Language"] = "zh-hans"})
end

function done(summary, latency, requests)
  local lat = {}
  for _, p in ipairs({50, 90, 99}) do lat[#lat + 1] = string.format('"p%d_ms": %.2f', p, latency:percentile(p) / 1000) end
  io.write(string.format('WRK_JSON {"requests": %d, "seconds": %.3f, "rps": %.1f, "non_2xx_3xx": %d, ' ..
                         '"socket_errors": %d, %s}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    table.concat(lat, ", ")))
end
