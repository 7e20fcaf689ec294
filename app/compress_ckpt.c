#include "compress_ckpt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"

static int fail(const char *what)
{
    fprintf(stderr, "nncw compress: %s: %s\n", what, nncw_last_error());
    return 1;
}

/* a whole file into a NUL-terminated buffer */
static void *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = nncw_malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
        buf[n] = '\0';
        *len = (size_t)n;
    } else {
        nncw_free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

int app_compress_ckpt_record(struct app_compress_ckpt *k, const char *config_path,
                             const char *model, const struct nncw_zoo_options *zoo, int argc,
                             char *const *argv)
{
    size_t len;
    k->argc = argc;
    k->argv = argv;
    if (!(k->config_text = slurp(config_path, &len))) {
        fprintf(stderr, "nncw compress: cannot read '%s' again: %s\n", config_path,
                strerror(errno));
        return 1;
    }
    if (zoo) {
        k->src = (struct nncw_model_source){
            .kind = NNCW_MODEL_SOURCE_ZOO, .zoo_name = model, .zoo = *zoo};
        return 0;
    }
    if (!(k->onnx_bytes = slurp(model, &len))) {
        fprintf(stderr, "nncw compress: cannot read '%s' again: %s\n", model, strerror(errno));
        return 1;
    }
    k->src = (struct nncw_model_source){.kind = NNCW_MODEL_SOURCE_ONNX,
                                        .onnx_path = model,
                                        .onnx_bytes = k->onnx_bytes,
                                        .onnx_len = len};
    return 0;
}

static enum nncw_status open_checkpoint(const char *where, struct nncw_checkpoint **ck)
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

int app_compress_ckpt_open(struct app_compress_ckpt *k, const char *path,
                           struct nncw_compressed_model *m)
{
    if (open_checkpoint(path, &k->ck) != NNCW_OK)
        return fail(path);
    if (!nncw_checkpoint_get_compression_state(k->ck)) {
        fprintf(stderr,
                "nncw compress: '%s' holds weights only, not a compressed model; give "
                "MODEL and --config (and --load for these weights)\n",
                nncw_checkpoint_get_path(k->ck));
        return 2;
    }
    if (nncw_checkpoint_restore_compressed(k->ck, m) != NNCW_OK)
        return fail(path);
    /* later checkpoints of this run carry the same config and model */
    const char *text = nncw_checkpoint_get_config(k->ck);
    if (!(k->config_text = nncw_strdup(text ? text : "{}")))
        return fail("out of memory");
    if (nncw_checkpoint_get_source(k->ck, &k->src) != NNCW_OK)
        return fail(path);
    if (!k->quiet)
        printf("restored the compressed model of %s (stage %s)\n", nncw_checkpoint_get_path(k->ck),
               nncw_compression_stage_name(nncw_compression_get_stage(m->compression)));
    return 0;
}

const char **app_compress_ckpt_argv(struct app_compress_ckpt *k, int *argc)
{
    int n = 0;
    const char **v = NULL;
    if (!k->ck || nncw_checkpoint_get_argv(k->ck, &n, &v) != NNCW_OK || !v || n < 1 ||
        strcmp(v[0], "compress") != 0) {
        nncw_free(v);
        return NULL;
    }
    k->stored_argv = v;
    k->argc = n;
    k->argv = (char *const *)v;
    *argc = n;
    return v;
}

int app_compress_ckpt_restore_trainer(struct app_compress_ckpt *k, struct nncw_trainer *t)
{
    if (!k->resume || !k->ck || !nncw_checkpoint_has(k->ck, "TRNR"))
        return 0;
    if (nncw_checkpoint_restore_trainer(k->ck, t) != NNCW_OK)
        return fail("--resume");
    struct nncw_trainer_state st;
    nncw_trainer_get_state(t, &st);
    if (!k->quiet)
        printf("resumed fine-tuning at epoch %d, step %lld/%lld (global step %lld)\n",
               st.epoch + (st.finished ? 0 : 1), (long long)st.step, (long long)st.steps_per_epoch,
               (long long)st.global_step);
    return 0;
}

static struct nncw_checkpoint_parts parts(const struct app_compress_ckpt *k, struct nncw_graph *g,
                                          struct nncw_compression *c, struct nncw_trainer *t)
{
    return (struct nncw_checkpoint_parts){.graph = g,
                                          .trainer = t,
                                          .compression = c,
                                          .config_json = k->config_text,
                                          .source = &k->src,
                                          .argc = k->argc,
                                          .argv = k->argv};
}

enum nncw_status app_compress_ckpt_train(struct app_compress_ckpt *k, struct nncw_graph *g,
                                         struct nncw_compression *c, struct nncw_trainer *t)
{
    struct nncw_trainer_state st;
    nncw_trainer_get_state(t, &st);
    for (bool finished = st.finished; !finished;) {
        int epoch = st.epoch;
        enum nncw_status s = nncw_trainer_step(t, &finished);
        if (s != NNCW_OK && s != NNCW_ERR_CANCELLED)
            return s;
        nncw_trainer_get_state(t, &st);
        bool due = st.epoch != epoch || s == NNCW_ERR_CANCELLED ||
                   (k->every > 0 && st.global_step % k->every == 0);
        if (k->dir && due) {
            char why[512], *path = NULL;
            snprintf(why, sizeof why, "%s", nncw_last_error());
            struct nncw_checkpoint_parts p = parts(k, g, c, t);
            NNCW_TRY(nncw_checkpoint_dir_save(k->dir, st.global_step, (int)k->keep, &p, &path));
            if (!k->quiet)
                printf("checkpoint: saved %s\n", path);
            fflush(stdout);
            nncw_free(path);
            if (s != NNCW_OK)
                return NNCW_FAIL(s, "%s", why);
        }
        if (s != NNCW_OK)
            return s;
    }
    return NNCW_OK;
}

enum nncw_status app_compress_ckpt_save(const struct app_compress_ckpt *k, const char *path,
                                        struct nncw_graph *g, struct nncw_compression *c)
{
    struct nncw_checkpoint_parts p = parts(k, g, c, NULL);
    return nncw_checkpoint_write(path, &p);
}

void app_compress_ckpt_fini(struct app_compress_ckpt *k)
{
    nncw_checkpoint_free(k->ck);
    nncw_free(k->config_text);
    nncw_free(k->onnx_bytes);
    nncw_free(k->stored_argv);
    k->ck = NULL;
    k->config_text = NULL;
    k->onnx_bytes = NULL;
    k->stored_argv = NULL;
}
