/* nncw.data: Dataset userdata (Fashion-MNIST/MNIST, CIFAR-10, synthetic, from a tensor),
 * subsets, samples, and Loader iterators over batches. */
#include "lnncw.h"

#include <string.h>

#include "core/alloc.h"

struct loader_box {
    struct nncw_loader *l;
    float *images;
    int32_t *labels;
    struct app_lua_dataset *ds; /* kept alive by the user value */
};

struct app_lua_dataset *app_lua_new_dataset(lua_State *L)
{
    struct app_lua_dataset *box = lua_newuserdatauv(L, sizeof *box, 0);
    memset(box, 0, sizeof *box);
    luaL_setmetatable(L, APP_LUA_DATASET);
    return box;
}

struct app_lua_dataset *app_lua_check_dataset(lua_State *L, int idx, const char *fn,
                                              const char *arg)
{
    struct app_lua_dataset *box = app_lua_check_box(L, idx, APP_LUA_DATASET, fn, arg, "a Dataset");
    if (!box->ds)
        app_lua_closed_error(L, fn, "Dataset");
    return box;
}

/* ---- constructors ---- */

static int finish(lua_State *L, struct app_lua_dataset *box, enum nncw_status s, const char *fn)
{
    (void)box;
    return s == NNCW_OK ? 1 : app_lua_fail(L, fn, s);
}

static int idx_set(lua_State *L, const char *fn, const char *def_dir,
                   const struct nncw_data_norm *norm)
{
    static const char *const known[] = {"dir", "train", "normalize", NULL};
    app_lua_check_options(L, 1, fn, known);
    const char *dir = app_lua_opt_string(L, 1, fn, "dir", def_dir);
    if (!dir)
        return luaL_error(L,
                          "%s: argument 'dir' must be the folder with the IDX files "
                          "(train-images-idx3-ubyte.gz ...)",
                          fn);
    bool train = app_lua_opt_bool(L, 1, fn, "train", true);
    bool normalize = app_lua_opt_bool(L, 1, fn, "normalize", true);
    struct app_lua_dataset *box = app_lua_new_dataset(L);
    return finish(L, box,
                  nncw_dataset_load_mnist_dir(dir, train, normalize ? norm : NULL, &box->ds), fn);
}

static int l_fashion_mnist(lua_State *L)
{
    return idx_set(L, "nncw.data.fashion_mnist", NNCW_DATA_FASHION_MNIST_DIR,
                   &nncw_data_norm_fashion_mnist);
}

static int l_mnist(lua_State *L)
{
    return idx_set(L, "nncw.data.mnist", NULL, &nncw_data_norm_mnist);
}

static int l_cifar10(lua_State *L)
{
    static const char FN[] = "nncw.data.cifar10";
    static const char *const known[] = {"dir", "train", "normalize", NULL};
    app_lua_check_options(L, 1, FN, known);
    const char *dir = app_lua_opt_string(L, 1, FN, "dir", NULL);
    if (!dir)
        return luaL_error(L,
                          "%s: argument 'dir' must be the folder with the CIFAR-10 binary "
                          "batches (data_batch_1.bin ... test_batch.bin)",
                          FN);
    bool train = app_lua_opt_bool(L, 1, FN, "train", true);
    bool normalize = app_lua_opt_bool(L, 1, FN, "normalize", true);
    struct app_lua_dataset *box = app_lua_new_dataset(L);
    return finish(L, box,
                  nncw_dataset_load_cifar10_dir(
                      dir, train, normalize ? &nncw_data_norm_cifar10 : NULL, &box->ds),
                  FN);
}

static int l_synthetic(lua_State *L)
{
    static const char FN[] = "nncw.data.synthetic";
    static const char *const known[] = {"count", "shape",       "classes", "noise",
                                        "seed",  "sample_seed", NULL};
    app_lua_check_options(L, 1, FN, known);
    struct nncw_synthetic_opts o = {.channels = 1, .height = 28, .width = 28};
    o.count = app_lua_opt_int(L, 1, FN, "count", 1024, 1, NNCW_DATA_MAX_SAMPLES);
    o.num_classes = (int)app_lua_opt_int(L, 1, FN, "classes", 10, 2, 100000);
    o.noise = (float)app_lua_opt_number(L, 1, FN, "noise", 0.5, 0, 1e6);
    o.seed = (uint64_t)app_lua_opt_int(L, 1, FN, "seed", 11, 0, LUA_MAXINTEGER);
    o.sample_seed = (uint64_t)app_lua_opt_int(L, 1, FN, "sample_seed", 1, 0, LUA_MAXINTEGER);
    if (app_lua_has_option(L, 1, "shape")) {
        lua_getfield(L, 1, "shape");
        int64_t shape[NNCW_MAX_DIMS];
        if (app_lua_check_shape(L, -1, FN, "shape", 1, shape) != 3)
            app_lua_arg_error(L, -1, FN, "shape", "a list {channels, height, width}");
        o.channels = (int)shape[0];
        o.height = (int)shape[1];
        o.width = (int)shape[2];
        lua_pop(L, 1);
    }
    struct app_lua_dataset *box = app_lua_new_dataset(L);
    return finish(L, box, nncw_dataset_new_synthetic(&o, &box->ds), FN);
}

