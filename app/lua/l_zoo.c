/* nncw.zoo: the built-in models, and Builder userdata over engine/zoo/builder.h (the Lua
 * nn-style modules in scripts/nncw/nn.lua are written on top of it). */
#include "lnncw.h"

#include <string.h>

#include "zoo/builder.h"
#include "zoo/zoo.h"

/* ---- zoo ---- */

static int l_names(lua_State *L)
{
    lua_newtable(L);
    int i = 0;
    for (const char *const *n = nncw_zoo_names(); *n; n++) {
        lua_pushstring(L, *n);
        lua_rawseti(L, -2, ++i);
    }
    return 1;
}

static int l_describe(lua_State *L)
{
    static const char FN[] = "nncw.zoo.describe";
    const char *name = app_lua_check_string(L, 1, FN, "name");
    const char *d = nncw_zoo_describe(name);
    if (!d)
        return luaL_error(L, "%s: unknown model '%s' (see nncw.zoo.names())", FN, name);
    lua_pushstring(L, d);
    return 1;
}

/* builds model `name` with the options table at opt_idx; fn names the Lua function */
static int build(lua_State *L, const char *name, int opt_idx, const char *fn)
{
    static const char *const known[] = {"classes", "input", "width_mult", "seed", NULL};
    if (!nncw_zoo_describe(name))
        return luaL_error(L, "%s: unknown model '%s' (see nncw.zoo.names())", fn, name);
    app_lua_check_options(L, opt_idx, fn, known);
    struct nncw_zoo_options o = nncw_zoo_defaults(name);
    o.classes = (int)app_lua_opt_int(L, opt_idx, fn, "classes", o.classes, 2, 100000);
    o.width_mult = (float)app_lua_opt_number(L, opt_idx, fn, "width_mult", o.width_mult, 0.01, 4);
    o.seed =
        (uint64_t)app_lua_opt_int(L, opt_idx, fn, "seed", (lua_Integer)o.seed, 0, LUA_MAXINTEGER);
    if (app_lua_has_option(L, opt_idx, "input")) {
        lua_getfield(L, opt_idx, "input");
        int64_t shape[NNCW_MAX_DIMS];
        if (app_lua_check_shape(L, -1, fn, "input", 1, shape) != 3)
            app_lua_arg_error(L, -1, fn, "input", "a list {channels, height, width}");
        o.in_c = (int)shape[0];
        o.in_h = (int)shape[1];
        o.in_w = (int)shape[2];
        lua_pop(L, 1);
    }
    struct app_lua_graph *box = app_lua_new_graph(L);
    enum nncw_status s = nncw_zoo_build(name, &o, &box->g);
    return s == NNCW_OK ? 1 : app_lua_fail(L, fn, s);
}

static int l_build(lua_State *L)
{
    static const char FN[] = "nncw.zoo.build";
    return build(L, app_lua_check_string(L, 1, FN, "name"), 2, FN);
}

/* nncw.zoo.<name>(options): upvalue 1 is the model name, 2 the function name */
static int l_build_named(lua_State *L)
{
    return build(L, lua_tostring(L, lua_upvalueindex(1)), 1, lua_tostring(L, lua_upvalueindex(2)));
}

/* ---- builder ---- */

struct builder_box {
    struct nncw_builder *b; /* NULL once finished or failed */
    struct nncw_graph *g;   /* owned until finish hands it to a Graph */
    bool failed;
};

static const char *const init_names[] = {"default", "kaiming_fan_out", "normal_001", NULL};

static struct builder_box *check_builder(lua_State *L, const char *fn)
{
    struct builder_box *box = app_lua_check_box(L, 1, APP_LUA_BUILDER, fn, "self", "a Builder");
    if (box->failed)
        luaL_error(L, "%s: this Builder failed earlier; start a new one", fn);
    if (!box->b)
        luaL_error(L, "%s: this Builder was finished", fn);
    return box;
}

/* a value id argument that exists in the graph */
static int check_value(lua_State *L, struct builder_box *box, int idx, const char *fn,
                       const char *arg)
{
    return (int)app_lua_check_int(L, idx, fn, arg, 0, nncw_graph_count_values(box->g) - 1);
}

