--- The REPL's pretty printer: nested tables with indentation, tensors as shape + statistics,
-- graphs as their summary table, everything else through tostring.
local pretty = {}

local MAX_DEPTH, MAX_ITEMS, LINE = 6, 200, 90

local function is_identifier(k)
   return type(k) == "string" and k:match("^[%a_][%w_]*$") ~= nil
end

local function scalar(v)
   local ty = type(v)
   if ty == "string" then return (string.format("%q", v):gsub("\\\n", "\\n")) end
   if ty == "number" and math.type(v) == "float" then
      if v == math.floor(v) and math.abs(v) < 1e15 then return string.format("%.1f", v) end
      return string.format("%.14g", v)
   end
   return tostring(v)
end

local function sorted_keys(t)
   local keys, n = {}, #t
   for k in pairs(t) do
      if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
   end
   table.sort(keys, function(a, b)
      local ta, tb = type(a), type(b)
      if ta ~= tb then return ta < tb end
      if ta == "number" or ta == "string" then return a < b end
      return tostring(a) < tostring(b)
   end)
   return keys, n
end

local format

local function format_table(t, indent, depth, seen)
   if seen[t] then return "<cycle>" end
   local mt = getmetatable(t)
   if mt and mt.__tostring then return tostring(t) end
   if depth > MAX_DEPTH then return "{...}" end
   seen[t] = true
   local keys, n = sorted_keys(t)
   local items = {}
   for i = 1, n do
      if #items >= MAX_ITEMS then items[#items + 1] = "..."; break end
      items[#items + 1] = format(t[i], indent .. "  ", depth + 1, seen)
   end
   for _, k in ipairs(keys) do
      if #items >= MAX_ITEMS then items[#items + 1] = "..."; break end
      local key = is_identifier(k) and k or "[" .. scalar(k) .. "]"
      items[#items + 1] = key .. " = " .. format(t[k], indent .. "  ", depth + 1, seen)
   end
   seen[t] = nil
   if #items == 0 then return "{}" end
   local one = "{" .. table.concat(items, ", ") .. "}"
   if #one + #indent <= LINE and not one:find("\n") then return one end
   return "{\n" .. indent .. "  " .. table.concat(items, ",\n" .. indent .. "  ") .. "\n" ..
      indent .. "}"
end

format = function(v, indent, depth, seen)
   local ty = type(v)
   if ty == "table" then return format_table(v, indent, depth, seen) end
   if ty == "userdata" then
      local mt = getmetatable(v)
      if mt and mt.__name == "nncw.Graph" and depth == 0 and v.summary then
         local ok, s = pcall(v.summary, v)
         if ok then return s end
      end
      return tostring(v)
   end
   return scalar(v)
end

--- A printable text of a value.
function pretty.format(v)
   return format(v, "", 0, {})
end

--- Prints each value with pretty.format, tab-separated (what the REPL shows for results);
-- strings at the top level print as they are.
function pretty.show(...)
   local n = select("#", ...)
   local parts = {}
   for i = 1, n do
      local v = select(i, ...)
      parts[i] = type(v) == "string" and v or pretty.format(v)
   end
   io.write(table.concat(parts, "\t"), "\n")
   io.flush()
end

return pretty
