--- Tab completion for the REPL: globals and keywords, fields of tables (and of their class
-- tables), methods and properties of nncw objects. Given "nncw.zoo.re" it returns
-- {"nncw.zoo.resnet18", "nncw.zoo.resnet20"}; after ':' only functions are offered.
local keywords = {
   "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
   "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
}

-- the value a path of names ("nncw.zoo") leads to, or nil; never calls Lua functions of
-- user tables beyond their __index
local function resolve(path)
   local v = _G
   for name in path:gmatch("[^%.]+") do
      if not name:match("^[%a_][%w_]*$") then return nil end
      local ok, r = pcall(function() return v[name] end)
      if not ok or r == nil then return nil end
      v = r
   end
   return v
end

-- adds the keys of v (and what its metatable offers) to into
local function collect(v, into, only_functions, depth)
   depth = depth or 0
   if depth > 4 then return end
   local ty = type(v)
   if ty == "table" then
      for k, x in pairs(v) do
         if type(k) == "string" and (not only_functions or type(x) == "function") then
            into[k] = true
         end
      end
   end
   local mt = getmetatable(v)
   if type(mt) ~= "table" then return end
   if type(mt.__methods) == "table" then collect(mt.__methods, into, only_functions, depth + 1) end
   if type(mt.__fields) == "table" and not only_functions then
      for _, f in ipairs(mt.__fields) do into[f] = true end
   end
   if type(mt.__index) == "table" then collect(mt.__index, into, only_functions, depth + 1) end
end

return function(word)
   local prefix, sep, partial = word:match("^(.-)([%.:])([%w_]*)$")
   local names = {}
   if not prefix then
      partial, prefix, sep = word, "", ""
      collect(_G, names, false)
      for _, k in ipairs(keywords) do names[k] = true end
   else
      local v = resolve(prefix)
      if v == nil then return {} end
      if type(v) == "string" then v = string end
      collect(v, names, sep == ":")
   end
   local out = {}
   for k in pairs(names) do
      if k:sub(1, #partial) == partial and not k:match("^__") then
         out[#out + 1] = prefix .. sep .. k
      end
   end
   table.sort(out)
   return out
end
