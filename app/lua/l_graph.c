/* nncw.graph: Graph and Node userdata: inspection (scopes, ops, attributes, shapes, parameter
 * counts, FLOPs), scope search, producers/consumers, parameters as tensors, forward. */
#include "lnncw.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "graph/exec.h"
#include "graph/inspect.h"

struct node_box {
    int index; /* node index in the graph held in the user value */
};

/* ---- graph boxes ---- */

struct app_lua_graph *app_lua_new_graph(lua_State *L)
{
    struct app_lua_graph *box = lua_newuserdatauv(L, sizeof *box, 0);
    memset(box, 0, sizeof *box);
    luaL_setmetatable(L, APP_LUA_GRAPH);
    return box;
}

struct app_lua_graph *app_lua_check_graph(lua_State *L, int idx, const char *fn, const char *arg)
{
    struct app_lua_graph *box = app_lua_check_box(L, idx, APP_LUA_GRAPH, fn, arg, "a Graph");
    if (!box->g)
        app_lua_closed_error(L, fn, "Graph");
    return box;
}

void app_lua_graph_touch(struct app_lua_graph *b)
{
    b->shapes_batch1 = false;
}

void app_lua_graph_shapes(lua_State *L, struct app_lua_graph *b, const char *fn)
{
    if (b->shapes_batch1)
        return;
    enum nncw_status s = nncw_graph_infer_shapes(b->g, 1);
    if (s != NNCW_OK)
        app_lua_fail(L, fn, s);
    b->shapes_batch1 = true;
}

/* the graph with shapes at batch 1, for inspection methods */
static struct app_lua_graph *inspect_graph(lua_State *L, int idx, const char *fn)
{
    struct app_lua_graph *b = app_lua_check_graph(L, idx, fn, "self");
    app_lua_graph_shapes(L, b, fn);
    return b;
}

static void push_value_shape(lua_State *L, const struct nncw_graph *g, int id)
{
    const struct nncw_tensor *t = nncw_graph_get_value_tensor(g, id);
    app_lua_push_shape(L, t->ndim, t->shape);
}

/* ---- nodes ---- */

/* pushes a Node for index i of the graph at stack index gidx */
static void push_node(lua_State *L, int gidx, int i)
{
    gidx = lua_absindex(L, gidx);
    struct node_box *box = lua_newuserdatauv(L, sizeof *box, 1);
    box->index = i;
    luaL_setmetatable(L, APP_LUA_NODE);
    lua_pushvalue(L, gidx);
    lua_setiuservalue(L, -2, 1);
}

/* the node at idx and its graph (shapes at batch 1); pushes the graph userdata */
static const struct nncw_node *check_node(lua_State *L, int idx, const char *fn,
                                          struct app_lua_graph **gb)
{
    struct node_box *box = app_lua_check_box(L, idx, APP_LUA_NODE, fn, "self", "a Node");
    lua_getiuservalue(L, idx, 1);
    *gb = lua_touserdata(L, -1);
    if (!(*gb)->g)
        app_lua_closed_error(L, fn, "Graph of this Node");
    app_lua_graph_shapes(L, *gb, fn);
    return nncw_graph_get_node((*gb)->g, box->index);
}

static const char *kind_name(enum nncw_value_kind k)
{
    return k == NNCW_VALUE_INPUT ? "input" : k == NNCW_VALUE_PARAM ? "param" : "activation";
}

/* {name=, kind=, shape=, trainable=} for value id */
static void push_value_info(lua_State *L, const struct nncw_graph *g, int id)
{
    lua_createtable(L, 0, 4);
    lua_pushstring(L, nncw_graph_get_value_name(g, id));
    lua_setfield(L, -2, "name");
    lua_pushstring(L, kind_name(nncw_graph_get_value_kind(g, id)));
    lua_setfield(L, -2, "kind");
    push_value_shape(L, g, id);
    lua_setfield(L, -2, "shape");
    lua_pushboolean(L, nncw_graph_is_trainable(g, id));
    lua_setfield(L, -2, "trainable");
}

