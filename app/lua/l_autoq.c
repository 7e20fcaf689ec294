/* AutoQ from Lua: Compression:autoq{...} makes an AutoQ search object (nncw.AutoQ) over the
 * Compression's quantizers; it runs episode by episode with a callback, stops and resumes,
 * reports its best policy and applies it. The Compression and the evaluation data set are kept
 * alive as the AutoQ's user values. */
#include "l_autoq.h"

#include <stdlib.h>
#include <string.h>

#include "compression/autoq/autoq.h"
#include "l_precision.h"
#include "lnncw.h"
#include "search_board.h"

#define APP_LUA_AUTOQ "nncw.AutoQ"
#define APP_LUA_COMPRESSION "nncw.Compression"

enum { UV_COMPRESSION = 1, UV_DATA, UV_COUNT = UV_DATA };

struct autoq_box {
    struct nncw_autoq *q; /* NULL: closed */
};

/* whether the Compression this search belongs to is still open (its box starts with the
 * engine pointer, NULL once closed) */
static bool compression_open(lua_State *L, int idx)
{
    lua_getiuservalue(L, idx, UV_COMPRESSION);
    struct nncw_compression **c = luaL_testudata(L, -1, APP_LUA_COMPRESSION);
    bool open = c && *c;
    lua_pop(L, 1);
    return open;
}

static struct autoq_box *check_autoq(lua_State *L, int idx, const char *fn)
{
    struct autoq_box *b = app_lua_check_box(L, idx, APP_LUA_AUTOQ, fn, "self", "an AutoQ");
    if (!b->q)
        app_lua_closed_error(L, fn, "AutoQ");
    if (!compression_open(L, idx))
        nncw_autoq_detach(b->q);
    return b;
}

static void push_bits(lua_State *L, const struct nncw_autoq *q, const int *bits)
{
    int n = nncw_autoq_count_steps(q);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushinteger(L, bits[i]);
        lua_rawseti(L, -2, i + 1);
    }
}

static void push_episode(lua_State *L, const struct nncw_autoq *q,
                         const struct nncw_autoq_episode *e)
{
    lua_createtable(L, 0, 7);
    lua_pushinteger(L, e->episode);
    lua_setfield(L, -2, "episode");
    lua_pushboolean(L, e->warmup);
    lua_setfield(L, -2, "warmup");
    lua_pushnumber(L, e->accuracy);
    lua_setfield(L, -2, "accuracy");
    lua_pushnumber(L, e->reward);
    lua_setfield(L, -2, "reward");
    lua_pushnumber(L, e->ratio);
    lua_setfield(L, -2, "ratio");
    lua_pushboolean(L, e->best);
    lua_setfield(L, -2, "best");
    push_bits(L, q, e->bits);
    lua_setfield(L, -2, "bits");
}

/* ---- the search board (what the workbench's Search panel shows) ---- */

static void publish_begin(struct nncw_autoq *q, const struct nncw_compression *c, int total)
{
    int n = nncw_autoq_count_steps(q);
    const char **ids = calloc((size_t)(n ? n : 1), sizeof *ids);
    bool *weight = calloc((size_t)(n ? n : 1), sizeof *weight);
    if (ids && weight) {
        for (int i = 0; i < n; i++) {
            ids[i] = nncw_autoq_get_step_name(q, i);
            weight[i] = ids[i] && strstr(ids[i], "|WEIGHT") != NULL;
        }
        search_board_autoq_begin(q, c, n, ids, weight, total);
    }
    free(ids);
    free(weight);
}

static void publish_episode(struct nncw_autoq *q, const struct nncw_autoq_episode *e)
{
    struct search_episode r = {.episode = e->episode,
                               .warmup = e->warmup,
                               .best = e->best,
                               .accuracy = e->accuracy,
                               .reward = e->reward,
                               .ratio = e->ratio};
    search_board_autoq_episode(q, &r, e->bits, nncw_autoq_get_best(q, NULL));
}

