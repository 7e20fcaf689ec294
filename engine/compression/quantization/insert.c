#include "compression/quantization/insert.h"

#include "compression/quantization/quantizer_setup.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "ops/ops.h"

void nncw_quantizer_levels_for(int bits, bool asymmetric, bool is_signed, bool half_range,
                               int64_t *level_low, int64_t *level_high)
{
    int b = half_range ? bits - 1 : bits;
    if (!asymmetric && is_signed) {
        *level_low = -((int64_t)1 << (b - 1));
        *level_high = ((int64_t)1 << (b - 1)) - 1;
    } else {
        *level_low = 0;
        *level_high = ((int64_t)1 << b) - 1;
    }
}

/* the axis of a weight that indexes output channels, as NNCF quantizes weights per channel */
static int weight_channel_axis(const struct nncw_node *n, int ndim)
{
    switch (nncw_node_get_op(n)) {
    case NNCW_OP_CONVTRANSPOSE:
        return 1;
    case NNCW_OP_GEMM:
        return nncw_node_get_attr_int(n, "transB", 0) ? 0 : 1;
    case NNCW_OP_MATMUL:
        return ndim - 1;
    default:
        return 0;
    }
}

static enum nncw_status add_param(struct nncw_graph *g, const char *qid, const char *what,
                                  int64_t channels, float value, int *id)
{
    char name[600];
    snprintf(name, sizeof name, "%s.%s", qid, what);
    struct nncw_tensor t;
    NNCW_TRY(nncw_tensor_init(&t, NNCW_DTYPE_F32, 1, (int64_t[]){channels}));
    float *p = nncw_tensor_f32(&t);
    for (int64_t c = 0; c < channels; c++)
        p[c] = value;
    enum nncw_status s = nncw_graph_add_param(g, name, &t, true, id);
    nncw_tensor_fini(&t);
    return s;
}