static void push_attr(lua_State *L, const struct nncw_node *n, int i)
{
    const char *name = nncw_node_get_attr_name(n, i);
    const int64_t *ints;
    const float *floats;
    int count;
    switch (nncw_node_get_attr_type(n, i)) {
    case NNCW_ATTR_INT:
        lua_pushinteger(L, (lua_Integer)nncw_node_get_attr_int(n, name, 0));
        break;
    case NNCW_ATTR_FLOAT:
        lua_pushnumber(L, nncw_node_get_attr_float(n, name, 0));
        break;
    case NNCW_ATTR_INTS:
        count = nncw_node_get_attr_ints(n, name, &ints);
        app_lua_push_shape(L, count, ints);
        break;
    case NNCW_ATTR_FLOATS:
        count = nncw_node_get_attr_floats(n, name, &floats);
        lua_createtable(L, count, 0);
        for (int k = 0; k < count; k++) {
            lua_pushnumber(L, floats[k]);
            lua_rawseti(L, -2, k + 1);
        }
        break;
    default:
        lua_pushstring(L, nncw_node_get_attr_string(n, name, ""));
        break;
    }
}

/* node properties: pushed by name from __index */
static bool push_node_prop(lua_State *L, const struct nncw_graph *g, const struct nncw_node *n,
                           const char *key)
{
    if (strcmp(key, "scope") == 0) {
        lua_pushstring(L, nncw_node_get_name(n));
    } else if (strcmp(key, "op") == 0) {
        lua_pushstring(L, nncw_op_name(nncw_node_get_op(n)));
    } else if (strcmp(key, "index") == 0) {
        lua_pushinteger(L, nncw_node_get_index(n) + 1);
    } else if (strcmp(key, "attrs") == 0) {
        lua_createtable(L, 0, nncw_node_count_attrs(n));
        for (int i = 0; i < nncw_node_count_attrs(n); i++) {
            push_attr(L, n, i);
            lua_setfield(L, -2, nncw_node_get_attr_name(n, i));
        }
    } else if (strcmp(key, "inputs") == 0 || strcmp(key, "input_shapes") == 0) {
        bool info = strcmp(key, "inputs") == 0;
        lua_newtable(L);
        for (int i = 0, k = 0; i < nncw_node_count_inputs(n); i++) {
            int id = nncw_node_get_input(n, i);
            if (id < 0)
                continue;
            if (info)
                push_value_info(L, g, id);
            else
                push_value_shape(L, g, id);
            lua_rawseti(L, -2, ++k);
        }
    } else if (strcmp(key, "outputs") == 0 || strcmp(key, "output_shapes") == 0) {
        bool info = strcmp(key, "outputs") == 0;
        lua_newtable(L);
        for (int i = 0; i < nncw_node_count_outputs(n); i++) {
            int id = nncw_node_get_output(n, i);
            if (info)
                push_value_info(L, g, id);
            else
                push_value_shape(L, g, id);
            lua_rawseti(L, -2, i + 1);
        }
    } else if (strcmp(key, "params") == 0) {
        lua_pushinteger(L, (lua_Integer)nncw_node_count_param_elements(g, n));
    } else if (strcmp(key, "flops") == 0) {
        lua_pushinteger(L, (lua_Integer)nncw_node_count_flops(g, n));
    } else if (strcmp(key, "macs") == 0) {
        lua_pushinteger(L, (lua_Integer)nncw_node_count_macs(g, n));
    } else {
        return false;
    }
    return true;
}

static const char *const node_fields[] = {"scope",  "op",           "index",   "attrs",
                                          "inputs", "input_shapes", "outputs", "output_shapes",
                                          "params", "flops",        "macs",    NULL};

static int l_node_index(lua_State *L)
{
    if (luaL_getmetafield(L, 1, "__methods") == LUA_TTABLE && lua_type(L, 2) == LUA_TSTRING &&
        lua_getfield(L, -1, lua_tostring(L, 2)) != LUA_TNIL)
        return 1;
    if (lua_type(L, 2) != LUA_TSTRING)
        return 0;
    struct app_lua_graph *gb;
    const struct nncw_node *n = check_node(L, 1, "nncw.Node", &gb);
    return push_node_prop(L, gb->g, n, lua_tostring(L, 2)) ? 1 : 0;
}

