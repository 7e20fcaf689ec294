/* AutoQ on the Compression userdata (l_compression.c registers these): Compression:autoq makes
 * an nncw.AutoQ search object (l_autoq.c). */
#pragma once

#include <lauxlib.h>
#include <lua.h>

/* methods merged into Compression's method table */
extern const luaL_Reg app_lua_autoq_methods[];
/* creates the nncw.AutoQ metatable */
void app_lua_autoq_register(lua_State *L);
