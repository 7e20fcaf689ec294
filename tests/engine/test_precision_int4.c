/* Mixed 4/8-bit models (manual precision on the VPU, where 4 bits are allowed) through the
 * integer executor: every node runs in integer and the quantized output agrees with the
 * fake-quantized float model within one quantization step. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "compression/compression.h"
#include "config/config.h"
#include "data/data.h"
#include "graph/exec.h"
#include "int8/int8_exec.h"
#include "nncwt.h"
#include "zoo/zoo.h"

static struct nncw_dataset *data(void)
{
    struct nncw_synthetic_opts so = {.count = 32, .channels = 1, .height = 28, .width = 28,
                                     .num_classes = 10, .seed = 5, .sample_seed = 2};
    struct nncw_dataset *ds;
    nncwt_assert_status(nncw_dataset_new_synthetic(&so, &ds), NNCW_OK);
    return ds;
}

/* the zoo cnn on the VPU with conv2 (weights and input) and fc1's weights at 4 bits, and an
 * 8-bit quantizer on the logits (CNN/fc2|OUTPUT) so "one step" is defined */
static struct nncw_compression *mixed_cnn(struct nncw_graph **g, struct nncw_config **cfg,
                                          const struct nncw_dataset *ds)
{
    struct nncw_zoo_options zo = nncw_zoo_defaults("cnn");
    nncwt_assert_status(nncw_zoo_build("cnn", &zo, g), NNCW_OK);
    nncwt_assert_status(
        nncw_config_parse(
            "{\"input_info\": {\"sample_size\": [1, 1, 28, 28]}, \"target_device\": \"VPU\", "
            "\"compression\": {\"algorithm\": \"quantization\", \"quantize_outputs\": true, "
            "\"initializer\": {\"range\": {\"num_init_samples\": 32}, "
            "\"batchnorm_adaptation\": {\"num_bn_adaptation_samples\": 0}, \"precision\": "
            "{\"type\": \"manual\", \"bitwidth_per_scope\": [[4, \"CNN/conv2|WEIGHT\"], "
            "[4, \"CNN/relu1|OUTPUT\"], [4, \"CNN/fc1|WEIGHT\"]]}}}}",
            "int4.json", cfg),
        NNCW_OK);
    struct nncw_compression_init init = {.data = ds, .batch_size = 16, .seed = 1};
    struct nncw_compression *c;
    nncwt_assert_status(nncw_compression_create(*g, *cfg, &init, &c), NNCW_OK);
    return c;
}

static int bits_of(const struct nncw_compression *c, const char *id, float *step)
{
    for (int i = 0; i < nncw_compression_count_quantizers(c); i++) {
        struct nncw_quantizer_info q;
        nncwt_assert_status(nncw_compression_get_quantizer(c, i, &q), NNCW_OK);
        if (strstr(q.id, id)) {
            if (step)
                *step = (q.high - q.low) / (float)((1 << q.bits) - 1);
            return q.bits;
        }
    }
    ck_abort_msg("no quantizer '%s'", id);
    return 0;
}

START_TEST(test_mixed_4_8_cnn_runs_integer_within_one_step)
{
    struct nncw_dataset *ds = data();
    struct nncw_graph *g;
    struct nncw_config *cfg;
    struct nncw_compression *c = mixed_cnn(&g, &cfg, ds);
    ck_assert_int_eq(bits_of(c, "CNN/conv2|WEIGHT", NULL), 4);
    ck_assert_int_eq(bits_of(c, "CNN/relu1|OUTPUT", NULL), 4);
    ck_assert_int_eq(bits_of(c, "CNN/conv1|WEIGHT", NULL), 8);
    float step;
    ck_assert_int_eq(bits_of(c, "CNN/fc2|OUTPUT", &step), 8);
    ck_assert(step > 0);
    const int batch = 16;
    struct nncw_tensor x;
    nncw_tensor_init_borrowed(&x, NNCW_DTYPE_F32, 4, (int64_t[]){batch, 1, 28, 28},
                              (float *)nncw_dataset_get_images(ds));
    struct nncw_exec *ex;
    struct nncw_exec_options eo = {.batch = batch};
    nncwt_assert_status(nncw_exec_new(g, &eo, &ex), NNCW_OK);
    memcpy(nncw_exec_get_input(ex, 0)->data, x.data, nncw_tensor_nbytes(&x));
    nncwt_assert_status(nncw_exec_forward(ex), NNCW_OK);
    const struct nncw_tensor *want = nncw_exec_get_output(ex, 0);
    for (int isa = NNCW_INT8_ISA_C; isa < NNCW_INT8_ISA_COUNT; isa++) {
        if (!nncw_int8_isa_supported((enum nncw_int8_isa)isa))
            continue;
        struct nncw_int8_options o = nncw_int8_defaults();
        o.batch = batch;
        o.isa = (enum nncw_int8_isa)isa;
        struct nncw_int8_plan *p;
        nncwt_assert_status(nncw_int8_plan_build(g, &o, &p), NNCW_OK);
        int ni, nf;
        nncw_int8_plan_count(p, &ni, &nf);
        char text[8192];
        nncw_int8_plan_describe(p, text, sizeof text);
        ck_assert_msg(nf == 0, "%d nodes fall back to float:\n%s", nf, text);
        struct nncw_tensor got = {0};
        nncwt_assert_status(nncw_int8_plan_run(p, (const struct nncw_tensor *[]){&x},
                                               (struct nncw_tensor *[]){&got}, batch),
                            NNCW_OK);
        int64_t n = nncw_tensor_numel(want), same = 0;
        for (int64_t i = 0; i < n; i++) {
            float d = fabsf(nncw_tensor_f32(&got)[i] - nncw_tensor_f32(want)[i]);
            ck_assert_msg(d <= 1.001f * step, "%s: logit %lld: %g vs %g (step %g)",
                          nncw_int8_isa_name((enum nncw_int8_isa)isa), (long long)i,
                          (double)nncw_tensor_f32(&got)[i], (double)nncw_tensor_f32(want)[i],
                          (double)step);
            same += d <= 1e-3f * step;
        }
        ck_assert_msg(same >= n * 9 / 10, "only %lld of %lld logits on the same level",
                      (long long)same, (long long)n);
        nncw_tensor_fini(&got);
        nncw_int8_plan_free(p);
    }
    nncw_exec_free(ex);
    nncw_compression_free(c);
    nncw_config_free(cfg);
    nncw_graph_free(g);
    nncw_dataset_free(ds);
}
END_TEST

static Suite *precision_int4_suite(void)
{
    Suite *s = suite_create("precision_int4");
    TCase *t = tcase_create("int4");
    tcase_add_test(t, test_mixed_4_8_cnn_runs_integer_within_one_step);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return nncwt_run(precision_int4_suite());
}
