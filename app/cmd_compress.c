/* `nncw compress`: build a compressed model from an NNCF-style config, initialise it on data,
 * optionally fine-tune it, print the statistics and export it. */
#include "commands.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "args.h"
#include "compress_precision.h"
#include "compress_aat.h"
#include "compress_autoq.h"
#include "compress_prune.h"
#include "compress_ckpt.h"
#include "checkpoint/checkpoint.h"
#include "compression/compression.h"
#include "config/config.h"
#include "core/alloc.h"
#include "datasets.h"
#include "int8/int8_exec.h"
#include "onnx/onnx.h"
#include "ops/blas.h"
#include "train/trainer.h"
#include "zoo/zoo.h"

static const char usage[] =
    "usage: nncw compress MODEL --config FILE.json [options]\n"
    "\n"
    "Compress a model as the config's \"compression\" section says (NNCF's format): insert\n"
    "the quantizers (or masks...), initialise them on data, optionally fine-tune, print the\n"
    "statistics and export. MODEL is an ONNX file or a built-in model name (cnn, resnet18,\n"
    "resnet20, mobilenet_v2; with --load for trained weights).\n"
    "\n"
    "  --config FILE        the NNCF-style JSON config (required)\n"
    "  --load FILE          weights for a built-in model, from `nncw train --save`\n"
    "  --data NAME          fashion-mnist, mnist, cifar10 or synthetic (default fashion-mnist)\n"
    "  --data-dir DIR       where the data set's files are\n"
    "  --train-subset N     initialise and fine-tune on the first N training samples\n"
    "  --test-subset N      evaluate on the first N test samples\n"
    "  --no-eval            skip the accuracy evaluations\n"
    "  --int8               also evaluate the result with the integer executor (int8 kernels,\n"
    "                       int32 accumulation): the accuracy and speed an int8 runtime gives\n"
    "  --epochs N           fine-tuning epochs (default: the config's \"epochs\", else 0)\n"
    "  --batch N            batch size (default: the config's, else 64)\n"
    "  --lr X               learning rate (default: the config's optimizer.base_lr, else 0.001)\n"
    "  --seed N             seed for data order and initialisation (default: config, else 1)\n"
    "  --threads N          BLAS threads (default: all cores)\n"
    "  --export FILE.onnx   write the compressed model (FakeQuantize or, with the config's\n"
    "                       export_to_onnx_standard_ops, QuantizeLinear/DequantizeLinear)\n"
    "  --save FILE          write the compressed model as a full checkpoint (weights,\n"
    "                       quantizer ranges, masks, the compression state, the config and\n"
    "                       the model): `nncw eval FILE` and `nncw compress --load FILE`\n"
    "                       restore it without the config file\n"
    "  --export-pruned FILE.onnx  with filter_pruning: write the model with the pruned\n"
    "                       channels removed (--export keeps the shapes, zeroed filters)\n"
    "  --quiet              only the results\n"
    "\n"
    "Ctrl-C stops fine-tuning after the current step; the model is still exported/saved.\n"
    "\n"
    "checkpoints (docs/checkpoints.md):\n"
    "  --load FILE          (without MODEL and --config) a compressed checkpoint: the model,\n"
    "                       its quantizers and masks and the config come from FILE\n"
    "  --checkpoint-dir DIR during fine-tuning, save full checkpoints as DIR/ckpt-<step>.nncw\n"
    "                       at every epoch's end, on Ctrl-C, and every N steps with\n"
    "  --checkpoint-every N\n"
    "  --keep-checkpoints K keep the newest K checkpoints (default 3)\n"
    "  --resume DIR|FILE    continue an interrupted fine-tuning from the newest good\n"
    "                       checkpoint in DIR (or FILE); options come from the checkpoint, and\n"
    "                       only --checkpoint-dir (default DIR), --checkpoint-every,\n"
    "                       --keep-checkpoints, --save, --export, --threads and --quiet may be\n"
    "                       given with it\n"
    "\n"
    "With an \"accuracy_aware_training\" section in the config, fine-tuning is NNCF's\n"
    "accuracy-aware training (early_exit or adaptive_compression_level against the FP32\n"
    "test accuracy); --epochs then caps its maximal_total_epochs (docs/accuracy-aware.md).\n";

