/* nncw.checkpoint: a model's weights (and buffers) to and from a file, written atomically. */
#include "lnncw.h"

#include "checkpoint/checkpoint.h"

static int l_save(lua_State *L)
{
    static const char FN[] = "nncw.checkpoint.save";
    struct app_lua_graph *g = app_lua_check_graph(L, 1, FN, "model");
    const char *path = app_lua_check_string(L, 2, FN, "path");
    enum nncw_status s = nncw_checkpoint_save(g->g, path);
    return s == NNCW_OK ? 0 : app_lua_fail(L, FN, s);
}

static int l_load(lua_State *L)
{
    static const char FN[] = "nncw.checkpoint.load";
    struct app_lua_graph *g = app_lua_check_graph(L, 1, FN, "model");
    const char *path = app_lua_check_string(L, 2, FN, "path");
    if (g->busy)
        return luaL_error(L, "%s: argument 'model' is being trained", FN);
    enum nncw_status s = nncw_checkpoint_load(g->g, path);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    lua_settop(L, 1);
    return 1;
}

static const luaL_Reg functions[] = {
    {"save", l_save},
    {"load", l_load},
    {NULL, NULL},
};

int luaopen_nncw_checkpoint(lua_State *L)
{
    luaL_newlib(L, functions);
    return 1;
}
