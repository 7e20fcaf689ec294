/* `nncw train`: train a built-in model on a data set, print progress, optionally save. */
#include "commands.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "datasets.h"
#include "checkpoint/checkpoint.h"
#include "data/data.h"
#include "ops/blas.h"
#include "train/trainer.h"
#include "zoo/zoo.h"

static const char usage[] =
    "usage: nncw train [options]\n"
    "\n"
    "Train a built-in model on a data set, printing progress and test accuracy.\n"
    "\n"
    "model and data:\n"
    "  --model NAME         cnn, resnet18, resnet20 or mobilenet_v2 (default cnn)\n"
    "  --width-mult X       MobileNetV2 width multiplier (default 1.0)\n"
    "  --data NAME          fashion-mnist, mnist, cifar10 or synthetic (default fashion-mnist)\n"
    "  --data-dir DIR       where the data set's files are (default for fashion-mnist: the\n"
    "                       Debian package's folder, /usr/share/datasets/fashion-mnist)\n"
    "  --train-subset N     train on the first N training samples only\n"
    "  --test-subset N      evaluate on the first N test samples only\n"
    "  --augment            random crop (padding 4) and horizontal flip\n"
    "  --load FILE          start from the weights in a checkpoint\n"
    "  --save FILE          write the trained weights to FILE (atomically)\n"
    "\n"
    "training:\n"
    "  --epochs N           epochs (default 10)\n"
    "  --batch N            batch size (default 64)\n"
    "  --optimizer NAME     sgd, adam or adamw (default sgd)\n"
    "  --lr X               learning rate (default 0.02)\n"
    "  --momentum X         SGD momentum (default 0.9)\n"
    "  --nesterov           Nesterov momentum\n"
    "  --weight-decay X     L2 weight decay (default 0)\n"
    "  --schedule NAME      constant, step, multistep or cosine (default cosine, annealed\n"
    "                       to 0 over the run)\n"
    "  --step-size N        epochs between decays for 'step' (default 30)\n"
    "  --milestones A,B,..  epochs at which 'multistep' decays\n"
    "  --gamma X            decay factor for step/multistep (default 0.1)\n"
    "  --warmup N           linear warm-up epochs (default 0)\n"
    "  --seed N             seed for initialisation, shuffling, augmentation (default 1)\n"
    "  --threads N          BLAS threads (default: all cores)\n"
    "  --log-every N        a progress line every N steps (default 100, 0: none)\n"
    "  --quiet              only the final result\n"
    "\n"
    "Ctrl-C stops after the current step and still saves (with --save).\n";

struct train_args {
    const char *model, *data, *data_dir, *load, *save;
    struct nncw_zoo_options zoo;
    struct nncw_train_options train;
    long train_subset, test_subset, threads;
    bool quiet;
};

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

static bool parse_milestones(const char *text, struct nncw_lr_schedule *s)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", text);
    s->n_milestones = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        long v;
        if (s->n_milestones == 16 || !app_parse_int("train", "--milestones", tok, 1, 100000, &v))
            return false;
        s->milestones[s->n_milestones++] = (int)v;
    }
    return s->n_milestones > 0;
}

