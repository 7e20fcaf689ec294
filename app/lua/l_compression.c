/* nncw.compression: Compression userdata over engine/compression (NNCF's builder + controller:
 * quantizers placed, initialised, listed, edited, exported). The model, the config and the
 * initialisation data set are kept alive as the userdata's user values. */
#include "lnncw.h"
#include "l_precision.h"
#include "l_pruning.h"
#include "l_autoq.h"
#include "l_compression_state.h"

#include <stdio.h>
#include <string.h>

#include "compression/compression.h"
#include "compression/quantization/qconfig.h"
#include "core/alloc.h"
#include "onnx/onnx.h"

#define APP_LUA_COMPRESSION "nncw.Compression"

enum { UV_MODEL = 1, UV_CONFIG, UV_DATA, UV_COUNT = UV_DATA };

struct compression_box {
    struct nncw_compression *c; /* NULL: closed */
    struct app_lua_graph *model;
};

static struct compression_box *check_box(lua_State *L, int idx, const char *fn)
{
    struct compression_box *b =
        app_lua_check_box(L, idx, APP_LUA_COMPRESSION, fn, "self", "a Compression");
    if (!b->c)
        app_lua_closed_error(L, fn, "Compression");
    if (!b->model->g)
        luaL_error(L, "%s: the model of this Compression was closed", fn);
    return b;
}

struct nncw_compression *app_lua_check_compression(lua_State *L, int idx, const char *fn,
                                                   const char *arg)
{
    struct compression_box *b =
        app_lua_check_box(L, idx, APP_LUA_COMPRESSION, fn, arg, "a Compression");
    if (!b->c)
        app_lua_closed_error(L, fn, "Compression");
    return b->c;
}

/* nncw.compression.create(model, config[, {data, batch, seed}]) -> Compression */
static int l_create(lua_State *L)
{
    static const char FN[] = "nncw.compression.create";
    static const char *const known[] = {"data", "batch", "seed", "progress", NULL};
    struct app_lua_graph *g = app_lua_check_graph(L, 1, FN, "model");
    struct nncw_config *cfg = app_lua_check_config(L, 2, FN, "config");
    app_lua_check_options(L, 3, FN, known);
    struct nncw_compression_init init = {
        .batch_size = (int)app_lua_opt_int(L, 3, FN, "batch", 64, 1, 65536),
        .seed = (uint64_t)app_lua_opt_int(L, 3, FN, "seed", 1, 0, LUA_MAXINTEGER)};
    int data_idx = 0;
    if (lua_istable(L, 3) && lua_getfield(L, 3, "data") != LUA_TNIL) {
        init.data = app_lua_check_dataset(L, -1, FN, "data")->ds;
        data_idx = lua_gettop(L);
    }
    if (g->busy)
        return luaL_error(L, "%s: argument 'model' is being trained", FN);
    struct app_lua_progress progress; /* mixed precision: HAWQ's iterations */
    app_lua_precision_progress_setup(L, 3, FN, &progress, &init);
    struct compression_box *b = lua_newuserdatauv(L, sizeof *b, UV_COUNT);
    b->c = NULL;
    b->model = g;
    luaL_setmetatable(L, APP_LUA_COMPRESSION);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, UV_MODEL);
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, -2, UV_CONFIG);
    if (data_idx) {
        lua_pushvalue(L, data_idx);
        lua_setiuservalue(L, -2, UV_DATA);
    }
    app_lua_graph_touch(g);
    enum nncw_status s = nncw_compression_create(g->g, cfg, &init, &b->c);
    if (s != NNCW_OK && progress.failed)
        return luaL_error(L, "%s: progress callback: %s", FN, progress.error);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    app_lua_precision_publish(b->c); /* the Search panel shows what the initializer's HAWQ solved */
    return 1;
}

static void push_quantizer(lua_State *L, const struct nncw_quantizer_info *q)
{
    lua_createtable(L, 0, 13);
    lua_pushstring(L, q->id);
    lua_setfield(L, -2, "id");
    lua_pushstring(L, q->is_weight ? "weight" : "activation");
    lua_setfield(L, -2, "kind");
    lua_pushinteger(L, q->bits);
    lua_setfield(L, -2, "bits");
    lua_pushstring(L, q->asymmetric ? "asymmetric" : "symmetric");
    lua_setfield(L, -2, "mode");
    lua_pushboolean(L, q->is_signed);
    lua_setfield(L, -2, "signed");
    lua_pushboolean(L, q->per_channel);
    lua_setfield(L, -2, "per_channel");
    lua_pushboolean(L, q->half_range);
    lua_setfield(L, -2, "half_range");
    lua_pushboolean(L, q->enabled);
    lua_setfield(L, -2, "enabled");
    lua_pushinteger(L, q->channels);
    lua_setfield(L, -2, "channels");
    lua_pushnumber(L, q->low);
    lua_setfield(L, -2, "low");
    lua_pushnumber(L, q->high);
    lua_setfield(L, -2, "high");
    if (q->unified_group >= 0) {
        lua_pushinteger(L, q->unified_group);
        lua_setfield(L, -2, "group");
    }
    lua_pushinteger(L, q->n_alternatives);
    lua_setfield(L, -2, "alternatives");
}