/* the candidate bits list of options.bits */
static void opt_bits(lua_State *L, int opts, const char *fn, struct nncw_autoq_options *o)
{
    if (!lua_istable(L, opts) || lua_getfield(L, opts, "bits") == LUA_TNIL) {
        if (lua_istable(L, opts))
            lua_pop(L, 1);
        return;
    }
    if (!lua_istable(L, -1))
        luaL_error(L, "%s: option 'bits' must be a list of bit widths", fn);
    int n = (int)luaL_len(L, -1);
    if (n < 1 || n > NNCW_AUTOQ_MAX_BITS)
        luaL_error(L, "%s: option 'bits' needs 1 to %d bit widths", fn, NNCW_AUTOQ_MAX_BITS);
    for (int i = 0; i < n; i++) {
        lua_rawgeti(L, -1, i + 1);
        if (!lua_isinteger(L, -1))
            luaL_error(L, "%s: option 'bits'[%d] is not an integer", fn, i + 1);
        o->bits[i] = (int)lua_tointeger(L, -1);
        lua_pop(L, 1);
    }
    o->n_bits = n;
    lua_pop(L, 1);
}

/* c:autoq{data = ds, episodes = 30, warmup = 10, ratio = 0.15, bits = {2, 4, 8},
 *         eval_subset_ratio = 1, batch = 64, seed = 528, hidden = 300} -> AutoQ */
static int m_autoq(lua_State *L)
{
    static const char FN[] = "Compression:autoq";
    static const char *const known[] = {
        "data",  "episodes", "warmup", "ratio", "bits", "eval_subset_ratio",
        "batch", "seed",     "hidden", NULL};
    struct nncw_compression *c = app_lua_check_compression(L, 1, FN, "self");
    luaL_checktype(L, 2, LUA_TTABLE);
    app_lua_check_options(L, 2, FN, known);
    /* the config's initializer.precision (type autoq) gives the defaults when it has one */
    struct nncw_autoq_options o = nncw_autoq_defaults();
    double subset_default = 1.0;
    bool from_config = false;
    lua_getiuservalue(L, 1, 2); /* the Compression's config, its second user value */
    struct nncw_config *cfg = app_lua_check_config(L, -1, FN, "self's config");
    lua_pop(L, 1);
    app_lua_precision_need_choice(L, cfg, FN);
    enum nncw_status cs = nncw_autoq_options_from_config(cfg, &o, &subset_default, &from_config);
    if (cs != NNCW_OK)
        return app_lua_fail(L, FN, cs);
    o.episodes = (int)app_lua_opt_int(L, 2, FN, "episodes",
                                      from_config && o.episodes > 0 ? o.episodes : 30, 0, 1000000);
    o.warmup = (int)app_lua_opt_int(L, 2, FN, "warmup", o.warmup, 0, 1000000);
    o.compression_ratio =
        app_lua_opt_number(L, 2, FN, "ratio", o.compression_ratio, 1e-6, 1.0);
    o.seed = (uint64_t)app_lua_opt_int(L, 2, FN, "seed", (lua_Integer)o.seed, 0, LUA_MAXINTEGER);
    o.hidden = (int)app_lua_opt_int(L, 2, FN, "hidden", o.hidden, 1, 4096);
    double subset =
        app_lua_opt_number(L, 2, FN, "eval_subset_ratio", subset_default, 1e-9, 1.0);
    int batch = (int)app_lua_opt_int(L, 2, FN, "batch", 64, 1, 65536);
    opt_bits(L, 2, FN, &o);
    if (lua_getfield(L, 2, "data") == LUA_TNIL)
        return luaL_error(L, "%s: option 'data' (the evaluation data set) is required", FN);
    struct app_lua_dataset *ds = app_lua_check_dataset(L, -1, FN, "data");
    int data_idx = lua_gettop(L);
    lua_getiuservalue(L, 1, 1); /* the Compression's model, its first user value */
    struct app_lua_graph *g = app_lua_check_graph(L, -1, FN, "self's model");
    lua_pop(L, 1);
    struct autoq_box *b = lua_newuserdatauv(L, sizeof *b, UV_COUNT);
    b->q = NULL;
    luaL_setmetatable(L, APP_LUA_AUTOQ);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, UV_COMPRESSION);
    lua_pushvalue(L, data_idx);
    lua_setiuservalue(L, -2, UV_DATA);
    enum nncw_status s = nncw_autoq_new_for_compression(g->g, c, ds->ds, subset, batch, &o, &b->q);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    publish_begin(b->q, c, o.episodes);
    return 1;
}