/* returns 0 to go on, or an exit status */
static int parse(int argc, char **argv, struct train_args *a)
{
    const char *cmd = "train";
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = NULL;
        long n;
        double x;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            fputs(usage, stdout);
            return -1;
        } else if (!strcmp(o, "--model")) {
            APP_OPT_STRING(a->model);
        } else if (!strcmp(o, "--data")) {
            APP_OPT_STRING(a->data);
        } else if (!strcmp(o, "--data-dir")) {
            APP_OPT_STRING(a->data_dir);
        } else if (!strcmp(o, "--load")) {
            APP_OPT_STRING(a->load);
        } else if (!strcmp(o, "--save")) {
            APP_OPT_STRING(a->save);
        } else if (!strcmp(o, "--width-mult")) {
            APP_OPT_FLOAT(a->zoo.width_mult, 0.01, 4.0);
        } else if (!strcmp(o, "--train-subset")) {
            APP_OPT_INT(a->train_subset, 1, 100000000);
        } else if (!strcmp(o, "--test-subset")) {
            APP_OPT_INT(a->test_subset, 1, 100000000);
        } else if (!strcmp(o, "--augment")) {
            a->train.crop_padding = 4;
            a->train.hflip = true;
        } else if (!strcmp(o, "--epochs")) {
            APP_OPT_INT(a->train.epochs, 1, 100000);
        } else if (!strcmp(o, "--batch")) {
            APP_OPT_INT(a->train.batch_size, 1, 65536);
        } else if (!strcmp(o, "--optimizer")) {
            APP_OPT_VALUE();
            enum nncw_optim_type t;
            if (nncw_optim_type_parse(v, &t) != NNCW_OK) {
                fprintf(stderr, "nncw train: %s\n", nncw_last_error());
                return 2;
            }
            a->train.optim.type = t;
        } else if (!strcmp(o, "--lr")) {
            APP_OPT_FLOAT(a->train.optim.lr, 0.0, 100.0);
        } else if (!strcmp(o, "--momentum")) {
            APP_OPT_FLOAT(a->train.optim.momentum, 0.0, 0.999999);
        } else if (!strcmp(o, "--nesterov")) {
            a->train.optim.nesterov = true;
        } else if (!strcmp(o, "--weight-decay")) {
            APP_OPT_FLOAT(a->train.optim.weight_decay, 0.0, 1.0);
        } else if (!strcmp(o, "--schedule")) {
            APP_OPT_VALUE();
            if (nncw_lr_schedule_parse(v, &a->train.schedule.type) != NNCW_OK) {
                fprintf(stderr, "nncw train: %s\n", nncw_last_error());
                return 2;
            }
        } else if (!strcmp(o, "--step-size")) {
            APP_OPT_INT(a->train.schedule.step_size, 1, 100000);
        } else if (!strcmp(o, "--milestones")) {
            APP_OPT_VALUE();
            if (!parse_milestones(v, &a->train.schedule))
                return 2;
        } else if (!strcmp(o, "--gamma")) {
            APP_OPT_FLOAT(a->train.schedule.gamma, 0.0, 1.0);
        } else if (!strcmp(o, "--warmup")) {
            APP_OPT_INT(a->train.schedule.warmup_epochs, 0, 100000);
        } else if (!strcmp(o, "--seed")) {
            APP_OPT_VALUE();
            if (!app_parse_int(cmd, o, v, 0, 2147483647L, &n))
                return 2;
            a->train.seed = (uint64_t)n;
            a->zoo.seed = (uint64_t)n;
        } else if (!strcmp(o, "--threads")) {
            APP_OPT_INT(a->threads, 1, 256);
        } else if (!strcmp(o, "--log-every")) {
            APP_OPT_INT(a->train.log_every, 0, 100000000);
        } else if (!strcmp(o, "--quiet")) {
            a->quiet = true;
        } else {
            fprintf(stderr, "nncw train: unknown option '%s' (see 'nncw train --help')\n", o);
            return 2;
        }
    }
    if (a->train.optim.nesterov && a->train.optim.momentum <= 0) {
        fprintf(stderr, "nncw train: --nesterov needs --momentum above 0\n");
        return 2;
    }
    return 0;
}

static enum nncw_status load_data(const struct train_args *a, bool train,
                                  struct nncw_dataset **out)
{
    struct app_data_args d = {.name = a->data, .dir = a->data_dir, .channels = a->zoo.in_c,
                              .height = a->zoo.in_h, .width = a->zoo.in_w,
                              .classes = a->zoo.classes};
    return app_load_dataset(&d, train, out);
}

static void format_duration(double s, char *buf, size_t size)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, size, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60)
        snprintf(buf, size, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, size, "%lds", t);
}

static bool on_event(void *user, const struct nncw_train_event *ev)
{
    const struct train_args *a = user;
    char eta[32], el[32];
    if (!a->quiet && ev->type == NNCW_TRAIN_EVENT_STEP) {
        format_duration(ev->eta_s, eta, sizeof eta);
        printf("epoch %d/%d  step %lld/%lld  loss %.4f  lr %.4g  %.0f img/s  ETA %s\n",
               ev->epoch + 1, ev->epochs, (long long)ev->step, (long long)ev->steps_per_epoch,
               ev->loss, ev->lr, ev->images_per_s, eta);
    } else if (!a->quiet && ev->type == NNCW_TRAIN_EVENT_EPOCH) {
        format_duration(ev->elapsed_s, el, sizeof el);
        printf("epoch %d/%d done  train loss %.4f acc %.2f%%", ev->epoch + 1, ev->epochs,
               ev->train_loss, 100.0 * ev->train_acc);
        if (!isnan(ev->test_acc))
            printf("  |  test loss %.4f acc %.2f%%", ev->test_loss, 100.0 * ev->test_acc);
        printf("  |  %s elapsed\n", el);
    }
    fflush(stdout);
    return !interrupted;
}