/* the result of a builder call: the value id, or a Lua error with the engine's message */
static int result(lua_State *L, struct builder_box *box, int id, const char *fn)
{
    if (id < 0) {
        box->failed = true;
        return luaL_error(L, "%s: %s", fn, nncw_last_error());
    }
    lua_pushinteger(L, id);
    return 1;
}

static int l_builder_new(lua_State *L)
{
    static const char FN[] = "nncw.zoo.builder";
    static const char *const known[] = {"seed", NULL};
    const char *model = app_lua_check_string(L, 1, FN, "model");
    app_lua_check_options(L, 2, FN, known);
    uint64_t seed = (uint64_t)app_lua_opt_int(L, 2, FN, "seed", 1, 0, LUA_MAXINTEGER);
    struct builder_box *box = lua_newuserdatauv(L, sizeof *box, 0);
    memset(box, 0, sizeof *box);
    luaL_setmetatable(L, APP_LUA_BUILDER);
    enum nncw_status s = nncw_graph_new(&box->g);
    if (s == NNCW_OK)
        s = nncw_builder_new(box->g, model, seed, &box->b);
    return s == NNCW_OK ? 1 : app_lua_fail(L, FN, s);
}

static int l_input(lua_State *L)
{
    static const char FN[] = "nncw.Builder:input";
    struct builder_box *box = check_builder(L, FN);
    const char *name = app_lua_check_string(L, 2, FN, "name");
    int c = (int)app_lua_check_int(L, 3, FN, "channels", 1, 1 << 20);
    int h = (int)app_lua_check_int(L, 4, FN, "height", 1, 1 << 20);
    int w = (int)app_lua_check_int(L, 5, FN, "width", 1, 1 << 20);
    return result(L, box, nncw_build_input(box->b, name, c, h, w), FN);
}

static int l_conv2d(lua_State *L)
{
    static const char FN[] = "nncw.Builder:conv2d";
    static const char *const known[] = {"stride", "pad", "groups", "bias", NULL};
    struct builder_box *box = check_builder(L, FN);
    int x = check_value(L, box, 2, FN, "x");
    const char *name = app_lua_check_string(L, 3, FN, "name");
    int in_c = (int)app_lua_check_int(L, 4, FN, "in_channels", 1, 1 << 20);
    int out_c = (int)app_lua_check_int(L, 5, FN, "out_channels", 1, 1 << 20);
    int k = (int)app_lua_check_int(L, 6, FN, "kernel", 1, 1024);
    app_lua_check_options(L, 7, FN, known);
    int stride = (int)app_lua_opt_int(L, 7, FN, "stride", 1, 1, 1024);
    int pad = (int)app_lua_opt_int(L, 7, FN, "pad", 0, 0, 1024);
    int groups = (int)app_lua_opt_int(L, 7, FN, "groups", 1, 1, 1 << 20);
    bool bias = app_lua_opt_bool(L, 7, FN, "bias", true);
    return result(
        L, box, nncw_build_conv2d(box->b, x, name, in_c, out_c, k, stride, pad, groups, bias), FN);
}

static int l_batchnorm(lua_State *L)
{
    static const char FN[] = "nncw.Builder:batchnorm";
    struct builder_box *box = check_builder(L, FN);
    int x = check_value(L, box, 2, FN, "x");
    const char *name = app_lua_check_string(L, 3, FN, "name");
    int c = (int)app_lua_check_int(L, 4, FN, "channels", 1, 1 << 20);
    return result(L, box, nncw_build_batchnorm(box->b, x, name, c), FN);
}

static int l_linear(lua_State *L)
{
    static const char FN[] = "nncw.Builder:linear";
    struct builder_box *box = check_builder(L, FN);
    int x = check_value(L, box, 2, FN, "x");
    const char *name = app_lua_check_string(L, 3, FN, "name");
    int in = (int)app_lua_check_int(L, 4, FN, "in_features", 1, 1 << 28);
    int out = (int)app_lua_check_int(L, 5, FN, "out_features", 1, 1 << 28);
    return result(L, box, nncw_build_linear(box->b, x, name, in, out), FN);
}

/* x, name: relu, relu6, global_avgpool, flatten */
static int unary(lua_State *L, const char *fn, int (*f)(struct nncw_builder *, int, const char *))
{
    struct builder_box *box = check_builder(L, fn);
    int x = check_value(L, box, 2, fn, "x");
    const char *name = app_lua_check_string(L, 3, fn, "name");
    return result(L, box, f(box->b, x, name), fn);
}

