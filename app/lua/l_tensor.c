/* nncw.tensor: Tensor userdata (shape, dtype, element access, statistics, Lua tables). */
#include "lnncw.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tensor/stats.h"

struct app_lua_tensor *app_lua_new_tensor(lua_State *L)
{
    struct app_lua_tensor *box = lua_newuserdatauv(L, sizeof *box, 0);
    memset(box, 0, sizeof *box);
    luaL_setmetatable(L, APP_LUA_TENSOR);
    return box;
}

struct nncw_tensor *app_lua_check_tensor(lua_State *L, int idx, const char *fn, const char *arg)
{
    struct app_lua_tensor *box = app_lua_check_box(L, idx, APP_LUA_TENSOR, fn, arg, "a Tensor");
    if (!box->t.data)
        app_lua_closed_error(L, fn, "Tensor");
    return &box->t;
}

void app_lua_push_tensor(lua_State *L, const struct nncw_tensor *t, const char *fn)
{
    struct app_lua_tensor *box = app_lua_new_tensor(L);
    if (t->storage) {
        box->t = *t;
        nncw_storage_retain(t->storage);
        return;
    }
    enum nncw_status s = nncw_tensor_init_copy(&box->t, t);
    if (s != NNCW_OK)
        app_lua_fail(L, fn, s);
}

static int parse_dtype(lua_State *L, int idx, const char *fn)
{
    if (lua_isnoneornil(L, idx))
        return NNCW_DTYPE_F32;
    const char *name = lua_tostring(L, idx);
    for (int i = 0; name && i < NNCW_DTYPE_COUNT; i++)
        if (strcmp(name, nncw_dtype_name((enum nncw_dtype)i)) == 0)
            return i;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 0; i < NNCW_DTYPE_COUNT; i++) {
        luaL_addstring(&b, i ? (i + 1 == NNCW_DTYPE_COUNT ? " or '" : ", '") : "'");
        luaL_addstring(&b, nncw_dtype_name((enum nncw_dtype)i));
        luaL_addchar(&b, '\'');
    }
    luaL_pushresult(&b);
    return app_lua_arg_error(L, idx, fn, "dtype", lua_tostring(L, -1));
}

static void push_value(lua_State *L, const struct nncw_tensor *t, double v)
{
    if (t->dtype == NNCW_DTYPE_F32)
        lua_pushnumber(L, v);
    else
        lua_pushinteger(L, (lua_Integer)v);
}

/* ---- module functions ---- */

static int l_zeros(lua_State *L)
{
    static const char FN[] = "nncw.tensor.zeros";
    int64_t shape[NNCW_MAX_DIMS];
    int ndim = app_lua_check_shape(L, 1, FN, "shape", 0, shape);
    int dt = parse_dtype(L, 2, FN);
    struct app_lua_tensor *box = app_lua_new_tensor(L);
    enum nncw_status s = nncw_tensor_init(&box->t, (enum nncw_dtype)dt, ndim, shape);
    return s == NNCW_OK ? 1 : app_lua_fail(L, FN, s);
}

/* the shape of a nested table: lengths along its first elements */
static int nested_shape(lua_State *L, int idx, const char *fn, int64_t shape[NNCW_MAX_DIMS])
{
    int ndim = 0;
    lua_pushvalue(L, idx);
    while (lua_istable(L, -1)) {
        if (ndim == NNCW_MAX_DIMS)
            luaL_error(L, "%s: more than %d levels of nesting", fn, NNCW_MAX_DIMS);
        shape[ndim++] = (int64_t)luaL_len(L, -1);
        if (shape[ndim - 1] == 0)
            luaL_error(L, "%s: argument 'values' has an empty list", fn);
        lua_geti(L, -1, 1);
        lua_remove(L, -2);
    }
    lua_pop(L, 1);
    return ndim;
}

