-- Filter pruning on a Compression: groups listed, excluded and included, the target and the
-- rate set, FLOPs and parameters before/after, the shrunk Graph computing what the masked model
-- does, the pruned ONNX export, and errors naming the function.
local H = dofile(arg[0]:match("^(.*/)") .. "helpers.lua")

local cfg = {input_info = {sample_size = {1, 1, 28, 28}},
   compression = {algorithm = "filter_pruning",
      params = {prune_first_conv = true, prune_last_conv = true}}}

local function setup()
   local m = nncw.zoo.cnn{}
   return m, nncw.compress(m, cfg)
end

H.test("the CNN's two convs are two groups, nothing pruned before the first epoch", function()
   local _, c = setup()
   local gs = c:pruning_groups()
   H.eq(#gs, 2)
   H.eq(gs[1].id, 0)
   H.eq(gs[1].members[1], "CNN/conv1")
   H.eq(gs[1].filters, 32)
   H.eq(gs[1].kept, 32)
   H.eq(gs[2].members[1], "CNN/conv2")
   assert(gs[1].importance.max >= gs[1].importance.mean)
   H.eq(c:stage(), "UNCOMPRESSED")
end)

H.test("the baseline schedule prunes half at epoch 0; exclude and include a group", function()
   local _, c = setup()
   c:epoch_step(0)
   H.eq(c:pruning_groups()[1].kept, 16)
   H.eq(c:pruning_groups()[2].kept, 32)
   H.near(c:compression_rate(), 0.5, 1e-6)
   local k = c:pruning_cost()
   assert(k.flops_pruned < k.flops_full and k.params_pruned < k.params_full)
   H.near(k.target, 0.5, 1e-6)
   c:exclude_group(0)
   H.eq(c:pruning_groups()[1].excluded, true)
   H.eq(c:pruning_groups()[1].kept, 32)
   c:exclude_group(0, false)
   H.eq(c:pruning_groups()[1].kept, 16)
   c:set_pruning_target(0.25)
   H.eq(c:pruning_groups()[1].kept, 24)
   c:set_compression_rate(0.75)
   H.eq(c:pruning_groups()[2].kept, 16)
   assert(c:statistics():find("FLOPS pruning level", 1, true))
end)

H.test("the shrunk graph computes what the masked model does; export_pruned writes it", function()
   local m, c = setup()
   c:set_compression_rate(0.5)
   local small, text = c:prune_graph()
   assert(text:find("CNN/conv2", 1, true))
   assert(small:count_params() < m:count_params())
   local x = nncw.tensor.zeros{2, 1, 28, 28}
   for i = 1, 2 do for j = 1, 28 do x:set(i, 1, j, j, 0.1 * j) end end
   local a, b = m:forward(x), small:forward(x)
   for i = 1, 2 do for j = 1, 10 do H.near(a:get(i, j), b:get(i, j), 1e-4) end end
   local path = H.tmpname(".onnx")
   assert(c:export_pruned(path):find("->", 1, true))
   local back = nncw.onnx.load(path)
   H.eq(back:count_params(), small:count_params())
   os.remove(path)
end)

H.test("errors name the function and the argument", function()
   local _, c = setup()
   H.raises("Compression:exclude_group", function() c:exclude_group(7) end)
   H.raises("Compression:set_pruning_target", function() c:set_pruning_target(2) end)
   H.raises("Compression:set_compression_rate", function() c:set_compression_rate(-1) end)
   local q = nncw.compress(nncw.zoo.cnn{}, {input_info = {sample_size = {1, 1, 28, 28}},
      compression = {algorithm = "magnitude_sparsity"}})
   H.eq(#q:pruning_groups(), 0)
   H.raises("no filter_pruning", function() q:pruning_cost() end)
   H.raises("no filter_pruning", function() q:prune_graph() end)
end)

H.test("LeGR: progress per generation, stopping keeps the best, coefficients saved and loaded",
   function()
   local _, c = setup()
   local ds = nncw.data.synthetic{count = 64, shape = {1, 28, 28}, classes = 10}
   local val = nncw.data.synthetic{count = 32, shape = {1, 28, 28}, classes = 10, seed = 9}
   local seen = {}
   c:legr{train = ds, val = val, generations = 3, train_steps = 1, batch = 16,
      max_pruning = 0.3, progress = function(g, n, r, best)
         seen[#seen + 1] = g
         H.eq(n, 3)
         assert(best >= r)
      end}
   H.same(seen, {0, 1, 2})
   local k = c:ranking_coeffs()
   H.eq(#k, 2)
   assert(k[1].a > 0)
   local path = H.tmpname(".json")
   c:save_ranking_coeffs(path)
   local _, d = setup()
   d:load_ranking_coeffs(path)
   H.near(d:ranking_coeffs()[2].b, k[2].b, 1e-6)
   os.remove(path)
   H.raises("stopped after generation 1", function()
      c:legr{train = ds, val = val, generations = 5, train_steps = 1, batch = 16,
         progress = function() return false end}
   end)
   H.raises("Compression:legr", function() c:legr{train = ds, generations = 2} end)
end)

H.done()