/* new(images [N, C, H, W] float32 Tensor, labels {N integers}, {classes =, name =}) */
static int l_new(lua_State *L)
{
    static const char FN[] = "nncw.data.new";
    static const char *const known[] = {"classes", "name", NULL};
    struct nncw_tensor *x = app_lua_check_tensor(L, 1, FN, "images");
    if (x->ndim != 4 || x->dtype != NNCW_DTYPE_F32 || !nncw_tensor_is_contiguous(x))
        return app_lua_arg_error(L, 1, FN, "images", "a float32 Tensor [N, C, H, W]");
    if (!lua_istable(L, 2) || luaL_len(L, 2) != x->shape[0])
        return app_lua_arg_error(L, 2, FN, "labels", "a list with one label per image");
    app_lua_check_options(L, 3, FN, known);
    int classes = (int)app_lua_opt_int(L, 3, FN, "classes", 0, 0, 100000);
    const char *name = app_lua_opt_string(L, 3, FN, "name", "lua");
    int32_t *labels = lua_newuserdatauv(L, (size_t)x->shape[0] * sizeof *labels, 0);
    int max = 0;
    for (int64_t i = 0; i < x->shape[0]; i++) {
        lua_geti(L, 2, (lua_Integer)i + 1);
        labels[i] = (int32_t)app_lua_check_int(L, -1, FN, "labels", 0, 99999);
        max = labels[i] > max ? labels[i] : max;
        lua_pop(L, 1);
    }
    if (classes == 0)
        classes = max + 1 < 2 ? 2 : max + 1;
    struct app_lua_dataset *box = app_lua_new_dataset(L);
    return finish(L, box,
                  nncw_dataset_new(name, x->shape[0], x->shape + 1, classes, nncw_tensor_f32(x),
                                   labels, &box->ds),
                  FN);
}

/* ---- dataset methods ---- */

static int l_name(lua_State *L)
{
    struct app_lua_dataset *b = app_lua_check_dataset(L, 1, "nncw.Dataset:name", "self");
    lua_pushstring(L, nncw_dataset_get_name(b->ds));
    return 1;
}

static int l_count(lua_State *L)
{
    struct app_lua_dataset *b = app_lua_check_dataset(L, 1, "nncw.Dataset:count", "self");
    lua_pushinteger(L, (lua_Integer)nncw_dataset_count_samples(b->ds));
    return 1;
}

static int l_classes(lua_State *L)
{
    struct app_lua_dataset *b = app_lua_check_dataset(L, 1, "nncw.Dataset:classes", "self");
    lua_pushinteger(L, nncw_dataset_count_classes(b->ds));
    return 1;
}

static int l_shape(lua_State *L)
{
    struct app_lua_dataset *b = app_lua_check_dataset(L, 1, "nncw.Dataset:shape", "self");
    int64_t shape[3];
    nncw_dataset_get_sample_shape(b->ds, shape);
    app_lua_push_shape(L, 3, shape);
    return 1;
}

/* subset(first, count): samples first .. first + count - 1 (1-based), sharing memory */
static int l_subset(lua_State *L)
{
    static const char FN[] = "nncw.Dataset:subset";
    struct app_lua_dataset *b = app_lua_check_dataset(L, 1, FN, "self");
    int64_t n = nncw_dataset_count_samples(b->ds);
    lua_Integer first = app_lua_check_int(L, 2, FN, "first", 1, n);
    lua_Integer count = app_lua_check_int(L, 3, FN, "count", 1, n - first + 1);
    struct app_lua_dataset *box = app_lua_new_dataset(L);
    return finish(L, box, nncw_dataset_subset(b->ds, first - 1, count, &box->ds), FN);
}