/* writes the nested table at the top of the stack into t from flat position *pos */
static void fill_nested(lua_State *L, struct nncw_tensor *t, int depth, int64_t *pos,
                        const char *fn)
{
    if (depth == t->ndim) {
        if (lua_type(L, -1) != LUA_TNUMBER)
            luaL_error(L, "%s: element %I is %s, not a number", fn, (LUAI_UACINT)(*pos + 1),
                       app_lua_describe(L, -1));
        enum nncw_status s = nncw_tensor_set_flat(t, (*pos)++, lua_tonumber(L, -1));
        if (s != NNCW_OK)
            app_lua_fail(L, fn, s);
        return;
    }
    if (!lua_istable(L, -1) || luaL_len(L, -1) != t->shape[depth])
        luaL_error(L, "%s: the nested lists are ragged: expected %I elements at depth %d, got %s",
                   fn, (LUAI_UACINT)t->shape[depth], depth + 1,
                   lua_istable(L, -1) ? lua_pushfstring(L, "%I", (LUAI_UACINT)luaL_len(L, -1))
                                      : app_lua_describe(L, -1));
    for (int64_t i = 1; i <= t->shape[depth]; i++) {
        lua_geti(L, -1, (lua_Integer)i);
        fill_nested(L, t, depth + 1, pos, fn);
        lua_pop(L, 1);
    }
}

static int l_from_table(lua_State *L)
{
    static const char FN[] = "nncw.tensor.from_table";
    if (!lua_istable(L, 1))
        return app_lua_arg_error(L, 1, FN, "values", "a (nested) list of numbers");
    int64_t shape[NNCW_MAX_DIMS];
    int ndim = nested_shape(L, 1, FN, shape);
    int dt = parse_dtype(L, 2, FN);
    struct app_lua_tensor *box = app_lua_new_tensor(L);
    enum nncw_status s = nncw_tensor_init(&box->t, (enum nncw_dtype)dt, ndim, shape);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    int64_t pos = 0;
    lua_pushvalue(L, 1);
    fill_nested(L, &box->t, 0, &pos, FN);
    lua_pop(L, 1);
    return 1;
}

/* ---- methods ---- */

static int l_shape(lua_State *L)
{
    struct nncw_tensor *t = app_lua_check_tensor(L, 1, "nncw.Tensor:shape", "self");
    app_lua_push_shape(L, t->ndim, t->shape);
    return 1;
}

static int l_ndim(lua_State *L)
{
    lua_pushinteger(L, app_lua_check_tensor(L, 1, "nncw.Tensor:ndim", "self")->ndim);
    return 1;
}

static int l_numel(lua_State *L)
{
    struct nncw_tensor *t = app_lua_check_tensor(L, 1, "nncw.Tensor:numel", "self");
    lua_pushinteger(L, (lua_Integer)nncw_tensor_numel(t));
    return 1;
}

static int l_dtype(lua_State *L)
{
    struct nncw_tensor *t = app_lua_check_tensor(L, 1, "nncw.Tensor:dtype", "self");
    lua_pushstring(L, nncw_dtype_name(t->dtype));
    return 1;
}

/* 1-based indices at stack positions first.. into 0-based idx[] */
static void read_indices(lua_State *L, const struct nncw_tensor *t, int first, int count,
                         const char *fn, int64_t *idx)
{
    if (count != t->ndim)
        luaL_error(L, "%s: a %d-dimensional tensor needs %d indices, got %d", fn, t->ndim, t->ndim,
                   count);
    for (int d = 0; d < count; d++) {
        char arg[32];
        snprintf(arg, sizeof arg, "index %d", d + 1);
        idx[d] = app_lua_check_int(L, first + d, fn, arg, 1, t->shape[d]) - 1;
    }
}

static int l_get(lua_State *L)
{
    static const char FN[] = "nncw.Tensor:get";
    struct nncw_tensor *t = app_lua_check_tensor(L, 1, FN, "self");
    int64_t idx[NNCW_MAX_DIMS];
    read_indices(L, t, 2, lua_gettop(L) - 1, FN, idx);
    double v;
    enum nncw_status s = nncw_tensor_get_element(t, t->ndim, idx, &v);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    push_value(L, t, v);
    return 1;
}

static int l_set(lua_State *L)
{
    static const char FN[] = "nncw.Tensor:set";
    struct nncw_tensor *t = app_lua_check_tensor(L, 1, FN, "self");
    int top = lua_gettop(L);
    int64_t idx[NNCW_MAX_DIMS];
    read_indices(L, t, 2, top > 2 ? top - 2 : 0, FN, idx);
    double v = app_lua_check_number(L, top, FN, "value", -HUGE_VAL, HUGE_VAL);
    enum nncw_status s = nncw_tensor_set_element(t, t->ndim, idx, v);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    lua_settop(L, 1);
    return 1;
}

static void stats_of(lua_State *L, const char *fn, struct nncw_tensor_stats *st)
{
    nncw_tensor_get_stats(app_lua_check_tensor(L, 1, fn, "self"), st);
}

