-- nncw.checkpoint: save and load weights; errors leave the model unchanged.
local H = dofile(arg[0]:match("^(.*/)") .. "helpers.lua")
local ck = nncw.checkpoint

H.test("save then load into a fresh model restores every parameter", function()
   local path = H.tmpname(".nncw")
   local a = nncw.zoo.resnet20{seed = 1}
   a:param("fc.bias"):fill(0.25)
   ck.save(a, path)
   local b = nncw.zoo.resnet20{seed = 2}
   assert(b:param("conv1.weight") ~= a:param("conv1.weight"))
   H.eq(ck.load(b, path), b)
   for _, p in ipairs(a:params()) do assert(b:param(p.name) == p.tensor, p.name) end
   os.remove(path)
end)

H.test("errors name the file or the parameter; the model is unchanged", function()
   local m = nncw.zoo.cnn()
   local before = m:param("fc2.bias"):copy()
   H.raises("nncw.checkpoint.load: I/O error", ck.load, m, "/nonexistent/x.nncw")
   local junk = H.tmpname(".nncw")
   local f = assert(io.open(junk, "wb"))
   f:write("not a checkpoint at all")
   f:close()
   H.raises("nncw.checkpoint.load: parse error", ck.load, m, junk)
   local other = H.tmpname(".nncw")
   ck.save(nncw.zoo.resnet20(), other)
   H.raises("nncw.checkpoint.load: shape error: checkpoint '" .. other .. "': parameter 'conv1.weight'", ck.load, m, other)
   ck.save(nncw.nn.build(nncw.nn.Conv2d(1, 1, 1), {input = {1, 2, 2}}), other)
   H.raises("nncw.checkpoint.load: not found", ck.load, m, other)
   assert(m:param("fc2.bias") == before)
   H.raises("nncw.checkpoint.save: I/O error", ck.save, m, "/nonexistent/dir/x.nncw")
   H.raises("nncw.checkpoint.save: argument 'model' must be a Graph, got nil", ck.save, nil, junk)
   H.raises("nncw.checkpoint.load: argument 'path' must be a string, got nil", ck.load, m)
   os.remove(junk)
   os.remove(other)
end)

H.test("a compressed model: full checkpoint, info, restored without the config file", function()
   local cfg = {input_info = {sample_size = {1, 1, 28, 28}}, target_device = "CPU",
      compression = {{algorithm = "magnitude_sparsity", sparsity_init = 0.3,
                      params = {sparsity_target = 0.6, sparsity_target_epoch = 4}},
                     {algorithm = "quantization", initializer = {range = {num_init_samples = 32}}}}}
   local text = nncw.json.encode(cfg)
   local ds = nncw.data.synthetic{count = 64, shape = {1, 28, 28}, classes = 10}
   local m = nncw.zoo.cnn{seed = 4}
   local c = nncw.compress(m, nncw.config.parse(text), {data = ds, batch = 32})
   -- NNCF's scheduler API
   H.eq(c:scheduler().current_epoch, -1)
   c:epoch_step()
   c:epoch_step()
   H.eq(c:scheduler().current_epoch, 1)
   H.near(c:sparsity_level(), 0.6 - 0.3 * 0.75 ^ 0.9) -- polynomial, power 0.9, concave
   c:step()
   H.eq(c:scheduler().current_step, 0)
   c:compression_rate(0.5)
   H.near(c:sparsity_level(), 0.5)
   c:disable_scheduler()
   c:epoch_step(3)
   H.near(c:sparsity_level(), 0.5)
   H.eq(c:scheduler().disabled, true)
   local state = c:state()
   assert(state:find('"scheduler_disabled":true', 1, true), state)

   local path = H.tmpname(".nncw")
   ck.save(m, path, {compression = c, config = text, zoo = "cnn", zoo_options = {seed = 4}})
   local info = ck.info(path)
   H.eq(info.version, 2)
   H.eq(info.zoo, "cnn")
   H.eq(info.config, text)
   H.eq(info.compression_state, state)
   H.eq(table.concat(info.sections, " "), "PARM ORIG CMPR CONF MSRC")
   -- the recipe nncw_checkpoint_restore_compressed follows, in Lua
   local m2 = ck.load_original(nncw.zoo.cnn{seed = 4}, path)
   local c2 = nncw.compress(m2, nncw.config.parse(info.config))
   c2:set_state(info.compression_state)
   ck.load(m2, path)
   H.eq(c2:state(), state)
   H.eq(c2:statistics(), c:statistics())
   local x = nncw.tensor.zeros({2, 1, 28, 28}):fill(0.5)
   H.eq(m2:forward(x), m:forward(x))
   H.raises("Compression:set_state: parse error: compression state: bad JSON", c2.set_state, c2, "{x")
   H.raises("nncw.checkpoint.save: a compression needs its config's JSON text", ck.save, m, path,
      {compression = c})
   H.raises("nncw.checkpoint.load_original: not found", ck.load_original, m,
      (function() local p = H.tmpname(".nncw"); ck.save(m, p); return p end)())
   os.remove(path)
end)

H.done()