/* sample(i): image i (1-based) as a Tensor [C, H, W] and its label */
static int l_sample(lua_State *L)
{
    static const char FN[] = "nncw.Dataset:sample";
    struct app_lua_dataset *b = app_lua_check_dataset(L, 1, FN, "self");
    lua_Integer i = app_lua_check_int(L, 2, FN, "index", 1, nncw_dataset_count_samples(b->ds)) - 1;
    int64_t shape[3];
    nncw_dataset_get_sample_shape(b->ds, shape);
    struct app_lua_tensor *box = app_lua_new_tensor(L);
    enum nncw_status s = nncw_tensor_init(&box->t, NNCW_DTYPE_F32, 3, shape);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    int64_t numel = nncw_dataset_get_sample_numel(b->ds);
    memcpy(box->t.data, nncw_dataset_get_images(b->ds) + i * numel, (size_t)numel * sizeof(float));
    lua_pushinteger(L, nncw_dataset_get_labels(b->ds)[i]);
    return 2;
}

static int l_labels(lua_State *L)
{
    struct app_lua_dataset *b = app_lua_check_dataset(L, 1, "nncw.Dataset:labels", "self");
    int64_t n = nncw_dataset_count_samples(b->ds);
    const int32_t *y = nncw_dataset_get_labels(b->ds);
    lua_createtable(L, (int)n, 0);
    for (int64_t i = 0; i < n; i++) {
        lua_pushinteger(L, y[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* batches{batch =, shuffle =, seed =, epoch =, drop_last =, crop =, hflip =}: a Loader to
 * iterate with `for images, labels in ds:batches{...}` */
static int l_batches(lua_State *L)
{
    static const char FN[] = "nncw.Dataset:batches";
    static const char *const known[] = {"batch",     "shuffle", "seed",  "epoch",
                                        "drop_last", "crop",    "hflip", NULL};
    struct app_lua_dataset *b = app_lua_check_dataset(L, 1, FN, "self");
    app_lua_check_options(L, 2, FN, known);
    struct nncw_loader_opts o = {0};
    o.batch_size = (int)app_lua_opt_int(L, 2, FN, "batch", 64, 1, 65536);
    o.shuffle = app_lua_opt_bool(L, 2, FN, "shuffle", false);
    o.seed = (uint64_t)app_lua_opt_int(L, 2, FN, "seed", 1, 0, LUA_MAXINTEGER);
    o.drop_last = app_lua_opt_bool(L, 2, FN, "drop_last", false);
    o.crop_padding = (int)app_lua_opt_int(L, 2, FN, "crop", 0, 0, 1024);
    o.hflip = app_lua_opt_bool(L, 2, FN, "hflip", false);
    lua_Integer epoch = app_lua_opt_int(L, 2, FN, "epoch", 0, 0, LUA_MAXINTEGER);
    struct loader_box *box = lua_newuserdatauv(L, sizeof *box, 1);
    memset(box, 0, sizeof *box);
    luaL_setmetatable(L, APP_LUA_LOADER);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);
    size_t numel = (size_t)nncw_dataset_get_sample_numel(b->ds);
    box->images = nncw_malloc((size_t)o.batch_size * numel * sizeof(float));
    box->labels = nncw_malloc((size_t)o.batch_size * sizeof(int32_t));
    if (!box->images || !box->labels)
        return luaL_error(L, "%s: out of memory for a batch of %d", FN, o.batch_size);
    enum nncw_status s = nncw_loader_new(b->ds, &o, &box->l);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    box->ds = b;
    b->busy++;
    nncw_loader_start_epoch(box->l, epoch);
    return 1;
}

static int l_dataset_gc(lua_State *L)
{
    struct app_lua_dataset *b = luaL_checkudata(L, 1, APP_LUA_DATASET);
    nncw_dataset_free(b->ds);
    b->ds = NULL;
    return 0;
}

static int l_dataset_close(lua_State *L)
{
    struct app_lua_dataset *b = luaL_checkudata(L, 1, APP_LUA_DATASET);
    if (b->busy)
        return luaL_error(L, "nncw.Dataset:close: the Dataset is in use (a loader or a training "
                             "run reads it)");
    return l_dataset_gc(L);
}

static int l_dataset_tostring(lua_State *L)
{
    struct app_lua_dataset *b = luaL_checkudata(L, 1, APP_LUA_DATASET);
    if (!b->ds) {
        lua_pushliteral(L, "Dataset (closed)");
        return 1;
    }
    int64_t shape[3];
    nncw_dataset_get_sample_shape(b->ds, shape);
    lua_pushfstring(L, "Dataset '%s': %I samples %Ix%Ix%I, %d classes",
                    nncw_dataset_get_name(b->ds), (LUAI_UACINT)nncw_dataset_count_samples(b->ds),
                    (LUAI_UACINT)shape[0], (LUAI_UACINT)shape[1], (LUAI_UACINT)shape[2],
                    nncw_dataset_count_classes(b->ds));
    return 1;
}

/* ---- loader ---- */

/* __call: the next batch (images Tensor [n, C, H, W], labels {n}), or nil at the end */
static int l_loader_call(lua_State *L)
{
    static const char FN[] = "nncw.Loader";
    struct loader_box *box = app_lua_check_box(L, 1, APP_LUA_LOADER, FN, "self", "a Loader");
    if (!box->l)
        return app_lua_closed_error(L, FN, "Loader");
    int n = 0;
    if (!nncw_loader_next(box->l, box->images, box->labels, &n))
        return 0;
    int64_t shape[4] = {n};
    nncw_dataset_get_sample_shape(box->ds->ds, shape + 1);
    struct app_lua_tensor *t = app_lua_new_tensor(L);
    enum nncw_status s = nncw_tensor_init(&t->t, NNCW_DTYPE_F32, 4, shape);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    memcpy(t->t.data, box->images, nncw_tensor_nbytes(&t->t));
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushinteger(L, box->labels[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 2;
}

static int l_loader_count(lua_State *L)
{
    struct loader_box *box =
        app_lua_check_box(L, 1, APP_LUA_LOADER, "nncw.Loader:count", "self", "a Loader");
    if (!box->l)
        return app_lua_closed_error(L, "nncw.Loader:count", "Loader");
    lua_pushinteger(L, (lua_Integer)nncw_loader_count_batches(box->l));
    return 1;
}

static int l_loader_gc(lua_State *L)
{
    struct loader_box *box = luaL_checkudata(L, 1, APP_LUA_LOADER);
    if (box->l && box->ds)
        box->ds->busy--;
    nncw_loader_free(box->l);
    nncw_free(box->images);
    nncw_free(box->labels);
    memset(box, 0, sizeof *box);
    return 0;
}

static int l_loader_tostring(lua_State *L)
{
    struct loader_box *box = luaL_checkudata(L, 1, APP_LUA_LOADER);
    if (!box->l)
        lua_pushliteral(L, "Loader (closed)");
    else
        lua_pushfstring(L, "Loader: %I batches of %d from '%s'",
                        (LUAI_UACINT)nncw_loader_count_batches(box->l),
                        nncw_loader_get_batch_size(box->l), nncw_dataset_get_name(box->ds->ds));
    return 1;
}

static const luaL_Reg dataset_methods[] = {
    {"name", l_name},     {"count", l_count},     {"classes", l_classes},
    {"shape", l_shape},   {"subset", l_subset},   {"sample", l_sample},
    {"labels", l_labels}, {"batches", l_batches}, {NULL, NULL},
};

static const luaL_Reg dataset_meta[] = {
    {"__gc", l_dataset_gc},
    {"__close", l_dataset_close},
    {"__tostring", l_dataset_tostring},
    {"__len", l_count},
    {NULL, NULL},
};

static const luaL_Reg loader_methods[] = {
    {"count", l_loader_count},
    {NULL, NULL},
};

static const luaL_Reg loader_meta[] = {
    {"__gc", l_loader_gc},     {"__close", l_loader_gc},  {"__tostring", l_loader_tostring},
    {"__call", l_loader_call}, {"__len", l_loader_count}, {NULL, NULL},
};

static const luaL_Reg functions[] = {
    {"fashion_mnist", l_fashion_mnist}, {"mnist", l_mnist}, {"cifar10", l_cifar10},
    {"synthetic", l_synthetic},         {"new", l_new},     {NULL, NULL},
};

int luaopen_nncw_data(lua_State *L)
{
    luaL_newlib(L, functions);
    app_lua_new_class(L, APP_LUA_DATASET, dataset_methods, dataset_meta, NULL);
    lua_setfield(L, -2, "Dataset");
    app_lua_new_class(L, APP_LUA_LOADER, loader_methods, loader_meta, NULL);
    lua_setfield(L, -2, "Loader");
    return 1;
}