/* c:quantizers([pattern]) -> list of {id, kind, bits, mode, signed, per_channel, ...} */
static int m_quantizers(lua_State *L)
{
    static const char FN[] = "Compression:quantizers";
    struct compression_box *b = check_box(L, 1, FN);
    const char *pattern = lua_isnoneornil(L, 2) ? NULL : app_lua_check_string(L, 2, FN, "pattern");
    int n = nncw_compression_count_quantizers(b->c), k = 0;
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        struct nncw_quantizer_info q;
        enum nncw_status s = nncw_compression_get_quantizer(b->c, i, &q);
        if (s != NNCW_OK)
            return app_lua_fail(L, FN, s);
        bool hit = true;
        if (pattern && (s = nncw_scope_matches(pattern, q.id, &hit)) != NNCW_OK)
            return app_lua_fail(L, FN, s);
        if (!hit)
            continue;
        push_quantizer(L, &q);
        lua_rawseti(L, -2, ++k);
    }
    return 1;
}

/* c:set(pattern, {bits, mode, per_channel}) -> number of quantizers now */
static int m_set(lua_State *L)
{
    static const char FN[] = "Compression:set";
    static const char *const known[] = {"bits", "mode", "per_channel", NULL};
    static const char *const modes[] = {"symmetric", "asymmetric", NULL};
    struct compression_box *b = check_box(L, 1, FN);
    const char *pattern = app_lua_check_string(L, 2, FN, "pattern");
    luaL_checktype(L, 3, LUA_TTABLE);
    app_lua_check_options(L, 3, FN, known);
    struct nncw_quantizer_change ch = {
        .bits = (int)app_lua_opt_int(L, 3, FN, "bits", 0, 1, 8),
        .mode = app_lua_opt_choice(L, 3, FN, "mode", -1, modes),
        .per_channel = app_lua_has_option(L, 3, "per_channel")
                           ? app_lua_opt_bool(L, 3, FN, "per_channel", false)
                           : -1};
    app_lua_graph_touch(b->model);
    enum nncw_status s = nncw_compression_set_quantizers(b->c, pattern, &ch);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    lua_pushinteger(L, nncw_compression_count_quantizers(b->c));
    return 1;
}

static int ignore(lua_State *L, const char *fn, bool on)
{
    struct compression_box *b = check_box(L, 1, fn);
    const char *pattern = app_lua_check_string(L, 2, fn, "pattern");
    int entry = (int)(lua_isnoneornil(L, 3) ? 1 : app_lua_check_int(L, 3, fn, "entry", 1, 64)) - 1;
    app_lua_graph_touch(b->model);
    enum nncw_status s = nncw_compression_ignore_scope(b->c, entry, pattern, on);
    if (s != NNCW_OK)
        return app_lua_fail(L, fn, s);
    lua_pushinteger(L, nncw_compression_count_quantizers(b->c));
    return 1;
}

/* c:ignore(pattern[, entry]) / c:unignore(pattern[, entry]) -> number of quantizers now */
static int m_ignore(lua_State *L)
{
    return ignore(L, "Compression:ignore", true);
}

static int m_unignore(lua_State *L)
{
    return ignore(L, "Compression:unignore", false);
}

static int m_statistics(lua_State *L)
{
    static const char FN[] = "Compression:statistics";
    struct compression_box *b = check_box(L, 1, FN);
    char *text;
    enum nncw_status s = nncw_compression_statistics(b->c, &text);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    lua_pushstring(L, text);
    nncw_free(text);
    return 1;
}

static int m_stage(lua_State *L)
{
    struct compression_box *b = check_box(L, 1, "Compression:stage");
    lua_pushstring(L, nncw_compression_stage_name(nncw_compression_get_stage(b->c)));
    return 1;
}

/* c:epoch_step(epoch) (0-based, as NNCF's scheduler) */
static int m_epoch_step(lua_State *L)
{
    static const char FN[] = "Compression:epoch_step";
    struct compression_box *b = check_box(L, 1, FN);
    int epoch = (int)app_lua_check_int(L, 2, FN, "epoch", 0, 1000000);
    enum nncw_status s = nncw_compression_epoch_step(b->c, epoch);
    return s == NNCW_OK ? 0 : app_lua_fail(L, FN, s);
}

/* c:compression_rate() -> NNCF's compression_rate (sparsity: the model's measured sparsity) */
static int m_compression_rate(lua_State *L)
{
    static const char FN[] = "Compression:compression_rate";
    struct compression_box *b = check_box(L, 1, FN);
    float rate;
    enum nncw_status s = nncw_compression_get_rate(b->c, &rate);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    lua_pushnumber(L, rate);
    return 1;
}

