/* nncw.config: Config userdata over engine/config (NNCF-style JSON parsed into typed
 * structs). Tables are turned into JSON by scripts/nncw/json.lua and parsed the same way. */
#include "lnncw.h"

#include <string.h>

struct config_box {
    struct nncw_config *cfg;
};

static const char *const schedule_names[] = {"constant", "step", "multistep", "cosine"};

struct nncw_config *app_lua_check_config(lua_State *L, int idx, const char *fn, const char *arg)
{
    struct config_box *box = app_lua_check_box(L, idx, APP_LUA_CONFIG, fn, arg, "a Config");
    if (!box->cfg)
        app_lua_closed_error(L, fn, "Config");
    return box->cfg;
}

static struct config_box *new_box(lua_State *L)
{
    struct config_box *box = lua_newuserdatauv(L, sizeof *box, 0);
    box->cfg = NULL;
    luaL_setmetatable(L, APP_LUA_CONFIG);
    return box;
}

static int l_load(lua_State *L)
{
    static const char FN[] = "nncw.config.load";
    const char *path = app_lua_check_string(L, 1, FN, "path");
    struct config_box *box = new_box(L);
    enum nncw_status s = nncw_config_load(path, &box->cfg);
    return s == NNCW_OK ? 1 : app_lua_fail(L, FN, s);
}

/* parse(json[, name]): name appears in messages instead of a file name */
static int l_parse(lua_State *L)
{
    static const char FN[] = "nncw.config.parse";
    const char *json = app_lua_check_string(L, 1, FN, "json");
    const char *name = lua_isnoneornil(L, 2) ? "<string>" : app_lua_check_string(L, 2, FN, "name");
    struct config_box *box = new_box(L);
    enum nncw_status s = nncw_config_parse(json, name, &box->cfg);
    return s == NNCW_OK ? 1 : app_lua_fail(L, FN, s);
}

static void push_strings(lua_State *L, char **list, int n)
{
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushstring(L, list[i]);
        lua_rawseti(L, -2, i + 1);
    }
}

static void push_inputs(lua_State *L, const struct nncw_config *cfg)
{
    lua_createtable(L, cfg->n_inputs, 0);
    for (int i = 0; i < cfg->n_inputs; i++) {
        const struct nncw_input_info *in = &cfg->inputs[i];
        lua_createtable(L, 0, 4);
        app_lua_push_shape(L, in->ndim, in->sample_size);
        lua_setfield(L, -2, "sample_size");
        lua_pushstring(L, in->dtype == NNCW_DTYPE_I64 ? "long" : "float");
        lua_setfield(L, -2, "type");
        lua_pushstring(L, in->filler);
        lua_setfield(L, -2, "filler");
        if (in->keyword) {
            lua_pushstring(L, in->keyword);
            lua_setfield(L, -2, "keyword");
        }
        lua_rawseti(L, -2, i + 1);
    }
}

/* params and settings stay JSON text here (params_json, settings_json); the Lua wrapper in
 * scripts/nncw/init.lua decodes them into tables */
static void push_compression(lua_State *L, const struct nncw_config *cfg)
{
    lua_createtable(L, cfg->n_compression, 0);
    for (int i = 0; i < cfg->n_compression; i++) {
        const struct nncw_compression_config *a = &cfg->compression[i];
        lua_createtable(L, 0, 5);
        lua_pushstring(L, a->algorithm);
        lua_setfield(L, -2, "algorithm");
        push_strings(L, a->ignored_scopes, a->n_ignored);
        lua_setfield(L, -2, "ignored_scopes");
        push_strings(L, a->target_scopes, a->n_target);
        lua_setfield(L, -2, "target_scopes");
        lua_pushstring(L, a->params_json);
        lua_setfield(L, -2, "params_json");
        lua_pushstring(L, a->settings_json);
        lua_setfield(L, -2, "settings_json");
        lua_rawseti(L, -2, i + 1);
    }
}

static void set_number(lua_State *L, unsigned has, unsigned bit, const char *key, double v)
{
    if (!(has & bit))
        return;
    lua_pushnumber(L, v);
    lua_setfield(L, -2, key);
}

static void set_integer(lua_State *L, unsigned has, unsigned bit, const char *key, lua_Integer v)
{
    if (!(has & bit))
        return;
    lua_pushinteger(L, v);
    lua_setfield(L, -2, key);
}

static void push_optimizer(lua_State *L, const struct nncw_optimizer_config *o)
{
    lua_newtable(L);
    if (o->has & NNCW_OPT_TYPE) {
        lua_pushstring(L, nncw_optim_type_name(o->type));
        lua_setfield(L, -2, "type");
    }
    set_number(L, o->has, NNCW_OPT_BASE_LR, "base_lr", o->base_lr);
    set_number(L, o->has, NNCW_OPT_WEIGHT_DECAY, "weight_decay", o->weight_decay);
    set_number(L, o->has, NNCW_OPT_MOMENTUM, "momentum", o->momentum);
    set_number(L, o->has, NNCW_OPT_GAMMA, "gamma", o->gamma);
    if (o->has & NNCW_OPT_NESTEROV) {
        lua_pushboolean(L, o->nesterov);
        lua_setfield(L, -2, "nesterov");
    }
    if (o->has & NNCW_OPT_SCHEDULE) {
        lua_pushstring(L, schedule_names[o->schedule]);
        lua_setfield(L, -2, "schedule_type");
    }
    if (o->has & NNCW_OPT_STEPS) {
        int64_t steps[NNCW_CONFIG_MAX_STEPS];
        for (int i = 0; i < o->n_steps; i++)
            steps[i] = o->steps[i];
        app_lua_push_shape(L, o->n_steps, steps);
        lua_setfield(L, -2, "steps");
    }
    set_integer(L, o->has, NNCW_OPT_STEP_SIZE, "step_size", o->step_size);
    set_integer(L, o->has, NNCW_OPT_T_MAX, "t_max", o->t_max);
    set_integer(L, o->has, NNCW_OPT_WARMUP, "warmup_epochs", o->warmup_epochs);
}

