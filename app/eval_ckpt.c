#include "eval_ckpt.h"

#include <stdio.h>
#include <string.h>

#include "args.h"
#include "checkpoint/checkpoint.h"
#include "core/alloc.h"
#include "datasets.h"
#include "ops/blas.h"
#include "train/trainer.h"

static const char usage[] =
    "usage: nncw eval CHECKPOINT.nncw [--data NAME] [--data-dir DIR] [--test-subset N]\n"
    "                 [--batch N] [--threads N]\n"
    "\n"
    "Restore the model a checkpoint holds (from `nncw compress --save`, `nncw train\n"
    "--checkpoint-dir` or `--checkpoint-dir` of compress) without its config file: the model\n"
    "from its stored source, the compression (quantizers, masks, ranges) from its stored config\n"
    "and state, then print the compression statistics and the test accuracy.\n"
    "\n"
    "  --data NAME          fashion-mnist, mnist, cifar10 or synthetic (default fashion-mnist)\n"
    "  --data-dir DIR       where the data set's files are\n"
    "  --test-subset N      evaluate on the first N test samples\n"
    "  --batch N            evaluation batch size (default 256)\n"
    "  --threads N          BLAS threads (default: all cores)\n";

bool app_eval_is_checkpoint(const char *path)
{
    char magic[8];
    FILE *f = fopen(path, "rb");
    bool yes = f && fread(magic, 1, 8, f) == 8 && !memcmp(magic, "NNCWCKPT", 8);
    if (f)
        fclose(f);
    return yes;
}

struct ckpt_eval_args {
    struct app_data_args data;
    long test_subset, batch, threads;
};

static int parse(int argc, char **argv, struct ckpt_eval_args *a)
{
    const char *cmd = "eval";
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i], *v = NULL;
        long n;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            fputs(usage, stdout);
            return -1;
        } else if (!strcmp(o, "--data")) {
            APP_OPT_STRING(a->data.name);
        } else if (!strcmp(o, "--data-dir")) {
            APP_OPT_STRING(a->data.dir);
        } else if (!strcmp(o, "--test-subset")) {
            APP_OPT_INT(a->test_subset, 1, 100000000);
        } else if (!strcmp(o, "--batch")) {
            APP_OPT_INT(a->batch, 1, 65536);
        } else if (!strcmp(o, "--threads")) {
            APP_OPT_INT(a->threads, 1, 1024);
        } else {
            fprintf(stderr,
                    "nncw eval: unknown option '%s' for a checkpoint (see 'nncw eval %s "
                    "--help')\n",
                    o, argv[1]);
            return 2;
        }
    }
    return 0;
}

static int fail(const char *what)
{
    fprintf(stderr, "nncw eval: %s: %s\n", what, nncw_last_error());
    return 1;
}

static int evaluate(const struct ckpt_eval_args *a, struct nncw_compressed_model *m)
{
    if (m->compression) {
        char *stats = NULL;
        if (nncw_compression_statistics(m->compression, &stats) != NNCW_OK)
            return fail("statistics");
        printf("compression statistics as restored (stage %s):\n%s",
               nncw_compression_stage_name(nncw_compression_get_stage(m->compression)), stats);
        nncw_free(stats);
    }
    const struct nncw_tensor *in =
        nncw_graph_get_value_tensor(m->graph, nncw_graph_get_input(m->graph, 0));
    struct app_data_args d = a->data;
    d.channels = in->ndim == 4 ? (int)in->shape[1] : 1;
    d.height = in->ndim == 4 ? (int)in->shape[2] : 28;
    d.width = in->ndim == 4 ? (int)in->shape[3] : 28;
    d.classes = 10;
    struct nncw_dataset *test = NULL;
    if (app_load_dataset(&d, false, &test) != NNCW_OK ||
        app_subset_dataset(&test, a->test_subset) != NNCW_OK) {
        nncw_dataset_free(test);
        return fail("data");
    }
    float acc, loss;
    enum nncw_status s =
        nncw_evaluate(m->graph, test, a->batch > 0 ? (int)a->batch : 256, &acc, &loss);
    nncw_dataset_free(test);
    if (s != NNCW_OK)
        return fail("evaluation");
    printf("test accuracy %.2f%% (loss %.4f)\n", 100.0 * acc, loss);
    return 0;
}

int app_eval_checkpoint(int argc, char **argv)
{
    struct ckpt_eval_args a = {.data = {.name = "fashion-mnist"}};
    int rc = parse(argc, argv, &a);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (a.threads > 0)
        nncw_blas_set_threads((int)a.threads);
    struct nncw_compressed_model m;
    if (nncw_checkpoint_load_compressed(argv[1], &m) != NNCW_OK)
        return fail(argv[1]);
    printf("restored %s from %s\n", m.compression ? "a compressed model" : "a model", argv[1]);
    rc = evaluate(&a, &m);
    nncw_compressed_model_fini(&m);
    return rc;
}
