-- GET a path built from a popularity-skewed (Zipf) id per request.
-- args: <table of "id cdf" lines, bench/zipf.py> <path template with %s>
-- Each request draws u in [0, 1) and binary-searches the first line whose cdf exceeds u: the
-- same rule as bench/zipf.py's Sampler, whose tests check the table's distribution.
dofile("common.lua")

local ids, cdf, template = {}, {}, nil

function init(args)
  for _, line in ipairs(read_lines(args[1])) do
    local id, p = string.match(line, "^(%S+)%s+(%S+)$")
    table.insert(ids, id)
    table.insert(cdf, tonumber(p))
  end
  template = args[2]
  math.randomseed(os.time() * 100 + thread_id)
end

local function pick(u)
  local lo, hi = 1, #cdf
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cdf[mid] > u then
      hi = mid
    else
      lo = mid + 1
    end
  end
  return ids[lo]
end

function request()
  return wrk.format("GET", string.format(template, pick(math.random())))
end