static int l_to_table(lua_State *L)
{
    const struct nncw_config *cfg = app_lua_check_config(L, 1, "nncw.Config:to_table", "self");
    lua_createtable(L, 0, 12);
    lua_pushstring(L, cfg->source);
    lua_setfield(L, -2, "source");
    lua_pushstring(L, nncw_target_device_name(cfg->target_device));
    lua_setfield(L, -2, "target_device");
    if (cfg->has & NNCW_CFG_INPUT_INFO) {
        push_inputs(L, cfg);
        lua_setfield(L, -2, "input_info");
    }
    push_compression(L, cfg);
    lua_setfield(L, -2, "compression");
    if (cfg->model) {
        lua_pushstring(L, cfg->model);
        lua_setfield(L, -2, "model");
    }
    if (cfg->dataset) {
        lua_pushstring(L, cfg->dataset);
        lua_setfield(L, -2, "dataset");
    }
    if (cfg->has & NNCW_CFG_PRETRAINED) {
        lua_pushboolean(L, cfg->pretrained);
        lua_setfield(L, -2, "pretrained");
    }
    set_integer(L, cfg->has, NNCW_CFG_NUM_CLASSES, "num_classes", cfg->num_classes);
    set_integer(L, cfg->has, NNCW_CFG_BATCH_SIZE, "batch_size", cfg->batch_size);
    set_integer(L, cfg->has, NNCW_CFG_EPOCHS, "epochs", cfg->epochs);
    set_integer(L, cfg->has, NNCW_CFG_SEED, "seed", (lua_Integer)cfg->seed);
    if (cfg->has & NNCW_CFG_OPTIMIZER) {
        push_optimizer(L, &cfg->optimizer);
        lua_setfield(L, -2, "optimizer");
    }
    return 1;
}

static int l_warnings(lua_State *L)
{
    const struct nncw_config *cfg = app_lua_check_config(L, 1, "nncw.Config:warnings", "self");
    push_strings(L, cfg->warnings, cfg->n_warnings);
    return 1;
}

/* fields read through to_table (the Lua-level one, which decodes params) */
static int l_index(lua_State *L)
{
    if (luaL_getmetafield(L, 1, "__methods") == LUA_TTABLE) {
        lua_pushvalue(L, 2);
        if (lua_gettable(L, -2) != LUA_TNIL)
            return 1;
        lua_pop(L, 1);
    }
    if (lua_type(L, 2) != LUA_TSTRING)
        return 0;
    lua_getfield(L, -1, "to_table");
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    lua_getfield(L, -1, lua_tostring(L, 2));
    return 1;
}

static int l_gc(lua_State *L)
{
    struct config_box *box = luaL_checkudata(L, 1, APP_LUA_CONFIG);
    nncw_config_free(box->cfg);
    box->cfg = NULL;
    return 0;
}

static int l_tostring(lua_State *L)
{
    struct config_box *box = luaL_checkudata(L, 1, APP_LUA_CONFIG);
    const struct nncw_config *cfg = box->cfg;
    if (!cfg) {
        lua_pushliteral(L, "Config (closed)");
        return 1;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 0; i < cfg->n_compression; i++) {
        luaL_addstring(&b, i ? ", " : "");
        luaL_addstring(&b, cfg->compression[i].algorithm);
    }
    luaL_pushresult(&b);
    lua_pushfstring(L, "Config '%s': target device %s, %d input%s, compression [%s], %d warning%s",
                    cfg->source, nncw_target_device_name(cfg->target_device), cfg->n_inputs,
                    cfg->n_inputs == 1 ? "" : "s", lua_tostring(L, -1), cfg->n_warnings,
                    cfg->n_warnings == 1 ? "" : "s");
    return 1;
}

static const char *const fields[] = {
    "source",  "target_device", "input_info",  "compression", "model",
    "dataset", "pretrained",    "num_classes", "batch_size",  "epochs",
    "seed",    "optimizer",     NULL,
};

static const luaL_Reg methods[] = {
    {"to_table", l_to_table},
    {"warnings", l_warnings},
    {NULL, NULL},
};

static const luaL_Reg meta[] = {
    {"__index", l_index},       {"__gc", l_gc}, {"__close", l_gc},
    {"__tostring", l_tostring}, {NULL, NULL},
};

static const luaL_Reg functions[] = {
    {"load", l_load},
    {"parse", l_parse},
    {NULL, NULL},
};

int luaopen_nncw_config(lua_State *L)
{
    luaL_newlib(L, functions);
    app_lua_new_class(L, APP_LUA_CONFIG, methods, meta, fields);
    lua_setfield(L, -2, "Config");
    lua_newtable(L);
    for (const char *const *n = nncw_config_algorithm_names(); *n; n++) {
        lua_pushstring(L, *n);
        lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
    }
    lua_setfield(L, -2, "algorithms");
    return 1;
}
