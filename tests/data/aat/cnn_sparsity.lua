-- A short accuracy-aware run for the workbench's tests and its screen capture: the built-in
-- CNN, trained for 3 epochs on a subset of `train_data`, then magnitude sparsity searched with
-- adaptive_compression_level (cnn_sparsity.json beside this file) within 0.5 % of its accuracy.
-- Run it in the workbench with  :load tests/data/aat/cnn_sparsity.lua
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
nncw.host.threads(1)
model = nncw.zoo.cnn{seed = 1}
local train, test = train_data:subset(1, 1600), test_data:subset(1, 400)
nncw.train(model, train, {epochs = 3, batch = 32, seed = 1, log_every = 0})
local uncompressed = 100 * nncw.evaluate(model, test)
aat_config = nncw.config.load(dir .. "cnn_sparsity.json")
comp = nncw.compress(model, aat_config, {data = train, batch = 32})
aat = nncw.train(model, train, {test = test, compression = comp, config = aat_config,
                                accuracy_aware = true, uncompressed = uncompressed, seed = 1,
                                log_every = 5})
print(("aat: kept rate %.3f at accuracy %.2f %% (budget %.2f %%), %d epochs, %s"):format(
   aat.kept_rate or 0, aat.metric, aat.minimal_tolerable, aat.epochs, aat.stop))
