-- nncw.resume: a run interrupted (Ctrl-C, the workbench's cancel, a replay budget) continues
-- to the same end as an uninterrupted run, bit for bit (same seed, one thread), plain and
-- compressed; what cannot be resumed says why.
local H = dofile(arg[0]:match("^(.*/)") .. "helpers.lua")
nncw.host.threads(1)
local train_set = nncw.data.synthetic{count = 192, shape = {1, 12, 12}, classes = 4}
local test_set = nncw.data.synthetic{count = 64, shape = {1, 12, 12}, classes = 4, sample_seed = 2}
local opts = {test = test_set, epochs = 3, batch = 32, seed = 7, log_every = 1,
              optimizer = {type = "sgd", lr = 0.05, momentum = 0.9}}

local function model()
   return nncw.zoo.cnn{input = {1, 12, 12}, classes = 4, seed = 3}
end

local function with(extra)
   local o = {}
   for k, v in pairs(opts) do o[k] = v end
   for k, v in pairs(extra or {}) do o[k] = v end
   return o
end

local function same_weights(a, b)
   for _, p in ipairs(a:params()) do assert(b:param(p.name) == p.tensor, p.name) end
end

-- interrupts after n steps (as Ctrl-C would), checks the message, resumes to the end
local function interrupted_then_resumed(m, o, n)
   nncw.host.interrupt_after_steps(n)
   H.raises("interrupted after " .. n .. " steps (the model keeps the weights of its last step; "
      .. "nncw.resume() continues the run)", nncw.train, m, train_set, o)
   nncw.host.interrupt_after_steps(nil)
   return nncw.resume()
end

H.test("a plain run resumed ends with the weights of an uninterrupted one", function()
   local a, b = model(), model()
   local full = nncw.train(a, train_set, with())
   local r = interrupted_then_resumed(b, with(), 8) -- mid-epoch 2 (6 steps an epoch)
   same_weights(a, b)
   H.eq(r.steps, full.steps)
   H.eq(r.epochs, 3)
   H.eq(r.test_acc, full.test_acc)
   H.eq(r.train_loss, full.train_loss)
end)

H.test("interrupted twice, at an epoch's end too, and the callback goes on", function()
   local a, b = model(), model()
   local n_full, n_parts = 0, 0
   nncw.train(a, train_set, with{callback = function() n_full = n_full + 1 end})
   local o = with{callback = function() n_parts = n_parts + 1 end}
   nncw.host.interrupt_after_steps(6)
   H.raises("interrupted after 6 steps", nncw.train, b, train_set, o)
   nncw.host.interrupt_after_steps(5)
   H.raises("nncw.resume: interrupted after 11 steps", nncw.resume)
   nncw.host.interrupt_after_steps(nil)
   nncw.resume()
   same_weights(a, b)
   H.eq(n_parts, n_full)
end)

H.test("a compressed run (magnitude sparsity with its schedule) resumes exactly", function()
   local cfg = {input_info = {sample_size = {1, 1, 12, 12}},
      compression = {algorithm = "magnitude_sparsity",
      sparsity_init = 0.1,
         params = {schedule = "polynomial", sparsity_target = 0.6, sparsity_target_epoch = 2,
                   sparsity_freeze_epoch = 3, update_per_optimizer_step = true}}}
   local a, b = model(), model()
   local ca = nncw.compress(a, cfg, {data = train_set, batch = 32})
   local cb = nncw.compress(b, cfg, {data = train_set, batch = 32})
   nncw.train(a, train_set, with{compression = ca})
   interrupted_then_resumed(b, with{compression = cb}, 7)
   same_weights(a, b)
   H.eq(cb:sparsity_level(), ca:sparsity_level())
end)

H.test("nothing to resume: after a finished run, a new run, or a resume that ended", function()
   H.raises("nncw.resume: no interrupted run to resume", nncw.resume)
   local m = model()
   nncw.host.interrupt_after_steps(2)
   pcall(nncw.train, m, train_set, with())
   nncw.host.interrupt_after_steps(nil)
   nncw.train(m, train_set, with{epochs = 1}) -- a new run forgets the interrupted one
   H.raises("nncw.resume: no interrupted run to resume", nncw.resume)
   nncw.host.interrupt_after_steps(2)
   pcall(nncw.train, m, train_set, with())
   nncw.host.interrupt_after_steps(nil)
   nncw.resume()
   H.raises("nncw.resume: no interrupted run to resume", nncw.resume)
end)

H.test("a closed model or a changed one is refused with the reason", function()
   local m = model()
   nncw.host.interrupt_after_steps(2)
   pcall(nncw.train, m, train_set, with())
   nncw.host.interrupt_after_steps(nil)
   getmetatable(m).__close(m) -- as a to-be-closed variable going out of scope
   H.raises("nncw.resume: the Graph was closed", nncw.resume)
   -- a model that trains other parameters now: the optimizer state does not fit
   local m2 = model()
   nncw.host.interrupt_after_steps(2)
   pcall(nncw.train, m2, train_set, with())
   nncw.host.interrupt_after_steps(nil)
   nncw.compress(m2, {input_info = {sample_size = {1, 1, 12, 12}},
      compression = {algorithm = "quantization", initializer = {range = {num_init_samples = 32}}}},
      {data = train_set, batch = 32})
   local ok, err = pcall(nncw.resume)
   assert(not ok and err:find("nncw.resume: invalid argument", 1, true), err)
end)

H.done()
