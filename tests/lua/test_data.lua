-- nncw.data: data sets from files (tiny fixtures written here, and Fashion-MNIST's test set
-- when the Debian package is installed), synthetic sets, subsets, samples and loaders.
local H = dofile(arg[0]:match("^(.*/)") .. "helpers.lua")
local data = nncw.data

local function write(path, bytes)
   local f = assert(io.open(path, "wb"))
   f:write(bytes)
   f:close()
end

-- an IDX pair with n images of h x w pixels; pixel value of image i is i * 10, label i % 3
local function write_idx(dir, prefix, n, h, w)
   local img = {string.pack(">I4I4I4I4", 0x00000803, n, h, w)}
   local lab = {string.pack(">I4I4", 0x00000801, n)}
   for i = 0, n - 1 do
      img[#img + 1] = string.rep(string.char(i * 10), h * w)
      lab[#lab + 1] = string.char(i % 3)
   end
   write(dir .. "/" .. prefix .. "-images-idx3-ubyte", table.concat(img))
   write(dir .. "/" .. prefix .. "-labels-idx1-ubyte", table.concat(lab))
end

local function mkdir()
   local d = H.tmpname("_data")
   assert(os.execute("mkdir -p '" .. d .. "'"))
   return d
end

H.test("mnist from IDX files; options and errors", function()
   local d = mkdir()
   write_idx(d, "train", 6, 4, 4)
   write_idx(d, "t10k", 3, 4, 4)
   local ds = data.mnist{dir = d, normalize = false}
   H.eq(#ds, 6)
   H.eq(ds:count(), 6)
   H.eq(ds:classes(), 10)
   H.same(ds:shape(), {1, 4, 4})
   local img, label = ds:sample(3)
   H.near(img:get(1, 1, 1), 20 / 255)
   H.eq(label, 2)
   H.eq(data.mnist{dir = d, train = false}:count(), 3)
   local norm = data.mnist{dir = d}
   H.near(norm:sample(1):get(1, 1, 1), (0 - 0.1307) / 0.3081, 1e-5)
   H.raises("nncw.data.mnist: argument 'dir' must be the folder with the IDX files", data.mnist, {})
   H.raises("nncw.data.mnist: I/O error", data.mnist, {dir = d .. "/missing"})
   H.raises("nncw.data.mnist: argument 'train' must be true or false, got 1", data.mnist, {dir = d, train = 1})
   write(d .. "/train-images-idx3-ubyte", "garbage")
   H.raises("nncw.data.mnist: parse error", data.mnist, {dir = d})
   os.execute("rm -rf '" .. d .. "'")
end)

H.test("cifar10 from binary batches; errors", function()
   local d = mkdir()
   local function batch(name, n)
      local recs = {}
      for i = 0, n - 1 do recs[#recs + 1] = string.char(i % 10) .. string.rep(string.char(255), 3072) end
      write(d .. "/" .. name, table.concat(recs))
   end
   for i = 1, 5 do batch("data_batch_" .. i .. ".bin", 2) end
   batch("test_batch.bin", 3)
   local tr = data.cifar10{dir = d}
   H.eq(#tr, 10)
   H.same(tr:shape(), {3, 32, 32})
   local te = data.cifar10{dir = d, train = false, normalize = false}
   H.eq(#te, 3)
   H.near(te:sample(1):get(3, 32, 32), 1.0)
   H.same(te:labels(), {0, 1, 2})
   H.raises("nncw.data.cifar10: argument 'dir' must be the folder with the CIFAR-10 binary batches", data.cifar10)
   H.raises("nncw.data.cifar10: I/O error", data.cifar10, {dir = d .. "/nope"})
   H.raises("nncw.data.cifar10: unknown option 'path'", data.cifar10, {path = d})
   os.execute("rm -rf '" .. d .. "'")
end)

if io.open("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz") or
   io.open("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte") then
   H.test("fashion_mnist from the Debian package", function()
      local te = data.fashion_mnist{train = false}
      H.eq(#te, 10000)
      H.eq(te:classes(), 10)
      H.eq(te:name(), "fashion-mnist/test")
      assert(tostring(te):find("10000 samples 1x28x28, 10 classes"))
   end)
end

H.test("fashion_mnist errors name the folder", function()
   H.raises("/nonexistent/fm", data.fashion_mnist, {dir = "/nonexistent/fm"})
   H.raises("nncw.data.fashion_mnist: argument 'dir' must be a string, got 3", data.fashion_mnist, {dir = 3})
end)

H.test("synthetic sets are deterministic and checked", function()
   local a = data.synthetic{count = 100, shape = {3, 8, 8}, classes = 4, seed = 5}
   H.eq(#a, 100)
   H.same(a:shape(), {3, 8, 8})
   H.eq(a:classes(), 4)
   local b = data.synthetic{count = 100, shape = {3, 8, 8}, classes = 4, seed = 5}
   assert(a:sample(7) == b:sample(7))
   local c = data.synthetic{count = 100, shape = {3, 8, 8}, classes = 4, seed = 5, sample_seed = 9}
   assert(a:sample(7) ~= c:sample(7))
   H.eq(select(2, a:sample(6)), 1)
   H.raises("nncw.data.synthetic: argument 'classes' must be an integer >= 2, got 1", data.synthetic, {classes = 1})
   H.raises("nncw.data.synthetic: argument 'shape' must be a list {channels, height, width}", data.synthetic, {shape = {8, 8}})
   H.raises("nncw.data.synthetic: argument 'count' must be a positive integer, got 0", data.synthetic, {count = 0})
   H.raises("nncw.data.synthetic: argument 'noise'", data.synthetic, {noise = -1})
end)

H.test("new from a tensor and labels", function()
   local x = nncw.tensor.zeros({4, 1, 2, 2})
   local ds = data.new(x, {0, 1, 2, 1}, {name = "tiny"})
   H.eq(ds:classes(), 3)
   H.eq(ds:name(), "tiny")
   H.eq(data.new(x, {0, 0, 0, 0}, {classes = 5}):classes(), 5)
   H.raises("nncw.data.new: argument 'labels' must be a list with one label per image", data.new, x, {0})
   H.raises("nncw.data.new: argument 'images' must be a float32 Tensor [N, C, H, W]", data.new, nncw.tensor.zeros({4, 4}), {0, 1, 0, 1})
   H.raises("nncw.data.new: argument 'labels' must be a non-negative integer, got -1", data.new, x, {0, -1, 0, 0})
   H.raises("nncw.data.new: invalid argument", data.new, x, {0, 7, 0, 0}, {classes = 3})
end)

H.test("subset, sample, labels", function()
   local ds = data.synthetic{count = 50}
   local s = ds:subset(11, 20)
   H.eq(#s, 20)
   assert(s:sample(1) == ds:sample(11))
   H.eq(#s:labels(), 20)
   H.eq(s:labels()[1], ds:labels()[11])
   assert(s:name():find("%[10:30%]"))
   H.raises("nncw.Dataset:subset: argument 'count' must be an integer in [1, 41], got 45", ds.subset, ds, 10, 45)
   H.raises("nncw.Dataset:subset: argument 'first' must be an integer in [1, 50], got 51", ds.subset, ds, 51, 1)
   H.raises("nncw.Dataset:sample: argument 'index' must be a positive integer, got 0", ds.sample, ds, 0)
   -- a subset outlives its parent
   local sub
   do
      local parent <close> = data.synthetic{count = 10}
      sub = parent:subset(1, 5)
   end
   H.eq(#sub, 5)
   H.same(sub:sample(5):shape(), {1, 28, 28})
end)

H.test("batches iterate a loader; shuffling depends on seed and epoch", function()
   local ds = data.synthetic{count = 10, shape = {1, 2, 2}}
   local n, seen = 0, 0
   for x, y in ds:batches{batch = 4} do
      n = n + 1
      seen = seen + #y
      H.eq(x:shape()[1], #y)
   end
   H.eq(n, 3)
   H.eq(seen, 10)
   local l = ds:batches{batch = 4, drop_last = true}
   H.eq(l:count(), 2)
   H.eq(#l, 2)
   assert(tostring(l):find("^Loader: 2 batches of 4"))
   local function first_labels(opts)
      local _, y = ds:batches(opts)()
      return table.concat(y, ",")
   end
   H.eq(first_labels{batch = 10}, "0,1,2,3,4,5,6,7,8,9")
   local s1 = first_labels{batch = 10, shuffle = true, seed = 3, epoch = 1}
   H.eq(s1, first_labels{batch = 10, shuffle = true, seed = 3, epoch = 1})
   assert(s1 ~= first_labels{batch = 10, shuffle = true, seed = 3, epoch = 2})
   for x in ds:batches{batch = 2, crop = 1, hflip = true} do H.same(x:shape(), {2, 1, 2, 2}) end
   H.raises("nncw.Dataset:batches: argument 'batch' must be a positive integer, got 0", ds.batches, ds, {batch = 0})
   H.raises("nncw.Dataset:batches: invalid argument", ds.batches, ds, {crop = 5})
   H.raises("nncw.Dataset:batches: unknown option 'size'", ds.batches, ds, {size = 2})
end)

H.test("a dataset in use by a loader cannot be closed", function()
   local ds = data.synthetic{count = 10}
   local l = ds:batches{batch = 5}
   H.raises("nncw.Dataset:close: the Dataset is in use", getmetatable(ds).__close, ds)
   l = nil
   collectgarbage()
   collectgarbage()
   getmetatable(ds).__close(ds)
   H.eq(tostring(ds), "Dataset (closed)")
   H.raises("nncw.Dataset:count: the Dataset was closed", ds.count, ds)
   H.raises("nncw.Dataset:name: argument 'self' must be a Dataset, got nil", nncw.data.Dataset.name)
   H.raises("nncw.Dataset:classes: argument 'self' must be a Dataset", nncw.data.Dataset.classes, {})
   H.raises("nncw.Dataset:shape: argument 'self' must be a Dataset", nncw.data.Dataset.shape, 1)
   H.raises("nncw.Dataset:labels: argument 'self' must be a Dataset", nncw.data.Dataset.labels, 1)
   H.raises("nncw.Loader:count: argument 'self' must be a Loader, got 1", nncw.data.Loader.count, 1)
end)

H.done()