/* q:step() -> episode table, or nil when every episode has run */
static int m_step(lua_State *L)
{
    static const char FN[] = "AutoQ:step";
    struct autoq_box *b = check_autoq(L, 1, FN);
    if (nncw_autoq_is_done(b->q)) {
        lua_pushnil(L);
        return 1;
    }
    struct nncw_autoq_episode e;
    enum nncw_status s = nncw_autoq_run_episode(b->q, &e);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    publish_episode(b->q, &e);
    push_episode(L, b->q, &e);
    return 1;
}

/* q:run([fn[, max]]) -> episodes run; fn(episode) returning false stops, and at most max
 * episodes run (q:run again resumes) */
static int m_run(lua_State *L)
{
    static const char FN[] = "AutoQ:run";
    struct autoq_box *b = check_autoq(L, 1, FN);
    bool has_fn = !lua_isnoneornil(L, 2);
    if (has_fn)
        luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_Integer max = lua_isnoneornil(L, 3) ? LUA_MAXINTEGER
                                            : app_lua_check_int(L, 3, FN, "max", 0, LUA_MAXINTEGER);
    int ran = 0;
    while (!nncw_autoq_is_done(b->q) && ran < max) {
        if (app_lua_interrupt_pending()) {
            app_lua_interrupt_take(L);
            return luaL_error(L,
                              "%s: interrupted after %d episodes (the best policy is kept; "
                              "run again to resume)",
                              FN, ran);
        }
        struct nncw_autoq_episode e;
        enum nncw_status s = nncw_autoq_run_episode(b->q, &e);
        if (s != NNCW_OK)
            return app_lua_fail(L, FN, s);
        publish_episode(b->q, &e);
        ran++;
        if (!has_fn)
            continue;
        lua_pushvalue(L, 2);
        push_episode(L, b->q, &e);
        lua_call(L, 1, 1);
        bool stop = lua_isboolean(L, -1) && !lua_toboolean(L, -1);
        lua_pop(L, 1);
        if (stop)
            break;
    }
    lua_pushinteger(L, ran);
    return 1;
}

/* q:best() -> {episode, accuracy, reward, ratio, bits} or nil before the first episode */
static int m_best(lua_State *L)
{
    struct autoq_box *b = app_lua_check_box(L, 1, APP_LUA_AUTOQ, "AutoQ:best", "self", "an AutoQ");
    if (!b->q)
        return app_lua_closed_error(L, "AutoQ:best", "AutoQ");
    struct nncw_autoq_episode e;
    if (!nncw_autoq_get_best(b->q, &e)) {
        lua_pushnil(L);
        return 1;
    }
    push_episode(L, b->q, &e);
    return 1;
}