static int l_min(lua_State *L)
{
    struct nncw_tensor_stats st;
    stats_of(L, "nncw.Tensor:min", &st);
    lua_pushnumber(L, st.min);
    return 1;
}

static int l_max(lua_State *L)
{
    struct nncw_tensor_stats st;
    stats_of(L, "nncw.Tensor:max", &st);
    lua_pushnumber(L, st.max);
    return 1;
}

static int l_mean(lua_State *L)
{
    struct nncw_tensor_stats st;
    stats_of(L, "nncw.Tensor:mean", &st);
    lua_pushnumber(L, st.mean);
    return 1;
}

static int l_std(lua_State *L)
{
    struct nncw_tensor_stats st;
    stats_of(L, "nncw.Tensor:std", &st);
    lua_pushnumber(L, st.std);
    return 1;
}

static int l_stats(lua_State *L)
{
    struct nncw_tensor_stats st;
    stats_of(L, "nncw.Tensor:stats", &st);
    lua_createtable(L, 0, 7);
    lua_pushinteger(L, (lua_Integer)st.count);
    lua_setfield(L, -2, "count");
    lua_pushnumber(L, st.min);
    lua_setfield(L, -2, "min");
    lua_pushnumber(L, st.max);
    lua_setfield(L, -2, "max");
    lua_pushnumber(L, st.mean);
    lua_setfield(L, -2, "mean");
    lua_pushnumber(L, st.std);
    lua_setfield(L, -2, "std");
    lua_pushinteger(L, (lua_Integer)st.n_nan);
    lua_setfield(L, -2, "nan");
    lua_pushinteger(L, (lua_Integer)st.n_inf);
    lua_setfield(L, -2, "inf");
    return 1;
}

static void push_nested(lua_State *L, const struct nncw_tensor *t, int depth, int64_t *pos)
{
    if (depth == t->ndim) {
        push_value(L, t, nncw_tensor_get_flat(t, (*pos)++));
        return;
    }
    lua_createtable(L, (int)t->shape[depth], 0);
    for (int64_t i = 1; i <= t->shape[depth]; i++) {
        push_nested(L, t, depth + 1, pos);
        lua_rawseti(L, -2, (lua_Integer)i);
    }
}

