--- The Lua side of bench/lua_overhead.sh: one epoch of the CNN on Fashion-MNIST with the
-- options of `nncw train --epochs 1` (batch 64, SGD lr 0.02 momentum 0.9, cosine, seed 1),
-- driven from Lua with a callback on every step (the worst case: log_every = 1).
--    nncw run bench/lua_overhead.lua [dir=/usr/share/datasets/fashion-mnist] [epochs=1] [threads=N] [micro=1]
local opts = {epochs = 1}
for _, a in ipairs(arg) do
   local k, v = a:match("^([%w_]+)=(.*)$")
   opts[k] = tonumber(v) or v
end
if opts.threads then nncw.host.threads(opts.threads) end

-- micro=1: the cost of the Lua layer per training step, measured where the step itself is
-- nearly free (a 4 -> 2 linear model, batch 1): CPU time with a callback on every step minus
-- CPU time without one, over alternating runs
if opts.micro then
   local nn = nncw.nn
   local tiny = nncw.data.synthetic{count = 4096, shape = {1, 2, 2}, classes = 2}
   local function run(with_callback)
      local m = nn.build(nn.Sequential{nn.Flatten(), nn.Linear(4, 2)}, {input = {1, 2, 2}})
      local seen = 0
      local t0 = os.clock()
      local r = nncw.train(m, tiny, {epochs = 5, batch = 1, log_every = with_callback and 1 or 0,
         callback = with_callback and function(ev) seen = seen + ev.loss end or nil})
      return os.clock() - t0, r.steps
   end
   local with, without, steps = {}, {}, 0
   for i = 1, opts.rounds or 7 do
      without[i] = run(false)
      with[i], steps = run(true)
   end
   table.sort(with)
   table.sort(without)
   local mid = (#with + 1) // 2
   local per_step = (with[mid] - without[mid]) / steps
   print(string.format("per-step cost of the Lua callback: %.2f us (%.3fs with, %.3fs without, "
      .. "%d steps, median of %d alternating runs)", per_step * 1e6, with[mid], without[mid],
      steps, #with))
   return
end
local train = nncw.data.fashion_mnist{train = true, dir = opts.dir}
local test = nncw.data.fashion_mnist{train = false, dir = opts.dir}
local model = nncw.zoo.cnn{seed = 1}
local steps, loss_sum = 0, 0
local r = nncw.train(model, train, {
   test = test, epochs = opts.epochs, batch = 64, seed = 1, log_every = 1,
   optimizer = {type = "sgd", lr = 0.02, momentum = 0.9}, schedule = {type = "cosine"},
   callback = function(ev)
      if ev.type == "step" then
         steps = steps + 1
         loss_sum = loss_sum + ev.loss
      end
   end,
})
print(string.format("final test accuracy %.2f%% (loss %.4f) after %d epochs, %d callbacks, "
   .. "training %.3fs", 100 * r.test_acc, r.test_loss, r.epochs, steps, r.elapsed))