/* q:quantizers() -> the quantizer ids, one per step, in the order of the bits lists */
static int m_quantizers(lua_State *L)
{
    struct autoq_box *b = check_autoq(L, 1, "AutoQ:quantizers");
    int n = nncw_autoq_count_steps(b->q);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushstring(L, nncw_autoq_get_step_name(b->q, i));
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* q:random_baseline([k = 5[, seed]]) -> mean accuracy of k random policies of the same ratio */
static int m_random_baseline(lua_State *L)
{
    static const char FN[] = "AutoQ:random_baseline";
    struct autoq_box *b = check_autoq(L, 1, FN);
    int k = lua_isnoneornil(L, 2) ? 5 : (int)app_lua_check_int(L, 2, FN, "k", 1, 1000);
    uint64_t seed = lua_isnoneornil(L, 3)
                        ? 1
                        : (uint64_t)app_lua_check_int(L, 3, FN, "seed", 0, LUA_MAXINTEGER);
    double mean;
    enum nncw_status s = nncw_autoq_random_baseline(b->q, k, seed, &mean);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    lua_pushnumber(L, mean);
    return 1;
}

/* q:apply([bits]) applies bits (default: the best policy) to the Compression */
static int m_apply(lua_State *L)
{
    static const char FN[] = "AutoQ:apply";
    struct autoq_box *b = check_autoq(L, 1, FN);
    int n = nncw_autoq_count_steps(b->q);
    lua_settop(L, 2); /* the scratch below goes to index 3 */
    int *bits = lua_newuserdatauv(L, (size_t)n * sizeof *bits, 0); /* freed by the GC */
    if (lua_isnoneornil(L, 2)) {
        const int *best = nncw_autoq_get_best(b->q, NULL);
        if (!best)
            return luaL_error(L, "%s: no episode has run yet", FN);
        memcpy(bits, best, (size_t)n * sizeof *bits);
    } else {
        luaL_checktype(L, 2, LUA_TTABLE);
        if (luaL_len(L, 2) != n)
            return luaL_error(L, "%s: argument 'bits' needs %d entries, got %d", FN, n,
                              (int)luaL_len(L, 2));
        for (int i = 0; i < n; i++) {
            lua_rawgeti(L, 2, i + 1);
            if (!lua_isinteger(L, -1))
                return luaL_error(L, "%s: argument 'bits'[%d] is not an integer", FN, i + 1);
            bits[i] = (int)lua_tointeger(L, -1);
            lua_pop(L, 1);
        }
    }
    enum nncw_status s = nncw_autoq_apply(b->q, bits);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    if (lua_isnoneornil(L, 2))
        search_board_autoq_applied(b->q);
    return 0;
}

/* q:done() -> whether every episode has run; q:episodes() -> how many have */
static int m_done(lua_State *L)
{
    lua_pushboolean(L, nncw_autoq_is_done(check_autoq(L, 1, "AutoQ:done")->q));
    return 1;
}

static int m_episodes(lua_State *L)
{
    lua_pushinteger(L, nncw_autoq_count_episodes_run(check_autoq(L, 1, "AutoQ:episodes")->q));
    return 1;
}

static int m_close(lua_State *L)
{
    struct autoq_box *b = luaL_checkudata(L, 1, APP_LUA_AUTOQ);
    if (b->q) {
        if (!compression_open(L, 1))
            nncw_autoq_detach(b->q);
        nncw_autoq_free(b->q);
        b->q = NULL;
    }
    return 0;
}

static int m_tostring(lua_State *L)
{
    struct autoq_box *b = luaL_checkudata(L, 1, APP_LUA_AUTOQ);
    if (!b->q)
        lua_pushstring(L, "AutoQ (closed)");
    else
        lua_pushfstring(L, "AutoQ: %d quantizers, %d episodes run%s", nncw_autoq_count_steps(b->q),
                        nncw_autoq_count_episodes_run(b->q),
                        nncw_autoq_is_done(b->q) ? " (done)" : "");
    return 1;
}

static const luaL_Reg methods[] = {
    {"step", m_step},
    {"run", m_run},
    {"best", m_best},
    {"quantizers", m_quantizers},
    {"random_baseline", m_random_baseline},
    {"apply", m_apply},
    {"done", m_done},
    {"episodes", m_episodes},
    {"close", m_close},
    {NULL, NULL},
};

static const luaL_Reg meta[] = {
    {"__gc", m_close},
    {"__close", m_close},
    {"__tostring", m_tostring},
    {NULL, NULL},
};

const luaL_Reg app_lua_autoq_methods[] = {
    {"autoq", m_autoq},
    {NULL, NULL},
};

void app_lua_autoq_register(lua_State *L)
{
    app_lua_new_class(L, APP_LUA_AUTOQ, methods, meta, NULL);
    lua_pop(L, 1);
}
