#include "graph/graph_internal.h"

#include <string.h>

#include "core/alloc.h"
#include "core/common.h"

static void attr_clear(struct nncw_attr *a)
{
    if (a->type == ATTR_INTS)
        nncw_free(a->u.ints);
    else if (a->type == ATTR_FLOATS)
        nncw_free(a->u.floats);
    else if (a->type == ATTR_STRING)
        nncw_free(a->u.s);
}

void nncw_attr_free_all(struct nncw_node *n)
{
    for (int i = 0; i < n->n_attrs; i++) {
        attr_clear(&n->attrs[i]);
        nncw_free(n->attrs[i].name);
    }
    nncw_free(n->attrs);
    n->attrs = NULL;
    n->n_attrs = 0;
}

static const struct nncw_attr *find(const struct nncw_node *n, const char *name)
{
    for (int i = 0; i < n->n_attrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0)
            return &n->attrs[i];
    return NULL;
}

/* the slot for name, new or existing (cleared), or NULL when out of memory */
static struct nncw_attr *slot(struct nncw_node *n, const char *name)
{
    struct nncw_attr *a = (struct nncw_attr *)find(n, name);
    if (a) {
        attr_clear(a);
        return a;
    }
    char *dup = nncw_strdup(name);
    struct nncw_attr *p = dup ? nncw_realloc(n->attrs, (size_t)(n->n_attrs + 1) * sizeof *p) : NULL;
    if (!p) {
        nncw_free(dup);
        return NULL;
    }
    n->attrs = p;
    a = &p[n->n_attrs++];
    memset(a, 0, sizeof *a);
    a->name = dup;
    return a;
}

#define NOMEM(n, name) NNCW_FAIL(NNCW_ERR_NOMEM, "node '%s': out of memory setting '%s'", (n)->name, name)

enum nncw_status nncw_node_set_attr_int(struct nncw_node *n, const char *name, int64_t v)
{
    struct nncw_attr *a = slot(n, name);
    if (!a)
        return NOMEM(n, name);
    a->type = ATTR_INT;
    a->u.i = v;
    return NNCW_OK;
}

enum nncw_status nncw_node_set_attr_float(struct nncw_node *n, const char *name, float v)
{
    struct nncw_attr *a = slot(n, name);
    if (!a)
        return NOMEM(n, name);
    a->type = ATTR_FLOAT;
    a->u.f = v;
    return NNCW_OK;
}

enum nncw_status nncw_node_set_attr_ints(struct nncw_node *n, const char *name, int count,
                                         const int64_t *v)
{
    int64_t *copy = nncw_malloc((size_t)(count > 0 ? count : 1) * sizeof *copy);
    struct nncw_attr *a = copy ? slot(n, name) : NULL;
    if (!a) {
        nncw_free(copy);
        return NOMEM(n, name);
    }
    if (count > 0)
        memcpy(copy, v, (size_t)count * sizeof *copy);
    a->type = ATTR_INTS;
    a->count = count;
    a->u.ints = copy;
    return NNCW_OK;
}

enum nncw_status nncw_node_set_attr_floats(struct nncw_node *n, const char *name, int count,
                                           const float *v)
{
    float *copy = nncw_malloc((size_t)(count > 0 ? count : 1) * sizeof *copy);
    struct nncw_attr *a = copy ? slot(n, name) : NULL;
    if (!a) {
        nncw_free(copy);
        return NOMEM(n, name);
    }
    if (count > 0)
        memcpy(copy, v, (size_t)count * sizeof *copy);
    a->type = ATTR_FLOATS;
    a->count = count;
    a->u.floats = copy;
    return NNCW_OK;
}

enum nncw_status nncw_node_set_attr_string(struct nncw_node *n, const char *name, const char *v)
{
    char *copy = nncw_strdup(v);
    struct nncw_attr *a = copy ? slot(n, name) : NULL;
    if (!a) {
        nncw_free(copy);
        return NOMEM(n, name);
    }
    a->type = ATTR_STRING;
    a->u.s = copy;
    return NNCW_OK;
}

bool nncw_node_has_attr(const struct nncw_node *n, const char *name)
{
    return find(n, name) != NULL;
}

int64_t nncw_node_get_attr_int(const struct nncw_node *n, const char *name, int64_t def)
{
    const struct nncw_attr *a = find(n, name);
    if (!a)
        return def;
    if (a->type == ATTR_INT)
        return a->u.i;
    if (a->type == ATTR_FLOAT) /* a float out of int64's range (a hostile file) is no int */
        return a->u.f > -9.2e18f && a->u.f < 9.2e18f ? (int64_t)a->u.f : def;
    return def;
}

float nncw_node_get_attr_float(const struct nncw_node *n, const char *name, float def)
{
    const struct nncw_attr *a = find(n, name);
    if (!a)
        return def;
    if (a->type == ATTR_FLOAT)
        return a->u.f;
    if (a->type == ATTR_INT)
        return (float)a->u.i;
    return def;
}

int nncw_node_get_attr_ints(const struct nncw_node *n, const char *name, const int64_t **out)
{
    const struct nncw_attr *a = find(n, name);
    if (!a || a->type != ATTR_INTS)
        return -1;
    *out = a->u.ints;
    return a->count;
}

int nncw_node_get_attr_floats(const struct nncw_node *n, const char *name, const float **out)
{
    const struct nncw_attr *a = find(n, name);
    if (!a || a->type != ATTR_FLOATS)
        return -1;
    *out = a->u.floats;
    return a->count;
}

const char *nncw_node_get_attr_string(const struct nncw_node *n, const char *name,
                                      const char *def)
{
    const struct nncw_attr *a = find(n, name);
    return a && a->type == ATTR_STRING ? a->u.s : def;
}

int nncw_node_count_attrs(const struct nncw_node *n)
{
    return n->n_attrs;
}

const char *nncw_node_get_attr_name(const struct nncw_node *n, int i)
{
    NNCW_ASSERT(i >= 0 && i < n->n_attrs);
    return n->attrs[i].name;
}

enum nncw_attr_type nncw_node_get_attr_type(const struct nncw_node *n, int i)
{
    NNCW_ASSERT(i >= 0 && i < n->n_attrs);
    switch (n->attrs[i].type) {
    case ATTR_INT:
        return NNCW_ATTR_INT;
    case ATTR_FLOAT:
        return NNCW_ATTR_FLOAT;
    case ATTR_INTS:
        return NNCW_ATTR_INTS;
    case ATTR_FLOATS:
        return NNCW_ATTR_FLOATS;
    default:
        return NNCW_ATTR_STRING;
    }
}