struct compress_args {
    const char *model, *config, *load, *export_path, *save;
    const char *export_pruned; /* --export-pruned */
    struct app_compress_ckpt ckpt; /* checkpoints: --checkpoint-dir, --resume, --save */
    struct app_data_args data;
    long train_subset, test_subset, threads, epochs, batch, seed;
    double lr;
    bool no_eval, int8, quiet, fine_tuned;
};

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* returns 0 to go on, or an exit status (-1: --help printed) */
static int parse(int argc, char **argv, struct compress_args *a)
{
    const char *cmd = "compress";
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = NULL;
        long n;
        double x;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            fputs(usage, stdout);
            return -1;
        } else if (!strcmp(o, "--config")) {
            APP_OPT_STRING(a->config);
        } else if (!strcmp(o, "--load")) {
            APP_OPT_STRING(a->load);
        } else if (!strcmp(o, "--data")) {
            APP_OPT_STRING(a->data.name);
        } else if (!strcmp(o, "--data-dir")) {
            APP_OPT_STRING(a->data.dir);
        } else if (!strcmp(o, "--train-subset")) {
            APP_OPT_INT(a->train_subset, 1, 100000000);
        } else if (!strcmp(o, "--test-subset")) {
            APP_OPT_INT(a->test_subset, 1, 100000000);
        } else if (!strcmp(o, "--no-eval")) {
            a->no_eval = true;
        } else if (!strcmp(o, "--int8")) {
            a->int8 = true;
        } else if (!strcmp(o, "--epochs")) {
            APP_OPT_INT(a->epochs, 0, 100000);
        } else if (!strcmp(o, "--batch")) {
            APP_OPT_INT(a->batch, 1, 65536);
        } else if (!strcmp(o, "--lr")) {
            APP_OPT_FLOAT(a->lr, 0, 100);
        } else if (!strcmp(o, "--seed")) {
            APP_OPT_INT(a->seed, 0, 2147483647);
        } else if (!strcmp(o, "--threads")) {
            APP_OPT_INT(a->threads, 1, 1024);
        } else if (!strcmp(o, "--export")) {
            APP_OPT_STRING(a->export_path);
        } else if (!strcmp(o, "--save")) {
            APP_OPT_STRING(a->save);
        } else if (!strcmp(o, "--export-pruned")) {
            APP_OPT_STRING(a->export_pruned);
        } else if (!strcmp(o, "--checkpoint-dir")) {
            APP_OPT_STRING(a->ckpt.dir);
        } else if (!strcmp(o, "--checkpoint-every")) {
            APP_OPT_INT(a->ckpt.every, 1, 1000000000);
        } else if (!strcmp(o, "--keep-checkpoints")) {
            APP_OPT_INT(a->ckpt.keep, 1, 1000000);
        } else if (!strcmp(o, "--resume")) {
            APP_OPT_STRING(a->ckpt.resume);
        } else if (!strcmp(o, "--quiet")) {
            a->quiet = true;
        } else if (o[0] == '-') {
            fprintf(stderr, "nncw compress: unknown option '%s' (see 'nncw compress --help')\n",
                    o);
            return 2;
        } else if (!a->model) {
            a->model = o;
        } else {
            fprintf(stderr, "nncw compress: one model only (got '%s' and '%s')\n", a->model, o);
            return 2;
        }
    }
    /* a compressed checkpoint brings model and config along */
    if (a->ckpt.resume || (a->load && !a->model && !a->config))
        return 0;
    if (!a->model || !a->config) {
        fprintf(stderr, "nncw compress: %s\n%s", !a->model ? "no model given" : "--config is required",
                usage);
        return 2;
    }
    return 0;
}

static int fail(const char *what)
{
    fprintf(stderr, "nncw compress: %s%s%s\n", what ? what : "", what ? ": " : "",
            nncw_last_error());
    return 1;
}

