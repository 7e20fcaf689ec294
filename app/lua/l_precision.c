/* Compression's mixed-precision methods (see l_precision.h and docs/lua-api.md). */
#include "l_precision.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compression/quantization/hw_config.h"
#include "lnncw.h"
#include "search_board.h"

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
    double target;
    int cand[8], n_cand = nncw_compression_hawq_candidates(c, &target, cand);
    lua_pushnumber(L, target);
    lua_setfield(L, -2, "target_ratio");
    lua_createtable(L, n_cand, 0);
    for (int b = 0; b < n_cand; b++) {
        lua_pushinteger(L, cand[b]);
        lua_rawseti(L, -2, b + 1);
    }
    lua_setfield(L, -2, "candidates");
    app_lua_precision_publish(c); /* the Search panel shows what was read */
    return 1;
}

/* c:hawq_choose(k) applies curve point k (1-based; nil: back to the best meeting the ratio) */
static int m_hawq_choose(lua_State *L)
{
    static const char FN[] = "Compression:hawq_choose";
    struct nncw_compression *c = check(L, FN);
    lua_Integer k = lua_isnoneornil(L, 2) ? 0 : luaL_checkinteger(L, 2);
    enum nncw_status s = nncw_compression_hawq_choose(c, (int)k - 1);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    app_lua_precision_publish(c);
    return 0;
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
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    app_lua_precision_publish(c);
    return 0;
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

/* ---- the search board (what the workbench's Search panel shows) ---- */

void app_lua_precision_publish(struct nncw_compression *c)
{
    struct search_hawq r = {0};
    int nl, np, chosen, iters;
    if (nncw_compression_hawq_summary(c, &nl, &np, &chosen, &iters) != NNCW_OK) {
        search_board_hawq_forget(c);
        return;
    }
    r.layers = calloc((size_t)(nl ? nl : 1), sizeof *r.layers);
    r.points = calloc((size_t)(np ? np : 1), sizeof *r.points);
    if (r.layers && r.points) {
        r.n_layers = nl;
        r.n_points = np;
        r.chosen = chosen;
        r.iterations = iters;
        r.n_bits = nncw_compression_hawq_candidates(c, &r.target_ratio, r.bits);
        for (int i = 0; i < nl; i++) {
            struct nncw_hawq_layer l;
            if (nncw_compression_hawq_get_layer(c, i, &l) != NNCW_OK)
                break;
            r.layers[i] = (struct search_layer){.id = (char *)l.id,
                                                .trace = l.trace,
                                                .numel = l.numel,
                                                .bits = l.bits,
                                                .pinned = l.pinned_bits};
        }
        for (int k = 0; k < np; k++) {
            struct nncw_hawq_point pt;
            if (nncw_compression_hawq_get_point(c, k, &pt, NULL) != NNCW_OK)
                break;
            r.points[k] = (struct search_point){
                .ratio = pt.ratio, .metric = pt.metric, .meets_ratio = pt.meets_ratio};
        }
        search_board_hawq_result(c, &r); /* copies */
    }
    free(r.layers);
    free(r.points);
}

int app_lua_precision_device_bits(lua_State *L, const struct nncw_config *cfg, const char *fn,
                                  int *bits, int max)
{
    struct nncw_hw_config *hw = NULL;
    enum nncw_status s = nncw_hw_config_load_for_device(cfg->target_device, NULL, &hw);
    if (s != NNCW_OK)
        app_lua_fail(L, fn, s);
    bool seen[33] = {false};
    if (!hw) /* TRIAL: any bit width nncw quantizes to */
        for (int b = 2; b <= 8; b++)
            seen[b] = true;
    for (int o = 0; hw && o < hw->n_ops; o++)
        for (int k = 0; k < hw->ops[o].n_w; k++)
            if (hw->ops[o].w[k].bits > 0 && hw->ops[o].w[k].bits <= 32)
                seen[hw->ops[o].w[k].bits] = true;
    nncw_hw_config_free(hw);
    int n = 0;
    for (int b = 1; b <= 32; b++)
        if (seen[b] && n < max)
            bits[n++] = b;
    return n;
}

void app_lua_precision_need_choice(lua_State *L, const struct nncw_config *cfg, const char *fn)
{
    int bits[32], n = app_lua_precision_device_bits(L, cfg, fn, bits, 32);
    if (n < 2)
        luaL_error(L,
                   "%s: the target device %s allows only %d-bit weights: mixed precision needs "
                   "a device with more than one bit width (TRIAL, VPU)",
                   fn, nncw_target_device_name(cfg->target_device), n ? bits[0] : 8);
}

/* c:hawq_run's report of each Hutchinson iteration: the board, then the Lua callback */
struct hawq_run_report {
    struct nncw_compression *c;
    struct app_lua_progress lua; /* lua.fn 0: no callback */
    bool interrupted;
};

static bool hawq_run_progress(void *user, int iteration, int iter_number, double mean_trace)
{
    struct hawq_run_report *r = user;
    search_board_hawq_progress(r->c, iteration, iter_number, mean_trace);
    if (app_lua_interrupt_pending()) {
        r->interrupted = true;
        return false;
    }
    return r->lua.fn ? progress_trampoline(&r->lua, iteration, iter_number, mean_trace) : true;
}

/* c:hawq_run{data = ds, progress = fn} measures the traces again and re-solves */
static int m_hawq_run(lua_State *L)
{
    static const char FN[] = "Compression:hawq_run";
    static const char *const known[] = {"data", "progress", NULL};
    struct nncw_compression *c = check(L, FN);
    if (!lua_isnoneornil(L, 2))
        luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    app_lua_check_options(L, 2, FN, known);
    const struct nncw_dataset *data = NULL;
    if (lua_istable(L, 2)) {
        if (lua_getfield(L, 2, "data") != LUA_TNIL)
            data = app_lua_check_dataset(L, -1, FN, "data")->ds; /* stays on the stack */
        else
            lua_pop(L, 1);
    }
    struct hawq_run_report r = {.c = c, .lua = {.L = L}};
    if (lua_istable(L, 2)) {
        int t = lua_getfield(L, 2, "progress");
        if (t == LUA_TFUNCTION)
            r.lua.fn = lua_gettop(L);
        else if (t != LUA_TNIL)
            return luaL_error(L, "%s: option 'progress' must be a function (iteration, "
                                 "iter_number, mean_trace)",
                              FN);
    }
    lua_getiuservalue(L, 1, 2); /* the Compression's config, its second user value */
    app_lua_precision_need_choice(L, app_lua_check_config(L, -1, FN, "self's config"), FN);
    lua_pop(L, 1);
    search_board_hawq_progress(c, 0, 0, 0.0);
    enum nncw_status s = nncw_compression_hawq_run(c, data, hawq_run_progress, &r);
    if (s == NNCW_OK) {
        search_board_hawq_end(c, NULL);
        app_lua_precision_publish(c);
        return 0;
    }
    if (r.interrupted || app_lua_interrupt_pending()) { /* also when it hit the callback */
        search_board_hawq_end(c, "interrupted");
        app_lua_interrupt_take(L);
        return luaL_error(L, "%s: interrupted (the previous traces are kept)", FN);
    }
    if (r.lua.failed) {
        search_board_hawq_end(c, r.lua.error);
        return luaL_error(L, "%s: progress callback: %s", FN, r.lua.error);
    }
    search_board_hawq_end(c, nncw_last_error());
    return app_lua_fail(L, FN, s);
}

/* c:hawq_unpin(id) frees a pinned weight quantizer and re-solves */
static int m_hawq_unpin(lua_State *L)
{
    static const char FN[] = "Compression:hawq_unpin";
    struct nncw_compression *c = check(L, FN);
    enum nncw_status s = nncw_compression_hawq_pin(c, luaL_checkstring(L, 2), 0);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    app_lua_precision_publish(c);
    return 0;
}

const luaL_Reg app_lua_precision_methods[] = {
    {"hawq_run", m_hawq_run},
    {"hawq_unpin", m_hawq_unpin},
    {"hawq", m_hawq},
    {"hawq_choose", m_hawq_choose},
    {"hawq_pin", m_hawq_pin},
    {"hawq_save_traces", m_hawq_save_traces},
    {"bitops_ratio", m_bitops_ratio},
    {NULL, NULL},
};
