/* `nncw compress` and checkpoints: full compressed checkpoints for --save and
 * --checkpoint-dir, restoring a compressed model from one (--load without a config, --resume),
 * and the fine-tuning loop that saves checkpoints as it goes. */
#pragma once

#include <stdbool.h>

#include "checkpoint/checkpoint.h"
#include "compression/compression.h"
#include "config/config.h"
#include "data/data.h"
#include "graph/graph.h"
#include "train/trainer.h"

struct app_compress_ckpt {
    const char *dir;    /* --checkpoint-dir */
    long every, keep;   /* --checkpoint-every, --keep-checkpoints (-1: not given) */
    const char *resume; /* --resume DIR|FILE */
    bool quiet;
    /* filled by the helpers below */
    struct nncw_checkpoint *ck; /* the checkpoint restored from, or NULL */
    char *config_text;          /* what checkpoints store as the config */
    struct nncw_model_source src;
    void *onnx_bytes;
    int argc; /* the command line that started the run */
    char *const *argv;
    const char **stored_argv; /* owned copy when resumed */
};

/* records what a new run's checkpoints carry: the config file's text and the model (a zoo name
 * with options, or an ONNX file's bytes); 0 or an exit status after a message */
int app_compress_ckpt_record(struct app_compress_ckpt *k, const char *config_path,
                             const char *model, const struct nncw_zoo_options *zoo, int argc,
                             char *const *argv);
/* reads the checkpoint at path (a file, or a folder's newest good one) and rebuilds the
 * compressed model it holds into *m; 0 or an exit status after a message */
int app_compress_ckpt_open(struct app_compress_ckpt *k, const char *path,
                           struct nncw_compressed_model *m);
/* the command line stored with a --resume checkpoint (argv[0] "compress"), or NULL */
const char **app_compress_ckpt_argv(struct app_compress_ckpt *k, int *argc);
/* after the trainer is made and its hooks set: puts it where a resumed checkpoint left it */
int app_compress_ckpt_restore_trainer(struct app_compress_ckpt *k, struct nncw_trainer *t);
/* nncw_trainer_run with checkpoints at epoch ends, every N steps and when stopped */
enum nncw_status app_compress_ckpt_train(struct app_compress_ckpt *k, struct nncw_graph *g,
                                         struct nncw_compression *c, struct nncw_trainer *t);
/* --save: the full compressed checkpoint (loads with `nncw eval FILE` or `nncw compress --load
 * FILE` without the config); NNCW_OK or the error */
enum nncw_status app_compress_ckpt_save(const struct app_compress_ckpt *k, const char *path,
                                        struct nncw_graph *g, struct nncw_compression *c);
void app_compress_ckpt_fini(struct app_compress_ckpt *k);