static bool is_onnx_path(const char *m)
{
    size_t n = strlen(m);
    return strchr(m, '/') || (n > 5 && !strcmp(m + n - 5, ".onnx"));
}

/* the model: an ONNX file, or a built-in one shaped for the data (and its trained weights) */
static enum nncw_status load_model(const struct compress_args *a, const struct nncw_dataset *train,
                                   struct nncw_graph **g)
{
    if (is_onnx_path(a->model)) {
        if (a->load)
            return NNCW_FAIL(NNCW_ERR_INVALID_ARG, "--load is for built-in models; '%s' carries "
                             "its own weights", a->model);
        return nncw_onnx_import_file(a->model, NULL, g);
    }
    if (!nncw_zoo_describe(a->model))
        return NNCW_FAIL(NNCW_ERR_NOT_FOUND, "'%s' is neither an ONNX file (*.onnx) nor a "
                         "built-in model (cnn, resnet18, resnet20, mobilenet_v2)", a->model);
    struct nncw_zoo_options zo = nncw_zoo_defaults(a->model);
    int64_t shape[3];
    nncw_dataset_get_sample_shape(train, shape);
    zo.in_c = (int)shape[0];
    zo.in_h = (int)shape[1];
    zo.in_w = (int)shape[2];
    zo.classes = nncw_dataset_count_classes(train);
    zo.seed = 1;
    NNCW_TRY(nncw_zoo_build(a->model, &zo, g));
    if (a->load) {
        enum nncw_status s = nncw_checkpoint_load(*g, a->load);
        if (s != NNCW_OK) {
            nncw_graph_free(*g);
            *g = NULL;
        }
        return s;
    }
    return NNCW_OK;
}

static bool on_event(void *user, const struct nncw_train_event *ev)
{
    const struct compress_args *a = user;
    if (!a->quiet && ev->type == NNCW_TRAIN_EVENT_STEP)
        printf("epoch %d/%d  step %lld/%lld  loss %.4f  lr %.4g  %.0f img/s\n", ev->epoch + 1,
               ev->epochs, (long long)ev->step, (long long)ev->steps_per_epoch, ev->loss, ev->lr,
               ev->images_per_s);
    else if (!a->quiet && ev->type == NNCW_TRAIN_EVENT_EPOCH) {
        printf("epoch %d/%d done  train loss %.4f acc %.2f%%", ev->epoch + 1, ev->epochs,
               ev->train_loss, 100.0 * ev->train_acc);
        if (!isnan(ev->test_acc))
            printf("  |  test loss %.4f acc %.2f%%", ev->test_loss, 100.0 * ev->test_acc);
        printf("\n");
    }
    fflush(stdout);
    return !interrupted;
}

