-- Shared by the Lua test scripts: named test cases, error expectations, a closing count line.
--   local H = dofile(arg[0]:match("^(.*/)") .. "helpers.lua")
--   H.test("zeros has the shape", function() assert(...) end)
--   H.raises("must be a positive integer, got -1", nncw.train, model, data, {epochs = -1})
--   H.done()
local H = {passed = 0, failed = 0}

H.dir = arg[0]:match("^(.*/)") or "./"
H.data = os.getenv("NNCW_TEST_DATA") or H.dir .. "../data"

function H.test(name, fn)
   local ok, err = xpcall(fn, debug.traceback)
   if ok then
      H.passed = H.passed + 1
      print("ok   " .. name)
   else
      H.failed = H.failed + 1
      print("FAIL " .. name .. "\n" .. tostring(err))
   end
end

-- calls fn(...) and checks that it raises an error containing `text` (plain substring)
function H.raises(text, fn, ...)
   local ok, err = pcall(fn, ...)
   if ok then error("expected an error containing '" .. text .. "', got none", 2) end
   err = tostring(err)
   if not err:find(text, 1, true) then
      error(string.format("error %q does not contain %q", err, text), 2)
   end
   return err
end

function H.near(a, b, tol)
   tol = tol or 1e-6
   if math.abs(a - b) > tol * math.max(1, math.abs(b)) then
      error(string.format("%.9g is not near %.9g", a, b), 2)
   end
end

function H.eq(a, b)
   if a ~= b then error(string.format("%s ~= %s", tostring(a), tostring(b)), 2) end
end

-- a list equal to another, element by element
function H.same(a, b)
   if #a ~= #b then error(string.format("lengths %d and %d differ", #a, #b), 2) end
   for i = 1, #a do
      if a[i] ~= b[i] then
         error(string.format("element %d: %s ~= %s", i, tostring(a[i]), tostring(b[i])), 2)
      end
   end
end

function H.tmpname(suffix)
   local n = os.tmpname()
   os.remove(n)
   return n .. (suffix or "")
end

function H.done()
   print(string.format("%d passed, %d failed", H.passed, H.failed))
   os.exit(H.failed == 0 and 0 or 1, true)
end

return H