static int l_relu(lua_State *L)
{
    return unary(L, "nncw.Builder:relu", nncw_build_relu);
}

static int l_relu6(lua_State *L)
{
    return unary(L, "nncw.Builder:relu6", nncw_build_relu6);
}

static int l_global_avgpool(lua_State *L)
{
    return unary(L, "nncw.Builder:global_avgpool", nncw_build_global_avgpool);
}

static int l_flatten(lua_State *L)
{
    return unary(L, "nncw.Builder:flatten", nncw_build_flatten);
}

static int pool(lua_State *L, const char *fn,
                int (*f)(struct nncw_builder *, int, const char *, int, int, int))
{
    static const char *const known[] = {"stride", "pad", NULL};
    struct builder_box *box = check_builder(L, fn);
    int x = check_value(L, box, 2, fn, "x");
    const char *name = app_lua_check_string(L, 3, fn, "name");
    int k = (int)app_lua_check_int(L, 4, fn, "kernel", 1, 1024);
    app_lua_check_options(L, 5, fn, known);
    int stride = (int)app_lua_opt_int(L, 5, fn, "stride", k, 1, 1024);
    int pad = (int)app_lua_opt_int(L, 5, fn, "pad", 0, 0, k / 2);
    return result(L, box, f(box->b, x, name, k, stride, pad), fn);
}

static int l_maxpool(lua_State *L)
{
    return pool(L, "nncw.Builder:maxpool", nncw_build_maxpool);
}

static int l_avgpool(lua_State *L)
{
    return pool(L, "nncw.Builder:avgpool", nncw_build_avgpool);
}

static int l_add(lua_State *L)
{
    static const char FN[] = "nncw.Builder:add";
    struct builder_box *box = check_builder(L, FN);
    int x = check_value(L, box, 2, FN, "x");
    int y = check_value(L, box, 3, FN, "y");
    const char *name = app_lua_check_string(L, 4, FN, "name");
    return result(L, box, nncw_build_add(box->b, x, y, name), FN);
}

static int l_dropout(lua_State *L)
{
    static const char FN[] = "nncw.Builder:dropout";
    struct builder_box *box = check_builder(L, FN);
    int x = check_value(L, box, 2, FN, "x");
    const char *name = app_lua_check_string(L, 3, FN, "name");
    float p = (float)app_lua_check_number(L, 4, FN, "ratio", 0.0, 0.999);
    return result(L, box, nncw_build_dropout(box->b, x, name, p), FN);
}

/* concat({x1, x2, ...}, name[, axis = 1]) */
static int l_concat(lua_State *L)
{
    static const char FN[] = "nncw.Builder:concat";
    struct builder_box *box = check_builder(L, FN);
    if (!lua_istable(L, 2) || luaL_len(L, 2) < 1 || luaL_len(L, 2) > 16)
        return app_lua_arg_error(L, 2, FN, "inputs", "a list of 1 to 16 value ids");
    int in[16], n = (int)luaL_len(L, 2);
    for (int i = 0; i < n; i++) {
        lua_geti(L, 2, i + 1);
        in[i] = check_value(L, box, -1, FN, "inputs");
        lua_pop(L, 1);
    }
    const char *name = app_lua_check_string(L, 3, FN, "name");
    int axis = (int)luaL_optinteger(L, 4, 1);
    struct nncw_node *node = NULL;
    int y = nncw_build_op(box->b, NNCW_OP_CONCAT, name, n, in, &node);
    if (y >= 0 && nncw_node_set_attr_int(node, "axis", axis) != NNCW_OK)
        y = -1;
    return result(L, box, y, FN);
}

static int l_push(lua_State *L)
{
    static const char FN[] = "nncw.Builder:push";
    struct builder_box *box = check_builder(L, FN);
    nncw_builder_push(box->b, app_lua_check_string(L, 2, FN, "name"));
    return 0;
}

static int l_pop(lua_State *L)
{
    nncw_builder_pop(check_builder(L, "nncw.Builder:pop")->b);
    return 0;
}

