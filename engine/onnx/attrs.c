/*
** ONNX node attributes: lookups for converters, and copying them onto nncw nodes. Attribute
** types are taken from the file, or inferred from the fields present (IR version 1 files do
** not say); strings must be short text; tensors, graphs and lists of strings are refused
** unless a converter consumes them.
*/
#include <stdio.h>
#include <string.h>

#include "onnx/onnx_internal.h"

/* ---- attributes ---- */

const NncwOnnx__AttributeProto *nncw_onnx_attr_find(const NncwOnnx__NodeProto *np, const char *name)
{
    for (size_t i = 0; i < np->n_attribute; i++)
        if (np->attribute[i]->name && strcmp(np->attribute[i]->name, name) == 0)
            return np->attribute[i];
    return NULL;
}

/* the attribute's type, inferred from its fields when the file does not say (IR version 1) */
static NncwOnnx__AttributeProto__AttributeType attr_type(const NncwOnnx__AttributeProto *a)
{
    if (a->has_type && a->type != NNCW_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED)
        return a->type;
    if (a->has_f)
        return NNCW_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    if (a->has_i)
        return NNCW_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    if (a->has_s)
        return NNCW_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
    if (a->t)
        return NNCW_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
    if (a->g)
        return NNCW_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH;
    if (a->n_floats)
        return NNCW_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
    if (a->n_ints)
        return NNCW_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    if (a->n_strings)
        return NNCW_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS;
    return NNCW_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED;
}

int64_t nncw_onnx_attr_int(const struct nncw_onnx_importer *im, const char *name, int64_t def)
{
    const NncwOnnx__AttributeProto *a = nncw_onnx_attr_find(im->np, name);
    if (!a || attr_type(a) != NNCW_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT)
        return def;
    return a->i;
}

const char *nncw_onnx_attr_string(const struct nncw_onnx_importer *im, const char *name,
                                  const char *def)
{
    static _Thread_local char buf[256];
    const NncwOnnx__AttributeProto *a = nncw_onnx_attr_find(im->np, name);
    if (!a || attr_type(a) != NNCW_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING)
        return def;
    size_t n = a->s.len < sizeof buf - 1 ? a->s.len : sizeof buf - 1;
    if (n) /* an absent string has no data pointer */
        memcpy(buf, a->s.data, n);
    buf[n] = '\0';
    return buf;
}

static bool skipped(const struct nncw_onnx_spec *s, const char *name)
{
    for (const char *const *k = s->skip_attrs; k && *k; k++)
        if (strcmp(*k, name) == 0)
            return true;
    for (int i = 0; i < s->n_set; i++)
        if (strcmp(s->set[i].name, name) == 0)
            return true;
    return false;
}

static enum nncw_status copy_attr(struct nncw_onnx_importer *im, const NncwOnnx__AttributeProto *a,
                                  struct nncw_node *n)
{
    const char *name = a->name;
    if (a->ref_attr_name && a->ref_attr_name[0])
        return nncw_onnx_fail_node(im, NNCW_ERR_UNSUPPORTED,
                                   "attribute '%s' refers to a function attribute", name);
    switch (attr_type(a)) {
    case NNCW_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
        return nncw_node_set_attr_int(n, name, a->i);
    case NNCW_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
        return nncw_node_set_attr_float(n, name, a->f);
    case NNCW_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
        if (a->n_ints > (1u << 20))
            return nncw_onnx_fail_node(im, NNCW_ERR_PARSE, "attribute '%s' has %zu values", name,
                                       a->n_ints);
        return nncw_node_set_attr_ints(n, name, (int)a->n_ints, a->ints);
    case NNCW_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
        if (a->n_floats > (1u << 20))
            return nncw_onnx_fail_node(im, NNCW_ERR_PARSE, "attribute '%s' has %zu values", name,
                                       a->n_floats);
        return nncw_node_set_attr_floats(n, name, (int)a->n_floats, a->floats);
    case NNCW_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: {
        char buf[1024];
        if (a->s.len >= sizeof buf || (a->s.len && memchr(a->s.data, 0, a->s.len)))
            return nncw_onnx_fail_node(im, NNCW_ERR_PARSE,
                                       "attribute '%s' is not a short text string", name);
        if (a->s.len)
            memcpy(buf, a->s.data, a->s.len);
        buf[a->s.len] = '\0';
        return nncw_node_set_attr_string(n, name, buf);
    }
    case NNCW_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED:
        return nncw_onnx_fail_node(im, NNCW_ERR_PARSE, "attribute '%s' has no value", name);
    default:
        return nncw_onnx_fail_node(im, NNCW_ERR_UNSUPPORTED,
                                   "attribute '%s' (a tensor, graph or list of them) is not "
                                   "supported",
                                   name);
    }
}

enum nncw_status nncw_onnx_apply_attrs(struct nncw_onnx_importer *im,
                                       const struct nncw_onnx_spec *s, struct nncw_node *n)
{
    if (s->copy_attrs)
        for (size_t i = 0; i < im->np->n_attribute; i++) {
            const NncwOnnx__AttributeProto *a = im->np->attribute[i];
            if (!a->name || !a->name[0])
                return nncw_onnx_fail_node(im, NNCW_ERR_PARSE, "an attribute has no name");
            if (!skipped(s, a->name))
                NNCW_TRY(copy_attr(im, a, n));
        }
    for (int i = 0; i < s->n_set; i++) {
        const struct nncw_onnx_attr_set *a = &s->set[i];
        switch (a->type) {
        case NNCW_ATTR_INT:
            NNCW_TRY(nncw_node_set_attr_int(n, a->name, a->i));
            break;
        case NNCW_ATTR_FLOAT:
            NNCW_TRY(nncw_node_set_attr_float(n, a->name, a->f));
            break;
        case NNCW_ATTR_INTS:
            NNCW_TRY(nncw_node_set_attr_ints(n, a->name, a->count, a->ints));
            break;
        case NNCW_ATTR_STRING:
            NNCW_TRY(nncw_node_set_attr_string(n, a->name, a->s));
            break;
        default:
            break;
        }
    }
    return NNCW_OK;
}
