--- nncw.nn: a small Torch-`nn`-like way to write a network in Lua, built into a Graph by the
-- engine's layer builder (nncw.zoo.builder). Scopes and parameter names follow PyTorch:
-- children of a Sequential are named "0", "1", ... unless given a name with :named().
--
--    local nn = nncw.nn
--    local net = nn.Sequential{
--       nn.Conv2d(1, 16, 3, {padding = 1}), nn.BatchNorm2d(), nn.ReLU(),
--       nn.Residual(nn.Sequential{nn.Conv2d(16, 16, 3, {padding = 1}), nn.ReLU()}),
--       nn.Concat{nn.Conv2d(16, 8, 1), nn.MaxPool2d(3, 1, 1)},
--       nn.GlobalAvgPool2d(), nn.Flatten(), nn.Linear(nil, 10),   -- nil: inferred
--    }
--    local model = nn.build(net, {name = "Net", input = {1, 28, 28}, seed = 1})
local nn = {}

local Module = {}
Module.__index = Module

local function fail(fn, arg, what, got)
   local shown = type(got) == "string" and "'" .. got .. "'" or tostring(got)
   error(string.format("nncw.nn.%s: argument '%s' must be %s, got %s", fn, arg, what, shown), 3)
end

local function check_int(fn, arg, v, lo, optional)
   if v == nil and optional then return nil end
   if math.type(v) ~= "integer" and not (type(v) == "number" and v == math.floor(v)) or v < lo then
      fail(fn, arg, lo == 1 and "a positive integer" or "an integer >= " .. lo, v)
   end
   return math.tointeger(v)
end

local function check_opts(fn, opts, known)
   if opts == nil then return {} end
   if type(opts) ~= "table" then fail(fn, "options", "a table", opts) end
   for k in pairs(opts) do
      if not known[k] then
         error(string.format("nncw.nn.%s: unknown option '%s'", fn, tostring(k)), 3)
      end
   end
   return opts
end

local function new(kind, fields)
   fields.kind = kind
   return setmetatable(fields, Module)
end

--- Gives the module a scope name (instead of its index in the parent); returns the module.
function Module:named(name)
   if type(name) ~= "string" or name == "" or name:find("[/%.]") then
      fail("Module:named", "name", "a non-empty string without '/' or '.'", name)
   end
   self.name = name
   return self
end

function Module:__tostring()
   return self:describe("")
end

