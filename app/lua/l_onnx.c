/* nncw.onnx: ONNX models and TensorProto files in and out (engine/onnx). Built against the
 * engine's ONNX module when it is present; otherwise every function says it is missing. */
#include "lnncw.h"

#if __has_include("onnx/onnx.h")
#define HAVE_ONNX 1
#include "core/alloc.h"
#include "onnx/onnx.h"
#else
#define HAVE_ONNX 0
#endif

bool app_lua_has_onnx(void)
{
    return HAVE_ONNX;
}

#if HAVE_ONNX

/* load(path[, {max_bytes =}]) -> Graph */
static int l_load(lua_State *L)
{
    static const char FN[] = "nncw.onnx.load";
    static const char *const known[] = {"max_bytes", NULL};
    const char *path = app_lua_check_string(L, 1, FN, "path");
    app_lua_check_options(L, 2, FN, known);
    struct nncw_onnx_import_options o = {0};
    o.max_file_bytes = (size_t)app_lua_opt_int(L, 2, FN, "max_bytes", 0, 0, LUA_MAXINTEGER);
    struct app_lua_graph *box = app_lua_new_graph(L);
    enum nncw_status s = nncw_onnx_import_file(path, &o, &box->g);
    return s == NNCW_OK ? 1 : app_lua_fail(L, FN, s);
}

/* save(model, path[, {opset =, producer =}]) */
static int l_save(lua_State *L)
{
    static const char FN[] = "nncw.onnx.save";
    static const char *const known[] = {"opset", "producer", NULL};
    struct app_lua_graph *g = app_lua_check_graph(L, 1, FN, "model");
    const char *path = app_lua_check_string(L, 2, FN, "path");
    app_lua_check_options(L, 3, FN, known);
    struct nncw_onnx_export_options o = {0};
    o.opset = (int)app_lua_opt_int(L, 3, FN, "opset", 0, 0, 100);
    o.producer = app_lua_opt_string(L, 3, FN, "producer", NULL);
    app_lua_graph_touch(g);
    enum nncw_status s = nncw_onnx_export_file(g->g, path, &o);
    return s == NNCW_OK ? 0 : app_lua_fail(L, FN, s);
}

static void push_summary(lua_State *L, const struct nncw_onnx_summary *sum)
{
    lua_createtable(L, 0, 8);
    lua_pushinteger(L, sum->ir_version);
    lua_setfield(L, -2, "ir_version");
    lua_pushinteger(L, sum->opset);
    lua_setfield(L, -2, "opset");
    lua_pushstring(L, sum->producer);
    lua_setfield(L, -2, "producer");
    lua_pushinteger(L, sum->n_nodes);
    lua_setfield(L, -2, "nodes");
    lua_pushinteger(L, sum->n_initializers);
    lua_setfield(L, -2, "initializers");
    lua_pushinteger(L, sum->n_unsupported);
    lua_setfield(L, -2, "unsupported");
    lua_createtable(L, sum->n_ops, 0);
    for (int i = 0; i < sum->n_ops; i++) {
        const struct nncw_onnx_op_count *op = &sum->ops[i];
        lua_createtable(L, 0, 4);
        lua_pushstring(L, op->op_type);
        lua_setfield(L, -2, "op_type");
        lua_pushinteger(L, op->count);
        lua_setfield(L, -2, "count");
        lua_pushboolean(L, op->supported);
        lua_setfield(L, -2, "supported");
        lua_pushstring(L, op->first_node);
        lua_setfield(L, -2, "first_node");
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "ops");
}

static int build_summary(lua_State *L)
{
    push_summary(L, lua_touserdata(L, 1));
    return 1;
}

static int push_name(lua_State *L)
{
    lua_pushstring(L, lua_touserdata(L, 1));
    return 1;
}

/* summary(path) -> {ir_version, opset, producer, nodes, initializers, unsupported, ops} */
static int l_summary(lua_State *L)
{
    static const char FN[] = "nncw.onnx.summary";
    const char *path = app_lua_check_string(L, 1, FN, "path");
    luaL_checkstack(L, 8, FN);
    struct nncw_onnx_summary sum;
    enum nncw_status s = nncw_onnx_summarize_file(path, &sum);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    /* a memory error while building the table would leak sum: build it protected */
    lua_pushcfunction(L, build_summary);
    lua_pushlightuserdata(L, &sum);
    int rc = lua_pcall(L, 1, 1, 0);
    nncw_onnx_summary_fini(&sum);
    return rc == LUA_OK ? 1 : lua_error(L);
}

/* read_tensor(path) -> Tensor, name (nil if the file names none) */
static int l_read_tensor(lua_State *L)
{
    static const char FN[] = "nncw.onnx.read_tensor";
    const char *path = app_lua_check_string(L, 1, FN, "path");
    struct app_lua_tensor *box = app_lua_new_tensor(L);
    lua_pushnil(L); /* the name, or nil */
    char *name = NULL;
    enum nncw_status s = nncw_onnx_read_tensor_file(path, &box->t, &name, 0);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    if (name) {
        lua_pushcfunction(L, push_name);
        lua_pushlightuserdata(L, name);
        int rc = lua_pcall(L, 1, 1, 0);
        nncw_free(name);
        if (rc != LUA_OK)
            return lua_error(L);
        lua_replace(L, -2);
    }
    return 2;
}

/* write_tensor(path, tensor[, name]) */
static int l_write_tensor(lua_State *L)
{
    static const char FN[] = "nncw.onnx.write_tensor";
    const char *path = app_lua_check_string(L, 1, FN, "path");
    struct nncw_tensor *t = app_lua_check_tensor(L, 2, FN, "tensor");
    const char *name = lua_isnoneornil(L, 3) ? NULL : app_lua_check_string(L, 3, FN, "name");
    enum nncw_status s = nncw_onnx_write_tensor_file(path, t, name);
    return s == NNCW_OK ? 0 : app_lua_fail(L, FN, s);
}

static const luaL_Reg functions[] = {
    {"load", l_load},
    {"save", l_save},
    {"summary", l_summary},
    {"read_tensor", l_read_tensor},
    {"write_tensor", l_write_tensor},
    {NULL, NULL},
};

#else

static int l_missing(lua_State *L)
{
    return luaL_error(L, "nncw.onnx: this build of nncw has no ONNX support (engine/onnx)");
}

static const luaL_Reg functions[] = {
    {"load", l_missing},        {"save", l_missing},         {"summary", l_missing},
    {"read_tensor", l_missing}, {"write_tensor", l_missing}, {NULL, NULL},
};

#endif

int luaopen_nncw_onnx(lua_State *L)
{
    luaL_newlib(L, functions);
    lua_pushboolean(L, HAVE_ONNX);
    lua_setfield(L, -2, "available");
    return 1;
}