static enum nncw_status report_accuracy(const struct compress_args *a, struct nncw_graph *g,
                                        const struct nncw_dataset *test, const char *what,
                                        float *acc)
{
    *acc = NAN;
    if (a->no_eval)
        return NNCW_OK;
    float loss;
    NNCW_TRY(nncw_evaluate(g, test, 256, acc, &loss));
    printf("%s test accuracy %.2f%% (loss %.4f)\n", what, 100.0 * *acc, loss);
    fflush(stdout);
    return NNCW_OK;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* the test set through the integer executor: the accuracy and speed an int8 runtime gives */
static enum nncw_status int8_accuracy(struct nncw_graph *g, const struct nncw_dataset *test,
                                      int batch, float *acc, double *images_per_s, int *int_nodes,
                                      int *float_nodes, const char **isa)
{
    int64_t count = nncw_dataset_count_samples(test), numel = nncw_dataset_get_sample_numel(test);
    int64_t shape[3];
    nncw_dataset_get_sample_shape(test, shape);
    if (count < batch)
        batch = (int)count;
    struct nncw_int8_options o = nncw_int8_defaults();
    o.batch = batch;
    struct nncw_int8_plan *p;
    NNCW_TRY(nncw_int8_plan_build(g, &o, &p));
    nncw_int8_plan_count(p, int_nodes, float_nodes);
    *isa = nncw_int8_isa_name(nncw_int8_plan_get_isa(p));
    struct nncw_tensor logits = {0};
    int64_t correct = 0;
    enum nncw_status s = NNCW_OK;
    double t0 = now_s();
    for (int64_t at = 0; at < count && s == NNCW_OK; at += batch) {
        int n = count - at < batch ? (int)(count - at) : batch;
        struct nncw_tensor x;
        nncw_tensor_init_borrowed(&x, NNCW_DTYPE_F32, 4, (int64_t[]){n, shape[0], shape[1], shape[2]},
                                  (float *)nncw_dataset_get_images(test) + at * numel);
        s = nncw_int8_plan_run(p, (const struct nncw_tensor *const[]){&x},
                               (struct nncw_tensor *const[]){&logits}, n);
        if (s == NNCW_OK)
            correct += nncw_count_correct(&logits, nncw_dataset_get_labels(test) + at);
        nncw_tensor_fini(&logits);
        logits = (struct nncw_tensor){0};
    }
    double dt = now_s() - t0;
    nncw_int8_plan_free(p);
    if (s == NNCW_OK) {
        *acc = (float)((double)correct / (double)count);
        *images_per_s = dt > 0 ? (double)count / dt : 0;
    }
    return s;
}

static void report_int8(const struct compress_args *a, struct nncw_graph *g,
                        const struct nncw_dataset *test)
{
    if (a->no_eval || !a->int8)
        return;
    float acc;
    double ips;
    int in, fl;
    const char *isa;
    if (int8_accuracy(g, test, 256, &acc, &ips, &in, &fl, &isa) != NNCW_OK) {
        fprintf(stderr, "nncw compress: the integer executor: %s\n", nncw_last_error());
        return;
    }
    printf("int8 executor (%s, %d nodes integer, %d float) test accuracy %.2f%%, %.0f img/s\n",
           isa, in, fl, 100.0 * acc, ips);
    fflush(stdout);
}

static int fine_tune(struct compress_args *a, const struct nncw_config *cfg,
                     struct nncw_graph *g, struct nncw_compression *c,
                     const struct nncw_dataset *train, const struct nncw_dataset *test)
{
    struct nncw_train_options o = nncw_train_defaults();
    o.optim.lr = 0.001f;
    o.epochs = 0;
    nncw_config_apply_train(cfg, &o);
    if (a->epochs >= 0)
        o.epochs = (int)a->epochs;
    if (a->batch > 0)
        o.batch_size = (int)a->batch;
    if (a->lr >= 0)
        o.optim.lr = (float)a->lr;
    if (a->seed >= 0)
        o.seed = (uint64_t)a->seed;
    if (o.epochs == 0)
        return 0;
    a->fine_tuned = true;
    o.log_every = a->quiet ? 0 : 100;
    struct nncw_trainer *t = NULL;
    if (nncw_trainer_new(g, train, a->no_eval ? NULL : test, &o, &t) != NNCW_OK)
        return fail("fine-tuning");
    struct nncw_train_hooks h = nncw_compression_train_hooks(c);
    if (nncw_trainer_set_hooks(t, &h) != NNCW_OK) {
        nncw_trainer_free(t);
        return fail("fine-tuning");
    }
    if (app_compress_ckpt_restore_trainer(&a->ckpt, t) != 0) {
        nncw_trainer_free(t);
        return 1;
    }
    nncw_trainer_set_callback(t, on_event, (void *)a);
    if (!a->quiet)
        printf("fine-tuning: %d epochs, batch %d, %s lr %g, seed %llu\n", o.epochs, o.batch_size,
               nncw_optim_type_name(o.optim.type), (double)o.optim.lr,
               (unsigned long long)o.seed);
    signal(SIGINT, on_sigint);
    enum nncw_status s = app_compress_ckpt_train(&a->ckpt, g, c, t);
    signal(SIGINT, SIG_DFL);
    int rc = 0;
    if (s == NNCW_OK) {
        struct nncw_train_event last;
        nncw_trainer_get_last_epoch(t, &last);
        if (!isnan(last.test_acc))
            printf("fine-tuned test accuracy %.2f%% (loss %.4f) after %d epochs\n",
                   100.0 * last.test_acc, last.test_loss, o.epochs);
    } else {
        fprintf(stderr, "nncw compress: %s\n", nncw_last_error());
        rc = s == NNCW_ERR_CANCELLED ? 130 : 1;
    }
    nncw_trainer_free(t);
    return rc;
}

/* accuracy-aware training in place of fine_tune (the config's accuracy_aware_training) */
static int accuracy_aware(const struct compress_args *a, const struct nncw_config *cfg,
                          struct nncw_graph *g, struct nncw_compression *c,
                          const struct nncw_dataset *train, const struct nncw_dataset *test,
                          float fp32)
{
    if (a->no_eval) {
        fprintf(stderr, "nncw compress: accuracy-aware training needs the evaluations; drop "
                        "--no-eval\n");
        return 2;
    }
    struct app_aat_args aa = {.train = nncw_train_defaults(), .max_epochs = a->epochs,
                              .quiet = a->quiet, .uncompressed_acc = fp32};
    aa.train.optim.lr = 0.001f;
    nncw_config_apply_train(cfg, &aa.train);
    if (a->batch > 0)
        aa.train.batch_size = (int)a->batch;
    if (a->lr >= 0)
        aa.train.optim.lr = (float)a->lr;
    if (a->seed >= 0)
        aa.train.seed = (uint64_t)a->seed;
    return app_compress_aat(&aa, cfg, g, c, train, test);
}

static int write_outputs(const struct compress_args *a, struct nncw_graph *g,
                         struct nncw_compression *c)
{
    int rc = 0;
    if (a->export_path) {
        struct nncw_onnx_export_options eo = {.opset = 13};
        nncw_compression_export_options(c, &eo);
        if (nncw_onnx_export_file(g, a->export_path, &eo) != NNCW_OK)
            rc = fail("--export");
        else if (!a->quiet)
            printf("exported %s\n", a->export_path);
    }
    if (a->export_pruned) { /* filter pruning's shrunk model */
        struct nncw_onnx_export_options eo = {.opset = 13};
        nncw_compression_export_options(c, &eo);
        if (app_compress_export_pruned(c, a->export_pruned, &eo, a->quiet) != 0)
            rc = 1;
    }
    if (a->save) {
        if (app_compress_ckpt_save(&a->ckpt, a->save, g, c) != NNCW_OK)
            rc = fail("--save");
        else if (!a->quiet)
            printf("saved weights to %s\n", a->save);
    }
    return rc;
}

static enum nncw_status print_statistics(const struct compress_args *a,
                                         const struct nncw_compression *c, const char *when)
{
    if (a->quiet)
        return NNCW_OK;
    char *stats = NULL;
    NNCW_TRY(nncw_compression_statistics(c, &stats));
    printf("compression statistics %s (stage %s):\n%s", when,
           nncw_compression_stage_name(nncw_compression_get_stage(c)), stats);
    nncw_free(stats);
    fflush(stdout);
    return NNCW_OK;
}

/* what checkpoints of a new run carry: the config's text and the model (as load_model made it) */
static int record_for_checkpoints(struct compress_args *a, const struct nncw_dataset *train)
{
    if (is_onnx_path(a->model))
        return app_compress_ckpt_record(&a->ckpt, a->config, a->model, NULL, a->ckpt.argc,
                                        a->ckpt.argv);
    struct nncw_zoo_options zo = nncw_zoo_defaults(a->model);
    int64_t shape[3];
    nncw_dataset_get_sample_shape(train, shape);
    zo.in_c = (int)shape[0];
    zo.in_h = (int)shape[1];
    zo.in_w = (int)shape[2];
    zo.classes = nncw_dataset_count_classes(train);
    zo.seed = 1;
    return app_compress_ckpt_record(&a->ckpt, a->config, a->model, &zo, a->ckpt.argc,
                                    a->ckpt.argv);
}

static int run(struct compress_args *a)
{
    struct nncw_config *cfg = NULL;
    struct nncw_dataset *train = NULL, *test = NULL;
    struct nncw_graph *g = NULL;
    struct nncw_compression *c = NULL;
    int rc = 1;
    /* a compressed checkpoint (--resume, or --load without MODEL and --config) brings the
     * model, its compression and the config */
    bool from_ckpt = a->ckpt.resume || (a->load && !a->model && !a->config);
    if (from_ckpt) {
        struct nncw_compressed_model m = {0};
        a->ckpt.quiet = a->quiet;
        rc = app_compress_ckpt_open(&a->ckpt, a->ckpt.resume ? a->ckpt.resume : a->load, &m);
        cfg = m.config;
        g = m.graph;
        c = m.compression;
        if (rc != 0)
            goto out;
        rc = 1;
    } else if (nncw_config_load(a->config, &cfg) != NNCW_OK) {
        rc = fail(NULL);
        goto out;
    }
    for (int i = 0; i < cfg->n_warnings; i++)
        fprintf(stderr, "nncw compress: warning: %s\n", cfg->warnings[i]);
    a->data.channels = cfg->n_inputs && cfg->inputs[0].ndim >= 3
                           ? (int)cfg->inputs[0].sample_size[cfg->inputs[0].ndim - 3] : 1;
    a->data.height = cfg->n_inputs && cfg->inputs[0].ndim >= 2
                         ? (int)cfg->inputs[0].sample_size[cfg->inputs[0].ndim - 2] : 28;
    a->data.width = cfg->n_inputs && cfg->inputs[0].ndim >= 1
                        ? (int)cfg->inputs[0].sample_size[cfg->inputs[0].ndim - 1] : 28;
    a->data.classes = cfg->num_classes > 0 ? cfg->num_classes : 10;
    if (app_load_dataset(&a->data, true, &train) != NNCW_OK ||
        app_load_dataset(&a->data, false, &test) != NNCW_OK ||
        app_subset_dataset(&train, a->train_subset) != NNCW_OK ||
        app_subset_dataset(&test, a->test_subset) != NNCW_OK) {
        rc = fail(NULL);
        goto out;
    }
    if (!from_ckpt && load_model(a, train, &g) != NNCW_OK) {
        rc = fail(a->model);
        goto out;
    }
    if (!from_ckpt && record_for_checkpoints(a, train) != 0)
        goto out;
    float fp32 = NAN, initialised = NAN;
    if (!from_ckpt && report_accuracy(a, g, test, "FP32", &fp32) != NNCW_OK) {
        rc = fail("evaluation");
        goto out;
    }
    uint64_t seed = a->seed >= 0 ? (uint64_t)a->seed : (cfg->has & NNCW_CFG_SEED ? cfg->seed : 1);
    struct nncw_compression_init init = {
        .data = train,
        .batch_size = a->batch > 0 ? (int)a->batch : (cfg->batch_size > 0 ? cfg->batch_size : 64),
        .seed = seed};
    if (!a->quiet) /* mixed precision: HAWQ's Hutchinson iterations */
        init.precision_progress = app_compress_precision_progress;
    if (!from_ckpt && nncw_compression_create(g, cfg, &init, &c) != NNCW_OK) {
        rc = fail(NULL);
        goto out;
    }
    if (!from_ckpt)
        app_compress_print_precision(c, a->quiet);
    /* AutoQ (initializer.precision.type "autoq"): searched on the test set, best applied */
    if (!from_ckpt &&
        app_compress_autoq(cfg, g, c, test, init.batch_size, a->quiet, &interrupted) != 0)
        goto out;
    if (print_statistics(a, c, from_ckpt ? "as restored" : "after initialisation") != NNCW_OK) {
        rc = fail("statistics");
        goto out;
    }
    if (report_accuracy(a, g, test, from_ckpt ? "compressed (restored)" : "compressed (initialised)",
                        &initialised) != NNCW_OK) {
        rc = fail("evaluation");
        goto out;
    }
    if (cfg->has & NNCW_CFG_ACCURACY_AWARE) { /* accuracy-aware training */
        rc = accuracy_aware(a, cfg, g, c, train, test, fp32);
        a->fine_tuned = true;
    } else {
        rc = fine_tune(a, cfg, g, c, train, test);
    }
    /* schedulers move during fine-tuning (sparsity levels, quantizers switched on) */
    if (rc == 0 && a->fine_tuned && print_statistics(a, c, "after fine-tuning") != NNCW_OK)
        rc = fail("statistics");
    if (rc == 0)
        report_int8(a, g, test);
    int wrc = write_outputs(a, g, c);
    if (rc == 0)
        rc = wrc;
out:
    nncw_compression_free(c);
    nncw_graph_free(g);
    nncw_dataset_free(train);
    nncw_dataset_free(test);
    nncw_config_free(cfg);
    app_compress_ckpt_fini(&a->ckpt);
    return rc;
}

/* --resume: the options of the interrupted run, from its checkpoint, with the few that may
 * change on resuming */
static int resume(const struct compress_args *cur, int argc, char **argv)
{
    static const char *const may[] = {"--resume", "--checkpoint-dir", "--checkpoint-every",
                                      "--keep-checkpoints", "--save", "--export", "--threads",
                                      "--quiet", NULL};
    for (int i = 1; i < argc; i++) {
        int k = 0;
        while (argv[i][0] == '-' && may[k] && strcmp(argv[i], may[k]) != 0)
            k++;
        if (argv[i][0] == '-' && !may[k]) {
            fprintf(stderr, "nncw compress: %s cannot be given with --resume: the model, config, "
                            "data and training options come from the checkpoint\n", argv[i]);
            return 2;
        }
    }
    struct app_compress_ckpt probe = {0};
    struct nncw_compressed_model m = {0};
    probe.quiet = true;
    int rc = app_compress_ckpt_open(&probe, cur->ckpt.resume, &m);
    nncw_compressed_model_fini(&m);
    int sargc = 0;
    const char **sargv = rc == 0 ? app_compress_ckpt_argv(&probe, &sargc) : NULL;
    if (rc == 0 && !sargv) {
        fprintf(stderr, "nncw compress: --resume: '%s' was not written by nncw compress "
                        "--checkpoint-dir\n", cur->ckpt.resume);
        rc = 2;
    }
    struct compress_args a = {.data = {.name = "fashion-mnist"}, .epochs = -1, .batch = -1,
                              .seed = -1, .lr = -1};
    a.ckpt.every = a.ckpt.keep = -1;
    if (rc == 0 && (rc = parse(sargc, (char **)sargv, &a)) != 0)
        fprintf(stderr, "nncw compress: --resume: the stored command line does not parse\n");
    if (rc == 0) {
        a.ckpt.resume = cur->ckpt.resume;
        /* a folder resumed from goes on receiving checkpoints (it may have moved since) */
        struct stat sb;
        bool is_dir = stat(cur->ckpt.resume, &sb) == 0 && S_ISDIR(sb.st_mode);
        a.ckpt.dir = cur->ckpt.dir ? cur->ckpt.dir : is_dir ? cur->ckpt.resume : a.ckpt.dir;
        a.ckpt.every = cur->ckpt.every > 0 ? cur->ckpt.every : a.ckpt.every;
        a.ckpt.keep = cur->ckpt.keep > 0 ? cur->ckpt.keep : a.ckpt.keep;
        a.save = cur->save ? cur->save : a.save;
        a.export_path = cur->export_path ? cur->export_path : a.export_path;
        a.quiet = a.quiet || cur->quiet;
        a.ckpt.argc = sargc;
        a.ckpt.argv = (char *const *)sargv;
        rc = run(&a);
    }
    app_compress_ckpt_fini(&probe); /* after run: the stored command line lives in it */
    return rc;
}

int app_cmd_compress(int argc, char **argv)
{
    struct compress_args a = {.data = {.name = "fashion-mnist"}, .epochs = -1, .batch = -1,
                              .seed = -1, .lr = -1};
    a.ckpt.every = a.ckpt.keep = -1;
    int rc = parse(argc, argv, &a);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (a.threads > 0)
        nncw_blas_set_threads((int)a.threads);
    if (a.ckpt.resume)
        return resume(&a, argc, argv);
    a.ckpt.argc = argc;
    a.ckpt.argv = argv;
    return run(&a);
}