/* producers(): the nodes whose outputs this node reads, in input order, without repeats */
static int l_node_producers(lua_State *L)
{
    struct app_lua_graph *gb;
    const struct nncw_node *n = check_node(L, 1, "nncw.Node:producers", &gb);
    int gidx = lua_gettop(L);
    lua_newtable(L);
    int k = 0, seen[64], n_seen = 0;
    for (int i = 0; i < nncw_node_count_inputs(n); i++) {
        int id = nncw_node_get_input(n, i);
        const struct nncw_node *p = id >= 0 ? nncw_graph_get_producer(gb->g, id) : NULL;
        if (!p)
            continue;
        int pi = nncw_node_get_index(p);
        bool dup = false;
        for (int j = 0; j < n_seen; j++)
            dup = dup || seen[j] == pi;
        if (dup)
            continue;
        if (n_seen < 64)
            seen[n_seen++] = pi;
        push_node(L, gidx, pi);
        lua_rawseti(L, -2, ++k);
    }
    return 1;
}

/* consumers(): the nodes reading any output of this node, in node order */
static int l_node_consumers(lua_State *L)
{
    static const char FN[] = "nncw.Node:consumers";
    struct app_lua_graph *gb;
    const struct nncw_node *n = check_node(L, 1, FN, &gb);
    int gidx = lua_gettop(L), total = nncw_graph_count_nodes(gb->g);
    char *mark = lua_newuserdatauv(L, (size_t)total + 1, 0); /* collected by Lua */
    memset(mark, 0, (size_t)total + 1);
    for (int o = 0; o < nncw_node_count_outputs(n); o++) {
        int id = nncw_node_get_output(n, o);
        int count = nncw_graph_find_consumers(gb->g, id, NULL, 0);
        int *users = lua_newuserdatauv(L, sizeof(int) * (size_t)(count + 1), 0);
        nncw_graph_find_consumers(gb->g, id, users, count);
        for (int k = 0; k < count; k++)
            mark[users[k]] = 1;
        lua_pop(L, 1);
    }
    lua_newtable(L);
    for (int i = 0, k = 0; i < total; i++)
        if (mark[i]) {
            push_node(L, gidx, i);
            lua_rawseti(L, -2, ++k);
        }
    return 1;
}

/* weights(): {name = Tensor} of the node's parameter inputs (views sharing storage) */
static int l_node_weights(lua_State *L)
{
    static const char FN[] = "nncw.Node:weights";
    struct app_lua_graph *gb;
    const struct nncw_node *n = check_node(L, 1, FN, &gb);
    lua_newtable(L);
    for (int i = 0; i < nncw_node_count_inputs(n); i++) {
        int id = nncw_node_get_input(n, i);
        if (id < 0 || nncw_graph_get_value_kind(gb->g, id) != NNCW_VALUE_PARAM)
            continue;
        app_lua_push_tensor(L, nncw_graph_get_value_tensor(gb->g, id), FN);
        lua_setfield(L, -2, nncw_graph_get_value_name(gb->g, id));
    }
    return 1;
}

static void push_shapes_str(lua_State *L, const struct nncw_graph *g, const struct nncw_node *n)
{
    int id = nncw_node_get_input(n, 0);
    const struct nncw_tensor *in = id >= 0 ? nncw_graph_get_value_tensor(g, id) : NULL;
    const struct nncw_tensor *out = nncw_graph_get_value_tensor(g, nncw_node_get_output(n, 0));
    app_lua_push_shape_str(L, in ? in->ndim : 0, in ? in->shape : NULL);
    app_lua_push_shape_str(L, out->ndim, out->shape);
    lua_pushfstring(L, "%s -> %s", lua_tostring(L, -2), lua_tostring(L, -1));
    lua_replace(L, -3);
    lua_pop(L, 1);
}

