/* Shared helpers of the bindings: error messages that name the function and the argument,
 * option tables, shapes, class registration. */
#include "lnncw.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int app_lua_fail(lua_State *L, const char *fn, enum nncw_status s)
{
    return luaL_error(L, "%s: %s: %s", fn, nncw_status_str(s), nncw_last_error());
}

const char *app_lua_describe(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    switch (lua_type(L, idx)) {
    case LUA_TNONE:
    case LUA_TNIL:
        return lua_pushliteral(L, "nil");
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            return lua_pushfstring(L, "%I", (LUAI_UACINT)lua_tointeger(L, idx));
        return lua_pushfstring(L, "%f", lua_tonumber(L, idx));
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        return lua_pushfstring(L, "'%s%s'", len > 40 ? lua_pushlstring(L, s, 40) : s,
                               len > 40 ? "..." : "");
    }
    case LUA_TBOOLEAN:
        return lua_pushstring(L, lua_toboolean(L, idx) ? "true" : "false");
    default:
        if (luaL_getmetafield(L, idx, "__name") == LUA_TSTRING) {
            const char *name = lua_tostring(L, -1);
            const char *dot = strrchr(name, '.');
            lua_pushfstring(L, "a %s", dot ? dot + 1 : name);
            lua_remove(L, -2);
            return lua_tostring(L, -1);
        }
        return lua_pushfstring(L, "a %s", luaL_typename(L, idx));
    }
}

int app_lua_arg_error(lua_State *L, int idx, const char *fn, const char *arg, const char *expected)
{
    const char *got = app_lua_describe(L, idx);
    return luaL_error(L, "%s: argument '%s' must be %s, got %s", fn, arg, expected, got);
}

/* "a positive integer", "an integer in [2, 10]" ... into buf */
static const char *int_range(char *buf, size_t size, lua_Integer lo, lua_Integer hi)
{
    if (lo == 1 && hi == LUA_MAXINTEGER)
        snprintf(buf, size, "a positive integer");
    else if (lo == 0 && hi == LUA_MAXINTEGER)
        snprintf(buf, size, "a non-negative integer");
    else if (hi == LUA_MAXINTEGER)
        snprintf(buf, size, "an integer >= %lld", (long long)lo);
    else
        snprintf(buf, size, "an integer in [%lld, %lld]", (long long)lo, (long long)hi);
    return buf;
}

/* the integer at idx (a float with an integral value counts) in [lo, hi], or an error */
static lua_Integer to_int(lua_State *L, int idx, const char *fn, const char *arg, lua_Integer lo,
                          lua_Integer hi)
{
    int ok = 0;
    lua_Integer v = lua_type(L, idx) == LUA_TNUMBER ? lua_tointegerx(L, idx, &ok) : 0;
    if (!ok || v < lo || v > hi) {
        /* below the range (or not an integer): name the kind; above it: the bounds */
        char what[96];
        app_lua_arg_error(L, idx, fn, arg,
                          int_range(what, sizeof what, lo, ok && v > hi ? hi : LUA_MAXINTEGER));
    }
    return v;
}

static lua_Number to_number(lua_State *L, int idx, const char *fn, const char *arg, lua_Number lo,
                            lua_Number hi)
{
    lua_Number v = lua_type(L, idx) == LUA_TNUMBER ? lua_tonumber(L, idx) : NAN;
    if (!(v >= lo && v <= hi)) {
        char what[96];
        if (lo == -HUGE_VAL && hi == HUGE_VAL)
            snprintf(what, sizeof what, "a number");
        else if (lo == 0 && hi == HUGE_VAL)
            snprintf(what, sizeof what, "a number >= 0");
        else
            snprintf(what, sizeof what, "a number in [%g, %g]", lo, hi);
        app_lua_arg_error(L, idx, fn, arg, what);
    }
    return v;
}

