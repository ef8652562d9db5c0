-- GET a path built from a random id per request.
-- args: <file of ids, one a line> <path template with %s, e.g. /api/v1/course/list/%s/>
dofile("common.lua")

local ids, template

function init(args)
  ids = read_lines(args[1])
  template = args[2]
  math.randomseed(os.time() * 100 + thread_id)
end

function request()
  return wrk.format("GET", string.format(template, ids[math.random(#ids)]))
end
