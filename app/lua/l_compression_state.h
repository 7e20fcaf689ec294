/* NNCF's scheduler API and the compression state on the Compression userdata (merged into its
 * methods by l_compression.c; l_compression_state.c). */
#pragma once

#include <lauxlib.h>
#include <lua.h>

extern const luaL_Reg app_lua_compression_state_methods[];
