/* Compression's mixed-precision methods (see l_precision.h and docs/lua-api.md). */
#include "l_precision.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "lnncw.h"

static bool progress_trampoline(void *user, int iteration, int iter_number, double mean_trace)
{
    struct app_lua_progress *p = user;
    lua_State *L = p->L;
    lua_pushvalue(L, p->fn);
    lua_pushinteger(L, iteration);
    lua_pushinteger(L, iter_number);
    lua_pushnumber(L, mean_trace);
    if (lua_pcall(L, 3, 1, 0) != LUA_OK) { /* no longjmp through the engine's frames */
        snprintf(p->error, sizeof p->error, "%s", lua_tostring(L, -1));
        p->failed = true;
        lua_pop(L, 1);
        return false;
    }
    bool go_on = !(lua_isboolean(L, -1) && !lua_toboolean(L, -1));
    lua_pop(L, 1);
    return go_on;
}

void app_lua_precision_progress_setup(lua_State *L, int opts, const char *fn,
                                      struct app_lua_progress *p,
                                      struct nncw_compression_init *init)
{
    *p = (struct app_lua_progress){.L = L};
    if (!lua_istable(L, opts))
        return;
    int t = lua_getfield(L, opts, "progress");
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    if (t != LUA_TFUNCTION)
        luaL_error(L, "%s: option 'progress' must be a function (iteration, iter_number, "
                      "mean_trace)",
                   fn);
    p->fn = lua_gettop(L); /* stays on the stack for the create call */
    init->precision_progress = progress_trampoline;
    init->precision_user = p;
}

static struct nncw_compression *check(lua_State *L, const char *fn)
{
    return app_lua_check_compression(L, 1, fn, "self");
}

static void push_point(lua_State *L, struct nncw_compression *c, int k, int n_layers,
                       const char *fn)
{
    struct nncw_hawq_point p;
    int bits[4096];
    if (n_layers > 4096)
        luaL_error(L, "%s: too many layers", fn);
    enum nncw_status s = nncw_compression_hawq_get_point(c, k, &p, bits);
    if (s != NNCW_OK)
        app_lua_fail(L, fn, s);
    lua_createtable(L, 0, 4);
    lua_pushnumber(L, p.ratio);
    lua_setfield(L, -2, "ratio");
    lua_pushnumber(L, p.metric);
    lua_setfield(L, -2, "metric");
    lua_pushboolean(L, p.meets_ratio);
    lua_setfield(L, -2, "meets_ratio");
    lua_createtable(L, n_layers, 0);
    for (int i = 0; i < n_layers; i++) {
        lua_pushinteger(L, bits[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "bits");
}

static void push_layer(lua_State *L, const struct nncw_hawq_layer *l)
{
    lua_createtable(L, 0, 5);
    lua_pushstring(L, l->id);
    lua_setfield(L, -2, "id");
    lua_pushnumber(L, l->trace);
    lua_setfield(L, -2, "trace");
    lua_pushinteger(L, l->numel);
    lua_setfield(L, -2, "params");
    lua_pushinteger(L, l->bits);
    lua_setfield(L, -2, "bits");
    if (l->pinned_bits) {
        lua_pushinteger(L, l->pinned_bits);
        lua_setfield(L, -2, "pinned");
    }
}

/* c:hawq() -> {layers = {{id, trace, params, bits, pinned}}, points = {{ratio, metric,
 * meets_ratio, bits}}, chosen = k, iterations = n} */
static int m_hawq(lua_State *L)
{
    static const char FN[] = "Compression:hawq";
    struct nncw_compression *c = check(L, FN);
    int nl, np, chosen, iters;
    enum nncw_status s = nncw_compression_hawq_summary(c, &nl, &np, &chosen, &iters);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    lua_createtable(L, 0, 4);
    lua_createtable(L, nl, 0);
    for (int i = 0; i < nl; i++) {
        struct nncw_hawq_layer l;
        if ((s = nncw_compression_hawq_get_layer(c, i, &l)) != NNCW_OK)
            return app_lua_fail(L, FN, s);
        push_layer(L, &l);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "layers");
    lua_createtable(L, np, 0);
    for (int k = 0; k < np; k++) {
        push_point(L, c, k, nl, FN);
        lua_rawseti(L, -2, k + 1);
    }
    lua_setfield(L, -2, "points");
    lua_pushinteger(L, chosen + 1);
    lua_setfield(L, -2, "chosen");
    lua_pushinteger(L, iters);
    lua_setfield(L, -2, "iterations");
    return 1;
}

/* c:hawq_choose(k) applies curve point k (1-based; nil: back to the best meeting the ratio) */
static int m_hawq_choose(lua_State *L)
{
    static const char FN[] = "Compression:hawq_choose";
    struct nncw_compression *c = check(L, FN);
    lua_Integer k = lua_isnoneornil(L, 2) ? 0 : luaL_checkinteger(L, 2);
    enum nncw_status s = nncw_compression_hawq_choose(c, (int)k - 1);
    return s == NNCW_OK ? 0 : app_lua_fail(L, FN, s);
}

/* c:hawq_pin(id, bits) pins a weight quantizer's bits (nil or 0 frees it) and re-solves */
static int m_hawq_pin(lua_State *L)
{
    static const char FN[] = "Compression:hawq_pin";
    struct nncw_compression *c = check(L, FN);
    const char *id = luaL_checkstring(L, 2);
    lua_Integer bits = luaL_optinteger(L, 3, 0);
    luaL_argcheck(L, bits >= 0 && bits <= 32, 3, "bits out of range");
    enum nncw_status s = nncw_compression_hawq_pin(c, id, (int)bits);
    return s == NNCW_OK ? 0 : app_lua_fail(L, FN, s);
}

/* c:hawq_save_traces(path) for initializer.precision.traces_per_layer_path */
static int m_hawq_save_traces(lua_State *L)
{
    static const char FN[] = "Compression:hawq_save_traces";
    struct nncw_compression *c = check(L, FN);
    enum nncw_status s = nncw_compression_hawq_save_traces(c, luaL_checkstring(L, 2));
    return s == NNCW_OK ? 0 : app_lua_fail(L, FN, s);
}

/* c:bitops_ratio() -> INT8 bit-FLOPs / the model's bit-FLOPs */
static int m_bitops_ratio(lua_State *L)
{
    static const char FN[] = "Compression:bitops_ratio";
    struct nncw_compression *c = check(L, FN);
    double r;
    enum nncw_status s = nncw_compression_bitops_ratio(c, &r);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    lua_pushnumber(L, r);
    return 1;
}

const luaL_Reg app_lua_precision_methods[] = {
    {"hawq", m_hawq},
    {"hawq_choose", m_hawq_choose},
    {"hawq_pin", m_hawq_pin},
    {"hawq_save_traces", m_hawq_save_traces},
    {"bitops_ratio", m_bitops_ratio},
    {NULL, NULL},
};
