-- POST pre-built bodies in file order to the URL given to wrk.
-- args: <file> <content type> <expected body, "" for any> <wrk thread count>
-- A line is "<Authorization value>\t<body>" or just "<body>". Thread t sends lines t, t+T,
-- t+2T, ... (T threads) so no two threads send the same line; past its last line it starts
-- again and counts a wrap (for the notifies: more redeliveries than planned).
dofile("common.lua")

request = next_prepared

function init(args)
  local content_type = args[2]
  if args[3] ~= nil and args[3] ~= "" then
    expect_body = args[3]
  end
  local thread_count = tonumber(args[4]) or 1
  for i, line in ipairs(read_lines(args[1])) do
    if (i - 1) % thread_count == thread_id - 1 then
      local headers = { ["Content-Type"] = content_type }
      local body = line
      local tab = string.find(line, "\t", 1, true)
      if tab then
        headers["Authorization"] = string.sub(line, 1, tab - 1)
        body = string.sub(line, tab + 1)
      end
      table.insert(prepared, wrk.format("POST", nil, headers, body))
    end
  end
end
