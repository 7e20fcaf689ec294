--- Train the built-in CNN on Fashion-MNIST (or the synthetic set) from Lua, printing
-- progress from a callback, and optionally save the weights.
--
--    nncw run scripts/recipes/train_cnn.lua                       -- 10 epochs, full data
--    nncw run scripts/recipes/train_cnn.lua epochs=1 train_subset=4000 test_subset=1000
--    nncw run scripts/recipes/train_cnn.lua data=synthetic epochs=2 save=cnn.nncw
--
-- Arguments are key=value: epochs, batch, lr, seed, data (fashion-mnist | synthetic),
-- dir (the Fashion-MNIST folder), train_subset, test_subset, log_every, save, quiet.
local opts = {epochs = 10, batch = 64, lr = 0.02, seed = 1, data = "fashion-mnist",
              log_every = 100}
for _, a in ipairs(arg) do
   local k, v = a:match("^([%w_]+)=(.*)$")
   if not k then error("arguments are key=value, got '" .. a .. "'", 0) end
   opts[k] = tonumber(v) or v
end

local train, test
if opts.data == "synthetic" then
   train = nncw.data.synthetic{count = 4096}
   test = nncw.data.synthetic{count = 1024, sample_seed = 2}
else
   train = nncw.data.fashion_mnist{train = true, dir = opts.dir}
   test = nncw.data.fashion_mnist{train = false, dir = opts.dir}
end
if opts.train_subset then train = train:subset(1, opts.train_subset) end
if opts.test_subset then test = test:subset(1, opts.test_subset) end

local model = nncw.zoo.cnn{seed = opts.seed, input = train:shape(), classes = train:classes()}
print(string.format("training %s (%d parameters) on %s: %d train / %d test samples",
   "cnn", model:count_params(), train:name(), #train, #test))

local result = nncw.train(model, train, {
   test = test, epochs = opts.epochs, batch = opts.batch, seed = opts.seed,
   optimizer = {type = "sgd", lr = opts.lr, momentum = 0.9},
   schedule = {type = "cosine"},
   log_every = opts.log_every,
   callback = function(ev)
      if opts.quiet then return end
      if ev.type == "step" then
         print(string.format("epoch %d/%d  step %d/%d  loss %.4f  lr %.4g  %.0f img/s",
            ev.epoch, ev.epochs, ev.step, ev.steps_per_epoch, ev.loss, ev.lr, ev.images_per_s))
      elseif ev.type == "epoch" then
         print(string.format("epoch %d/%d done  train loss %.4f acc %.2f%%  |  test loss %.4f acc %.2f%%",
            ev.epoch, ev.epochs, ev.train_loss, 100 * ev.train_acc, ev.test_loss, 100 * ev.test_acc))
      end
   end,
})
print(string.format("final test accuracy %.2f%% (loss %.4f) after %d epochs in %.1fs",
   100 * result.test_acc, result.test_loss, result.epochs, result.elapsed))
if opts.save then
   nncw.checkpoint.save(model, opts.save)
   print("saved weights to " .. opts.save)
end
