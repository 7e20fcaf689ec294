/* Mixed precision on the Compression userdata (l_compression.c registers these): HAWQ's traces,
 * curve and chosen point, picking and pinning, saved traces, the bit-FLOPs ratio; and the
 * progress callback nncw.compression.create passes to HAWQ. */
#pragma once

#include <stdbool.h>

#include <lauxlib.h>
#include <lua.h>

#include "compression/compression.h"

/* methods merged into Compression's method table */
extern const luaL_Reg app_lua_precision_methods[];

/* a Lua function called as fn(iteration, iter_number, mean_trace); returning false stops */
struct app_lua_progress {
    lua_State *L;
    int fn; /* stack index of the function, 0: none */
    bool failed;
    char error[512];
};

/* when the options table at opts has a "progress" function, points init at a trampoline that
 * calls it through p (which must outlive the create call) */
void app_lua_precision_progress_setup(lua_State *L, int opts, const char *fn,
                                      struct app_lua_progress *p,
                                      struct nncw_compression_init *init);

/* publishes what c's HAWQ solved (layers, traces, curve, chosen point) to the Search panel's
 * board; without a HAWQ result, the board forgets any it holds for c's address.
 * nncw.compression.create calls it once, so the workbench shows what the initializer solved
 * without a second read */
void app_lua_precision_publish(struct nncw_compression *c);

/* the weight bit widths the config's target device allows (its hardware config; TRIAL: 2..8),
 * ascending into bits[max]; returns how many. Raises (naming fn) when the hardware config
 * cannot be read. Mixed precision needs at least two */
int app_lua_precision_device_bits(lua_State *L, const struct nncw_config *cfg, const char *fn,
                                  int *bits, int max);
/* raises "fn: the target device X allows only N-bit weights: ..." unless it allows two */
void app_lua_precision_need_choice(lua_State *L, const struct nncw_config *cfg, const char *fn);
