-- nncw.train and nncw.evaluate: events, stopping, errors, options, configs, determinism.
local H = dofile(arg[0]:match("^(.*/)") .. "helpers.lua")
local train_set = nncw.data.synthetic{count = 256, shape = {1, 12, 12}, classes = 4}
local test_set = nncw.data.synthetic{count = 64, shape = {1, 12, 12}, classes = 4, sample_seed = 2}

local function model(seed)
   return nncw.zoo.cnn{input = {1, 12, 12}, classes = 4, seed = seed or 1}
end

H.test("a run returns its figures and learns", function()
   local m = model()
   local acc0 = nncw.evaluate(m, test_set)
   local r = nncw.train(m, train_set, {test = test_set, epochs = 2, batch = 32, log_every = 0})
   H.eq(r.epochs, 2)
   H.eq(r.steps, 16)
   H.eq(r.stopped, false)
   assert(r.test_acc > acc0 and r.test_acc > 0.5, "test accuracy " .. r.test_acc)
   assert(r.train_loss > 0 and r.elapsed > 0)
   local acc, loss = nncw.evaluate(m, test_set, {batch = 16})
   H.near(acc, r.test_acc)
   H.near(loss, r.test_loss, 1e-4)
end)

H.test("the callback sees step, eval and epoch events in order", function()
   local seen = {}
   nncw.train(model(), train_set, {test = test_set, epochs = 2, batch = 64, log_every = 2,
      callback = function(ev)
         seen[#seen + 1] = ev.type
         if ev.type == "step" then
            assert(ev.loss > 0 and ev.lr > 0 and ev.step % 2 == 0 and ev.steps_per_epoch == 4)
            assert(ev.images_per_s > 0 and ev.eta >= 0 and ev.elapsed >= 0 and ev.global_step >= 2)
            assert(ev.test_acc == nil)
         else
            assert(ev.test_acc >= 0 and ev.test_loss > 0 and ev.train_acc >= 0 and ev.train_loss > 0)
         end
         assert(ev.epochs == 2 and ev.epoch >= 1 and ev.epoch <= 2)
      end})
   H.eq(table.concat(seen, " "), "step step eval epoch step step eval epoch")
end)

H.test("without a test set there is no eval event", function()
   local seen = {}
   nncw.train(model(), train_set, {epochs = 1, batch = 128, log_every = 0,
      callback = function(ev) seen[#seen + 1] = ev.type end})
   H.eq(table.concat(seen, " "), "epoch")
end)

H.test("returning false stops after the current step; the model keeps its state", function()
   local m = model()
   local before = m:param("fc2.bias"):copy()
   local r = nncw.train(m, train_set, {epochs = 5, batch = 32, log_every = 1,
      callback = function(ev) if ev.global_step == 3 then return false end end})
   H.eq(r.stopped, true)
   H.eq(r.steps, 3)
   H.eq(r.epochs, 0)
   assert(m:param("fc2.bias") ~= before, "the three steps changed the weights")
   -- nil (no return) goes on
   local r2 = nncw.train(model(), train_set, {epochs = 1, batch = 128, log_every = 1,
      callback = function() end})
   H.eq(r2.stopped, false)
end)

H.test("an error in the callback stops the run and is raised", function()
   H.raises("boom at step 2", nncw.train, model(), train_set, {epochs = 1, batch = 32, log_every = 1,
      callback = function(ev) if ev.global_step == 2 then error("boom at step " .. ev.global_step) end end})
end)

H.test("the model cannot be trained twice at once", function()
   local m = model()
   H.raises("nncw.train: argument 'model' is already being trained", nncw.train, m, train_set,
      {epochs = 1, batch = 64, log_every = 1, callback = function()
         nncw.train(m, train_set, {epochs = 1})
      end})
   H.raises("nncw.Graph:close: the Graph is in use", nncw.train, m, train_set,
      {epochs = 1, batch = 64, log_every = 1, callback = function() getmetatable(m).__close(m) end})
end)

H.test("interrupt_after_steps stops as Ctrl-C does", function()
   local m = model()
   nncw.host.interrupt_after_steps(5)
   H.raises("nncw.train: interrupted after 5 steps", nncw.train, m, train_set, {epochs = 3, batch = 16})
   nncw.host.interrupt_after_steps(nil)
   -- cleared: the next run is not interrupted
   H.eq(nncw.train(m, train_set, {epochs = 1, batch = 128}).stopped, false)
   H.raises("nncw.host.interrupt_after_steps: argument 'n' must be a positive integer, got 0", nncw.host.interrupt_after_steps, 0)
end)

H.test("same seed, same numbers; another seed, other numbers", function()
   local function run(seed)
      local m = model(1)
      return nncw.train(m, train_set, {test = test_set, epochs = 1, batch = 32, seed = seed}).test_loss
   end
   H.eq(run(3), run(3))
   assert(run(3) ~= run(4))
end)

H.test("optimizer and schedule tables", function()
   local lrs = {}
   local cb = function(ev) if ev.type == "epoch" then lrs[#lrs + 1] = ev.lr end end
   nncw.train(model(), train_set, {epochs = 3, batch = 128, log_every = 0, callback = cb,
      optimizer = {type = "sgd", lr = 0.1, momentum = 0.5, nesterov = true, weight_decay = 1e-4, dampening = 0},
      schedule = {type = "multistep", milestones = {1, 2}, gamma = 0.5}})
   H.near(lrs[1], 0.1)
   H.near(lrs[2], 0.05)
   H.near(lrs[3], 0.025)
   lrs = {}
   nncw.train(model(), train_set, {epochs = 2, batch = 128, log_every = 0, callback = cb,
      optimizer = {type = "adamw", lr = 0.001, beta1 = 0.9, beta2 = 0.99, eps = 1e-8},
      schedule = {type = "step", step_size = 1, gamma = 0.1, warmup = 0, t_max = 0, eta_min = 0}})
   H.near(lrs[2], 0.0001)
   local r = nncw.train(model(), train_set, {epochs = 1, batch = 64, max_steps = 2, eval_batch = 32,
      crop = 2, hflip = true, optimizer = {type = "adam"}, schedule = {type = "constant"}})
   H.eq(r.steps, 2)
end)

H.test("options are checked with messages naming the option", function()
   local m = model()
   H.raises("nncw.train: argument 'epochs' must be a positive integer, got -1", nncw.train, m, train_set, {epochs = -1})
   H.raises("nncw.train: argument 'batch' must be a positive integer, got 0.5", nncw.train, m, train_set, {batch = 0.5})
   H.raises("nncw.train: argument 'model' must be a Graph, got nil", nncw.train, nil, train_set)
   H.raises("nncw.train: argument 'data' must be a Dataset, got 5", nncw.train, m, 5)
   H.raises("nncw.train: argument 'test' must be a Dataset, got 'x'", nncw.train, m, train_set, {test = "x"})
   H.raises("nncw.train: unknown option 'epoch' (known: test, epochs,", nncw.train, m, train_set, {epoch = 1})
   H.raises("nncw.train: argument 'callback' must be a function, got 3", nncw.train, m, train_set, {callback = 3})
   H.raises("nncw.train: argument 'optimizer.type' must be one of 'sgd', 'adam', 'adamw', got 'rmsprop'", nncw.train, m, train_set, {optimizer = {type = "rmsprop"}})
   H.raises("nncw.train: argument 'optimizer.lr' must be a number in [0, 100], got -1", nncw.train, m, train_set, {optimizer = {lr = -1}})
   H.raises("nncw.train: unknown option 'learning_rate' in optimizer", nncw.train, m, train_set, {optimizer = {learning_rate = 1}})
   H.raises("nncw.train: argument 'schedule.milestones' must be a list of 1 to 16 epochs", nncw.train, m, train_set, {schedule = {milestones = 3}})
   H.raises("nncw.train: argument 'schedule.type' must be one of", nncw.train, m, train_set, {schedule = {type = "plateau"}})
   H.raises("nncw.train: argument 'optimizer.nesterov' needs 'optimizer.momentum' above 0", nncw.train, m, train_set, {optimizer = {nesterov = true, momentum = 0}})
   H.raises("nncw.train: argument 'config' must be a Config, got 1", nncw.train, m, train_set, {config = 1})
   H.raises("nncw.train: argument 'options' must be a table, got 3", nncw.train, m, train_set, 3)
   -- engine-side checks
   H.raises("nncw.train: invalid argument: the training set", nncw.train, nncw.zoo.cnn(), train_set, {epochs = 1})
   H.raises("nncw.evaluate: invalid argument", nncw.evaluate, nncw.zoo.cnn(), train_set)
   H.raises("nncw.evaluate: argument 'batch' must be a positive integer, got 0", nncw.evaluate, m, train_set, {batch = 0})
   H.raises("nncw.evaluate: argument 'data' must be a Dataset, got nil", nncw.evaluate, m)
end)

H.test("a config supplies epochs, batch size, seed and optimizer; options override it", function()
   local cfg = nncw.config.from_table{epochs = 2, batch_size = 128, seed = 5,
      optimizer = {type = "SGD", base_lr = 0.05, momentum = 0.8, schedule_type = "step",
                   step_size = 1, gamma = 0.5}}
   local lrs = {}
   local r = nncw.train(model(), train_set, {config = cfg, log_every = 0,
      callback = function(ev) if ev.type == "epoch" then lrs[#lrs + 1] = ev.lr end end})
   H.eq(r.epochs, 2)
   H.eq(r.steps, 4)
   H.near(lrs[1], 0.05)
   H.near(lrs[2], 0.025)
   local r2 = nncw.train(model(), train_set, {config = cfg, epochs = 1, log_every = 0})
   H.eq(r2.epochs, 1)
end)

H.done()
