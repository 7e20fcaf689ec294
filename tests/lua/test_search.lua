-- Searches from Lua as the workbench's Search panel drives them: HAWQ measured again with a
-- progress callback (stopped by it, the previous result kept), the candidates and target ratio,
-- unpinning; an AutoQ run in slices (at most n episodes, a callback that stops, resumed with the
-- same agent); defaults from the config; the refusals (no HAWQ config, no data, an 8-bit-only
-- device).
local H = dofile(arg[0]:match("^(.*/)") .. "helpers.lua")

local function cfg(device, precision)
   return nncw.config.from_table{input_info = {sample_size = {1, 1, 28, 28}},
      target_device = device,
      compression = {algorithm = "quantization", initializer = {range = {num_init_samples = 16},
         batchnorm_adaptation = {num_bn_adaptation_samples = 0}, precision = precision}}}
end

local function hawq(extra)
   local p = {type = "hawq", bits = {4, 8}, compression_ratio = 1.3, iter_number = 5,
      num_data_points = 32}
   for k, v in pairs(extra or {}) do p[k] = v end
   return p
end

local ds = nncw.data.synthetic{count = 64, shape = {1, 28, 28}, classes = 10}

H.test("hawq_run measures again, reporting each iteration, and re-solves", function()
   local c = nncw.compression.create(nncw.zoo.cnn{}, cfg("TRIAL", hawq()), {data = ds, batch = 16})
   local before = c:hawq()
   H.near(before.target_ratio, 1.3, 1e-6)
   H.eq(table.concat(before.candidates, ","), "4,8")
   local seen, limit = 0, 0
   c:hawq_run{progress = function(i, n, mean)
      assert(i == seen + 1 and type(mean) == "number")
      seen, limit = i, n
   end}
   H.eq(limit, 5)
   local after = c:hawq()
   H.eq(after.iterations, seen)
   H.eq(#after.layers, #before.layers)
   assert(after.points[after.chosen].meets_ratio)
end)

H.test("hawq_run on other data, a callback that stops keeps the previous result", function()
   local c = nncw.compression.create(nncw.zoo.cnn{}, cfg("TRIAL", hawq()), {data = ds, batch = 16})
   c:hawq_choose(1)
   local before = c:hawq()
   H.raises("Compression:hawq_run", c.hawq_run, c, {data = ds, progress = function(i)
      return i < 2
   end})
   local after = c:hawq()
   for i, l in ipairs(before.layers) do
      H.eq(after.layers[i].trace, l.trace)
      H.eq(after.layers[i].bits, l.bits)
   end
   H.eq(after.chosen, before.chosen)
   H.raises("'progress' must be a function", c.hawq_run, c, {progress = 3})
   H.raises("unknown option", c.hawq_run, c, {dta = ds})
end)

H.test("a rebuild after create measures without create's progress callback", function()
   local calls = 0
   local c = nncw.compression.create(nncw.zoo.cnn{}, cfg("TRIAL", hawq()), {data = ds, batch = 16,
      progress = function() calls = calls + 1 end})
   local at_create = calls
   assert(at_create > 0)
   c:ignore("CNN/conv1") -- other layers: the rebuild measures the traces again
   H.eq(#c:hawq().layers, 3)
   H.eq(calls, at_create) -- the create call's callback is not reached any more
end)

H.test("hawq_unpin frees a pinned layer", function()
   local c = nncw.compression.create(nncw.zoo.cnn{}, cfg("TRIAL", hawq()), {data = ds, batch = 16})
   local id = c:hawq().layers[1].id
   c:hawq_pin(id, 8)
   H.eq(c:hawq().layers[1].pinned, 8)
   c:hawq_unpin(id)
   H.eq(c:hawq().layers[1].pinned, nil)
   H.raises("no weight quantizer 'nope'", c.hawq_unpin, c, "nope")
end)

H.test("hawq_run needs a HAWQ config, data, and a device with a choice", function()
   local plain = nncw.compression.create(nncw.zoo.cnn{}, cfg("TRIAL", nil), {data = ds})
   H.raises("initializer.precision is not hawq", plain.hawq_run, plain)
   local nodata = nncw.compression.create(nncw.zoo.cnn{}, cfg("TRIAL", hawq()))
   H.raises("no data to measure the traces on", nodata.hawq_run, nodata)
   nodata:hawq_run{data = ds} -- data given: measured
   assert(#nodata:hawq().layers == 4)
   local cpu = nncw.compression.create(nncw.zoo.cnn{}, cfg("CPU", nil), {data = ds})
   H.raises("target device CPU allows only 8-bit weights", cpu.hawq_run, cpu)
   H.raises("target device CPU allows only 8-bit weights", cpu.autoq, cpu, {data = ds})
end)

H.test("AutoQ runs in slices and resumes with the same agent", function()
   local function search()
      local c = nncw.compression.create(nncw.zoo.cnn{}, cfg("TRIAL", nil), {data = ds})
      return c:autoq{data = ds, episodes = 4, warmup = 1, eval_subset_ratio = 0.5, hidden = 16}
   end
   local whole, sliced = search(), search()
   H.eq(whole:run(), 4)
   H.eq(sliced:run(nil, 1), 1)
   local seen = {}
   H.eq(sliced:run(function(e) seen[#seen + 1] = e.episode; return false end), 1)
   H.eq(seen[1], 1)
   H.eq(sliced:run(nil, 10), 2)
   assert(sliced:done())
   H.eq(sliced:best().reward, whole:best().reward)
   H.eq(table.concat(sliced:best().bits, ","), table.concat(whole:best().bits, ","))
   H.raises("argument 'max'", sliced.run, sliced, nil, -1)
end)

H.test("AutoQ takes its defaults from the config", function()
   local c = nncw.compression.create(nncw.zoo.cnn{}, cfg("TRIAL", {type = "autoq", bits = {4, 8},
      iter_number = 2, warmup_iter_number = 1, compression_ratio = 0.2,
      eval_subset_ratio = 0.25}), {data = ds})
   local q = c:autoq{data = ds, hidden = 16}
   H.eq(q:run(), 2)
   for _, b in ipairs(q:best().bits) do assert(b == 4 or b == 8) end
   local q2 = c:autoq{data = ds, hidden = 16, episodes = 1}
   H.eq(q2:run(), 1)
end)

H.done()
