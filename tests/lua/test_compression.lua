-- nncw.compress and Compression: quantizers placed and initialised, listed, edited (bits,
-- mode, granularity, ignored scopes), trained with nncw.train, exported; errors name the
-- function, the argument or the JSON path.
local H = dofile(arg[0]:match("^(.*/)") .. "helpers.lua")

local cfg = {input_info = {sample_size = {1, 1, 28, 28}}, target_device = "CPU",
   compression = {algorithm = "quantization", initializer = {range = {num_init_samples = 32}}}}

local function setup()
   local m = nncw.zoo.cnn{}
   local ds = nncw.data.synthetic{count = 64, shape = {1, 28, 28}, classes = 10}
   return m, ds, nncw.compress(m, cfg, {data = ds, batch = 32})
end

local function by_id(c)
   local t = {}
   for _, q in ipairs(c:quantizers()) do t[q.id] = q end
   return t
end

H.test("the CNN gets 4 weight and 4 activation quantizers with data-driven ranges", function()
   local m, _, c = setup()
   local qs = c:quantizers()
   H.eq(#qs, 8)
   local q = by_id(c)
   H.eq(q["CNN/conv1|WEIGHT"].kind, "weight")
   H.eq(q["CNN/conv1|WEIGHT"].per_channel, true)
   H.eq(q["CNN/conv1|WEIGHT"].channels, 32)
   H.eq(q["CNN/conv1|WEIGHT"].half_range, true)
   H.eq(q["CNN/relu1|OUTPUT"].signed, false)
   H.eq(q["CNN/relu1|OUTPUT"].low, 0.0)
   assert(q["CNN/relu1|OUTPUT"].high > 0.5)
   H.eq(q["input|OUTPUT"].signed, true)
   H.eq(#c:quantizers("{re}.*WEIGHT"), 4)
   H.eq(c:stage(), "FULLY_COMPRESSED")
   assert(tostring(c):find("8 quantizers (4 weight, 4 activation)", 1, true))
   assert(c:statistics():find("Per-channel WQs / All placed WQs", 1, true))
   -- the graph carries the quantize nodes
   H.eq(m:find("CNN/conv1|WEIGHT")[1].op, "SymmetricQuantize")
end)

H.test("edits: mode and granularity change, disallowed bits are refused", function()
   local m, _, c = setup()
   H.eq(c:set("CNN/relu2|OUTPUT", {mode = "asymmetric"}), 8)
   H.eq(by_id(c)["CNN/relu2|OUTPUT"].mode, "asymmetric")
   H.eq(m:find("CNN/relu2|OUTPUT")[1].op, "AsymmetricQuantize")
   c:set("{re}.*\\|WEIGHT", {per_channel = false})
   H.eq(by_id(c)["CNN/fc1|WEIGHT"].channels, 1)
   H.raises("it allows: 8-bit", c.set, c, "CNN/fc1|WEIGHT", {bits = 4})
   H.raises("no quantizer id matches 'CNN/nothing'", c.set, c, "CNN/nothing", {bits = 8})
   H.raises("Compression:set: argument 'bits'", c.set, c, "CNN/fc1|WEIGHT", {bits = 99})
   H.raises("Compression:set: unknown option 'colour'", c.set, c, "CNN/fc1|WEIGHT", {colour = 1})
   -- a refused edit changed nothing
   H.eq(by_id(c)["CNN/fc1|WEIGHT"].bits, 8)
   H.eq(by_id(c)["CNN/relu2|OUTPUT"].mode, "asymmetric")
end)

H.test("ignored scopes re-propagate the setup", function()
   local _, _, c = setup()
   H.eq(c:ignore("CNN/fc2"), 6)
   H.eq(by_id(c)["CNN/fc2|WEIGHT"], nil)
   H.raises("CNN/conv7", c.ignore, c, "CNN/conv7")
   H.eq(c:unignore("CNN/fc2"), 8)
   H.raises("has no 'CNN/fc1'", c.unignore, c, "CNN/fc1")
end)

H.test("QAT through nncw.train and export in both flavours", function()
   local m, ds, c = setup()
   local r = nncw.train(m, ds, {epochs = 1, batch = 32, compression = c, log_every = 0, test = ds})
   assert(r.test_acc >= 0 and r.test_acc <= 1)
   local fq, qdq = H.tmpname(".onnx"), H.tmpname(".onnx")
   c:export(fq)
   c:export(qdq, {standard_ops = true})
   local a = nncw.onnx.load(fq)
   local b = nncw.onnx.load(qdq)
   local function ops(g)
      local t = {}
      for _, n in ipairs(g:nodes()) do t[n.op] = (t[n.op] or 0) + 1 end
      return t
   end
   H.eq(ops(a).FakeQuantize, 8)
   -- QDQ weights are stored quantized (int8 initializers feeding DequantizeLinear)
   H.eq(ops(b).QuantizeLinear, 4)
   H.eq(ops(b).DequantizeLinear, 8)
   local acc_a = nncw.evaluate(a, ds)
   local acc_m = nncw.evaluate(m, ds)
   H.near(acc_a, acc_m, 1e-6)
   os.remove(fq)
   os.remove(qdq)
end)

H.test("bad arguments and configs raise clear errors", function()
   local m = nncw.zoo.cnn{}
   H.raises("nncw.compress: parse error: config '<table>': compression.weights.bits: expected an integer",
      nncw.compress, m, {compression = {algorithm = "quantization", weights = {bits = "8"}}})
   H.raises("nncw.compress: unsupported", nncw.compress, m,
      {compression = {algorithm = "movement_sparsity"}})
   H.raises("argument 'model' must be a Graph", nncw.compression.create, 42, nncw.config.from_table(cfg))
   H.raises("nncw.compress", nncw.compress, m, "/no/such/config.json")
   local _, ds2, c = setup()
   c:epoch_step(0)
   H.raises("Compression:epoch_step: argument 'epoch'", c.epoch_step, c, -1)
   c:close()
   H.raises("was closed", c.quantizers, c)
   H.eq(tostring(c), "Compression (closed)")
end)

-- sparsity and knowledge distillation: levels, rates, training with the RB loss and a teacher
local function sparse(compression)
   local m = nncw.zoo.cnn{}
   return m, nncw.compress(m, {input_info = {sample_size = {1, 1, 28, 28}},
      compression = compression})
end

H.test("magnitude sparsity: level, rate, schedule and statistics", function()
   local m, c = sparse{algorithm = "magnitude_sparsity", sparsity_init = 0.5,
      params = {sparsity_target = 0.8, sparsity_target_epoch = 2, power = 1}}
   H.near(c:sparsity_level(), 0.5)
   local rate = c:compression_rate()
   assert(rate > 0.45 and rate < 0.5, rate)
   H.eq(c:stage(), "PARTIALLY_COMPRESSED")
   H.eq(m:find("CNN/conv1/weight_mask")[1].op, "Mul")
   c:epoch_step(1)
   H.near(c:sparsity_level(), 0.65) -- from sparsity_init 0.5 to 0.8 in 2 epochs: halfway
   c:set_sparsity_level(0.7)
   assert(c:compression_rate() > 0.65)
   assert(c:statistics():find("Sparsity level of all sparsified layers", 1, true))
   assert(c:statistics():find("Sparsity threshold", 1, true))
   H.raises("Compression:set_sparsity_level: invalid argument: magnitude_sparsity: sparsity level 1 is outside [0, 1)",
      c.set_sparsity_level, c, 1)
   H.raises("Compression:set_sparsity_level: argument 'level'", c.set_sparsity_level, c, "x")
end)

H.test("RB sparsity trains with its loss; const sparsity keeps its masks", function()
   local m, c = sparse{algorithm = "rb_sparsity", params = {sparsity_target = 0.5,
      sparsity_target_epoch = 1}}
   local ds = nncw.data.synthetic{count = 64, shape = {1, 28, 28}, classes = 10}
   nncw.train(m, ds, {epochs = 2, batch = 32, compression = c, log_every = 0})
   H.near(c:sparsity_level(), 0.5)
   assert(c:statistics():find("The probability that one weight will be zeroed", 1, true))
   local _, k = sparse{algorithm = "const_sparsity"}
   local rate = c:compression_rate()
   assert(rate >= 0 and rate < 1, rate)
   H.eq(k:sparsity_level(), 0)
   H.raises("const_sparsity keeps the masks it was built with", k.set_sparsity_level, k, 0.3)
   local _, q = sparse{algorithm = "quantization"}
   H.raises("Compression:sparsity_level: not found: compression: there is no sparsity algorithm",
      q.sparsity_level, q)
   H.raises("no algorithm has a compression rate", q.compression_rate, q)
end)

H.test("knowledge distillation from the float model while training", function()
   local m, c = sparse{{algorithm = "magnitude_sparsity", sparsity_init = 0.6},
      {algorithm = "knowledge_distillation", type = "softmax", temperature = 2}}
   local ds = nncw.data.synthetic{count = 64, shape = {1, 28, 28}, classes = 10}
   local r = nncw.train(m, ds, {epochs = 1, batch = 32, compression = c, log_every = 0, test = ds})
   assert(r.test_acc >= 0 and r.test_acc <= 1)
   H.raises("compression[1].type: missing", nncw.compress, nncw.zoo.cnn{},
      {compression = {{algorithm = "magnitude_sparsity"}, {algorithm = "knowledge_distillation"}}})
end)

H.done()
