-- Mixed precision on a Compression: HAWQ with a progress callback (and stopping it), the traces,
-- the curve and the chosen point, picking a point, pinning a layer, saved traces loaded back,
-- the bit-FLOPs ratio; manual bitwidth_per_scope.
local H = dofile(arg[0]:match("^(.*/)") .. "helpers.lua")

local function hawq_cfg(extra)
   local p = {type = "hawq", bits = {4, 8}, compression_ratio = 1.3, iter_number = 6,
      num_data_points = 32}
   for k, v in pairs(extra or {}) do p[k] = v end
   return nncw.config.from_table{input_info = {sample_size = {1, 1, 28, 28}},
      target_device = "VPU",
      compression = {algorithm = "quantization", initializer = {range = {num_init_samples = 16},
         batchnorm_adaptation = {num_bn_adaptation_samples = 0}, precision = p}}}
end

local ds = nncw.data.synthetic{count = 32, shape = {1, 28, 28}, classes = 10}

H.test("HAWQ reports its iterations, traces, curve and choice", function()
   local seen = 0
   local c = nncw.compression.create(nncw.zoo.cnn{}, hawq_cfg(), {data = ds, batch = 16,
      progress = function(i, n, mean)
         seen = i
         assert(n == 6 and type(mean) == "number")
      end})
   local h = c:hawq()
   H.eq(#h.layers, 4)
   assert(seen >= 2 and seen == h.iterations)
   -- the curve: bits never decrease along the trace order
   local order = {}
   for i, l in ipairs(h.layers) do order[i] = i; assert(l.trace == l.trace and l.params > 0) end
   table.sort(order, function(a, b) return h.layers[a].trace < h.layers[b].trace end)
   for _, p in ipairs(h.points) do
      for k = 2, #order do assert(p.bits[order[k - 1]] <= p.bits[order[k]]) end
   end
   local best = h.points[h.chosen]
   assert(best.meets_ratio and best.ratio >= 1.3)
   H.near(c:bitops_ratio(), best.ratio, 1e-9)
   for _, p in ipairs(h.points) do
      if p.meets_ratio then assert(p.metric >= best.metric) end
   end
   -- pick the all-8-bit point: the model follows
   local all8
   for k, p in ipairs(h.points) do if p.ratio == 1 then all8 = k end end
   c:hawq_choose(all8)
   H.eq(c:hawq().chosen, all8)
   H.near(c:bitops_ratio(), 1.0, 1e-12)
   for _, q in ipairs(c:quantizers("{re}.*WEIGHT")) do H.eq(q.bits, 8) end
   c:hawq_choose()
   H.eq(c:hawq().chosen, h.chosen)
   -- pin the highest-trace layer to 4 bits
   local top = h.layers[order[#order]].id
   c:hawq_pin(top, 4)
   local h2 = c:hawq()
   H.eq(h2.layers[order[#order]].pinned, 4)
   H.eq(c:quantizers(top)[1].bits, 4)
   H.raises("not one of the candidate bit widths", function() c:hawq_pin(top, 2) end)
   c:hawq_pin(top)
   -- traces saved and loaded back give the same choice without data
   local path = H.tmpname(".json")
   c:hawq_save_traces(path)
   local c2 = nncw.compression.create(nncw.zoo.cnn{}, hawq_cfg{traces_per_layer_path = path})
   for i, l in ipairs(c2:hawq().layers) do H.near(l.trace, h.layers[i].trace, 1e-9 * math.abs(l.trace)) end
   H.eq(c2:hawq().chosen, h.chosen)
   os.remove(path)
end)

H.test("a progress callback stops HAWQ, or its error surfaces", function()
   H.raises("cancelled", function()
      nncw.compression.create(nncw.zoo.cnn{}, hawq_cfg(), {data = ds, batch = 16,
         progress = function(i) return i < 2 end})
   end)
   local err = H.raises("progress callback: ", function()
      nncw.compression.create(nncw.zoo.cnn{}, hawq_cfg(), {data = ds, batch = 16,
         progress = function() error("boom") end})
   end)
   assert(err:find("boom", 1, true))
   H.raises("option 'progress' must be a function", function()
      nncw.compression.create(nncw.zoo.cnn{}, hawq_cfg(), {data = ds, progress = 3})
   end)
end)

H.test("manual bits; no HAWQ result without HAWQ", function()
   local cfg = nncw.config.from_table{input_info = {sample_size = {1, 1, 28, 28}},
      target_device = "VPU", compression = {algorithm = "quantization", initializer = {
         precision = {type = "manual", bitwidth_per_scope = {{4, "CNN/conv2|WEIGHT"},
            {4, "CNN/relu1|OUTPUT"}}}}}}
   local c = nncw.compression.create(nncw.zoo.cnn{}, cfg)
   H.eq(c:quantizers("CNN/conv2|WEIGHT")[1].bits, 4)
   -- conv2's layer now runs on 4 bits (weights and input): its bit-FLOPs halve
   assert(c:bitops_ratio() > 1.2)
   H.raises("no HAWQ result", function() c:hawq() end)
end)

H.done()
