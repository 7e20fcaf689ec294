/* Compression's filter-pruning methods (see l_pruning.h and docs/lua-api.md). Group ids are
 * the engine's (0-based), as the statistics tables print them. */
#include "l_pruning.h"

#include <stdio.h>
#include <string.h>

#include "compression/compression.h"
#include "core/alloc.h"
#include "lnncw.h"
#include "onnx/onnx.h"

static void push_group(lua_State *L, const struct nncw_compression *c,
                       const struct nncw_pruning_group_info *gi)
{
    lua_createtable(L, 0, 6);
    lua_pushinteger(L, gi->id);
    lua_setfield(L, -2, "id");
    lua_createtable(L, gi->n_members, 0);
    for (int m = 0; m < gi->n_members; m++) {
        lua_pushstring(L, nncw_compression_get_pruning_group_member(c, gi->id, m));
        lua_rawseti(L, -2, m + 1);
    }
    lua_setfield(L, -2, "members");
    lua_pushinteger(L, gi->filters);
    lua_setfield(L, -2, "filters");
    lua_pushinteger(L, gi->kept);
    lua_setfield(L, -2, "kept");
    lua_pushboolean(L, gi->excluded);
    lua_setfield(L, -2, "excluded");
    lua_createtable(L, 0, 3);
    lua_pushnumber(L, gi->importance_min);
    lua_setfield(L, -2, "min");
    lua_pushnumber(L, gi->importance_mean);
    lua_setfield(L, -2, "mean");
    lua_pushnumber(L, gi->importance_max);
    lua_setfield(L, -2, "max");
    lua_setfield(L, -2, "importance");
}

/* c:pruning_groups() -> list of {id, members = {scopes}, filters, kept, excluded, importance =
 * {min, mean, max}} (empty without filter_pruning) */
