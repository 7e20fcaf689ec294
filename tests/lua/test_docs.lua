-- Every function of the API is documented in docs/lua-api.md with an example, and every
-- documented name is exercised by some tests/lua/test_*.lua.
local H = dofile(arg[0]:match("^(.*/)") .. "helpers.lua")

local documented = {}
for _, name in ipairs(require("nncw.help").names()) do documented[name] = true end

-- the API: functions and values of the nncw table and its modules, class methods, properties
local api = {}
local function add_table(prefix, t, skip)
   for k, v in pairs(t) do
      if type(k) == "string" and not k:match("^_") and not (skip and skip[k]) then
         if type(v) ~= "table" then api[#api + 1] = prefix .. k end
      end
   end
end
add_table("nncw.", nncw, {})
for _, mod in ipairs{"host", "tensor", "zoo", "nn", "data", "config", "checkpoint", "onnx", "json",
                    "compression"} do
   add_table("nncw." .. mod .. ".", nncw[mod], {Tensor = true, Builder = true, Dataset = true,
      Loader = true, Config = true, Module = true, Compression = true})
end
api[#api + 1] = "nncw.config.algorithms"
local classes = {
   Tensor = nncw.tensor.Tensor, Graph = nncw.graph.Graph, Node = nncw.graph.Node,
   Builder = nncw.zoo.Builder, Dataset = nncw.data.Dataset, Loader = nncw.data.Loader,
   Config = nncw.config.Config, Compression = nncw.compression.Compression,
}
for cname, methods in pairs(classes) do
   for k, v in pairs(methods) do
      if type(v) == "function" then api[#api + 1] = cname .. ":" .. k end
   end
end
api[#api + 1] = "Module:named"
for _, f in ipairs(getmetatable(nncw.zoo.cnn():nodes()[1]).__fields) do
   api[#api + 1] = "Node." .. f
end
table.sort(api)

H.test("every API name has a section in docs/lua-api.md", function()
   local missing = {}
   for _, name in ipairs(api) do
      if not documented[name] then missing[#missing + 1] = name end
   end
   assert(#missing == 0, "undocumented: " .. table.concat(missing, ", "))
   assert(#api > 100, "the API list looks too short: " .. #api)
end)

H.test("every section has an example", function()
   local f = assert(io.open(nncw.host.docs_path))
   local text = f:read("a")
   f:close()
   local without = {}
   for heading, body in text:gmatch("\n### ([^\n]+)\n(.-)\n#") do
      if not body:find("\n    ") then without[#without + 1] = heading end
   end
   assert(#without == 0, "no example: " .. table.concat(without, ", "))
end)

H.test("every documented name is used by a Lua test", function()
   local sources = {}
   local p = io.popen("ls '" .. H.dir .. "'")
   for file in p:lines() do
      if file:match("^test_.*%.lua$") and file ~= "test_docs.lua" then
         local f = assert(io.open(H.dir .. file))
         sources[#sources + 1] = f:read("a")
         f:close()
      end
   end
   p:close()
   local all = table.concat(sources, "\n")
   local unused = {}
   for name in pairs(documented) do
      -- "nncw.zoo.cnn" -> "zoo.cnn"; "Graph:find" -> ":find" or ".find"; "Node.scope" -> ".scope"
      local member = name:match("[:%.]([%w_]+)$") or name
      local found = all:find(name, 1, true) or all:find(":" .. member .. "(", 1, true) or
         all:find("." .. member, 1, true)
      if not found then unused[#unused + 1] = name end
   end
   table.sort(unused)
   assert(#unused == 0, "not used by any test: " .. table.concat(unused, ", "))
end)

H.done()
