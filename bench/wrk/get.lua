-- GET the URL given to wrk, counting bad answers (common.lua).
dofile("common.lua")
