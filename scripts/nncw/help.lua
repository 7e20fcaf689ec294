--- :help and nncw.help: the sections of docs/lua-api.md. Each documented name has a heading
-- "### name(args)"; help(name) finds it exactly, or as the last part of a name
-- ("train" finds nncw.train, "summary" finds Graph:summary).
local help = {}

local sections -- {name = , heading = , text = } in file order, read once

local function load_sections(path)
   local f, err = io.open(path, "r")
   if not f then return nil, err end
   local list, current = {}, nil
   for line in f:lines() do
      local heading = line:match("^###%s+(.+)$")
      if heading then
         local name = heading:gsub("`", ""):match("^([%w_%.:]+)")
         current = {name = name, heading = heading:gsub("`", ""), lines = {}}
         list[#list + 1] = current
      elseif line:match("^##%s") then
         current = nil
      elseif current then
         current.lines[#current.lines + 1] = line
      end
   end
   f:close()
   for _, s in ipairs(list) do
      s.text = table.concat(s.lines, "\n"):gsub("^%s+", ""):gsub("%s+$", "")
      s.lines = nil
   end
   return list
end

local function get_sections()
   if not sections then
      local host = require "nncw.host"
      local list, err = load_sections(host.docs_path)
      if not list then error("nncw.help: cannot read the documentation: " .. err, 0) end
      sections = list
   end
   return sections
end

--- All documented names, in the order of the documentation.
function help.names()
   local names = {}
   for _, s in ipairs(get_sections()) do names[#names + 1] = s.name end
   return names
end

local function tail_matches(name, want)
   return name == want or name:sub(-#want - 1) == "." .. want or name:sub(-#want - 1) == ":" .. want
end

--- The documentation of a function as text; without a name, the index of names.
function help.help(name)
   local list = get_sections()
   if name == nil then
      local names = {}
      for _, s in ipairs(list) do names[#names + 1] = s.name end
      return "Documented names (:help NAME for one):\n  " .. table.concat(names, "\n  ")
   end
   if type(name) ~= "string" then
      error("nncw.help: argument 'name' must be a string, got " .. type(name), 2)
   end
   local found = {}
   for _, s in ipairs(list) do
      if s.name == name then return s.heading .. "\n\n" .. s.text end
      if tail_matches(s.name, name) then found[#found + 1] = s end
   end
   if #found == 1 then return found[1].heading .. "\n\n" .. found[1].text end
   if #found > 1 then
      local names = {}
      for _, s in ipairs(found) do names[#names + 1] = s.name end
      return "'" .. name .. "' is ambiguous: " .. table.concat(names, ", ")
   end
   return "no documentation for '" .. name .. "' (:help lists the names)"
end

return help
