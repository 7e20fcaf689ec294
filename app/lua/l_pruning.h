/* Filter pruning on the Compression userdata (l_compression.c registers these): the groups of
 * filters pruned together, excluding a group, the target, FLOPs/parameters now and pruned,
 * setting the rate, and the shrunk model (a new Graph, or an ONNX file). */
#pragma once

#include <lauxlib.h>
#include <lua.h>

/* methods merged into Compression's method table */
extern const luaL_Reg app_lua_pruning_methods[];
