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

H.done()
