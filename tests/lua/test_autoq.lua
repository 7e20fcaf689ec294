-- AutoQ from Lua: Compression:autoq makes a search; episodes run one at a time or with a
-- callback that can stop them (resumed by running again), the best policy is kept and
-- applied to the Compression; binarization configs go through nncw.compress; errors name the
-- function and the argument.
local H = dofile(arg[0]:match("^(.*/)") .. "helpers.lua")

local cfg = {input_info = {sample_size = {1, 1, 28, 28}}, target_device = "VPU",
   compression = {algorithm = "quantization", initializer = {range = {num_init_samples = 32}}}}

local function setup()
   local m = nncw.zoo.cnn{}
   local ds = nncw.data.synthetic{count = 64, shape = {1, 28, 28}, classes = 10}
   return m, ds, nncw.compress(m, cfg, {data = ds, batch = 32})
end

H.test("episodes run with a callback, stop, resume, and the best policy applies", function()
   local _, ds, c = setup()
   local q = c:autoq{data = ds, episodes = 4, warmup = 2, ratio = 0.15, hidden = 16, seed = 3}
   H.eq(#q:quantizers(), 8)
   H.eq(q:quantizers()[2], "CNN/conv1|WEIGHT")
   local seen = {}
   H.eq(q:run(function(e)
      seen[#seen + 1] = e
      return e.episode < 1 -- stop after the second episode
   end), 2)
   H.eq(#seen, 2)
   H.eq(seen[1].warmup, true)
   assert(seen[1].ratio <= 0.15 + 1e-9)
   H.eq(#seen[1].bits, 8)
   H.eq(q:done(), false)
   H.eq(q:episodes(), 2)
   local e = q:step()
   H.eq(e.episode, 2)
   H.eq(e.warmup, false)
   H.eq(q:run(), 1)
   H.eq(q:done(), true)
   H.eq(q:step(), nil)
   local best = q:best()
   assert(best.accuracy >= 0 and best.accuracy <= 100)
   local random = q:random_baseline(2)
   assert(random >= 0 and random <= 100)
   q:apply()
   local bits = {}
   for i, qi in ipairs(c:quantizers()) do bits[i] = qi.bits end
   H.same(bits, best.bits)
   assert(tostring(q):find("4 episodes run (done)", 1, true))
   q:close()
   assert(tostring(q):find("closed", 1, true))
end)

H.test("the same seed gives the same policies", function()
   local function policies()
      local _, ds, c = setup()
      local q = c:autoq{data = ds, episodes = 3, warmup = 1, hidden = 8, seed = 11}
      local out = {}
      q:run(function(e) out[#out + 1] = table.concat(e.bits, ",") end)
      return out
   end
   H.same(policies(), policies())
end)

H.test("binarization through nncw.compress", function()
   local m = nncw.zoo.cnn{}
   local ds = nncw.data.synthetic{count = 32, shape = {1, 28, 28}, classes = 10}
   local c = nncw.compress(m, {input_info = {sample_size = {1, 1, 28, 28}},
      compression = {algorithm = "binarization", mode = "dorefa",
                     params = {activations_quant_start_epoch = 0, weights_quant_start_epoch = 1},
                     initializer = {batchnorm_adaptation = {num_bn_adaptation_samples = 0}}}},
      {data = ds, batch = 16})
   H.eq(c:stage(), "PARTIALLY_COMPRESSED")
   c:epoch_step(1)
   H.eq(c:stage(), "FULLY_COMPRESSED")
   assert(c:statistics():find("Mode: dorefa", 1, true))
   H.eq(m:find("CNN/conv2/binarize_weight")[1].op, "DoReFaBinarize")
end)

H.test("errors name the function and the argument", function()
   local _, ds, c = setup()
   H.raises("option 'data'", function() c:autoq{episodes = 1} end)
   H.raises("bits[1]", function() c:autoq{data = ds, bits = {4, 2}} end)
   H.raises("unknown option", function() c:autoq{data = ds, episodez = 1} end)
   local q = c:autoq{data = ds, episodes = 1, warmup = 1, hidden = 8}
   H.raises("no episode has run", function() q:apply() end)
   H.raises("needs 8 entries", function() q:apply({4, 4}) end)
   c:close()
   H.raises("closed", function() q:run() end)
end)

H.done()