lua_Integer app_lua_check_int(lua_State *L, int idx, const char *fn, const char *arg,
                              lua_Integer lo, lua_Integer hi)
{
    return to_int(L, idx, fn, arg, lo, hi);
}

lua_Number app_lua_check_number(lua_State *L, int idx, const char *fn, const char *arg,
                                lua_Number lo, lua_Number hi)
{
    return to_number(L, idx, fn, arg, lo, hi);
}

const char *app_lua_check_string(lua_State *L, int idx, const char *fn, const char *arg)
{
    if (lua_type(L, idx) != LUA_TSTRING)
        app_lua_arg_error(L, idx, fn, arg, "a string");
    return lua_tostring(L, idx);
}

int app_lua_check_shape(lua_State *L, int idx, const char *fn, const char *arg, int64_t lo,
                        int64_t shape[NNCW_MAX_DIMS])
{
    char what[128];
    snprintf(what, sizeof what, "a list of 1 to %d integers >= %lld", NNCW_MAX_DIMS, (long long)lo);
    if (!lua_istable(L, idx))
        app_lua_arg_error(L, idx, fn, arg, what);
    lua_Integer n = luaL_len(L, idx);
    if (n < 1 || n > NNCW_MAX_DIMS)
        app_lua_arg_error(L, idx, fn, arg, what);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, idx, i);
        int ok = 0;
        lua_Integer v = lua_type(L, -1) == LUA_TNUMBER ? lua_tointegerx(L, -1, &ok) : 0;
        if (!ok || v < lo || v > (1LL << 40))
            luaL_error(L, "%s: argument '%s' must be %s, got %s at position %d", fn, arg, what,
                       app_lua_describe(L, -1), (int)i);
        shape[i - 1] = v;
        lua_pop(L, 1);
    }
    return (int)n;
}

void app_lua_push_shape(lua_State *L, int ndim, const int64_t *shape)
{
    lua_createtable(L, ndim, 0);
    for (int i = 0; i < ndim; i++) {
        lua_pushinteger(L, (lua_Integer)shape[i]);
        lua_rawseti(L, -2, i + 1);
    }
}

void app_lua_push_shape_str(lua_State *L, int ndim, const int64_t *shape)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addchar(&b, '[');
    for (int i = 0; i < ndim; i++) {
        char num[32];
        snprintf(num, sizeof num, "%s%lld", i ? ", " : "", (long long)shape[i]);
        luaL_addstring(&b, num);
    }
    luaL_addchar(&b, ']');
    luaL_pushresult(&b);
}

/* ---- option tables ---- */

void app_lua_check_options(lua_State *L, int idx, const char *fn, const char *const *known)
{
    app_lua_check_options_in(L, idx, fn, NULL, known);
}

void app_lua_check_options_in(lua_State *L, int idx, const char *fn, const char *parent,
                              const char *const *known)
{
    if (lua_isnoneornil(L, idx))
        return;
    if (!lua_istable(L, idx))
        app_lua_arg_error(L, idx, fn, parent ? parent : "options", "a table");
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        bool ok = false;
        if (lua_type(L, -1) == LUA_TSTRING)
            for (const char *const *k = known; *k && !ok; k++)
                ok = strcmp(lua_tostring(L, -1), *k) == 0;
        if (!ok) {
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            for (const char *const *k = known; *k; k++) {
                luaL_addstring(&b, k == known ? "" : ", ");
                luaL_addstring(&b, *k);
            }
            luaL_pushresult(&b);
            luaL_error(L, "%s: unknown option %s%s%s (known: %s)", fn, app_lua_describe(L, -2),
                       parent ? " in " : "", parent ? parent : "", lua_tostring(L, -1));
        }
    }
}

/* pushes options[key] (nil when there is no option table) and returns its type; a key
 * "parent.key" names a field of the nested table at idx */
