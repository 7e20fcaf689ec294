/* `nncw train`: train a built-in model on a data set, print progress, optionally save. */
#include "commands.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "args.h"
#include "core/alloc.h"
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
    "checkpoints and resuming:\n"
    "  --checkpoint-dir DIR save a full checkpoint (weights, optimizer, epoch and step, random\n"
    "                       streams, data order, the command line) as DIR/ckpt-<step>.nncw at\n"
    "                       every epoch's end, on Ctrl-C, and every N steps with\n"
    "  --checkpoint-every N\n"
    "  --keep-checkpoints K keep the newest K checkpoints in DIR (default 3)\n"
    "  --resume DIR|FILE    continue a run from the newest good checkpoint in DIR (or from\n"
    "                       FILE): its model, data and training options come from the\n"
    "                       checkpoint, and it ends with the weights the run would have had\n"
    "                       without the interruption (same seed, --threads 1 for bit\n"
    "                       equality). Only --checkpoint-dir (default: DIR), --checkpoint-every,\n"
    "                       --keep-checkpoints, --save, --threads, --log-every and --quiet may\n"
    "                       be given with it; any other option is an error\n"
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
    const char *checkpoint_dir, *resume;
    long checkpoint_every, keep;
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
        } else if (!strcmp(o, "--checkpoint-dir")) {
            APP_OPT_STRING(a->checkpoint_dir);
        } else if (!strcmp(o, "--checkpoint-every")) {
            APP_OPT_INT(a->checkpoint_every, 1, 1000000000);
        } else if (!strcmp(o, "--keep-checkpoints")) {
            APP_OPT_INT(a->keep, 1, 1000000);
        } else if (!strcmp(o, "--resume")) {
            APP_OPT_STRING(a->resume);
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

/* what a checkpoint of this run holds besides the trainer */
struct run_record {
    int argc;           /* the command line that started the run (kept across resumes) */
    char *const *argv;
    struct nncw_model_source src;
};

static enum nncw_status save_checkpoint(const struct train_args *a, const struct run_record *rec,
                                        struct nncw_graph *g, struct nncw_trainer *t,
                                        int64_t step)
{
    struct nncw_checkpoint_parts p = {.graph = g, .trainer = t, .source = &rec->src,
                                      .argc = rec->argc, .argv = rec->argv};
    char *path = NULL;
    NNCW_TRY(nncw_checkpoint_dir_save(a->checkpoint_dir, step, (int)a->keep, &p, &path));
    if (!a->quiet)
        printf("checkpoint: saved %s\n", path);
    fflush(stdout);
    nncw_free(path);
    return NNCW_OK;
}

/* nncw_trainer_run, with checkpoints at epoch ends, every N steps and when stopped */
static enum nncw_status train_loop(const struct train_args *a, const struct run_record *rec,
                                   struct nncw_graph *g, struct nncw_trainer *t)
{
    struct nncw_trainer_state st;
    nncw_trainer_get_state(t, &st);
    for (bool finished = st.finished; !finished;) {
        int epoch = st.epoch;
        enum nncw_status s = nncw_trainer_step(t, &finished);
        if (s != NNCW_OK && s != NNCW_ERR_CANCELLED)
            return s; /* diverged: the last checkpoint is the good one */
        nncw_trainer_get_state(t, &st);
        bool due = st.epoch != epoch || s == NNCW_ERR_CANCELLED ||
                   (a->checkpoint_every > 0 && st.global_step % a->checkpoint_every == 0);
        if (a->checkpoint_dir && due) {
            char why[512];
            snprintf(why, sizeof why, "%s", nncw_last_error());
            NNCW_TRY(save_checkpoint(a, rec, g, t, st.global_step));
            if (s != NNCW_OK)
                return NNCW_FAIL(s, "%s", why);
        }
        if (s != NNCW_OK)
            return s;
    }
    return NNCW_OK;
}

static void print_resumed(const struct train_args *a, const struct nncw_checkpoint *ck,
                          const struct nncw_trainer *t)
{
    struct nncw_trainer_state st;
    nncw_trainer_get_state(t, &st);
    if (!a->quiet)
        printf("resumed from %s: epoch %d/%d, step %lld/%lld (global step %lld)\n",
               nncw_checkpoint_get_path(ck), st.epoch + (st.finished ? 0 : 1), a->train.epochs,
               (long long)st.step, (long long)st.steps_per_epoch, (long long)st.global_step);
}

static int run(struct train_args *a, const struct run_record *rec_in,
               const struct nncw_checkpoint *ck)
{
    struct nncw_dataset *train = NULL, *test = NULL;
    struct nncw_graph *g = NULL;
    struct nncw_trainer *t = NULL;
    struct run_record rec = *rec_in;
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
    rec.src = (struct nncw_model_source){.kind = NNCW_MODEL_SOURCE_ZOO, .zoo_name = a->model,
                                         .zoo = a->zoo};
    if (nncw_model_source_build(&rec.src, &g) != NNCW_OK) {
        rc = fail(NULL);
        goto out;
    }
    if (!ck && a->load && nncw_checkpoint_load(g, a->load) != NNCW_OK) {
        rc = fail("--load");
        goto out;
    }
    if (ck && nncw_checkpoint_restore_graph(ck, g) != NNCW_OK) {
        rc = fail("--resume");
        goto out;
    }
    if (nncw_trainer_new(g, train, test, &a->train, &t) != NNCW_OK) {
        rc = fail(NULL);
        goto out;
    }
    if (ck && nncw_checkpoint_restore_trainer(ck, t) != NNCW_OK) {
        rc = fail("--resume");
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
    if (ck)
        print_resumed(a, ck, t);
    fflush(stdout);
    nncw_trainer_set_callback(t, on_event, a);
    signal(SIGINT, on_sigint);
    enum nncw_status s = train_loop(a, &rec, g, t);
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

/* model defaults, threads: what every parse is followed by; 0 or an exit status */
static int finish_args(struct train_args *a)
{
    if (!nncw_zoo_describe(a->model)) {
        fprintf(stderr, "nncw train: unknown model '%s' (built-in models: cnn, resnet18, resnet20, "
                        "mobilenet_v2)\n", a->model);
        return 2;
    }
    float wm = a->zoo.width_mult;
    a->zoo = nncw_zoo_defaults(a->model);
    a->zoo.width_mult = wm;
    a->zoo.seed = a->train.seed;
    return 0;
}

static struct train_args default_args(void)
{
    return (struct train_args){.model = "cnn", .data = "fashion-mnist", .keep = -1,
                               .checkpoint_every = -1, .threads = -1,
                               .zoo = nncw_zoo_defaults("cnn"), .train = nncw_train_defaults()};
}

/* the options --resume accepts beside itself; everything else comes from the checkpoint */
static bool resume_may_set(const char *o)
{
    static const char *const ok[] = {"--resume", "--checkpoint-dir", "--checkpoint-every",
                                     "--keep-checkpoints", "--save", "--threads", "--log-every",
                                     "--quiet", NULL};
    for (int i = 0; ok[i]; i++)
        if (!strcmp(o, ok[i]))
            return true;
    return false;
}

static int check_resume_options(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-')
            continue;
        if (!resume_may_set(argv[i])) {
            fprintf(stderr,
                    "nncw train: %s cannot be given with --resume: the model, data and training "
                    "options come from the checkpoint (with --resume: --checkpoint-dir, "
                    "--checkpoint-every, --keep-checkpoints, --save, --threads, --log-every, "
                    "--quiet)\n",
                    argv[i]);
            return 2;
        }
    }
    return 0;
}

/* the newest good checkpoint of a folder, or the file given */
static enum nncw_status open_resume(const char *where, struct nncw_checkpoint **ck)
{
    struct stat sb;
    if (stat(where, &sb) == 0 && S_ISREG(sb.st_mode))
        return nncw_checkpoint_read(where, ck);
    char *path = NULL;
    NNCW_TRY(nncw_checkpoint_dir_find_latest(where, &path));
    enum nncw_status s = nncw_checkpoint_read(path, ck);
    nncw_free(path);
    return s;
}

static int resume(const struct train_args *cur, int argc, char **argv)
{
    int rc = check_resume_options(argc, argv);
    if (rc)
        return rc;
    struct nncw_checkpoint *ck = NULL;
    int sargc = 0;
    const char **sargv = NULL;
    if (open_resume(cur->resume, &ck) != NNCW_OK ||
        nncw_checkpoint_get_argv(ck, &sargc, &sargv) != NNCW_OK) {
        rc = fail("--resume");
        goto out;
    }
    if (!sargv || sargc < 1 || strcmp(sargv[0], "train") != 0) {
        fprintf(stderr, "nncw train: --resume: '%s' was not written by nncw train "
                        "--checkpoint-dir\n", nncw_checkpoint_get_path(ck));
        rc = 2;
        goto out;
    }
    struct train_args a = default_args();
    rc = parse(sargc, (char **)sargv, &a);
    if (rc == 0)
        rc = finish_args(&a);
    if (rc != 0) {
        fprintf(stderr, "nncw train: --resume: the stored command line does not parse\n");
        goto out;
    }
    /* what may change on resuming */
    a.resume = NULL;
    /* a folder resumed from goes on receiving checkpoints (it may have moved since) */
    struct stat sb;
    bool is_dir = stat(cur->resume, &sb) == 0 && S_ISDIR(sb.st_mode);
    a.checkpoint_dir = cur->checkpoint_dir ? cur->checkpoint_dir
                       : is_dir            ? cur->resume
                                           : a.checkpoint_dir;
    if (cur->checkpoint_every > 0)
        a.checkpoint_every = cur->checkpoint_every;
    if (cur->keep > 0)
        a.keep = cur->keep;
    if (cur->save)
        a.save = cur->save;
    if (cur->quiet)
        a.quiet = true;
    if (cur->train.log_every != nncw_train_defaults().log_every)
        a.train.log_every = cur->train.log_every;
    if (cur->threads > 0)
        nncw_blas_set_threads((int)cur->threads);
    struct run_record rec = {.argc = sargc, .argv = (char *const *)sargv};
    rc = run(&a, &rec, ck);
out:
    nncw_free(sargv);
    nncw_checkpoint_free(ck);
    return rc;
}

int app_cmd_train(int argc, char **argv)
{
    struct train_args a = default_args();
    int rc = parse(argc, argv, &a);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (a.resume)
        return resume(&a, argc, argv);
    rc = finish_args(&a);
    if (rc != 0)
        return rc;
    if (a.threads > 0)
        nncw_blas_set_threads((int)a.threads);
    if ((a.checkpoint_every > 0 || a.keep > 0) && !a.checkpoint_dir) {
        fprintf(stderr, "nncw train: --checkpoint-every and --keep-checkpoints need "
                        "--checkpoint-dir\n");
        return 2;
    }
    struct run_record rec = {.argc = argc, .argv = argv};
    return run(&a, &rec, NULL);
}