function Module:describe(indent)
   if not self.children then return self.kind .. "(" .. (self.args or "") .. ")" end
   local lines = {self.kind .. "("}
   for i, c in ipairs(self.children) do
      lines[#lines + 1] = string.format("%s  (%s): %s", indent, c.name or tostring(i - 1),
         c:describe(indent .. "  "))
   end
   lines[#lines + 1] = indent .. ")"
   return table.concat(lines, "\n")
end

-- builds module m on value x: containers inside their own scope, leaves as one named node
local function apply(m, b, x, name)
   if m.children then
      b:push(name)
      local y = m:build(b, x)
      b:pop()
      return y
   end
   return m:build(b, x, name)
end

local function channels(b, x)
   return b:shape(x)[2]
end

-- ---- layers ----

--- Conv2d(in_channels | nil, out_channels, kernel[, {stride, padding, groups, bias}])
function nn.Conv2d(in_c, out_c, k, opts)
   local fn = "Conv2d"
   opts = check_opts(fn, opts, {stride = true, padding = true, groups = true, bias = true})
   local m = new(fn, {
      in_c = check_int(fn, "in_channels", in_c, 1, true), out_c = check_int(fn, "out_channels", out_c, 1),
      k = check_int(fn, "kernel", k, 1), stride = check_int(fn, "stride", opts.stride or 1, 1),
      pad = check_int(fn, "padding", opts.padding or 0, 0), groups = check_int(fn, "groups", opts.groups or 1, 1),
      bias = opts.bias ~= false,
   })
   m.args = string.format("%s, %d, kernel_size=%d, stride=%d, padding=%d%s%s", tostring(m.in_c or "?"),
      m.out_c, m.k, m.stride, m.pad, m.groups > 1 and ", groups=" .. m.groups or "",
      m.bias and "" or ", bias=False")
   function m:build(b, x, name)
      return b:conv2d(x, name, self.in_c or channels(b, x), self.out_c, self.k,
         {stride = self.stride, pad = self.pad, groups = self.groups, bias = self.bias})
   end
   return m
end

--- BatchNorm2d([channels]): channels inferred when nil
function nn.BatchNorm2d(c)
   local m = new("BatchNorm2d", {c = check_int("BatchNorm2d", "channels", c, 1, true)})
   m.args = m.c and tostring(m.c) or ""
   function m:build(b, x, name) return b:batchnorm(x, name, self.c or channels(b, x)) end
   return m
end

--- Linear(in_features | nil, out_features): in_features inferred when nil
function nn.Linear(in_f, out_f)
   local m = new("Linear", {
      in_f = check_int("Linear", "in_features", in_f, 1, true),
      out_f = check_int("Linear", "out_features", out_f, 1),
   })
   m.args = string.format("in_features=%s, out_features=%d", tostring(m.in_f or "?"), m.out_f)
   function m:build(b, x, name)
      local n = self.in_f
      if not n then
         n = 1
         for i, d in ipairs(b:shape(x)) do if i > 1 then n = n * d end end
      end
      return b:linear(x, name, n, self.out_f)
   end
   return m
end

local function simple(kind, method)
   return function()
      local m = new(kind, {})
      function m:build(b, x, name) return b[method](b, x, name) end
      return m
   end
end

--- ReLU(), ReLU6(), Flatten(), GlobalAvgPool2d()
nn.ReLU = simple("ReLU", "relu")
nn.ReLU6 = simple("ReLU6", "relu6")
nn.Flatten = simple("Flatten", "flatten")
nn.GlobalAvgPool2d = simple("GlobalAvgPool2d", "global_avgpool")

local function pool(kind, method)
   return function(k, stride, pad)
      local m = new(kind, {
         k = check_int(kind, "kernel", k, 1),
         stride = check_int(kind, "stride", stride or k, 1),
         pad = check_int(kind, "padding", pad or 0, 0),
      })
      m.args = string.format("kernel_size=%d, stride=%d, padding=%d", m.k, m.stride, m.pad)
      function m:build(b, x, name)
         return b[method](b, x, name, self.k, {stride = self.stride, pad = self.pad})
      end
      return m
   end
end

--- MaxPool2d(kernel[, stride = kernel[, padding = 0]]), AvgPool2d(...)
nn.MaxPool2d = pool("MaxPool2d", "maxpool")
nn.AvgPool2d = pool("AvgPool2d", "avgpool")

--- Dropout([p = 0.5])
function nn.Dropout(p)
   p = p or 0.5
   if type(p) ~= "number" or p < 0 or p >= 1 then fail("Dropout", "p", "a number in [0, 1)", p) end
   local m = new("Dropout", {p = p, args = "p=" .. p})
   function m:build(b, x, name) return b:dropout(x, name, self.p) end
   return m
end

-- ---- containers ----

local function check_children(kind, list, min)
   if type(list) ~= "table" or #list < min then
      fail(kind, "modules", string.format("a list of at least %d modules", min), list)
   end
   for i, c in ipairs(list) do
      if getmetatable(c) ~= Module then
         error(string.format("nncw.nn.%s: argument 'modules' must be a list of nncw.nn modules, "
            .. "got a %s at position %d", kind, type(c), i), 3)
      end
   end
   local children = {}
   for i, c in ipairs(list) do children[i] = c end
   return children
end

--- Sequential{m1, m2, ...}: each module feeds the next
function nn.Sequential(list)
   local m = new("Sequential", {children = check_children("Sequential", list, 1)})
   function m:build(b, x)
      for i, c in ipairs(self.children) do x = apply(c, b, x, c.name or tostring(i - 1)) end
      return x
   end
   return m
end

--- Residual(body[, shortcut]): body(x) + shortcut(x) (identity without a shortcut), as a
-- node "add"; the branches are scoped "body" and "shortcut"
function nn.Residual(body, shortcut)
   local children = check_children("Residual", {body}, 1)
   if shortcut ~= nil then children[2] = check_children("Residual", {shortcut}, 1)[1] end
   children[1].name = children[1].name or "body"
   if children[2] then children[2].name = children[2].name or "shortcut" end
   local m = new("Residual", {children = children})
   function m:build(b, x)
      local y = apply(self.children[1], b, x, self.children[1].name)
      local s = self.children[2] and apply(self.children[2], b, x, self.children[2].name) or x
      return b:add(y, s, "add")
   end
   return m
end

--- Concat{branch1, branch2, ...[, axis = 1]}: the branches' outputs joined along the
-- channel axis, as a node "concat"
function nn.Concat(list)
   local axis = type(list) == "table" and list.axis or 1
   local m = new("Concat", {children = check_children("Concat", list, 1), axis = axis})
   function m:build(b, x)
      local ys = {}
      for i, c in ipairs(self.children) do ys[i] = apply(c, b, x, c.name or tostring(i - 1)) end
      return b:concat(ys, "concat", self.axis)
   end
   return m
end

--- build(net, {name = "Net", input = {c, h, w}, seed = 1}) -> Graph
function nn.build(net, opts)
   if getmetatable(net) ~= Module then fail("build", "net", "an nncw.nn module", type(net)) end
   opts = check_opts("build", opts, {name = true, input = true, seed = true})
   local input = opts.input
   if type(input) ~= "table" or #input ~= 3 then
      fail("build", "input", "a list {channels, height, width}", input)
   end
   local zoo = require "nncw.zoo"
   local b <close> = zoo.builder(opts.name or "Net", {seed = opts.seed or 1})
   local x = b:input("input", input[1], input[2], input[3])
   local y
   if net.children then
      y = net:build(b, x)
   else
      y = net:build(b, x, net.name or net.kind:lower())
   end
   return b:finish(y)
end

nn.Module = Module
return nn
