-- nncw.onnx: export a model, import it back, summaries and tensor files.
local H = dofile(arg[0]:match("^(.*/)") .. "helpers.lua")
local onnx = nncw.onnx

if not onnx.available then
   H.test("without ONNX support every function says so", function()
      H.raises("no ONNX support", onnx.load, "x.onnx")
   end)
   H.done()
end

H.test("save then load keeps scopes, ops and outputs", function()
   local path = H.tmpname(".onnx")
   local m = nncw.zoo.cnn{seed = 2}
   onnx.save(m, path, {opset = 13, producer = "nncw-test"})
   local g = onnx.load(path)
   H.eq(g:count_params(), m:count_params())
   local convs = {}
   for _, n in ipairs(g:nodes()) do if n.op == "Conv" then convs[#convs + 1] = n.scope end end
   H.eq(#convs, 2)
   local x = nncw.tensor.zeros({2, 1, 28, 28}):fill(0.5)
   local a, b = m:forward(x), g:forward(x)
   local da = a:to_table{flat = true}
   local db = b:to_table{flat = true}
   for i = 1, #da do H.near(db[i], da[i], 1e-5) end
   local s = onnx.summary(path)
   H.eq(s.producer, "nncw-test")
   H.eq(s.unsupported, 0)
   assert(s.nodes >= 9 and s.opset >= 13 and s.ir_version > 0 and s.initializers > 0)
   local found
   for _, op in ipairs(s.ops) do if op.op_type == "Conv" then found = op end end
   H.eq(found.count, 2)
   assert(found.supported and found.first_node ~= "")
   H.raises("nncw.onnx.load: unknown option 'limit'", onnx.load, path, {limit = 1})
   H.raises("nncw.onnx.load", onnx.load, path, {max_bytes = 16})
   os.remove(path)
end)

H.test("tensor files round trip", function()
   local path = H.tmpname(".pb")
   local t = nncw.tensor{{1, 2}, {3, 4}}
   onnx.write_tensor(path, t, "x")
   local u, name = onnx.read_tensor(path)
   assert(u == t)
   H.eq(name, "x")
   onnx.write_tensor(path, t)
   local _, none = onnx.read_tensor(path)
   H.eq(none, nil)
   os.remove(path)
end)

H.test("errors name the file", function()
   H.raises("nncw.onnx.load: I/O error", onnx.load, "/nonexistent.onnx")
   local junk = H.tmpname(".onnx")
   local f = assert(io.open(junk, "wb"))
   f:write("\255\255\255\255 not protobuf")
   f:close()
   H.raises("nncw.onnx.load: parse error", onnx.load, junk)
   H.raises("nncw.onnx.summary:", onnx.summary, junk)
   H.raises("nncw.onnx.read_tensor:", onnx.read_tensor, junk)
   H.raises("nncw.onnx.save: I/O error", onnx.save, nncw.zoo.cnn(), "/nonexistent/dir/m.onnx")
   H.raises("nncw.onnx.save: argument 'model' must be a Graph, got nil", onnx.save, nil, junk)
   H.raises("nncw.onnx.save: argument 'opset' must be an integer in [0, 100], got 500", onnx.save, nncw.zoo.cnn(), junk, {opset = 500})
   H.raises("nncw.onnx.write_tensor: argument 'tensor' must be a Tensor, got nil", onnx.write_tensor, junk)
   H.raises("nncw.onnx.read_tensor: argument 'path' must be a string, got nil", onnx.read_tensor)
   os.remove(junk)
end)

H.done()
