/* Integer plan internals, shared by the files of engine/int8/ (planner, steps, runner). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "graph/exec.h"
#include "int8/igemm.h"
#include "int8/int8_exec.h"

/* ---- quantization points ---- */

/* how a quantizer turns x into a code t (then clamp(round(t) + add, 0, qmax)) */
enum i8_qmode {
    I8_Q_NNCF, /* SymmetricQuantize / AsymmetricQuantize: t = (clamp(x, lo, hi) - lo) * s */
    I8_Q_OV,   /* FakeQuantize: t = (x - lo) / (hi - lo) * qmax */
    I8_Q_ONNX, /* QuantizeLinear: t = x / scale, plus the zero point */
    I8_Q_MODE_COUNT
};

/* One quantizer in integer terms, parameters copied at plan time. Codes are 0..qmax and mean
 * (q - zp[c]) * inv_s[c]; per-channel along axis (-1: per-tensor, channels 1). */
struct i8_qpoint {
    int node;    /* the node whose output is the fake-quantized value (DequantizeLinear for a
                    QDQ pair) */
    int head;    /* the QuantizeLinear of a QDQ pair, -1 otherwise */
    int x;       /* the float value quantized; -1 when the codes are a constant */
    int codes;   /* QDQ with constant codes: the int8/uint8 parameter, -1 otherwise */
    int out;     /* the fake-quantized value */
    bool weight; /* x (or codes) is a parameter */
    enum i8_qmode mode;
    int axis, channels;
    int32_t qmax;
    float *lo, *hi, *s; /* NNCF: clamp bounds and levels per unit; OV: lo, hi; ONNX: s = 1/scale */
    float *inv_s;
    int32_t *zp;
};

/* Reads node n as a quantization point into q (parameters allocated; i8_qpoint_fini).
 * *is_point false with a reason in *why when n is not one the integer path can use as a
 * quantizer (disabled, ranges not constant, more than 256 levels, a zero point off the grid,
 * ...). NNCW_ERR_NOMEM. */
enum nncw_status nncw_i8_qpoint_parse(struct nncw_graph *g, const struct nncw_exec *ex, int n,
                                      struct i8_qpoint *q, bool *is_point, const char **why);
void nncw_i8_qpoint_fini(struct i8_qpoint *q);
/* codes of n floats of channel c after clamping them to [act_lo, act_hi] (a folded Relu or
 * Clip; +-INFINITY for none), exactly as the quantizer op computes them */
void nncw_i8_quantize(const struct i8_qpoint *q, int c, const float *restrict x, int64_t n,
                      float act_lo, float act_hi, uint8_t *restrict out);
/* the code of y for channel c, and the affine map code = round(alpha * y + beta) that folded
 * requantization uses (equal up to float rounding) */
int32_t nncw_i8_code(const struct i8_qpoint *q, int c, float y);
void nncw_i8_affine(const struct i8_qpoint *q, int c, float *alpha, float *beta);

/* ---- u8 activations ---- */

/* NHWC codes (2-D values: h = w = 1) with a border of zero-point codes, channels padded to a
 * multiple of 4 (the kernels read whole dwords; padding channels meet zero weights) */
struct i8_act {
    int64_t n;
    int c, h, w;
    int cp, border;
    uint8_t *data; /* [n][h + 2 border][w + 2 border][cp] */
    float inv_s;
    int32_t zp, qmax;
    int view_of; /* value whose buffer this borrows, -1 if owned */
};

static inline int64_t i8_act_img(const struct i8_act *a)
{
    return (int64_t)(a->h + 2 * a->border) * (a->w + 2 * a->border) * a->cp;
}

/* the first byte of pixel (i, y, x) */
static inline uint8_t *i8_act_at(const struct i8_act *a, int64_t i, int y, int x)
{
    return a->data + i * i8_act_img(a) +
           ((int64_t)(y + a->border) * (a->w + 2 * a->border) + x + a->border) * a->cp;
}

/* ---- steps ---- */

enum i8_step_kind {
    I8_STEP_FLOAT,    /* the graph node's float op */
    I8_STEP_QUANTIZE, /* float or u8 (through a table) -> u8 codes */
    I8_STEP_GEMM,     /* Conv / Gemm / MatMul with folded bias, batch norm, activation */
    I8_STEP_MAXPOOL,
    I8_STEP_RELU,
    I8_STEP_RELAYOUT, /* Flatten / Reshape of NHWC codes into [n, c * h * w] */
    I8_STEP_VIEW,     /* Identity, Dropout, Relu of unsigned codes, ...: shares the buffer */
    I8_STEP_ADD,
    I8_STEP_GAP, /* GlobalAveragePool */
    I8_STEP_KIND_COUNT
};

struct i8_gemm; /* int8/gemm_step.c */
struct i8_pool; /* int8/u8_ops.c */
struct i8_tail; /* what an Add or GlobalAveragePool ends in */

struct i8_step {
    enum i8_step_kind kind;
    int *nodes, n_nodes; /* graph nodes covered; nodes[0] is the first, the last decides pos */
    int pos;             /* topological position of the last node */
    int in[2];           /* values read (u8 for integer steps, float for I8_STEP_FLOAT) */
    int out;             /* value written (I8_STEP_FLOAT: every output of its node) */
    bool out_u8;         /* writes codes (and float too when a float op reads the value) */
    bool live;
    const char *why;               /* I8_STEP_FLOAT: why the node is not integer */
    const struct i8_qpoint *quant; /* QUANTIZE, and the output quantizer of ADD / GAP */
    struct i8_gemm *gemm;
    struct i8_pool *pool;
    uint8_t *lut; /* QUANTIZE of codes: 256 entries */
    float lo, hi; /* ADD / GAP float clamp (a folded Relu / Clip) */
};