static int get_option(lua_State *L, int idx, const char *key)
{
    if (!lua_istable(L, idx)) {
        lua_pushnil(L);
        return LUA_TNIL;
    }
    const char *dot = strrchr(key, '.');
    return lua_getfield(L, idx, dot ? dot + 1 : key);
}

bool app_lua_has_option(lua_State *L, int idx, const char *key)
{
    bool has = get_option(L, idx, key) != LUA_TNIL;
    lua_pop(L, 1);
    return has;
}

lua_Integer app_lua_opt_int(lua_State *L, int idx, const char *fn, const char *key, lua_Integer def,
                            lua_Integer lo, lua_Integer hi)
{
    idx = lua_absindex(L, idx);
    lua_Integer v = get_option(L, idx, key) == LUA_TNIL ? def : to_int(L, -1, fn, key, lo, hi);
    lua_pop(L, 1);
    return v;
}

lua_Number app_lua_opt_number(lua_State *L, int idx, const char *fn, const char *key,
                              lua_Number def, lua_Number lo, lua_Number hi)
{
    idx = lua_absindex(L, idx);
    lua_Number v = get_option(L, idx, key) == LUA_TNIL ? def : to_number(L, -1, fn, key, lo, hi);
    lua_pop(L, 1);
    return v;
}

bool app_lua_opt_bool(lua_State *L, int idx, const char *fn, const char *key, bool def)
{
    idx = lua_absindex(L, idx);
    int t = get_option(L, idx, key);
    if (t != LUA_TNIL && t != LUA_TBOOLEAN)
        app_lua_arg_error(L, -1, fn, key, "true or false");
    bool v = t == LUA_TNIL ? def : lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

const char *app_lua_opt_string(lua_State *L, int idx, const char *fn, const char *key,
                               const char *def)
{
    idx = lua_absindex(L, idx);
    int t = get_option(L, idx, key);
    if (t != LUA_TNIL && t != LUA_TSTRING)
        app_lua_arg_error(L, -1, fn, key, "a string");
    const char *v = t == LUA_TNIL ? def : lua_tostring(L, -1);
    lua_pop(L, 1); /* the string stays referenced by the option table */
    return v;
}

int app_lua_opt_choice(lua_State *L, int idx, const char *fn, const char *key, int def,
                       const char *const *choices)
{
    const char *s = app_lua_opt_string(L, idx, fn, key, NULL);
    if (!s)
        return def;
    for (int i = 0; choices[i]; i++)
        if (strcmp(s, choices[i]) == 0)
            return i;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "one of ");
    for (int i = 0; choices[i]; i++) {
        luaL_addstring(&b, i ? ", '" : "'");
        luaL_addstring(&b, choices[i]);
        luaL_addchar(&b, '\'');
    }
    luaL_pushresult(&b);
    get_option(L, idx, key);
    return app_lua_arg_error(L, -1, fn, key, lua_tostring(L, -2));
}

/* ---- classes and boxes ---- */

void app_lua_new_class(lua_State *L, const char *name, const luaL_Reg *methods,
                       const luaL_Reg *meta, const char *const *fields)
{
    luaL_newmetatable(L, name);
    luaL_setfuncs(L, meta, 0);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    if (lua_getfield(L, -2, "__index") == LUA_TNIL) {
        lua_pushvalue(L, -2);
        lua_setfield(L, -4, "__index");
    }
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "__methods");
    lua_newtable(L);
    for (int i = 0; fields && fields[i]; i++) {
        lua_pushstring(L, fields[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -3, "__fields");
    lua_remove(L, -2);
}

void *app_lua_check_box(lua_State *L, int idx, const char *tname, const char *fn, const char *arg,
                        const char *what)
{
    void *box = luaL_testudata(L, idx, tname);
    if (!box)
        app_lua_arg_error(L, idx, fn, arg, what);
    return box;
}

int app_lua_closed_error(lua_State *L, const char *fn, const char *what)
{
    return luaL_error(L, "%s: the %s was closed", fn, what);
}