static int fail(const char *what)
{
    fprintf(stderr, "nncw train: %s%s%s\n", what ? what : "", what ? ": " : "", nncw_last_error());
    return 1;
}

static int run(struct train_args *a)
{
    struct nncw_dataset *train = NULL, *test = NULL;
    struct nncw_graph *g = NULL;
    struct nncw_trainer *t = NULL;
    int rc = 1;
    if (load_data(a, true, &train) != NNCW_OK || load_data(a, false, &test) != NNCW_OK) {
        rc = fail(NULL);
        goto out;
    }
    if (app_subset_dataset(&train, a->train_subset) != NNCW_OK ||
        app_subset_dataset(&test, a->test_subset) != NNCW_OK) {
        rc = fail(NULL);
        goto out;
    }
    int64_t shape[3];
    nncw_dataset_get_sample_shape(train, shape);
    a->zoo.in_c = (int)shape[0];
    a->zoo.in_h = (int)shape[1];
    a->zoo.in_w = (int)shape[2];
    a->zoo.classes = nncw_dataset_count_classes(train);
    if (nncw_zoo_build(a->model, &a->zoo, &g) != NNCW_OK) {
        rc = fail(NULL);
        goto out;
    }
    if (a->load && nncw_checkpoint_load(g, a->load) != NNCW_OK) {
        rc = fail("--load");
        goto out;
    }
    if (nncw_trainer_new(g, train, test, &a->train, &t) != NNCW_OK) {
        rc = fail(NULL);
        goto out;
    }
    if (!a->quiet)
        printf("training %s (%lld parameters) on %s: %lld train / %lld test samples, %d epochs, "
               "batch %d, %s lr %g, seed %llu, %d threads\n",
               a->model, (long long)nncw_graph_count_param_elements(g),
               nncw_dataset_get_name(train), (long long)nncw_dataset_count_samples(train),
               (long long)nncw_dataset_count_samples(test), a->train.epochs,
               a->train.batch_size, nncw_optim_type_name(a->train.optim.type),
               (double)a->train.optim.lr, (unsigned long long)a->train.seed,
               nncw_blas_get_threads());
    fflush(stdout);
    nncw_trainer_set_callback(t, on_event, a);
    signal(SIGINT, on_sigint);
    enum nncw_status s = nncw_trainer_run(t);
    signal(SIGINT, SIG_DFL);
    struct nncw_train_event last;
    nncw_trainer_get_last_epoch(t, &last);
    if (s == NNCW_OK) {
        char el[32];
        format_duration(last.elapsed_s, el, sizeof el);
        printf("final test accuracy %.2f%% (loss %.4f) after %d epochs in %s\n",
               100.0 * last.test_acc, last.test_loss, a->train.epochs, el);
        rc = 0;
    } else {
        fprintf(stderr, "nncw train: %s\n", nncw_last_error());
        rc = s == NNCW_ERR_CANCELLED ? 130 : 1;
    }
    /* a cancelled or diverged run still has the weights of its last good step: keep them */
    if (a->save) {
        if (nncw_checkpoint_save(g, a->save) != NNCW_OK)
            rc = fail("--save");
        else if (!a->quiet)
            printf("saved weights to %s\n", a->save);
    }
out:
    nncw_trainer_free(t);
    nncw_graph_free(g);
    nncw_dataset_free(train);
    nncw_dataset_free(test);
    return rc;
}

int app_cmd_train(int argc, char **argv)
{
    struct train_args a = {.model = "cnn", .data = "fashion-mnist",
                           .zoo = nncw_zoo_defaults("cnn"), .train = nncw_train_defaults()};
    int rc = parse(argc, argv, &a);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (!nncw_zoo_describe(a.model)) {
        fprintf(stderr, "nncw train: unknown model '%s' (built-in models: cnn, resnet18, resnet20, "
                        "mobilenet_v2)\n", a.model);
        return 2;
    }
    float wm = a.zoo.width_mult;
    a.zoo = nncw_zoo_defaults(a.model);
    a.zoo.width_mult = wm;
    a.zoo.seed = a.train.seed;
    if (a.threads > 0)
        nncw_blas_set_threads((int)a.threads);
    return run(&a);
}
