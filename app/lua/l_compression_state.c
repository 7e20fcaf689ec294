/* NNCF's scheduler API and the compression state on the Compression userdata (l_compression.c
 * merges these into its methods): step and epoch_step with NNCF's "next one" default,
 * compression_rate as getter and setter, disable_scheduler, the scheduler's position, and the
 * state checkpoints carry as JSON text. */
#include "l_compression_state.h"

#include "lnncw.h"

#include "compression/compression.h"
#include "core/alloc.h"

/* the Compression's model (user value 1), whose inspection caches a change invalidates */
static void touch_model(lua_State *L)
{
    if (lua_getiuservalue(L, 1, 1) == LUA_TUSERDATA)
        app_lua_graph_touch(app_lua_check_graph(L, -1, "Compression", "model"));
    lua_pop(L, 1);
}

/* c:epoch_step([epoch]): NNCF's scheduler.epoch_step(next_epoch=None), default the next one */
static int m_epoch_step(lua_State *L)
{
    static const char FN[] = "Compression:epoch_step";
    struct nncw_compression *c = app_lua_check_compression(L, 1, FN, "self");
    int epoch;
    int64_t step;
    nncw_compression_get_scheduler_position(c, &epoch, &step);
    if (!lua_isnoneornil(L, 2))
        epoch = (int)app_lua_check_int(L, 2, FN, "epoch", 0, 1000000);
    else
        epoch++;
    touch_model(L);
    enum nncw_status s = nncw_compression_epoch_step(c, epoch);
    return s == NNCW_OK ? 0 : app_lua_fail(L, FN, s);
}

/* c:step([global_step]): NNCF's scheduler.step(next_step=None), default the next one */
static int m_step(lua_State *L)
{
    static const char FN[] = "Compression:step";
    struct nncw_compression *c = app_lua_check_compression(L, 1, FN, "self");
    int epoch;
    int64_t step;
    nncw_compression_get_scheduler_position(c, &epoch, &step);
    if (!lua_isnoneornil(L, 2))
        step = app_lua_check_int(L, 2, FN, "step", 0, LUA_MAXINTEGER);
    else
        step++;
    touch_model(L);
    enum nncw_status s = nncw_compression_step(c, step);
    return s == NNCW_OK ? 0 : app_lua_fail(L, FN, s);
}

/* c:compression_rate() -> rate; c:compression_rate(rate) sets it (sparsity: the level) */
static int m_compression_rate(lua_State *L)
{
    static const char FN[] = "Compression:compression_rate";
    struct nncw_compression *c = app_lua_check_compression(L, 1, FN, "self");
    enum nncw_status s;
    if (!lua_isnoneornil(L, 2)) {
        float rate = (float)app_lua_check_number(L, 2, FN, "rate", 0.0, 1.0);
        touch_model(L);
        s = nncw_compression_set_rate(c, rate);
        return s == NNCW_OK ? 0 : app_lua_fail(L, FN, s);
    }
    float rate;
    s = nncw_compression_get_rate(c, &rate);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    lua_pushnumber(L, rate);
    return 1;
}

/* c:disable_scheduler(): from now on epoch_step/step leave the levels alone */
static int m_disable_scheduler(lua_State *L)
{
    nncw_compression_disable_scheduler(
        app_lua_check_compression(L, 1, "Compression:disable_scheduler", "self"));
    return 0;
}

/* c:scheduler() -> {current_epoch = , current_step = , disabled = } (-1: not stepped yet) */
static int m_scheduler(lua_State *L)
{
    struct nncw_compression *c = app_lua_check_compression(L, 1, "Compression:scheduler", "self");
    int epoch;
    int64_t step;
    nncw_compression_get_scheduler_position(c, &epoch, &step);
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, epoch);
    lua_setfield(L, -2, "current_epoch");
    lua_pushinteger(L, step);
    lua_setfield(L, -2, "current_step");
    lua_pushboolean(L, nncw_compression_is_scheduler_disabled(c));
    lua_setfield(L, -2, "disabled");
    return 1;
}

/* c:state() -> the compression state as JSON text (what checkpoints store) */
static int m_state(lua_State *L)
{
    static const char FN[] = "Compression:state";
    struct nncw_compression *c = app_lua_check_compression(L, 1, FN, "self");
    char *json;
    enum nncw_status s = nncw_compression_get_state(c, &json);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    lua_pushstring(L, json);
    nncw_free(json);
    return 1;
}

/* c:set_state(json): restores a state from a compression built from the same config */
static int m_set_state(lua_State *L)
{
    static const char FN[] = "Compression:set_state";
    struct nncw_compression *c = app_lua_check_compression(L, 1, FN, "self");
    const char *json = app_lua_check_string(L, 2, FN, "state");
    touch_model(L);
    enum nncw_status s = nncw_compression_set_state(c, json);
    return s == NNCW_OK ? 0 : app_lua_fail(L, FN, s);
}

const luaL_Reg app_lua_compression_state_methods[] = {
    {"epoch_step", m_epoch_step},
    {"step", m_step},
    {"compression_rate", m_compression_rate},
    {"disable_scheduler", m_disable_scheduler},
    {"scheduler", m_scheduler},
    {"state", m_state},
    {"set_state", m_set_state},
    {NULL, NULL},
};