/* c:sparsity_level() -> the level the sparsity algorithm aims at now */
static int m_sparsity_level(lua_State *L)
{
    static const char FN[] = "Compression:sparsity_level";
    struct compression_box *b = check_box(L, 1, FN);
    float level;
    enum nncw_status s = nncw_compression_get_sparsity_level(b->c, &level);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    lua_pushnumber(L, level);
    return 1;
}

/* c:set_sparsity_level(level) (0 <= level < 1) */
static int m_set_sparsity_level(lua_State *L)
{
    static const char FN[] = "Compression:set_sparsity_level";
    struct compression_box *b = check_box(L, 1, FN);
    float level = (float)app_lua_check_number(L, 2, FN, "level", 0.0, 1.0);
    app_lua_graph_touch(b->model);
    enum nncw_status s = nncw_compression_set_sparsity_level(b->c, level);
    return s == NNCW_OK ? 0 : app_lua_fail(L, FN, s);
}

/* c:export(path[, {standard_ops = bool, opset = 13}]) */
static int m_export(lua_State *L)
{
    static const char FN[] = "Compression:export";
    static const char *const known[] = {"standard_ops", "opset", NULL};
    struct compression_box *b = check_box(L, 1, FN);
    const char *path = app_lua_check_string(L, 2, FN, "path");
    app_lua_check_options(L, 3, FN, known);
    struct nncw_onnx_export_options eo = {.opset = 13};
    nncw_compression_export_options(b->c, &eo);
    eo.standard_ops = app_lua_opt_bool(L, 3, FN, "standard_ops", eo.standard_ops);
    eo.opset = (int)app_lua_opt_int(L, 3, FN, "opset", eo.opset, 7, 17);
    app_lua_graph_touch(b->model);
    enum nncw_status s = nncw_onnx_export_file(b->model->g, path, &eo);
    return s == NNCW_OK ? 0 : app_lua_fail(L, FN, s);
}

static int m_close(lua_State *L)
{
    struct compression_box *b =
        app_lua_check_box(L, 1, APP_LUA_COMPRESSION, "Compression:close", "self", "a Compression");
    nncw_compression_free(b->c);
    b->c = NULL;
    return 0;
}

static int m_tostring(lua_State *L)
{
    struct compression_box *b =
        app_lua_check_box(L, 1, APP_LUA_COMPRESSION, "tostring", "self", "a Compression");
    if (!b->c) {
        lua_pushstring(L, "Compression (closed)");
        return 1;
    }
    int n = nncw_compression_count_quantizers(b->c), w = 0;
    for (int i = 0; i < n; i++) {
        struct nncw_quantizer_info q;
        if (nncw_compression_get_quantizer(b->c, i, &q) == NNCW_OK)
            w += q.is_weight;
    }
    char algos[256] = "";
    for (int i = 0; i < nncw_compression_count_algos(b->c); i++)
        snprintf(algos + strlen(algos), sizeof algos - strlen(algos), "%s%s", i ? ", " : "",
                 nncw_compression_get_algo(b->c, i)->name);
    lua_pushfstring(L, "Compression (%s): %d quantizers (%d weight, %d activation), %s", algos, n,
                    w, n - w, nncw_compression_stage_name(nncw_compression_get_stage(b->c)));
    return 1;
}

static const luaL_Reg methods[] = {
    {"quantizers", m_quantizers}, {"set", m_set},       {"ignore", m_ignore},
    {"unignore", m_unignore},     {"statistics", m_statistics}, {"stage", m_stage},
    {"epoch_step", m_epoch_step}, {"export", m_export}, {"close", m_close},
    /* sparsity */
    {"compression_rate", m_compression_rate}, {"sparsity_level", m_sparsity_level},
    {"set_sparsity_level", m_set_sparsity_level},
    {NULL, NULL},
};

static const luaL_Reg meta[] = {
    {"__gc", m_close},
    {"__close", m_close},
    {"__tostring", m_tostring},
    {NULL, NULL},
};

static const luaL_Reg functions[] = {
    {"create", l_create},
    {NULL, NULL},
};

int luaopen_nncw_compression(lua_State *L)
{
    luaL_newlib(L, functions);
    app_lua_new_class(L, APP_LUA_COMPRESSION, methods, meta, NULL);
    /* mixed precision (l_precision.c) */
    luaL_getmetatable(L, APP_LUA_COMPRESSION);
    lua_getfield(L, -1, "__methods");
    luaL_setfuncs(L, app_lua_precision_methods, 0);
    luaL_setfuncs(L, app_lua_pruning_methods, 0); /* filter pruning (l_pruning.c) */
    luaL_setfuncs(L, app_lua_autoq_methods, 0);   /* AutoQ (l_autoq.c) */
    /* scheduler API and state (l_compression_state.c); replaces epoch_step, compression_rate */
    luaL_setfuncs(L, app_lua_compression_state_methods, 0);
    lua_pop(L, 2);
    lua_setfield(L, -2, "Compression");
    app_lua_autoq_register(L);
    return 1;
}