/* ---- the plan ---- */

struct i8_value {
    bool has_u8;   /* the planner gave it codes */
    bool need_u8;  /* a live integer step reads the codes */
    bool need_f32; /* a live float op or the graph output reads it */
    struct i8_act a;
};

struct nncw_int8_plan {
    struct nncw_graph *g;
    struct nncw_exec *ex; /* float buffers, shapes, and the context of fallback ops */
    struct nncw_int8_options opt;
    enum nncw_int8_isa isa;
    nncw_igemm_chunk_fn kernel;
    int threads;
    int n_values, n_nodes;
    struct i8_value *val;
    int *pos;             /* per node: topological position */
    int *consumers;       /* per value: readers */
    int *single_reader;   /* per value: the node reading it if there is exactly one */
    bool *is_output;      /* per value */
    struct i8_qpoint *qp; /* quantization points */
    int n_qp;
    int *qp_of;     /* per node: index into qp (its node or head), -1 */
    bool *absorbed; /* per node: already covered by a step */
    struct i8_step *steps;
    int n_steps, cap_steps;
    int64_t group_bytes; /* activation bytes a group of images may move per step (about half
                            of L2; tests set it small to run many groups) */
};

/* ---- building blocks (each file one concept) ---- */

/* gemm_step.c: tries node n as an integer Conv / Gemm / MatMul plus the ops folded after it;
 * false with *why when it cannot run in integer */
enum nncw_status nncw_i8_gemm_try(struct nncw_int8_plan *p, int n, bool *ok, const char **why);
enum nncw_status nncw_i8_gemm_bind(struct nncw_int8_plan *p, struct i8_step *s);
/* output pixels [p0, p1) (pixel = image * plane + position), on the calling thread */
void nncw_i8_gemm_run_pixels(const struct nncw_int8_plan *p, const struct i8_step *s, int64_t p0,
                             int64_t p1);
int64_t nncw_i8_gemm_pixels(const struct i8_step *s);
double nncw_i8_gemm_macs(const struct i8_step *s);
int64_t nncw_i8_gemm_weight_bytes(const struct i8_step *s);
void nncw_i8_gemm_free(struct i8_gemm *gm);
/* whether the step requantizes its product and has no residual yet */
bool nncw_i8_gemm_fusable_residual(const struct i8_step *s);
/* makes GEMM step s also do the Add step `add` (its output quantizer, then + residual codes
 * res, clamp, quantize): s takes add's nodes and output, add stops running */
void nncw_i8_gemm_fuse_residual(struct nncw_int8_plan *p, struct i8_step *s, struct i8_step *add,
                                int res);
/* the border (padding) a Conv step needs around its input */
int nncw_i8_gemm_border(const struct i8_step *s);
/* the weight quantizer whose codes the step multiplies by */
int nncw_i8_gemm_weight_node(const struct i8_step *s);

/* u8_ops.c: MaxPool, Relu, Add, GlobalAveragePool, relayout, quantize and dequantize steps */
enum nncw_status nncw_i8_pool_parse(struct nncw_int8_plan *p, int n, struct i8_pool **out,
                                    const char **why);
void nncw_i8_pool_free(struct i8_pool *pl);
/* runs an integer step (any kind but I8_STEP_FLOAT) for images [i0, i1) on the calling thread,
 * then writes the float form of its output for them if a float op reads it */
void nncw_i8_step_run_images(struct nncw_int8_plan *p, const struct i8_step *s, int64_t i0,
                             int64_t i1);
/* the float form of value v (NCHW, the executor's buffer) from its codes, images [i0, i1) */
void nncw_i8_dequantize_images(struct nncw_int8_plan *p, int v, int64_t i0, int64_t i1);

/* plan_build.c */
enum nncw_status nncw_i8_step_add(struct nncw_int8_plan *p, enum i8_step_kind kind, int n_nodes,
                                  const int *nodes, struct i8_step **out);
/* covers node n with the step (appends it, marks it absorbed, moves pos) */
enum nncw_status nncw_i8_step_cover(struct nncw_int8_plan *p, struct i8_step *s, int n);
/* the quantization point whose fake-quantized output is value v, or NULL */
const struct i8_qpoint *nncw_i8_qpoint_of_value(const struct nncw_int8_plan *p, int v);
/* the activation quantizer that is the only reader of value v (its node, or the
 * QuantizeLinear of a QDQ pair whose output only the pair's DequantizeLinear reads), or NULL */
const struct i8_qpoint *nncw_i8_quantizer_reading(const struct nncw_int8_plan *p, int v);
/* whether an activation quantizer can hand out codes (per-tensor, <= 256 levels, 2-D/4-D) */
bool nncw_i8_qpoint_is_act(const struct nncw_int8_plan *p, const struct i8_qpoint *q);
/* gives value v codes with the quantizer's parameters and its shape */
void nncw_i8_value_set_u8(struct nncw_int8_plan *p, int v, const struct i8_qpoint *q);
/* the float tensor of a value in the executor */
struct nncw_tensor *nncw_i8_f32(struct nncw_int8_plan *p, int v);

/* plan_finish.c: keeps the steps something reads, sizes and fills the u8 buffers, binds the
 * kernels, orders the steps */
enum nncw_status nncw_i8_plan_finish(struct nncw_int8_plan *p);
/* plan_fuse.c: folds residual Adds into the GEMM step before them (on live, ordered steps) */
void nncw_i8_plan_fuse_residuals(struct nncw_int8_plan *p);
