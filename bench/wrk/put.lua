-- PUT pre-built bodies to per-line paths, in file order.
-- args: <file> <wrk thread count>
-- A line is "<Authorization value>\t<path>\t<JSON body>". Thread t sends lines t, t+T, t+2T, ...
-- (T threads); past its last line it starts again and counts a wrap.
dofile("common.lua")

request = next_prepared

function init(args)
  local thread_count = tonumber(args[2]) or 1
  for i, line in ipairs(read_lines(args[1])) do
    if (i - 1) % thread_count == thread_id - 1 then
      local authorization, path, body = string.match(line, "^([^\t]*)\t([^\t]*)\t(.*)$")
      assert(path, "a line of " .. args[1] .. " is not <authorization>\\t<path>\\t<body>")
      local headers = { ["Content-Type"] = "application/json", ["Authorization"] = authorization }
      table.insert(prepared, wrk.format("PUT", path, headers, body))
    end
  end
end
