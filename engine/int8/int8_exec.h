/*
 * The integer executor: runs a quantized graph the way an int8 runtime would, so its accuracy
 * and speed are the ones a deployment gets.
 *
 *     struct nncw_int8_options o = nncw_int8_defaults();
 *     o.batch = 32;
 *     struct nncw_int8_plan *p;
 *     if (nncw_int8_plan_build(g, &o, &p) != NNCW_OK) ...        // nncw_last_error() says why
 *     struct nncw_tensor logits = {0};                            // allocated by the first run
 *     nncw_int8_plan_run(p, (const struct nncw_tensor *[]){&images},
 *                        (struct nncw_tensor *[]){&logits}, 32);
 *     char text[8192];
 *     nncw_int8_plan_describe(p, text, sizeof text);              // what runs in integer, why not
 *     nncw_tensor_fini(&logits);
 *     nncw_int8_plan_free(p);
 *
 * The graph carries quantizer ops: SymmetricQuantize / AsymmetricQuantize (NNCF), FakeQuantize
 * (OpenVINO), or QuantizeLinear + DequantizeLinear pairs (ONNX QDQ). A Conv, Gemm or MatMul whose
 * data input is a per-tensor activation quantizer's output and whose weight is a quantized
 * parameter runs as u8 x s8 -> int32 (AVX-512 VNNI, AVX2 or portable C, chosen at run time),
 * with a following BatchNormalization, Relu or Clip and the next quantizer folded into one
 * requantization (per-channel weight scales; float for the per-channel multiplier, as
 * OpenVINO's CPU plugin). MaxPool, Relu, Flatten, Reshape, Identity and Dropout keep u8 data u8;
 * Add and GlobalAveragePool of u8 inputs run on the codes. Everything else runs as the normal
 * float op: the plan dequantizes its inputs and the next quantizer quantizes its output, so any
 * graph runs; nncw_int8_plan_describe lists which nodes fell back and why.
 *
 * Integer weights are the quantizer's levels minus its zero point: they must fit int8
 * (symmetric weights of up to 8 bits do; asymmetric weights of 8 bits with a zero point away
 * from the middle do not, and fall back). Activations of up to 8 bits (256 levels) are u8 codes
 * with an integer zero point; per-channel activation quantizers fall back. Bitwidths below 8
 * run on the same kernels (widened). Threads split the batch by images (or each GEMM by pixels
 * for a batch smaller than the thread count).
 *
 * Agreement with the float executor on the same graph (the fake-quantized model): the integer
 * sums are exact, so every quantizer's codes equal the float model's except where the float
 * model's own rounding (or the folded requantization's) lands on the other side of a rounding
 * tie: one step, rarely. Downstream layers see such a step as a small input change, so in deep
 * networks the differences spread: on ResNet-20 with NNCF's CPU quantization the logits agree
 * within a few percent of their range (tests/engine/test_int8_exec.c checks both).
 *
 * The plan copies the quantizer ranges, weights, folded batch-norm statistics and shapes when
 * it is built: rebuild it after training or after any change to the graph. It keeps a float
 * executor of the graph at its batch size for the ops that fall back and for float outputs;
 * u8 buffers are one per value (a border of zero-point codes around each image for padding).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "graph/graph.h"
#include "tensor/tensor.h"

struct nncw_int8_plan;

/* the integer kernels; AUTO picks the best the CPU has */
enum nncw_int8_isa {
    NNCW_INT8_ISA_AUTO,
    NNCW_INT8_ISA_C,           /* portable C */
    NNCW_INT8_ISA_AVX2,        /* vpmaddubsw + vpmaddwd */
    NNCW_INT8_ISA_AVX512_VNNI, /* vpdpbusd */
    NNCW_INT8_ISA_COUNT
};

struct nncw_int8_options {
    int64_t batch;          /* the batch size runs use (smaller batches are padded) */
    enum nncw_int8_isa isa; /* AUTO: the environment variable NNCW_INT8_ISA (c, avx2,
                               avx512_vnni) if set, else the best supported */
    int threads;            /* 0: the engine's worker thread count */
};

/* batch 1, AUTO, threads 0 */
struct nncw_int8_options nncw_int8_defaults(void);

/* ---- kernels ---- */
/* "c", "avx2", "avx512_vnni" ("auto" for AUTO) */
const char *nncw_int8_isa_name(enum nncw_int8_isa isa);
/* whether this build and CPU can run the kernel (AUTO and C always) */
bool nncw_int8_isa_supported(enum nncw_int8_isa isa);
/* the kernel AUTO resolves to: NNCW_INT8_ISA when it names a supported kernel, else the best;
 * NNCW_ERR_INVALID_ARG naming the variable's value if it names none or an unsupported one */
enum nncw_status nncw_int8_isa_resolve(enum nncw_int8_isa requested, enum nncw_int8_isa *out);

/* ---- plans ---- */
/* Builds the integer plan of g (which must stay alive and unchanged while the plan is used).
 * NNCW_ERR_INVALID_ARG for bad options, NNCW_ERR_UNSUPPORTED for an ISA the CPU lacks, the
 * float executor's errors for shapes, NNCW_ERR_NOMEM. */
enum nncw_status nncw_int8_plan_build(struct nncw_graph *g, const struct nncw_int8_options *opt,
                                      struct nncw_int8_plan **out);
void nncw_int8_plan_free(struct nncw_int8_plan *p);

/* Runs a batch (1 .. options.batch). inputs[i] is graph input i as float32 [batch, ...];
 * outputs[i] receives graph output i as float32 [batch, ...]: an empty tensor (data NULL) is
 * allocated (the caller finalises it), otherwise it must have exactly that shape.
 * NNCW_ERR_INVALID_ARG / NNCW_ERR_SHAPE / NNCW_ERR_DTYPE naming the input or output. */
enum nncw_status nncw_int8_plan_run(struct nncw_int8_plan *p,
                                    const struct nncw_tensor *const inputs[],
                                    struct nncw_tensor *const outputs[], int64_t batch);

/* One line per step: the nodes it covers, "int8" with the kernel or "float" with the reason.
 * Writes at most size bytes (NUL-terminated, truncated if needed); returns the length the
 * whole text needs, as snprintf. */
size_t nncw_int8_plan_describe(const struct nncw_int8_plan *p, char *buf, size_t size);
/* how many graph nodes run in integer / fall back to float (quantizers and folded ops count
 * with the step they are part of) */
void nncw_int8_plan_count(const struct nncw_int8_plan *p, int *int_nodes, int *float_nodes);
/* the kernel the plan uses */
enum nncw_int8_isa nncw_int8_plan_get_isa(const struct nncw_int8_plan *p);