static enum nncw_status insert_one(struct nncw_graph *g, const struct nncw_quantizer_point *pt,
                                   const struct nncw_quantizer *group_head,
                                   struct nncw_quantizer *q)
{
    const struct nncw_qconfig *c = &pt->configs[pt->chosen];
    const struct nncw_tensor *x = nncw_graph_get_value_tensor(g, pt->value_id);
    q->input = pt->value_id;
    q->is_weight = pt->is_weight;
    q->asymmetric = c->mode == NNCW_QMODE_ASYMMETRIC;
    q->per_channel = c->per_channel;
    q->half_range = pt->half_range;
    q->bits = c->bits;
    q->signedness = q->asymmetric ? 0 : c->signedness;
    q->axis = -1;
    q->channels = 1;
    if (c->per_channel) {
        if (pt->is_weight)
            q->axis = weight_channel_axis(nncw_graph_get_node(g, pt->node), x->ndim);
        else
            q->axis = 1;
        if (q->axis >= x->ndim)
            return NNCW_FAIL(NNCW_ERR_SHAPE,
                             "quantizer '%s': a per-channel quantizer needs axis "
                             "%d but the value has rank %d",
                             pt->id, q->axis, x->ndim);
        q->channels = x->shape[q->axis];
        if (q->channels < 1)
            return NNCW_FAIL(NNCW_ERR_SHAPE,
                             "quantizer '%s': the channel axis %d has no known "
                             "size",
                             pt->id, q->axis);
    }
    if (group_head) {
        q->param0 = group_head->param0;
        q->param1 = group_head->param1;
        q->owns_params = false;
    } else if (q->asymmetric) {
        /* NNCF's defaults before range initialisation */
        NNCW_TRY(add_param(g, pt->id, "input_low", q->channels, 0.0f, &q->param0));
        NNCW_TRY(add_param(g, pt->id, "input_range", q->channels, 1.0f, &q->param1));
        q->owns_params = true;
    } else {
        NNCW_TRY(add_param(g, pt->id, "scale", q->channels, 1.0f, &q->param0));
        q->param1 = -1;
        q->owns_params = true;
    }
    int in[3] = {pt->value_id, q->param0, q->param1};
    int y;
    struct nncw_node *n;
    NNCW_TRY(nncw_graph_add_node(
        g, q->asymmetric ? NNCW_OP_QUANTIZE_ASYMMETRIC : NNCW_OP_QUANTIZE_SYMMETRIC, pt->id,
        q->asymmetric ? 3 : 2, in, 1, &y, &n));
    q->node = nncw_node_get_index(n);
    int64_t lo, hi;
    /* signedness from data is settled by range initialisation; signed until then */
    nncw_quantizer_levels_for(q->bits, q->asymmetric, q->signedness != 0, q->half_range, &lo, &hi);
    NNCW_TRY(nncw_node_set_attr_int(n, "level_low", lo));
    NNCW_TRY(nncw_node_set_attr_int(n, "level_high", hi));
    NNCW_TRY(nncw_node_set_attr_int(n, "axis", q->axis));
    if (c->logarithm_scale)
        NNCW_TRY(nncw_node_set_attr_int(n, "logarithm_scale", 1));
    if (q->half_range)
        NNCW_TRY(nncw_node_set_attr_int(n, "half_range", 1));
    /* rewire the readers */
    if (pt->is_weight) {
        struct nncw_node *owner = nncw_graph_get_node(g, pt->node);
        bool found = false;
        for (int p = 0; p < nncw_node_count_inputs(owner); p++)
            if (nncw_node_get_input(owner, p) == pt->value_id) {
                NNCW_TRY(nncw_graph_set_node_input(g, owner, p, y));
                found = true;
            }
        if (!found)
            return NNCW_FAIL(NNCW_ERR_INTERNAL,
                             "quantizer '%s': node '%s' does not read the "
                             "weight",
                             pt->id, nncw_node_get_name(owner));
        return NNCW_OK;
    }
    for (int t = 0; t < pt->n_targets; t++) {
        if (pt->targets[t].node < 0) { /* a graph output */
            NNCW_TRY(nncw_graph_set_output(g, pt->targets[t].port, y));
            continue;
        }
        struct nncw_node *reader = nncw_graph_get_node(g, pt->targets[t].node);
        if (nncw_node_get_input(reader, pt->targets[t].port) != pt->value_id)
            return NNCW_FAIL(NNCW_ERR_INTERNAL,
                             "quantizer '%s': input %d of '%s' does not read "
                             "the quantized value",
                             pt->id, pt->targets[t].port, nncw_node_get_name(reader));
        NNCW_TRY(nncw_graph_set_node_input(g, reader, pt->targets[t].port, y));
    }
    return NNCW_OK;
}

enum nncw_status nncw_quantizers_insert(struct nncw_graph *g, const struct nncw_quantizer_setup *s,
                                        struct nncw_quantizer **out, int *count)
{
    NNCW_TRY(nncw_graph_infer_shapes(g, 1));
    struct nncw_quantizer *q = nncw_calloc((size_t)(s->n_points ? s->n_points : 1), sizeof *q);
    if (!q)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "quantization: out of memory");
    enum nncw_status st = NNCW_OK;
    for (int i = 0; i < s->n_points && st == NNCW_OK; i++) {
        const struct nncw_quantizer_point *pt = &s->points[i];
        if (pt->chosen < 0 || pt->chosen >= pt->n_configs) {
            st = NNCW_FAIL(NNCW_ERR_INTERNAL, "quantizer '%s' has no chosen configuration", pt->id);
            break;
        }
        const struct nncw_quantizer *head = NULL;
        for (int j = 0; j < i && pt->unified_group >= 0 && !head; j++)
            if (s->points[j].unified_group == pt->unified_group)
                head = &q[j];
        q[i].point = i;
        st = insert_one(g, pt, head, &q[i]);
    }
    if (st != NNCW_OK) {
        nncw_free(q);
        return st;
    }
    *out = q;
    *count = s->n_points;
    return NNCW_OK;
}
