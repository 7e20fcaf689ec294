/* The config parser: every file in tests/data/configs/good parses, every file in bad/ fails
 * with NNCW_ERR_PARSE and the message listed in bad/expected.txt; typed values, defaults,
 * warnings, applying training keys, out-of-memory paths. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/alloc.h"
#include "nncwt.h"

#ifndef NNCW_TEST_DATA
#define NNCW_TEST_DATA "tests/data"
#endif

static struct nncw_config *load_good(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/configs/good/%s", NNCW_TEST_DATA, name);
    struct nncw_config *cfg = NULL;
    nncwt_assert_status(nncw_config_load(path, &cfg), NNCW_OK);
    return cfg;
}

START_TEST(test_config_full_example_is_typed)
{
    struct nncw_config *cfg = load_good("quantization_resnet20_cifar10.json");
    ck_assert_str_eq(cfg->model, "resnet20");
    ck_assert_str_eq(cfg->dataset, "cifar10");
    ck_assert_int_eq(cfg->num_classes, 10);
    ck_assert_int_eq(cfg->batch_size, 128);
    ck_assert_int_eq(cfg->epochs, 30);
    ck_assert(cfg->has & NNCW_CFG_SEED);
    ck_assert_int_eq(cfg->target_device, NNCW_DEVICE_CPU);
    ck_assert_int_eq(cfg->n_inputs, 1);
    ck_assert_int_eq(cfg->inputs[0].ndim, 4);
    ck_assert_int_eq(cfg->inputs[0].sample_size[1], 3);
    ck_assert_int_eq(cfg->inputs[0].dtype, NNCW_DTYPE_F32);
    ck_assert_int_eq(cfg->optimizer.type, NNCW_OPTIM_ADAM);
    ck_assert_int_eq(cfg->optimizer.schedule, NNCW_LR_MULTISTEP);
    ck_assert_int_eq(cfg->optimizer.n_steps, 2);
    ck_assert_int_eq(cfg->optimizer.steps[1], 20);
    ck_assert_int_eq(cfg->n_compression, 1);
    const struct nncw_compression_config *q = &cfg->compression[0];
    ck_assert_str_eq(q->algorithm, "quantization");
    ck_assert_int_eq(q->n_ignored, 2);
    ck_assert_str_eq(q->ignored_scopes[0], "ResNet20/fc");
    ck_assert_int_eq(q->n_target, 0);
    ck_assert_str_eq(q->params_json, "{}");
    ck_assert_ptr_nonnull(strstr(q->settings_json, "\"weights\":{\"mode\":\"symmetric\""));
    ck_assert_int_eq(cfg->n_warnings, 0);
    nncw_config_free(cfg);
}
END_TEST

START_TEST(test_config_lists_and_single_strings)
{
    struct nncw_config *cfg = load_good("sparsity_then_pruning_list.json");
    ck_assert_int_eq(cfg->n_inputs, 2);
    ck_assert_str_eq(cfg->inputs[0].keyword, "x");
    ck_assert_str_eq(cfg->inputs[0].filler, "zeros");
    ck_assert_int_eq(cfg->inputs[1].dtype, NNCW_DTYPE_I64);
    ck_assert_int_eq(cfg->n_compression, 2);
    ck_assert_int_eq(cfg->compression[0].n_target, 1);
    ck_assert_ptr_nonnull(strstr(cfg->compression[0].params_json, "\"multistep_steps\":[2,4]"));
    ck_assert_int_eq(cfg->compression[1].n_ignored, 0);
    ck_assert(cfg->optimizer.nesterov);
    nncw_config_free(cfg);
}
END_TEST

START_TEST(test_config_empty_has_defaults)
{
    struct nncw_config *cfg = load_good("empty.json");
    ck_assert_int_eq(cfg->has, 0);
    ck_assert_int_eq(cfg->n_inputs, 0);
    ck_assert_int_eq(cfg->n_compression, 0);
    ck_assert_int_eq(cfg->target_device, NNCW_DEVICE_ANY);
    ck_assert_str_eq(nncw_target_device_name(cfg->target_device), "ANY");
    nncw_config_free(cfg);
}
END_TEST

START_TEST(test_config_unknown_keys_warn_with_paths)
{
    struct nncw_config *cfg = load_good("unknown_keys_warn.json");
    ck_assert_int_eq(cfg->n_warnings, 4);
    ck_assert_ptr_nonnull(strstr(cfg->warnings[0], "unknown key 'optimiser'"));
    ck_assert_ptr_nonnull(strstr(cfg->warnings[1], "unknown key 'optimizer.lr'"));
    ck_assert_ptr_nonnull(strstr(cfg->warnings[2], "unknown key 'input_info.shape'"));
    ck_assert_ptr_nonnull(strstr(cfg->warnings[3], "duplicate key 'epochs'"));
    ck_assert_int_eq(cfg->epochs, 2);
    nncw_config_free(cfg);
}
END_TEST

START_TEST(test_config_bad_files_fail_naming_the_path)
{
    char list[1024];
    snprintf(list, sizeof list, "%s/configs/bad/expected.txt", NNCW_TEST_DATA);
    FILE *f = fopen(list, "r");
    ck_assert_ptr_nonnull(f);
    char line[1024];
    int checked = 0;
    while (fgets(line, sizeof line, f)) {
        char *tab = strchr(line, '\t');
        if (line[0] == '#' || !tab)
            continue;
        *tab = '\0';
        tab[strcspn(tab + 1, "\n") + 1] = '\0';
        char path[2048];
        snprintf(path, sizeof path, "%s/configs/bad/%s", NNCW_TEST_DATA, line);
        struct nncw_config *cfg = NULL;
        enum nncw_status s = nncw_config_load(path, &cfg);
        ck_assert_msg(s == NNCW_ERR_PARSE, "%s: status %s", line, nncw_status_str(s));
        ck_assert_ptr_null(cfg);
        ck_assert_msg(strstr(nncw_last_error(), tab + 1), "%s: '%s' lacks '%s'", line,
                      nncw_last_error(), tab + 1);
        ck_assert_ptr_nonnull(strstr(nncw_last_error(), path));
        checked++;
    }
    fclose(f);
    ck_assert_int_ge(checked, 15);
}
END_TEST

START_TEST(test_config_io_errors)
{
    struct nncw_config *cfg = NULL;
    nncwt_assert_status(nncw_config_load("/nonexistent/c.json", &cfg), NNCW_ERR_IO);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "/nonexistent/c.json"));
    nncwt_assert_status(nncw_config_load(NNCW_TEST_DATA, &cfg), NNCW_ERR_IO);
    ck_assert_ptr_null(cfg);
}
END_TEST

START_TEST(test_config_parse_strings_and_empty_lists)
{
    struct nncw_config *cfg = NULL;
    nncwt_assert_status(nncw_config_parse("{\"compression\": [{\"algorithm\": \"quantization\", "
                                          "\"params\": [], \"ignored_scopes\": \"{re}x\"}]}",
                                          NULL, &cfg),
                        NNCW_OK);
    ck_assert_str_eq(cfg->source, "<string>");
    ck_assert_str_eq(cfg->compression[0].params_json, "{}");
    ck_assert_int_eq(cfg->compression[0].n_ignored, 1);
    nncw_config_free(cfg);
    nncwt_assert_status(nncw_config_parse("{\"epochs\": 3}\n{", "two", &cfg), NNCW_ERR_PARSE);
    ck_assert_ptr_nonnull(
        strstr(nncw_last_error(), "config 'two': line 2, column 1: invalid JSON near '{'"));
    nncwt_assert_status(nncw_config_parse("{\"epochs\": 3, \"seed\": -1}", "s", &cfg),
                        NNCW_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(nncw_last_error(), "seed: expected an integer in [0,"));
}
END_TEST

START_TEST(test_config_apply_train_sets_only_given_keys)
{
    struct nncw_config *cfg = NULL;
    nncwt_assert_status(
        nncw_config_parse("{\"epochs\": 7, \"optimizer\": {\"type\": \"adam\", \"base_lr\": 0.5, "
                          "\"schedule_type\": \"step\", \"step_size\": 2, \"gamma\": 0.5}}",
                          "t", &cfg),
        NNCW_OK);
    struct nncw_train_options o = nncw_train_defaults();
    int batch = o.batch_size;
    uint64_t seed = o.seed;
    nncw_config_apply_train(cfg, &o);
    ck_assert_int_eq(o.epochs, 7);
    ck_assert_int_eq(o.batch_size, batch);
    ck_assert_int_eq(o.seed, seed);
    ck_assert_int_eq(o.optim.type, NNCW_OPTIM_ADAM);
    ck_assert_float_eq(o.optim.lr, 0.5f);
    ck_assert_float_gt(o.optim.beta2, 0.9f);
    ck_assert_int_eq(o.schedule.type, NNCW_LR_STEP);
    ck_assert_int_eq(o.schedule.step_size, 2);
    nncw_config_free(cfg);
}
END_TEST

START_TEST(test_config_out_of_memory_fails_cleanly)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/configs/good/sparsity_then_pruning_list.json", NNCW_TEST_DATA);
    int failures = 0;
    for (long n = 1; n < 200; n++) {
        struct nncw_config *cfg = NULL;
        nncw_alloc_fail_after(n);
        enum nncw_status s = nncw_config_load(path, &cfg);
        nncw_alloc_fail_after(0);
        if (s == NNCW_OK) {
            nncw_config_free(cfg);
            break;
        }
        ck_assert_int_eq(s, NNCW_ERR_NOMEM);
        ck_assert_ptr_null(cfg);
        failures++;
    }
    ck_assert_int_gt(failures, 10);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("good");
    tcase_add_test(tc, test_config_full_example_is_typed);
    tcase_add_test(tc, test_config_lists_and_single_strings);
    tcase_add_test(tc, test_config_empty_has_defaults);
    tcase_add_test(tc, test_config_unknown_keys_warn_with_paths);
    tcase_add_test(tc, test_config_parse_strings_and_empty_lists);
    tcase_add_test(tc, test_config_apply_train_sets_only_given_keys);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_config_bad_files_fail_naming_the_path);
    tcase_add_test(tc, test_config_io_errors);
    tcase_add_test(tc, test_config_out_of_memory_fails_cleanly);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return nncwt_run(config_suite());
}