static int l_to_table(lua_State *L)
{
    static const char FN[] = "nncw.Tensor:to_table";
    static const char *const known[] = {"flat", NULL};
    struct nncw_tensor *t = app_lua_check_tensor(L, 1, FN, "self");
    app_lua_check_options(L, 2, FN, known);
    int64_t pos = 0, n = nncw_tensor_numel(t);
    if (!app_lua_opt_bool(L, 2, FN, "flat", false)) {
        push_nested(L, t, 0, &pos);
        return 1;
    }
    lua_createtable(L, (int)n, 0);
    for (int64_t i = 0; i < n; i++) {
        push_value(L, t, nncw_tensor_get_flat(t, i));
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int l_copy(lua_State *L)
{
    static const char FN[] = "nncw.Tensor:copy";
    struct nncw_tensor *t = app_lua_check_tensor(L, 1, FN, "self");
    struct app_lua_tensor *box = app_lua_new_tensor(L);
    enum nncw_status s = nncw_tensor_init_copy(&box->t, t);
    return s == NNCW_OK ? 1 : app_lua_fail(L, FN, s);
}

static int l_fill(lua_State *L)
{
    static const char FN[] = "nncw.Tensor:fill";
    struct nncw_tensor *t = app_lua_check_tensor(L, 1, FN, "self");
    double v = app_lua_check_number(L, 2, FN, "value", -HUGE_VAL, HUGE_VAL);
    for (int64_t i = 0, n = nncw_tensor_numel(t); i < n; i++) {
        enum nncw_status s = nncw_tensor_set_flat(t, i, v);
        if (s != NNCW_OK)
            return app_lua_fail(L, FN, s);
    }
    lua_settop(L, 1);
    return 1;
}

/* copy_from(src): a Tensor of the same shape and dtype, a nested table of the same shape, or a
 * flat list of numel numbers */
static int l_copy_from(lua_State *L)
{
    static const char FN[] = "nncw.Tensor:copy_from";
    struct nncw_tensor *t = app_lua_check_tensor(L, 1, FN, "self");
    if (luaL_testudata(L, 2, APP_LUA_TENSOR)) {
        enum nncw_status s = nncw_tensor_copy(t, app_lua_check_tensor(L, 2, FN, "source"));
        if (s != NNCW_OK)
            return app_lua_fail(L, FN, s);
    } else if (!lua_istable(L, 2)) {
        return app_lua_arg_error(L, 2, FN, "source", "a Tensor or a table of numbers");
    } else if (luaL_len(L, 2) == nncw_tensor_numel(t) && lua_geti(L, 2, 1) == LUA_TNUMBER) {
        lua_pop(L, 1);
        for (int64_t i = 0, n = nncw_tensor_numel(t); i < n; i++) {
            lua_geti(L, 2, (lua_Integer)i + 1);
            if (lua_type(L, -1) != LUA_TNUMBER)
                luaL_error(L, "%s: element %I is %s, not a number", FN, (LUAI_UACINT)i + 1,
                           app_lua_describe(L, -1));
            enum nncw_status s = nncw_tensor_set_flat(t, i, lua_tonumber(L, -1));
            if (s != NNCW_OK)
                return app_lua_fail(L, FN, s);
            lua_pop(L, 1);
        }
    } else {
        int64_t pos = 0;
        lua_settop(L, 2);
        fill_nested(L, t, 0, &pos, FN);
    }
    lua_settop(L, 1);
    return 1;
}

/* ---- metamethods ---- */

static int l_gc(lua_State *L)
{
    struct app_lua_tensor *box = luaL_checkudata(L, 1, APP_LUA_TENSOR);
    nncw_tensor_fini(&box->t);
    return 0;
}

static int l_tostring(lua_State *L)
{
    struct app_lua_tensor *box = luaL_checkudata(L, 1, APP_LUA_TENSOR);
    if (!box->t.data) {
        lua_pushliteral(L, "Tensor (closed)");
        return 1;
    }
    struct nncw_tensor_stats st;
    nncw_tensor_get_stats(&box->t, &st);
    app_lua_push_shape_str(L, box->t.ndim, box->t.shape);
    char buf[256];
    snprintf(buf, sizeof buf, "Tensor %s %s  min %.6g  max %.6g  mean %.6g  std %.6g",
             nncw_dtype_name(box->t.dtype), lua_tostring(L, -1), st.min, st.max, st.mean, st.std);
    if (st.n_nan)
        lua_pushfstring(L, "%s  (%I NaN)", buf, (LUAI_UACINT)st.n_nan);
    else
        lua_pushstring(L, buf);
    return 1;
}

static int l_len(lua_State *L)
{
    return l_numel(L);
}

static int l_eq(lua_State *L)
{
    struct app_lua_tensor *a = luaL_checkudata(L, 1, APP_LUA_TENSOR);
    struct app_lua_tensor *b = luaL_checkudata(L, 2, APP_LUA_TENSOR);
    bool eq =
        a->t.data && b->t.data && a->t.dtype == b->t.dtype && nncw_tensor_same_shape(&a->t, &b->t);
    for (int64_t i = 0, n = nncw_tensor_numel(&a->t); eq && i < n; i++)
        eq = nncw_tensor_get_flat(&a->t, i) == nncw_tensor_get_flat(&b->t, i);
    lua_pushboolean(L, eq);
    return 1;
}

static const luaL_Reg methods[] = {
    {"shape", l_shape}, {"ndim", l_ndim},   {"numel", l_numel},
    {"dtype", l_dtype}, {"get", l_get},     {"set", l_set},
    {"min", l_min},     {"max", l_max},     {"mean", l_mean},
    {"std", l_std},     {"stats", l_stats}, {"to_table", l_to_table},
    {"copy", l_copy},   {"fill", l_fill},   {"copy_from", l_copy_from},
    {NULL, NULL},
};

static const luaL_Reg meta[] = {
    {"__gc", l_gc},   {"__close", l_gc}, {"__tostring", l_tostring},
    {"__len", l_len}, {"__eq", l_eq},    {NULL, NULL},
};

static const luaL_Reg functions[] = {
    {"zeros", l_zeros},
    {"from_table", l_from_table},
    {NULL, NULL},
};

int luaopen_nncw_tensor(lua_State *L)
{
    luaL_newlib(L, functions);
    app_lua_new_class(L, APP_LUA_TENSOR, methods, meta, NULL);
    lua_setfield(L, -2, "Tensor");
    return 1;
}
