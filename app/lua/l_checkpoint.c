/* nncw.checkpoint: a model's weights (and buffers) to and from a file, written atomically, and
 * full checkpoints: a compressed model with its compression state, config and model source, so
 * that it restores without the config file (docs/checkpoints.md). */
#include "lnncw.h"

#include "checkpoint/checkpoint.h"
#include "core/alloc.h"

/* the model source of save's options: zoo = name (+ zoo_options), or onnx = path */
static const char *source_of(lua_State *L, int idx, const char *fn, struct nncw_model_source *src,
                             void **bytes)
{
    static const char *const zoo_keys[] = {"classes",    "in_c", "in_h", "in_w",
                                           "width_mult", "seed", NULL};
    const char *zoo = app_lua_opt_string(L, idx, fn, "zoo", NULL);
    const char *onnx = app_lua_opt_string(L, idx, fn, "onnx", NULL);
    if (zoo && onnx)
        luaL_error(L, "%s: give 'zoo' or 'onnx', not both", fn);
    if (zoo) {
        struct nncw_zoo_options zo = nncw_zoo_defaults(zoo);
        if (lua_getfield(L, idx, "zoo_options") == LUA_TTABLE) {
            int t = lua_gettop(L);
            app_lua_check_options_in(L, t, fn, "zoo_options", zoo_keys);
            zo.classes = (int)app_lua_opt_int(L, t, fn, "classes", zo.classes, 1, 1000000);
            zo.in_c = (int)app_lua_opt_int(L, t, fn, "in_c", zo.in_c, 1, 1 << 16);
            zo.in_h = (int)app_lua_opt_int(L, t, fn, "in_h", zo.in_h, 1, 1 << 16);
            zo.in_w = (int)app_lua_opt_int(L, t, fn, "in_w", zo.in_w, 1, 1 << 16);
            zo.width_mult =
                (float)app_lua_opt_number(L, t, fn, "width_mult", zo.width_mult, 0.01, 4);
            zo.seed = (uint64_t)app_lua_opt_int(L, t, fn, "seed", (lua_Integer)zo.seed, 0,
                                                LUA_MAXINTEGER);
        }
        lua_pop(L, 1);
        *src =
            (struct nncw_model_source){.kind = NNCW_MODEL_SOURCE_ZOO, .zoo_name = zoo, .zoo = zo};
        return zoo;
    }
    if (onnx) {
        FILE *f = fopen(onnx, "rb");
        long n = -1;
        if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
            (*bytes = nncw_malloc((size_t)n + 1)) && fread(*bytes, 1, (size_t)n, f) != (size_t)n)
            n = -1;
        if (f)
            fclose(f);
        if (n < 0)
            luaL_error(L, "%s: cannot read the ONNX file '%s'", fn, onnx);
        *src = (struct nncw_model_source){.kind = NNCW_MODEL_SOURCE_ONNX,
                                          .onnx_path = onnx,
                                          .onnx_bytes = *bytes,
                                          .onnx_len = (size_t)n};
    }
    return onnx;
}

/* save(model, path[, {compression = c, config = json, zoo = name, zoo_options = {...},
 * onnx = path}]): weights only, or a full checkpoint that restores without the config */
static int l_save(lua_State *L)
{
    static const char FN[] = "nncw.checkpoint.save";
    static const char *const known[] = {"compression", "config", "zoo",
                                        "zoo_options", "onnx",   NULL};
    struct app_lua_graph *g = app_lua_check_graph(L, 1, FN, "model");
    const char *path = app_lua_check_string(L, 2, FN, "path");
    app_lua_check_options(L, 3, FN, known);
    struct nncw_checkpoint_parts p = {.graph = g->g};
    struct nncw_model_source src = {0};
    void *bytes = NULL;
    if (lua_istable(L, 3)) {
        if (lua_getfield(L, 3, "compression") != LUA_TNIL)
            p.compression = app_lua_check_compression(L, -1, FN, "compression");
        lua_pop(L, 1);
        p.config_json = app_lua_opt_string(L, 3, FN, "config", NULL);
        if (source_of(L, 3, FN, &src, &bytes))
            p.source = &src;
    }
    if (p.compression && !p.config_json) {
        nncw_free(bytes);
        return luaL_error(L, "%s: a compression needs its config's JSON text (option 'config')",
                          FN);
    }
    enum nncw_status s = nncw_checkpoint_write(path, &p);
    nncw_free(bytes);
    return s == NNCW_OK ? 0 : app_lua_fail(L, FN, s);
}