static int l_set_init(lua_State *L)
{
    static const char FN[] = "nncw.Builder:set_init";
    static const char *const known[] = {"conv", "linear", NULL};
    struct builder_box *box = check_builder(L, FN);
    app_lua_check_options(L, 2, FN, known);
    int conv = app_lua_opt_choice(L, 2, FN, "conv", NNCW_INIT_DEFAULT, init_names);
    int linear = app_lua_opt_choice(L, 2, FN, "linear", NNCW_INIT_DEFAULT, init_names);
    nncw_builder_set_init(box->b, (enum nncw_init)conv, (enum nncw_init)linear);
    return 0;
}

/* shape(x): the shape of value x at batch 1 (shape inference of the graph so far) */
static int l_shape(lua_State *L)
{
    static const char FN[] = "nncw.Builder:shape";
    struct builder_box *box = check_builder(L, FN);
    int x = check_value(L, box, 2, FN, "x");
    enum nncw_status s = nncw_graph_infer_shapes(box->g, 1);
    if (s != NNCW_OK) {
        box->failed = true;
        return app_lua_fail(L, FN, s);
    }
    const struct nncw_tensor *t = nncw_graph_get_value_tensor(box->g, x);
    app_lua_push_shape(L, t->ndim, t->shape);
    return 1;
}

/* finish(y): marks y as the output and returns the Graph (shapes checked at batch 1) */
static int l_finish(lua_State *L)
{
    static const char FN[] = "nncw.Builder:finish";
    struct builder_box *box = check_builder(L, FN);
    int y = check_value(L, box, 2, FN, "output");
    struct app_lua_graph *gb = app_lua_new_graph(L);
    enum nncw_status s = nncw_builder_finish(box->b, y);
    box->b = NULL;
    if (s == NNCW_OK)
        s = nncw_graph_infer_shapes(box->g, 1);
    if (s != NNCW_OK) {
        box->failed = true;
        return app_lua_fail(L, FN, s);
    }
    gb->g = box->g;
    box->g = NULL;
    gb->shapes_batch1 = true;
    return 1;
}

static int l_builder_gc(lua_State *L)
{
    struct builder_box *box = luaL_checkudata(L, 1, APP_LUA_BUILDER);
    nncw_builder_free(box->b);
    nncw_graph_free(box->g);
    box->b = NULL;
    box->g = NULL;
    return 0;
}

static int l_builder_tostring(lua_State *L)
{
    struct builder_box *box = luaL_checkudata(L, 1, APP_LUA_BUILDER);
    if (!box->g)
        lua_pushliteral(L, "Builder (finished)");
    else
        lua_pushfstring(L, "Builder (%d nodes so far%s)", nncw_graph_count_nodes(box->g),
                        box->failed ? ", failed" : "");
    return 1;
}

static const luaL_Reg builder_methods[] = {
    {"input", l_input},
    {"conv2d", l_conv2d},
    {"batchnorm", l_batchnorm},
    {"linear", l_linear},
    {"relu", l_relu},
    {"relu6", l_relu6},
    {"maxpool", l_maxpool},
    {"avgpool", l_avgpool},
    {"global_avgpool", l_global_avgpool},
    {"flatten", l_flatten},
    {"add", l_add},
    {"concat", l_concat},
    {"dropout", l_dropout},
    {"push", l_push},
    {"pop", l_pop},
    {"set_init", l_set_init},
    {"shape", l_shape},
    {"finish", l_finish},
    {NULL, NULL},
};

static const luaL_Reg builder_meta[] = {
    {"__gc", l_builder_gc},
    {"__close", l_builder_gc},
    {"__tostring", l_builder_tostring},
    {NULL, NULL},
};

static const luaL_Reg functions[] = {
    {"names", l_names}, {"describe", l_describe}, {"build", l_build}, {"builder", l_builder_new},
    {NULL, NULL},
};

int luaopen_nncw_zoo(lua_State *L)
{
    luaL_newlib(L, functions);
    for (const char *const *n = nncw_zoo_names(); *n; n++) {
        lua_pushstring(L, *n);
        lua_pushfstring(L, "nncw.zoo.%s", *n);
        lua_pushcclosure(L, l_build_named, 2);
        lua_setfield(L, -2, *n);
    }
    app_lua_new_class(L, APP_LUA_BUILDER, builder_methods, builder_meta, NULL);
    lua_setfield(L, -2, "Builder");
    return 1;
}
