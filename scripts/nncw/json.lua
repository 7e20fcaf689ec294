--- JSON text from Lua values and back: configs written as Lua tables go through the same
-- C parser as JSON files (engine/config), and compression params come back as tables.
-- A table with keys 1..n only is a list; an empty table is the empty list [].
local json = {}

local escapes = {
   ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
   ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t',
}

local function quote(s)
   return '"' .. s:gsub('[%c"\\]', function(c)
      return escapes[c] or string.format("\\u%04x", c:byte())
   end) .. '"'
end

local function is_list(t)
   local n = 0
   for k in pairs(t) do
      if math.type(k) ~= "integer" or k < 1 then return false end
      n = n + 1
   end
   return n == #t
end

local encode

local function encode_table(t, path, seen, out)
   if seen[t] then error(string.format("%s: a table that contains itself", path), 0) end
   seen[t] = true
   if is_list(t) then
      out[#out + 1] = "["
      for i, v in ipairs(t) do
         if i > 1 then out[#out + 1] = "," end
         encode(v, string.format("%s[%d]", path, i - 1), seen, out)
      end
      out[#out + 1] = "]"
   else
      local keys = {}
      for k in pairs(t) do
         if type(k) ~= "string" then
            error(string.format("%s: key %s is not a string", path, tostring(k)), 0)
         end
         keys[#keys + 1] = k
      end
      table.sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
         if i > 1 then out[#out + 1] = "," end
         out[#out + 1] = quote(k) .. ":"
         encode(t[k], path == "" and k or path .. "." .. k, seen, out)
      end
      out[#out + 1] = "}"
   end
   seen[t] = nil
end

encode = function(v, path, seen, out)
   local ty = type(v)
   if ty == "table" then
      encode_table(v, path, seen, out)
   elseif ty == "string" then
      out[#out + 1] = quote(v)
   elseif ty == "number" then
      if v ~= v or v == math.huge or v == -math.huge then
         error(string.format("%s: %s has no JSON form", path, tostring(v)), 0)
      end
      out[#out + 1] = math.type(v) == "integer" and tostring(v) or string.format("%.17g", v)
   elseif ty == "boolean" then
      out[#out + 1] = tostring(v)
   else
      error(string.format("%s: a %s has no JSON form", path == "" and "(root)" or path, ty), 0)
   end
end

--- JSON text of a value (tables, strings, numbers, booleans); errors name the key path.
function json.encode(v)
   local out = {}
   encode(v, "", {}, out)
   return table.concat(out)
end

local function decode_error(s, i, what)
   error(string.format("json.decode: %s at position %d", what, i), 0)
end

local decode_value

local function skip(s, i)
   return s:find("[^ \t\r\n]", i) or #s + 1
end

local function decode_string(s, i)
   local out, j = {}, i + 1
   while true do
      local c = s:sub(j, j)
      if c == "" then decode_error(s, j, "unterminated string") end
      if c == '"' then return table.concat(out), j + 1 end
      if c == "\\" then
         local e = s:sub(j + 1, j + 1)
         local map = {b = "\b", f = "\f", n = "\n", r = "\r", t = "\t"}
         if e == "u" then
            out[#out + 1] = utf8.char(tonumber(s:sub(j + 2, j + 5), 16))
            j = j + 6
         else
            out[#out + 1] = map[e] or e
            j = j + 2
         end
      else
         out[#out + 1] = c
         j = j + 1
      end
   end
end

decode_value = function(s, i)
   i = skip(s, i)
   local c = s:sub(i, i)
   if c == "{" then
      local t = {}
      i = skip(s, i + 1)
      if s:sub(i, i) == "}" then return t, i + 1 end
      while true do
         if s:sub(i, i) ~= '"' then decode_error(s, i, "expected a key") end
         local k
         k, i = decode_string(s, i)
         i = skip(s, i)
         if s:sub(i, i) ~= ":" then decode_error(s, i, "expected ':'") end
         t[k], i = decode_value(s, i + 1)
         i = skip(s, i)
         local d = s:sub(i, i)
         if d == "}" then return t, i + 1 end
         if d ~= "," then decode_error(s, i, "expected ',' or '}'") end
         i = skip(s, i + 1)
      end
   elseif c == "[" then
      local t = {}
      i = skip(s, i + 1)
      if s:sub(i, i) == "]" then return t, i + 1 end
      while true do
         t[#t + 1], i = decode_value(s, i)
         i = skip(s, i)
         local d = s:sub(i, i)
         if d == "]" then return t, i + 1 end
         if d ~= "," then decode_error(s, i, "expected ',' or ']'") end
         i = i + 1
      end
   elseif c == '"' then
      return decode_string(s, i)
   elseif s:sub(i, i + 3) == "true" then
      return true, i + 4
   elseif s:sub(i, i + 4) == "false" then
      return false, i + 5
   elseif s:sub(i, i + 3) == "null" then
      return nil, i + 4
   else
      local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", i)
      if not num or num == "" then decode_error(s, i, "unexpected character") end
      return math.tointeger(tonumber(num)) or tonumber(num), i + #num
   end
end

--- The Lua value of JSON text (objects become tables, null becomes nil).
function json.decode(s)
   local v, i = decode_value(s, 1)
   if skip(s, i) <= #s then decode_error(s, i, "trailing characters") end
   return v
end

return json
