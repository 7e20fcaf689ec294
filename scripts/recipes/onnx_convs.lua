--- Load an ONNX model and list its convolutions: scope, kernel, stride, channels,
-- parameters and FLOPs, with totals.
--
--    nncw run scripts/recipes/onnx_convs.lua model.onnx
--    nncw run scripts/recipes/onnx_convs.lua            -- exports the zoo's ResNet-20 first
local path = arg[1]
if not path then
   local base = os.tmpname()
   os.remove(base)
   path = base .. ".onnx"
   nncw.onnx.save(nncw.zoo.resnet20(), path)
   print("(no model given: exported the built-in resnet20 to " .. path .. ")")
end

local model = nncw.onnx.load(path)
print(tostring(model))
local convs, params, flops = 0, 0, 0
print(string.format("%-40s %-8s %-6s %-12s %10s %12s", "scope", "kernel", "stride",
   "channels", "params", "FLOPs"))
for _, n in ipairs(model:nodes()) do
   if n.op == "Conv" then
      local a = n.attrs
      local w = n.input_shapes[2]
      print(string.format("%-40s %-8s %-6s %-12s %10d %12d", n.scope,
         table.concat(a.kernel_shape or {w[3], w[4]}, "x"), table.concat(a.strides or {1, 1}, "x"),
         string.format("%d -> %d", n.input_shapes[1][2], n.output_shapes[1][2]), n.params, n.flops))
      convs, params, flops = convs + 1, params + n.params, flops + n.flops
   end
end
print(string.format("%d convolutions, %d parameters, %d FLOPs per sample", convs, params, flops))
if not arg[1] then os.remove(path) end
