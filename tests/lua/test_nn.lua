-- nncw.nn: networks written in Lua, built through the Builder.
local H = dofile(arg[0]:match("^(.*/)") .. "helpers.lua")
local nn = nncw.nn

H.test("a Sequential CNN matches the zoo's CNN layout and parameter count", function()
   local net = nn.Sequential{
      nn.Conv2d(1, 32, 3):named("conv1"), nn.ReLU():named("relu1"), nn.MaxPool2d(2):named("pool1"),
      nn.Conv2d(32, 64, 3):named("conv2"), nn.ReLU():named("relu2"), nn.MaxPool2d(2):named("pool2"),
      nn.Flatten():named("flatten"), nn.Linear(nil, 128):named("fc1"), nn.ReLU():named("relu3"),
      nn.Linear(128, 10):named("fc2"),
   }
   local m = nn.build(net, {name = "CNN", input = {1, 28, 28}, seed = 1})
   H.eq(m:count_params(), 225034)
   -- same initialisation order and seed as the zoo: the same weights
   assert(m:param("fc2.weight") == nncw.zoo.cnn{seed = 1}:param("fc2.weight"))
   H.eq(m:node("CNN/pool2").op, "MaxPool")
end)

H.test("PyTorch naming: indices, nesting, residual and concat scopes", function()
   local net = nn.Sequential{
      nn.Conv2d(3, 8, 3, {padding = 1, bias = false}), nn.BatchNorm2d(), nn.ReLU6(),
      nn.Residual(nn.Sequential{nn.Conv2d(nil, 8, 3, {padding = 1}), nn.ReLU()}),
      nn.Residual(nn.Conv2d(8, 8, 1), nn.AvgPool2d(3, 1, 1)),
      nn.Concat{nn.Conv2d(8, 4, 1), nn.MaxPool2d(3, 1, 1)},
      nn.Dropout(0.1), nn.GlobalAvgPool2d(), nn.Flatten(), nn.Linear(nil, 10),
   }
   local m = nn.build(net, {input = {3, 16, 16}})
   H.eq(m:node("Net/0").op, "Conv")
   H.eq(m:node("Net/1").op, "BatchNormalization")
   H.eq(m:node("Net/3/body/0").op, "Conv")
   H.eq(m:node("Net/3/add").op, "Add")
   H.eq(m:node("Net/4/shortcut").op, "AveragePool")
   H.eq(m:node("Net/5/concat").op, "Concat")
   H.same(m:node("Net/5/concat").output_shapes[1], {1, 12, 16, 16})
   H.same(m:node("Net/9").input_shapes[2], {10, 12})
   assert(m:param("3.body.0.weight"))
   assert(m:param("1.running_var"))
   local s = tostring(net)
   assert(s:find("^Sequential%("))
   assert(s:find("%(0%): Conv2d%(3, 8, kernel_size=3, stride=1, padding=1, bias=False%)"))
   assert(s:find("%(3%): Residual%("))
end)

H.test("a single layer network and a named top-level container", function()
   local m = nn.build(nn.Conv2d(1, 2, 1), {input = {1, 2, 2}})
   H.eq(m:nodes()[1].scope, "Net/conv2d")
   H.eq(nn.build(nn.Conv2d(1, 2, 1):named("c"), {input = {1, 2, 2}}):nodes()[1].scope, "Net/c")
   H.raises("nncw.Builder:finish: shape error", nn.build, nn.Linear(5, 2), {input = {1, 2, 2}})
end)

H.test("constructor and build errors name the function and argument", function()
   H.raises("nncw.nn.Conv2d: argument 'out_channels' must be a positive integer, got 0", nn.Conv2d, 1, 0, 3)
   H.raises("nncw.nn.Conv2d: argument 'kernel' must be a positive integer, got nil", nn.Conv2d, 1, 2)
   H.raises("nncw.nn.Conv2d: unknown option 'pad'", nn.Conv2d, 1, 2, 3, {pad = 1})
   H.raises("nncw.nn.Linear: argument 'out_features' must be a positive integer", nn.Linear, 3)
   H.raises("nncw.nn.BatchNorm2d: argument 'channels' must be a positive integer, got -1", nn.BatchNorm2d, -1)
   H.raises("nncw.nn.MaxPool2d: argument 'kernel' must be a positive integer", nn.MaxPool2d)
   H.raises("nncw.nn.AvgPool2d: argument 'padding' must be an integer >= 0, got -1", nn.AvgPool2d, 2, 2, -1)
   H.raises("nncw.nn.Dropout: argument 'p' must be a number in [0, 1), got 1", nn.Dropout, 1)
   H.raises("nncw.nn.Sequential: argument 'modules' must be a list of at least 1 modules", nn.Sequential, {})
   H.raises("nncw.nn.Sequential: argument 'modules' must be a list of nncw.nn modules, got a number at position 2", nn.Sequential, {nn.ReLU(), 3})
   H.raises("nncw.nn.Residual: argument 'modules'", nn.Residual, nil)
   H.raises("nncw.nn.Concat: argument 'modules'", nn.Concat, 5)
   H.raises("nncw.nn.Module:named: argument 'name' must be a non-empty string without '/' or '.'", nn.ReLU().named, nn.ReLU(), "a/b")
   H.raises("nncw.nn.build: argument 'input' must be a list {channels, height, width}", nn.build, nn.ReLU(), {})
   H.raises("nncw.nn.build: argument 'net' must be an nncw.nn module", nn.build, {}, {input = {1, 2, 2}})
   H.raises("nncw.nn.build: unknown option 'inputs'", nn.build, nn.ReLU(), {inputs = {1, 2, 2}})
   assert(tostring(nn.ReLU()) == "ReLU()")
   assert(tostring(nn.Flatten()) == "Flatten()")
   assert(tostring(nn.GlobalAvgPool2d()) == "GlobalAvgPool2d()")
end)

H.done()
