-- nncw.config: JSON files and Lua tables parsed by the engine into typed configs; errors with
-- key paths; warnings for unknown keys.
local H = dofile(arg[0]:match("^(.*/)") .. "helpers.lua")
local config = nncw.config
local dir = H.data .. "/configs"

H.test("a full NNCF-style config loads with every section", function()
   local cfg = config.load(dir .. "/good/quantization_resnet20_cifar10.json")
   local t = cfg:to_table()
   H.eq(t.model, "resnet20")
   H.eq(t.dataset, "cifar10")
   H.eq(t.pretrained, false)
   H.eq(t.num_classes, 10)
   H.eq(t.batch_size, 128)
   H.eq(t.epochs, 30)
   H.eq(t.seed, 1)
   H.eq(t.target_device, "CPU")
   H.same(t.input_info[1].sample_size, {1, 3, 32, 32})
   H.eq(t.input_info[1].type, "float")
   H.eq(t.input_info[1].filler, "random")
   H.eq(t.optimizer.type, "adam")
   H.near(t.optimizer.base_lr, 1e-4)
   H.eq(t.optimizer.schedule_type, "multistep")
   H.same(t.optimizer.steps, {10, 20})
   H.eq(#t.compression, 1)
   local q = t.compression[1]
   H.eq(q.algorithm, "quantization")
   H.same(q.ignored_scopes, {"ResNet20/fc", "{re}.*/downsample\\.0$"})
   H.eq(#q.target_scopes, 0)
   H.eq(q.weights.bits, 8)
   H.eq(q.initializer.range.num_init_samples, 256)
   assert(next(q.params) == nil)
   H.eq(#cfg:warnings(), 0)
   -- fields read through the table
   H.eq(cfg.epochs, 30)
   H.eq(cfg.compression[1].algorithm, "quantization")
   H.eq(cfg.source, dir .. "/good/quantization_resnet20_cifar10.json")
   H.eq(cfg.nothing, nil)
   assert(tostring(cfg):find("target device CPU, 1 input, compression %[quantization%], 0 warnings"))
end)

H.test("lists of inputs and algorithms; single strings as scope lists", function()
   local cfg = config.load(dir .. "/good/sparsity_then_pruning_list.json")
   local t = cfg:to_table()
   H.eq(#t.input_info, 2)
   H.eq(t.input_info[1].keyword, "x")
   H.eq(t.input_info[1].filler, "zeros")
   H.eq(t.input_info[2].type, "long")
   H.eq(t.compression[1].algorithm, "magnitude_sparsity")
   H.same(t.compression[1].target_scopes, {"{re}CNN/conv[0-9]+"})
   H.same(t.compression[1].params.multistep_steps, {2, 4})
   H.eq(t.compression[1].sparsity_init, 0.1)
   H.eq(t.compression[2].params.pruning_steps, 15)
   H.eq(t.optimizer.nesterov, true)
   H.eq(t.optimizer.t_max, 5)
   H.eq(t.optimizer.warmup_epochs, 1)
   H.eq(t.optimizer.step_size, 3)
   H.eq(t.target_device, "ANY")
end)

H.test("an empty config has defaults", function()
   local t = config.load(dir .. "/good/empty.json"):to_table()
   H.eq(t.target_device, "ANY")
   H.eq(#t.compression, 0)
   H.eq(t.input_info, nil)
   H.eq(t.epochs, nil)
end)

H.test("unknown and duplicate keys warn with their paths", function()
   local cfg = config.load(dir .. "/good/unknown_keys_warn.json")
   local w = table.concat(cfg:warnings(), "\n")
   assert(w:find("unknown key 'optimiser'", 1, true), w)
   assert(w:find("unknown key 'optimizer.lr'", 1, true), w)
   assert(w:find("unknown key 'input_info.shape'", 1, true), w)
   assert(w:find("duplicate key 'epochs'", 1, true), w)
   H.eq(#cfg:warnings(), 4)
   H.eq(cfg.epochs, 2)
end)

H.test("every bad config fails with its key path", function()
   local n = 0
   for line in io.lines(dir .. "/bad/expected.txt") do
      local file, fragment = line:match("^([^#][^\t]*)\t(.*)$")
      if file then
         H.raises("nncw.config.load: parse error: config '" .. dir .. "/bad/" .. file .. "': " .. fragment,
            config.load, dir .. "/bad/" .. file)
         n = n + 1
      end
   end
   assert(n >= 15)
end)

H.test("load errors: missing file, directory, wrong argument", function()
   H.raises("nncw.config.load: I/O error: config '/nonexistent.json'", config.load, "/nonexistent.json")
   H.raises("nncw.config.load: I/O error", config.load, dir)
   H.raises("nncw.config.load: argument 'path' must be a string, got nil", config.load)
end)

H.test("parse and from_table give the same config as a file", function()
   local text = '{"epochs": 4, "compression": [{"algorithm": "binarization", "params": {"mode": "xnor"}}]}'
   local a = config.parse(text, "inline")
   local b = config.from_table{epochs = 4, compression = {{algorithm = "binarization", params = {mode = "xnor"}}}}
   H.eq(a.epochs, b.epochs)
   H.eq(a.compression[1].params.mode, b.compression[1].params.mode)
   H.eq(a.source, "inline")
   H.eq(b.source, "<table>")
   H.eq(config.parse("{}").source, "<string>")
   -- empty Lua tables are empty lists; they work where objects are expected too
   local c = config.from_table{compression = {{algorithm = "quantization", params = {}, ignored_scopes = {}}}}
   assert(next(c.compression[1].params) == nil)
   H.raises("nncw.config.parse: parse error: config 'x': epochs: expected an integer", config.parse, '{"epochs": "3"}', "x")
   H.raises("nncw.config.parse: argument 'json' must be a string, got nil", config.parse)
   H.raises("nncw.config.parse: argument 'name' must be a string, got 1", config.parse, "{}", 1)
   H.raises("nncw.config.from_table: parse error: config 'mine': compression[0].algorithm: unknown algorithm 'nope'",
      config.from_table, {compression = {{algorithm = "nope"}}}, "mine")
   H.raises("nncw.config.from_table: compression[0].f: a function has no JSON form", config.from_table,
      {compression = {{f = print}}})
   H.raises("nncw.config.from_table: argument 'config' must be a table, got string", config.from_table, "x")
end)

H.test("the algorithm list and closed configs", function()
   local names = table.concat(config.algorithms, " ")
   assert(names:find("quantization") and names:find("filter_pruning") and names:find("knowledge_distillation"))
   local cfg
   do
      local c <close> = config.parse("{}")
      cfg = c
   end
   H.eq(tostring(cfg), "Config (closed)")
   H.raises("nncw.Config:to_table: the Config was closed", cfg.to_table, cfg)
   H.raises("nncw.Config:warnings: argument 'self' must be a Config, got nil", config.Config.warnings)
end)

H.done()