static int l_node_tostring(lua_State *L)
{
    struct node_box *box = luaL_checkudata(L, 1, APP_LUA_NODE);
    lua_getiuservalue(L, 1, 1);
    struct app_lua_graph *gb = lua_touserdata(L, -1);
    if (!gb->g) {
        lua_pushliteral(L, "Node (of a closed Graph)");
        return 1;
    }
    app_lua_graph_shapes(L, gb, "nncw.Node:__tostring");
    const struct nncw_node *n = nncw_graph_get_node(gb->g, box->index);
    push_shapes_str(L, gb->g, n);
    lua_pushfstring(L, "Node %d %s '%s'  %s  %I params  %I FLOPs", box->index + 1,
                    nncw_op_name(nncw_node_get_op(n)), nncw_node_get_name(n), lua_tostring(L, -1),
                    (LUAI_UACINT)nncw_node_count_param_elements(gb->g, n),
                    (LUAI_UACINT)nncw_node_count_flops(gb->g, n));
    return 1;
}

static int l_node_eq(lua_State *L)
{
    struct node_box *a = luaL_checkudata(L, 1, APP_LUA_NODE);
    struct node_box *b = luaL_checkudata(L, 2, APP_LUA_NODE);
    lua_getiuservalue(L, 1, 1);
    lua_getiuservalue(L, 2, 1);
    lua_pushboolean(L, a->index == b->index && lua_rawequal(L, -1, -2));
    return 1;
}

/* ---- graph methods ---- */