static int m_pruning_groups(lua_State *L)
{
    static const char FN[] = "Compression:pruning_groups";
    struct nncw_compression *c = app_lua_check_compression(L, 1, FN, "self");
    int n = nncw_compression_count_pruning_groups(c);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        struct nncw_pruning_group_info gi;
        enum nncw_status s = nncw_compression_get_pruning_group(c, i, &gi);
        if (s != NNCW_OK)
            return app_lua_fail(L, FN, s);
        push_group(L, c, &gi);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* c:exclude_group(id[, exclude = true]) */
static int m_exclude_group(lua_State *L)
{
    static const char FN[] = "Compression:exclude_group";
    struct nncw_compression *c = app_lua_check_compression(L, 1, FN, "self");
    int id = (int)app_lua_check_int(L, 2, FN, "id", 0, 1 << 30);
    bool exclude = lua_isnoneornil(L, 3) ? true : lua_toboolean(L, 3);
    enum nncw_status s = nncw_compression_exclude_pruning_group(c, id, exclude);
    return s == NNCW_OK ? 0 : app_lua_fail(L, FN, s);
}

/* c:set_pruning_target(level) */
static int m_set_pruning_target(lua_State *L)
{
    static const char FN[] = "Compression:set_pruning_target";
    struct nncw_compression *c = app_lua_check_compression(L, 1, FN, "self");
    float t = (float)app_lua_check_number(L, 2, FN, "level", 0.0, 0.999);
    enum nncw_status s = nncw_compression_set_pruning_target(c, t);
    return s == NNCW_OK ? 0 : app_lua_fail(L, FN, s);
}

/* c:set_compression_rate(rate): the level the first algorithm with a rate aims at (filter
 * pruning: its level; the scheduler no longer moves it) */
static int m_set_compression_rate(lua_State *L)
{
    static const char FN[] = "Compression:set_compression_rate";
    struct nncw_compression *c = app_lua_check_compression(L, 1, FN, "self");
    float rate = (float)app_lua_check_number(L, 2, FN, "rate", 0.0, 1.0);
    enum nncw_status s = nncw_compression_set_rate(c, rate);
    return s == NNCW_OK ? 0 : app_lua_fail(L, FN, s);
}

/* c:pruning_cost() -> {flops_full, flops_pruned, params_full, params_pruned, level, target} */
static int m_pruning_cost(lua_State *L)
{
    static const char FN[] = "Compression:pruning_cost";
    struct nncw_compression *c = app_lua_check_compression(L, 1, FN, "self");
    struct nncw_pruning_cost k;
    enum nncw_status s = nncw_compression_get_pruning_cost(c, &k);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    lua_createtable(L, 0, 6);
    lua_pushinteger(L, k.flops_full);
    lua_setfield(L, -2, "flops_full");
    lua_pushinteger(L, k.flops_pruned);
    lua_setfield(L, -2, "flops_pruned");
    lua_pushinteger(L, k.params_full);
    lua_setfield(L, -2, "params_full");
    lua_pushinteger(L, k.params_pruned);
    lua_setfield(L, -2, "params_pruned");
    lua_pushnumber(L, k.level);
    lua_setfield(L, -2, "level");
    lua_pushnumber(L, k.target);
    lua_setfield(L, -2, "target");
    return 1;
}

/* c:prune_graph() -> Graph (the masked channels removed), table (text) */
static int m_prune_graph(lua_State *L)
{
    static const char FN[] = "Compression:prune_graph";
    struct nncw_compression *c = app_lua_check_compression(L, 1, FN, "self");
    struct app_lua_graph *box = app_lua_new_graph(L); /* box first, then the engine */
    char *table = NULL;
    enum nncw_status s = nncw_compression_prune_graph(c, &box->g, &table);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    lua_pushstring(L, table);
    nncw_free(table);
    return 2;
}

/* c:export_pruned(path[, {opset = 13}]) -> table (text): the shrunk model to ONNX */
static int m_export_pruned(lua_State *L)
{
    static const char FN[] = "Compression:export_pruned";
    static const char *const known[] = {"opset", NULL};
    struct nncw_compression *c = app_lua_check_compression(L, 1, FN, "self");
    const char *path = app_lua_check_string(L, 2, FN, "path");
    app_lua_check_options(L, 3, FN, known);
    struct nncw_onnx_export_options eo = {.opset = 13};
    nncw_compression_export_options(c, &eo);
    eo.opset = (int)app_lua_opt_int(L, 3, FN, "opset", eo.opset, 7, 17);
    struct app_lua_graph *box = app_lua_new_graph(L); /* owns the shrunk graph until GC */
    char *table = NULL;
    enum nncw_status s = nncw_compression_prune_graph(c, &box->g, &table);
    if (s == NNCW_OK)
        s = nncw_onnx_export_file(box->g, path, &eo);
    if (s != NNCW_OK) {
        nncw_free(table);
        return app_lua_fail(L, FN, s);
    }
    lua_pushstring(L, table);
    nncw_free(table);
    return 1;
}

/* ---- LeGR ---- */

struct legr_progress {
    lua_State *L;
    int fn; /* stack index of the progress function, 0: none */
    bool failed;
    char error[512];
};

/* calls fn(generation, generations, reward, best) under pcall (no longjmp through the engine);
 * false from it, or an error in it, stops the search */
static bool legr_trampoline(void *user, int generation, int generations, double reward, double best)
{
    struct legr_progress *p = user;
    lua_State *L = p->L;
    lua_pushvalue(L, p->fn);
    lua_pushinteger(L, generation);
    lua_pushinteger(L, generations);
    lua_pushnumber(L, reward);
    lua_pushnumber(L, best);
    if (lua_pcall(L, 4, 1, 0) != LUA_OK) {
        snprintf(p->error, sizeof p->error, "%s", lua_tostring(L, -1));
        p->failed = true;
        lua_pop(L, 1);
        return false;
    }
    bool go_on = !(lua_isboolean(L, -1) && !lua_toboolean(L, -1));
    lua_pop(L, 1);
    return go_on;
}

static const struct nncw_dataset *opt_dataset(lua_State *L, int opts, const char *fn,
                                              const char *key)
{
    lua_getfield(L, opts, key);
    const struct nncw_dataset *ds =
        lua_isnil(L, -1) ? NULL : app_lua_check_dataset(L, lua_gettop(L), fn, key)->ds;
    lua_pop(L, 1);
    return ds;
}

/* c:legr{train = ds, val = ds[, generations, train_steps, batch, max_pruning, seed,
 * progress = function(generation, generations, reward, best)]} */
static int m_legr(lua_State *L)
{
    static const char FN[] = "Compression:legr";
    static const char *const known[] = {"train",       "val",      "generations",
                                        "train_steps", "batch",    "max_pruning",
                                        "seed",        "progress", NULL};
    struct nncw_compression *c = app_lua_check_compression(L, 1, FN, "self");
    luaL_checktype(L, 2, LUA_TTABLE);
    app_lua_check_options(L, 2, FN, known);
    struct nncw_legr_options o = nncw_legr_defaults();
    o.train = opt_dataset(L, 2, FN, "train");
    o.val = opt_dataset(L, 2, FN, "val");
    o.generations = (int)app_lua_opt_int(L, 2, FN, "generations", o.generations, 1, 1000000);
    o.train_steps = (int)app_lua_opt_int(L, 2, FN, "train_steps", o.train_steps, 0, 100000000);
    o.batch_size = (int)app_lua_opt_int(L, 2, FN, "batch", o.batch_size, 1, 65536);
    o.max_pruning = (float)app_lua_opt_number(L, 2, FN, "max_pruning", o.max_pruning, 0.0, 0.999);
    o.seed = (uint64_t)app_lua_opt_int(L, 2, FN, "seed", (lua_Integer)o.seed, 0, 2147483647);
    struct legr_progress p = {.L = L};
    lua_getfield(L, 2, "progress");
    if (lua_isfunction(L, -1)) {
        p.fn = lua_gettop(L);
        o.progress = legr_trampoline;
        o.user = &p;
    } else if (!lua_isnil(L, -1)) {
        return app_lua_arg_error(L, 2, FN, "progress", "a function");
    }
    enum nncw_status s = nncw_compression_legr_search(c, &o);
    if (p.failed)
        return luaL_error(L, "%s: progress: %s", FN, p.error);
    return s == NNCW_OK ? 0 : app_lua_fail(L, FN, s);
}

/* c:ranking_coeffs() -> list (by group) of {a, b} */
static int m_ranking_coeffs(lua_State *L)
{
    static const char FN[] = "Compression:ranking_coeffs";
    struct nncw_compression *c = app_lua_check_compression(L, 1, FN, "self");
    int n = nncw_compression_count_pruning_groups(c);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        float a, b;
        enum nncw_status s = nncw_compression_get_ranking_coeffs(c, i, &a, &b);
        if (s != NNCW_OK)
            return app_lua_fail(L, FN, s);
        lua_createtable(L, 0, 2);
        lua_pushnumber(L, a);
        lua_setfield(L, -2, "a");
        lua_pushnumber(L, b);
        lua_setfield(L, -2, "b");
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* c:save_ranking_coeffs(path) / c:load_ranking_coeffs(path) */
static int m_save_ranking_coeffs(lua_State *L)
{
    static const char FN[] = "Compression:save_ranking_coeffs";
    struct nncw_compression *c = app_lua_check_compression(L, 1, FN, "self");
    enum nncw_status s =
        nncw_compression_save_ranking_coeffs(c, app_lua_check_string(L, 2, FN, "path"));
    return s == NNCW_OK ? 0 : app_lua_fail(L, FN, s);
}

static int m_load_ranking_coeffs(lua_State *L)
{
    static const char FN[] = "Compression:load_ranking_coeffs";
    struct nncw_compression *c = app_lua_check_compression(L, 1, FN, "self");
    enum nncw_status s =
        nncw_compression_load_ranking_coeffs(c, app_lua_check_string(L, 2, FN, "path"));
    return s == NNCW_OK ? 0 : app_lua_fail(L, FN, s);
}

const luaL_Reg app_lua_pruning_methods[] = {
    {"pruning_groups", m_pruning_groups},
    {"exclude_group", m_exclude_group},
    {"set_pruning_target", m_set_pruning_target},
    {"set_compression_rate", m_set_compression_rate},
    {"pruning_cost", m_pruning_cost},
    {"prune_graph", m_prune_graph},
    {"export_pruned", m_export_pruned},
    {"legr", m_legr},
    {"ranking_coeffs", m_ranking_coeffs},
    {"save_ranking_coeffs", m_save_ranking_coeffs},
    {"load_ranking_coeffs", m_load_ranking_coeffs},
    {NULL, NULL},
};
