--- Find node scopes with NNCF-style patterns (an exact scope, or "{re}" and a regular
-- expression), as ignored_scopes / target_scopes in a config would select them.
--
--    nncw run scripts/recipes/find_scopes.lua resnet18 "{re}layer[34]\.[0-9]/conv2$"
--    nncw run scripts/recipes/find_scopes.lua model.onnx "{re}Conv"
--    nncw run scripts/recipes/find_scopes.lua       -- resnet18 and a few example patterns
local source = arg[1] or "resnet18"
local model
if source:match("%.onnx$") then
   model = nncw.onnx.load(source)
else
   model = nncw.zoo.build(source)
end

local patterns = {table.unpack(arg, 2)}
if #patterns == 0 then
   patterns = {"ResNet18/conv1", "{re}layer[34]\\.[0-9]/conv2$", "{re}downsample", "{re}^ResNet18/fc$"}
end

for _, p in ipairs(patterns) do
   local found = model:find(p)
   print(string.format("%s: %d node%s", p, #found, #found == 1 and "" or "s"))
   for _, n in ipairs(found) do
      print(string.format("  %-44s %-20s %s", n.scope, n.op,
         "[" .. table.concat(n.output_shapes[1], ", ") .. "]"))
   end
end