static int load_into(lua_State *L, const char *fn, bool original)
{
    struct app_lua_graph *g = app_lua_check_graph(L, 1, fn, "model");
    const char *path = app_lua_check_string(L, 2, fn, "path");
    if (g->busy)
        return luaL_error(L, "%s: argument 'model' is being trained", fn);
    struct nncw_checkpoint *ck;
    enum nncw_status s = nncw_checkpoint_read(path, &ck);
    if (s == NNCW_OK) {
        app_lua_graph_touch(g);
        s = original ? nncw_checkpoint_restore_original(ck, g->g)
                     : nncw_checkpoint_restore_graph(ck, g->g);
        nncw_checkpoint_free(ck);
    }
    if (s != NNCW_OK)
        return app_lua_fail(L, fn, s);
    lua_settop(L, 1);
    return 1;
}

/* load(model, path) -> model: the weights (compressed checkpoints: into the compressed model) */
static int l_load(lua_State *L)
{
    return load_into(L, "nncw.checkpoint.load", false);
}

/* load_original(model, path) -> model: the float weights a compression started from */
static int l_load_original(lua_State *L)
{
    return load_into(L, "nncw.checkpoint.load_original", true);
}

static void set_string(lua_State *L, const char *key, const char *v)
{
    if (!v)
        return;
    lua_pushstring(L, v);
    lua_setfield(L, -2, key);
}

/* info(path) -> {version, sections = {"PARM", ...}, config = json, compression_state = json,
 * zoo = name, onnx = path, epoch, step, global_step} (absent fields: not in the file) */
static int l_info(lua_State *L)
{
    static const char FN[] = "nncw.checkpoint.info";
    static const char *const tags[] = {"PARM", "ORIG", "CMPR", "CONF", "MSRC", "ARGV",
                                       "TRNR", "OPTM", "RNGS", "LOAD", NULL};
    const char *path = app_lua_check_string(L, 1, FN, "path");
    struct nncw_checkpoint *ck;
    enum nncw_status s = nncw_checkpoint_read(path, &ck);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    lua_newtable(L);
    lua_pushinteger(L, nncw_checkpoint_get_version(ck));
    lua_setfield(L, -2, "version");
    lua_newtable(L);
    for (int i = 0, n = 0; tags[i]; i++)
        if (nncw_checkpoint_has(ck, tags[i])) {
            lua_pushstring(L, tags[i]);
            lua_rawseti(L, -2, ++n);
        }
    lua_setfield(L, -2, "sections");
    set_string(L, "config", nncw_checkpoint_get_config(ck));
    set_string(L, "compression_state", nncw_checkpoint_get_compression_state(ck));
    struct nncw_model_source src;
    if (nncw_checkpoint_get_source(ck, &src) == NNCW_OK)
        set_string(L, src.kind == NNCW_MODEL_SOURCE_ZOO ? "zoo" : "onnx",
                   src.kind == NNCW_MODEL_SOURCE_ZOO ? src.zoo_name : src.onnx_path);
    struct nncw_trainer_state st;
    if (nncw_checkpoint_get_trainer_state(ck, &st) == NNCW_OK) {
        lua_pushinteger(L, st.epoch);
        lua_setfield(L, -2, "epoch");
        lua_pushinteger(L, st.step);
        lua_setfield(L, -2, "step");
        lua_pushinteger(L, st.global_step);
        lua_setfield(L, -2, "global_step");
    }
    nncw_checkpoint_free(ck);
    return 1;
}

static const luaL_Reg functions[] = {
    {"save", l_save}, {"load", l_load}, {"load_original", l_load_original},
    {"info", l_info}, {NULL, NULL},
};

int luaopen_nncw_checkpoint(lua_State *L)
{
    luaL_newlib(L, functions);
    return 1;
}
