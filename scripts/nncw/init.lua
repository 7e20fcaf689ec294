--- The nncw module: assembles the C bindings (nncw.tensor, nncw.graph, nncw.zoo, nncw.data,
-- nncw.train, nncw.config, nncw.checkpoint, nncw.onnx, nncw.host) and the pure-Lua helpers
-- (nn, pretty printer, help, completion, JSON). The reference is docs/lua-api.md.
local host = require "nncw.host"
local tensor = require "nncw.tensor"
local graph = require "nncw.graph"
local zoo = require "nncw.zoo"
local data = require "nncw.data"
local train = require "nncw.train"
local config = require "nncw.config"
local checkpoint = require "nncw.checkpoint"
local onnx = require "nncw.onnx"
local compression = require "nncw.compression"
local json = require "nncw.json"
local pretty = require "nncw.pretty"
local help = require "nncw.help"

local nncw = {
   version = host.version,
   host = host,
   tensor = tensor,
   graph = graph,
   zoo = zoo,
   nn = require "nncw.nn",
   data = data,
   train = train.train,
   evaluate = train.evaluate,
   resume = train.resume, -- continues an interrupted nncw.train run
   config = config,
   checkpoint = checkpoint,
   onnx = onnx,
   compression = compression,
   json = json,
   scope_matches = graph.scope_matches,
   pretty = pretty.format,
   show = pretty.show,
   help = help.help,
   complete = require "nncw.complete",
}

-- nncw.tensor{...} is nncw.tensor.from_table{...}
setmetatable(tensor, {__call = function(_, values, dtype) return tensor.from_table(values, dtype) end})

-- ---- Graph:summary ----

local function thousands(n)
   local s = tostring(n)
   local head, digits = s:match("^(-?)(%d+)$")
   if not digits then return s end
   return head .. digits:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
end

local function flops_str(n)
   if n >= 1e9 then return string.format("%.2f G", n / 1e9) end
   if n >= 1e6 then return string.format("%.2f M", n / 1e6) end
   if n >= 1e3 then return string.format("%.1f k", n / 1e3) end
   return tostring(n)
end

local function shape_str(s)
   return s and "[" .. table.concat(s, ", ") .. "]" or "-"
end

--- A printable table of the nodes: index, scope, op, output shape (batch 1), parameters and
-- FLOPs, with totals. pattern (optional) keeps only matching scopes (exact or "{re}...").
function graph.Graph:summary(pattern)
   local nodes = pattern and self:find(pattern) or self:nodes()
   local width = 5
   for _, n in ipairs(nodes) do width = math.max(width, math.min(#n.scope, 56)) end
   local fmt = "%4s  %-" .. width .. "s  %-16s %-18s %12s %12s"
   local lines = {string.format(fmt, "#", "scope", "op", "output", "params", "FLOPs")}
   local params, flops = 0, 0
   for _, n in ipairs(nodes) do
      local scope = #n.scope > 56 and "..." .. n.scope:sub(-53) or n.scope
      lines[#lines + 1] = string.format(fmt, n.index, scope, n.op, shape_str(n.output_shapes[1]),
         thousands(n.params), flops_str(n.flops))
      params, flops = params + n.params, flops + n.flops
   end
   lines[#lines + 1] = string.format("%d nodes, %s parameters, %sFLOPs per sample%s", #nodes,
      thousands(params), flops_str(flops), pattern and " (matching '" .. pattern .. "')" or "")
   return table.concat(lines, "\n")
end

-- ---- configs from tables ----

--- nncw.config.from_table(t[, name]): a Config from a Lua table shaped like the JSON file
function config.from_table(t, name)
   if type(t) ~= "table" then
      error("nncw.config.from_table: argument 'config' must be a table, got " .. type(t), 2)
   end
   local ok, text = pcall(json.encode, t)
   if not ok then error("nncw.config.from_table: " .. text, 2) end
   local parsed, cfg = pcall(config.parse, text, name or "<table>")
   if not parsed then
      error((tostring(cfg):gsub("^nncw%.config%.parse:", "nncw.config.from_table:")), 2)
   end
   return cfg
end

-- to_table decodes each compression entry's params and algorithm settings into tables
local raw_to_table = config.Config.to_table
function config.Config:to_table()
   local t = raw_to_table(self)
   for _, c in ipairs(t.compression) do
      c.params = json.decode(c.params_json)
      for k, v in pairs(json.decode(c.settings_json)) do c[k] = v end
      c.params_json, c.settings_json = nil, nil
   end
   return t
end

-- ---- compression ----

--- nncw.compress(model, config[, {data, batch, seed}]): compress model in place as config's
-- "compression" section says (NNCF's format); config is a Config, a JSON file's path or a
-- table shaped like the file. Returns the Compression (quantizers, edits, statistics, export).
function nncw.compress(model, cfg, opts)
   if type(cfg) == "string" then
      local ok, loaded = pcall(config.load, cfg)
      if not ok then error((tostring(loaded):gsub("^nncw%.config%.load:", "nncw.compress:")), 2) end
      cfg = loaded
   elseif type(cfg) == "table" then
      local ok, made = pcall(config.from_table, cfg, "<table>")
      if not ok then error((tostring(made):gsub("^nncw%.config%.from_table:", "nncw.compress:")), 2) end
      cfg = made
   end
   local ok, c = pcall(compression.create, model, cfg, opts)
   if not ok then error((tostring(c):gsub("^nncw%.compression%.create:", "nncw.compress:")), 2) end
   return c
end

return nncw
