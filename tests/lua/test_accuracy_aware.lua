-- nncw.train{accuracy_aware = ...}: NNCF's accuracy-aware training with magnitude sparsity on a
-- synthetic set, the per-validation callback, the result's trajectory; errors name the
-- argument or the JSON path.
local H = dofile(arg[0]:match("^(.*/)") .. "helpers.lua")

local cfg = {input_info = {sample_size = {1, 1, 28, 28}},
   compression = {algorithm = "magnitude_sparsity",
      params = {sparsity_target = 0.5, sparsity_target_epoch = 1, sparsity_freeze_epoch = 1000}},
   accuracy_aware_training = {mode = "adaptive_compression_level",
      params = {maximal_relative_accuracy_degradation = 1, initial_training_phase_epochs = 1,
                patience_epochs = 1, maximal_total_epochs = 3}}}

local function setup()
   local m = nncw.zoo.cnn{}
   local train = nncw.data.synthetic{count = 128, shape = {1, 28, 28}, classes = 10}
   local test = nncw.data.synthetic{count = 64, shape = {1, 28, 28}, classes = 10, seed = 2}
   local acc = nncw.evaluate(m, test)
   return m, train, test, nncw.compress(m, cfg, {data = train, batch = 32}), 100 * acc
end

H.test("adaptive compression level from the config, with a callback per validation", function()
   local m, train, test, c, fp32 = setup()
   local events = {}
   local r = nncw.train(m, train, {test = test, compression = c, batch = 32,
      config = nncw.config.parse(nncw.json.encode(cfg)), accuracy_aware = true,
      uncompressed = fp32, callback = function(ev) events[#events + 1] = ev end})
   H.eq(r.mode, "adaptive_compression_level")
   H.eq(r.epochs, 3)
   H.eq(r.stop, "maximal_total_epochs reached")
   H.near(r.minimal_tolerable, fp32 * 0.99, 1e-9)
   assert(#r.trajectory >= 1) -- the search's first target is forced
   H.near(r.trajectory[1].step, 0.1, 1e-6)
   assert(#r.history >= 3)
   H.eq(r.within_budget, r.metric >= r.minimal_tolerable)
   local validations, rates = 0, 0
   for _, ev in ipairs(events) do
      if ev.type == "validation" then validations = validations + 1 end
      if ev.type == "rate" then rates = rates + 1; assert(ev.change.to) end
   end
   H.eq(events[1].type, "validation")
   H.eq(events[1].phase, "initial")
   H.eq(events[#events].type, "done")
   H.eq(rates, #r.trajectory)
   assert(validations >= 4)
   -- the graph holds the kept model
   H.near(100 * nncw.evaluate(m, test), r.metric, 1e-4)
end)

H.test("the section as a table; the callback stops the run", function()
   local m, train, test, c, fp32 = setup()
   local n = 0
   local r = nncw.train(m, train, {test = test, compression = c, batch = 32,
      accuracy_aware = {mode = "early_exit", params = {maximal_absolute_accuracy_degradation = 5,
                                                       maximal_total_epochs = 4}},
      uncompressed = fp32, callback = function(ev)
         if ev.type == "validation" then n = n + 1 end
         return n < 2
      end})
   H.eq(r.stopped, true)
   H.eq(r.mode, "early_exit")
   H.eq(r.epochs, 1)
end)

H.test("errors name the argument or the JSON path", function()
   local m, train, test, c, fp32 = setup()
   H.raises("accuracy_aware_training.params.patience_epochs: expected an integer", nncw.train, m,
      train, {test = test, compression = c, uncompressed = fp32,
              accuracy_aware = {mode = "adaptive_compression_level",
                                params = {maximal_relative_accuracy_degradation = 1,
                                          patience_epochs = -1}}})
   H.raises("needs argument 'uncompressed'", nncw.train, m, train,
      {test = test, compression = c, accuracy_aware = {mode = "early_exit",
         params = {maximal_relative_accuracy_degradation = 1}}})
   H.raises("needs argument 'compression'", nncw.train, m, train,
      {test = test, uncompressed = 90, accuracy_aware = {mode = "early_exit",
         params = {maximal_relative_accuracy_degradation = 1}}})
   H.raises("needs argument 'test'", nncw.train, m, train,
      {compression = c, uncompressed = 90, accuracy_aware = {mode = "early_exit",
         params = {maximal_relative_accuracy_degradation = 1}}})
   H.raises("argument 'config', which is missing", nncw.train, m, train,
      {test = test, compression = c, uncompressed = 90, accuracy_aware = true})
   H.raises("argument 'accuracy_aware'", nncw.train, m, train,
      {test = test, compression = c, uncompressed = 90, accuracy_aware = 3})
end)

H.done()