static int l_nodes(lua_State *L)
{
    struct app_lua_graph *b = app_lua_check_graph(L, 1, "nncw.Graph:nodes", "self");
    int n = nncw_graph_count_nodes(b->g);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        push_node(L, 1, i);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int l_find(lua_State *L)
{
    static const char FN[] = "nncw.Graph:find";
    struct app_lua_graph *b = app_lua_check_graph(L, 1, FN, "self");
    const char *pattern = app_lua_check_string(L, 2, FN, "pattern");
    lua_newtable(L);
    for (int i = 0, k = 0; i < nncw_graph_count_nodes(b->g); i++) {
        bool match;
        enum nncw_status s =
            nncw_scope_matches(pattern, nncw_node_get_name(nncw_graph_get_node(b->g, i)), &match);
        if (s != NNCW_OK)
            return app_lua_fail(L, FN, s);
        if (match) {
            push_node(L, 1, i);
            lua_rawseti(L, -2, ++k);
        }
    }
    return 1;
}

static int l_node(lua_State *L)
{
    static const char FN[] = "nncw.Graph:node";
    struct app_lua_graph *b = app_lua_check_graph(L, 1, FN, "self");
    struct nncw_node *n;
    enum nncw_status s = nncw_graph_find_node(b->g, app_lua_check_string(L, 2, FN, "scope"), &n);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    push_node(L, 1, nncw_node_get_index(n));
    return 1;
}

static int push_io(lua_State *L, const char *fn, bool inputs)
{
    struct app_lua_graph *b = inspect_graph(L, 1, fn);
    int n = inputs ? nncw_graph_count_inputs(b->g) : nncw_graph_count_outputs(b->g);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        int id = inputs ? nncw_graph_get_input(b->g, i) : nncw_graph_get_output(b->g, i);
        push_value_info(L, b->g, id);
        lua_pushstring(L, nncw_dtype_name(nncw_graph_get_value_tensor(b->g, id)->dtype));
        lua_setfield(L, -2, "dtype");
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int l_inputs(lua_State *L)
{
    return push_io(L, "nncw.Graph:inputs", true);
}

static int l_outputs(lua_State *L)
{
    return push_io(L, "nncw.Graph:outputs", false);
}

static int l_params(lua_State *L)
{
    static const char FN[] = "nncw.Graph:params";
    struct app_lua_graph *b = app_lua_check_graph(L, 1, FN, "self");
    int n = nncw_graph_count_params(b->g);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        int id = nncw_graph_get_param(b->g, i);
        push_value_info(L, b->g, id);
        app_lua_push_tensor(L, nncw_graph_get_value_tensor(b->g, id), FN);
        lua_setfield(L, -2, "tensor");
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int l_param(lua_State *L)
{
    static const char FN[] = "nncw.Graph:param";
    struct app_lua_graph *b = app_lua_check_graph(L, 1, FN, "self");
    const char *name = app_lua_check_string(L, 2, FN, "name");
    for (int i = 0; i < nncw_graph_count_params(b->g); i++) {
        int id = nncw_graph_get_param(b->g, i);
        if (strcmp(nncw_graph_get_value_name(b->g, id), name) == 0) {
            app_lua_push_tensor(L, nncw_graph_get_value_tensor(b->g, id), FN);
            return 1;
        }
    }
    return luaL_error(L, "%s: no parameter named '%s'", FN, name);
}

static int l_count_params(lua_State *L)
{
    struct app_lua_graph *b = app_lua_check_graph(L, 1, "nncw.Graph:count_params", "self");
    lua_pushinteger(L, (lua_Integer)nncw_graph_count_param_elements(b->g));
    return 1;
}

/* flops(): FLOPs and multiply-accumulates of one sample's forward pass */
static int l_flops(lua_State *L)
{
    static const char FN[] = "nncw.Graph:flops";
    struct app_lua_graph *b = app_lua_check_graph(L, 1, FN, "self");
    int64_t macs, flops;
    app_lua_graph_touch(b);
    enum nncw_status s = nncw_graph_count_flops(b->g, 1, &macs, &flops);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    b->shapes_batch1 = true;
    lua_pushinteger(L, (lua_Integer)flops);
    lua_pushinteger(L, (lua_Integer)macs);
    return 2;
}

/* forward(x): eval-mode outputs for a batch x [N, ...] of the model's (only) input */
static int l_forward(lua_State *L)
{
    static const char FN[] = "nncw.Graph:forward";
    struct app_lua_graph *b = app_lua_check_graph(L, 1, FN, "self");
    struct nncw_tensor *x = app_lua_check_tensor(L, 2, FN, "input");
    if (nncw_graph_count_inputs(b->g) != 1)
        return luaL_error(L, "%s: the model has %d inputs; forward takes models with one", FN,
                          nncw_graph_count_inputs(b->g));
    const struct nncw_tensor *in = nncw_graph_get_value_tensor(b->g, nncw_graph_get_input(b->g, 0));
    bool fits = x->ndim == in->ndim && x->dtype == in->dtype && x->ndim > 0;
    for (int d = 1; fits && d < x->ndim; d++)
        fits = x->shape[d] == in->shape[d];
    if (!fits) {
        app_lua_push_shape_str(L, x->ndim, x->shape);
        return luaL_error(L,
                          "%s: argument 'input' must be a %s [N, ...] batch matching the "
                          "model's input, got %s %s",
                          FN, nncw_dtype_name(in->dtype), nncw_dtype_name(x->dtype),
                          lua_tostring(L, -1));
    }
    int n_out = nncw_graph_count_outputs(b->g);
    for (int o = 0; o < n_out; o++)
        app_lua_new_tensor(L); /* boxes first */
    struct nncw_exec *ex = NULL;
    struct nncw_exec_options eo = {.batch = x->shape[0]};
    app_lua_graph_touch(b);
    enum nncw_status s = nncw_exec_new(b->g, &eo, &ex);
    if (s == NNCW_OK)
        s = nncw_tensor_copy(nncw_exec_get_input(ex, 0), x);
    if (s == NNCW_OK)
        s = nncw_exec_forward(ex);
    for (int o = 0; o < n_out && s == NNCW_OK; o++) {
        struct app_lua_tensor *box = lua_touserdata(L, -n_out + o);
        s = nncw_tensor_init_copy(&box->t, nncw_exec_get_output(ex, o));
    }
    nncw_exec_free(ex);
    return s == NNCW_OK ? n_out : app_lua_fail(L, FN, s);
}

static int l_graph_gc(lua_State *L)
{
    struct app_lua_graph *b = luaL_checkudata(L, 1, APP_LUA_GRAPH);
    nncw_graph_free(b->g);
    b->g = NULL;
    return 0;
}

static int l_graph_close(lua_State *L)
{
    struct app_lua_graph *b = luaL_checkudata(L, 1, APP_LUA_GRAPH);
    if (b->busy)
        return luaL_error(L, "nncw.Graph:close: the Graph is in use (being trained)");
    return l_graph_gc(L);
}

/* "Graph 'CNN': 9 nodes, 225034 parameters, input [1, 1, 28, 28] -> output [1, 10]" */
static int l_graph_tostring(lua_State *L)
{
    struct app_lua_graph *b = luaL_checkudata(L, 1, APP_LUA_GRAPH);
    if (!b->g) {
        lua_pushliteral(L, "Graph (closed)");
        return 1;
    }
    app_lua_graph_shapes(L, b, "nncw.Graph:__tostring");
    const struct nncw_node *first = nncw_graph_get_node(b->g, 0);
    const char *scope = first ? nncw_node_get_name(first) : "";
    const char *slash = strchr(scope, '/');
    lua_pushlstring(L, scope, slash ? (size_t)(slash - scope) : 0);
    luaL_Buffer buf;
    luaL_buffinit(L, &buf);
    for (int k = 0; k < 2; k++) {
        int n = k ? nncw_graph_count_outputs(b->g) : nncw_graph_count_inputs(b->g);
        luaL_addstring(&buf, k ? " -> " : "");
        for (int i = 0; i < n; i++) {
            int id = k ? nncw_graph_get_output(b->g, i) : nncw_graph_get_input(b->g, i);
            const struct nncw_tensor *t = nncw_graph_get_value_tensor(b->g, id);
            luaL_addstring(&buf, i ? ", " : "");
            app_lua_push_shape_str(L, t->ndim, t->shape);
            luaL_addvalue(&buf);
        }
    }
    luaL_pushresult(&buf);
    const char *name = lua_tostring(L, -2);
    lua_pushfstring(L, "Graph%s%s%s: %d nodes, %I parameters, %s", *name ? " '" : "", name,
                    *name ? "'" : "", nncw_graph_count_nodes(b->g),
                    (LUAI_UACINT)nncw_graph_count_param_elements(b->g), lua_tostring(L, -1));
    return 1;
}

static int l_graph_len(lua_State *L)
{
    struct app_lua_graph *b = app_lua_check_graph(L, 1, "nncw.Graph:__len", "self");
    lua_pushinteger(L, nncw_graph_count_nodes(b->g));
    return 1;
}

/* nncw.scope_matches(pattern, name): NNCF matching (exact or "{re}" POSIX regex) */
static int l_scope_matches(lua_State *L)
{
    static const char FN[] = "nncw.scope_matches";
    const char *pattern = app_lua_check_string(L, 1, FN, "pattern");
    const char *name = app_lua_check_string(L, 2, FN, "name");
    bool match;
    enum nncw_status s = nncw_scope_matches(pattern, name, &match);
    if (s != NNCW_OK)
        return app_lua_fail(L, FN, s);
    lua_pushboolean(L, match);
    return 1;
}

static const luaL_Reg graph_methods[] = {
    {"nodes", l_nodes},     {"find", l_find},
    {"node", l_node},       {"inputs", l_inputs},
    {"outputs", l_outputs}, {"params", l_params},
    {"param", l_param},     {"count_params", l_count_params},
    {"flops", l_flops},     {"forward", l_forward},
    {NULL, NULL},
};

static const luaL_Reg graph_meta[] = {
    {"__gc", l_graph_gc},
    {"__close", l_graph_close},
    {"__tostring", l_graph_tostring},
    {"__len", l_graph_len},
    {NULL, NULL},
};

static const luaL_Reg node_methods[] = {
    {"producers", l_node_producers},
    {"consumers", l_node_consumers},
    {"weights", l_node_weights},
    {NULL, NULL},
};

static const luaL_Reg node_meta[] = {
    {"__index", l_node_index},
    {"__tostring", l_node_tostring},
    {"__eq", l_node_eq},
    {NULL, NULL},
};

static const luaL_Reg functions[] = {
    {"scope_matches", l_scope_matches},
    {NULL, NULL},
};

int luaopen_nncw_graph(lua_State *L)
{
    luaL_newlib(L, functions);
    app_lua_new_class(L, APP_LUA_GRAPH, graph_methods, graph_meta, NULL);
    lua_setfield(L, -2, "Graph");
    app_lua_new_class(L, APP_LUA_NODE, node_methods, node_meta, node_fields);
    lua_setfield(L, -2, "Node");
    return 1;
}
