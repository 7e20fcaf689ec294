/* The training keys of NNCF's example configs: model, dataset, epochs, batch_size, seed,
 * optimizer {...}; and applying them to trainer options. */
#include <string.h>
#include <strings.h>

#include <cJSON.h>

#include "config/config_internal.h"
#include "core/alloc.h"

static enum nncw_status parse_steps(struct nncw_cfg_ctx *c, const cJSON *item, const char *path,
                                    struct nncw_optimizer_config *o)
{
    if (!cJSON_IsArray(item))
        return nncw_cfg_fail_type(c, path, item, "a list of epochs");
    if (cJSON_GetArraySize(item) > NNCW_CONFIG_MAX_STEPS)
        return nncw_cfg_fail(c, path, "at most %d milestones", NNCW_CONFIG_MAX_STEPS);
    o->n_steps = 0;
    for (const cJSON *e = item->child; e; e = e->next) {
        char ep[128];
        int64_t v;
        nncw_cfg_path_index(ep, sizeof ep, path, o->n_steps);
        NNCW_TRY(nncw_cfg_get_int(c, e, ep, 1, 1000000, &v));
        if (o->n_steps > 0 && v <= o->steps[o->n_steps - 1])
            return nncw_cfg_fail(c, ep, "milestones must increase (%lld after %d)", (long long)v,
                                 o->steps[o->n_steps - 1]);
        o->steps[o->n_steps++] = (int)v;
    }
    return NNCW_OK;
}

static enum nncw_status parse_type(struct nncw_cfg_ctx *c, const cJSON *item, const char *path,
                                   struct nncw_optimizer_config *o)
{
    if (!cJSON_IsString(item))
        return nncw_cfg_fail_type(c, path, item, "a string");
    static const char *const names[] = {"sgd", "adam", "adamw"};
    for (int t = 0; t < NNCW_OPTIM_TYPE_COUNT; t++)
        if (strcasecmp(item->valuestring, names[t]) == 0) {
            o->type = (enum nncw_optim_type)t;
            return NNCW_OK;
        }
    return nncw_cfg_fail(c, path, "unknown optimizer '%s' (SGD, Adam or AdamW)", item->valuestring);
}

static enum nncw_status parse_schedule(struct nncw_cfg_ctx *c, const cJSON *item, const char *path,
                                       struct nncw_optimizer_config *o)
{
    if (!cJSON_IsString(item))
        return nncw_cfg_fail_type(c, path, item, "a string");
    const char *s = item->valuestring;
    if (strcasecmp(s, "constant") == 0 || strcasecmp(s, "fixed") == 0)
        o->schedule = NNCW_LR_CONSTANT;
    else if (strcasecmp(s, "step") == 0)
        o->schedule = NNCW_LR_STEP;
    else if (strcasecmp(s, "multistep") == 0)
        o->schedule = NNCW_LR_MULTISTEP;
    else if (strcasecmp(s, "cosine") == 0)
        o->schedule = NNCW_LR_COSINE;
    else
        return nncw_cfg_fail(c, path,
                             "unsupported schedule '%s' (constant, step, multistep or cosine)", s);
    return NNCW_OK;
}

/* one optimizer key; false in *known for an unknown one */
static enum nncw_status parse_optimizer_key(struct nncw_cfg_ctx *c, const cJSON *k, const char *kp,
                                            struct nncw_optimizer_config *o, bool *known)
{
    const char *key = k->string;
    int64_t v;
    *known = true;
    if (strcmp(key, "type") == 0) {
        NNCW_TRY(parse_type(c, k, kp, o));
        o->has |= NNCW_OPT_TYPE;
    } else if (strcmp(key, "base_lr") == 0) {
        NNCW_TRY(nncw_cfg_get_float(c, k, kp, 0.0, 100.0, &o->base_lr));
        o->has |= NNCW_OPT_BASE_LR;
    } else if (strcmp(key, "weight_decay") == 0) {
        NNCW_TRY(nncw_cfg_get_float(c, k, kp, 0.0, 1.0, &o->weight_decay));
        o->has |= NNCW_OPT_WEIGHT_DECAY;
    } else if (strcmp(key, "momentum") == 0) {
        NNCW_TRY(nncw_cfg_get_float(c, k, kp, 0.0, 0.999999, &o->momentum));
        o->has |= NNCW_OPT_MOMENTUM;
    } else if (strcmp(key, "nesterov") == 0) {
        NNCW_TRY(nncw_cfg_get_bool(c, k, kp, &o->nesterov));
        o->has |= NNCW_OPT_NESTEROV;
    } else if (strcmp(key, "schedule_type") == 0) {
        NNCW_TRY(parse_schedule(c, k, kp, o));
        o->has |= NNCW_OPT_SCHEDULE;
    } else if (strcmp(key, "steps") == 0) {
        NNCW_TRY(parse_steps(c, k, kp, o));
        o->has |= NNCW_OPT_STEPS;
    } else if (strcmp(key, "gamma") == 0) {
        NNCW_TRY(nncw_cfg_get_float(c, k, kp, 0.0, 1.0, &o->gamma));
        o->has |= NNCW_OPT_GAMMA;
    } else if (strcmp(key, "step_size") == 0) {
        NNCW_TRY(nncw_cfg_get_int(c, k, kp, 1, 1000000, &v));
        o->step_size = (int)v;
        o->has |= NNCW_OPT_STEP_SIZE;
    } else if (strcmp(key, "t_max") == 0) {
        NNCW_TRY(nncw_cfg_get_int(c, k, kp, 1, 1000000, &v));
        o->t_max = (int)v;
        o->has |= NNCW_OPT_T_MAX;
    } else if (strcmp(key, "warmup_epochs") == 0) {
        NNCW_TRY(nncw_cfg_get_int(c, k, kp, 0, 1000000, &v));
        o->warmup_epochs = (int)v;
        o->has |= NNCW_OPT_WARMUP;
    } else if (strcmp(key, "scheduler_params") != 0) {
        *known = false;
    }
    return NNCW_OK;
}

enum nncw_status nncw_cfg_parse_optimizer(struct nncw_cfg_ctx *c, const struct cJSON *item)
{
    struct nncw_optimizer_config *o = &c->cfg->optimizer;
    if (!nncw_cfg_is_object(item))
        return nncw_cfg_fail_type(c, "optimizer", item, "an object");
    for (const cJSON *k = item->child; k; k = k->next) {
        char kp[256];
        nncw_cfg_path(kp, sizeof kp, "optimizer", k->string);
        if (cJSON_GetObjectItemCaseSensitive(item, k->string) != k) {
            NNCW_TRY(nncw_cfg_warn(c, "duplicate key '%s' (the first one is used)", kp));
            continue;
        }
        bool known;
        NNCW_TRY(parse_optimizer_key(c, k, kp, o, &known));
        if (!known)
            NNCW_TRY(nncw_cfg_warn(c, "unknown key '%s' (ignored)", kp));
    }
    if (o->nesterov && (o->has & NNCW_OPT_MOMENTUM) && o->momentum <= 0)
        return nncw_cfg_fail(c, "optimizer.nesterov", "needs a momentum above 0");
    c->cfg->has |= NNCW_CFG_OPTIMIZER;
    return NNCW_OK;
}

enum nncw_status nncw_cfg_parse_training_key(struct nncw_cfg_ctx *c, const struct cJSON *k,
                                             bool *handled)
{
    struct nncw_config *cfg = c->cfg;
    const char *key = k->string;
    int64_t v;
    *handled = true;
    if (strcmp(key, "optimizer") == 0)
        return nncw_cfg_parse_optimizer(c, k);
    if (strcmp(key, "model") == 0) {
        NNCW_TRY(nncw_cfg_get_string(c, k, key, &cfg->model));
        cfg->has |= NNCW_CFG_MODEL;
    } else if (strcmp(key, "dataset") == 0) {
        NNCW_TRY(nncw_cfg_get_string(c, k, key, &cfg->dataset));
        cfg->has |= NNCW_CFG_DATASET;
    } else if (strcmp(key, "pretrained") == 0) {
        NNCW_TRY(nncw_cfg_get_bool(c, k, key, &cfg->pretrained));
        cfg->has |= NNCW_CFG_PRETRAINED;
    } else if (strcmp(key, "num_classes") == 0) {
        NNCW_TRY(nncw_cfg_get_int(c, k, key, 2, 1000000, &v));
        cfg->num_classes = (int)v;
        cfg->has |= NNCW_CFG_NUM_CLASSES;
    } else if (strcmp(key, "batch_size") == 0) {
        NNCW_TRY(nncw_cfg_get_int(c, k, key, 1, 65536, &v));
        cfg->batch_size = (int)v;
        cfg->has |= NNCW_CFG_BATCH_SIZE;
    } else if (strcmp(key, "epochs") == 0) {
        NNCW_TRY(nncw_cfg_get_int(c, k, key, 1, 100000, &v));
        cfg->epochs = (int)v;
        cfg->has |= NNCW_CFG_EPOCHS;
    } else if (strcmp(key, "seed") == 0) {
        NNCW_TRY(nncw_cfg_get_int(c, k, key, 0, INT64_C(9007199254740992), &v));
        cfg->seed = (uint64_t)v;
        cfg->has |= NNCW_CFG_SEED;
    } else {
        *handled = false;
    }
    return NNCW_OK;
}

void nncw_config_apply_train(const struct nncw_config *cfg, struct nncw_train_options *o)
{
    if (cfg->has & NNCW_CFG_EPOCHS)
        o->epochs = cfg->epochs;
    if (cfg->has & NNCW_CFG_BATCH_SIZE)
        o->batch_size = cfg->batch_size;
    if (cfg->has & NNCW_CFG_SEED)
        o->seed = cfg->seed;
    const struct nncw_optimizer_config *c = &cfg->optimizer;
    if (c->has & NNCW_OPT_TYPE && c->type != o->optim.type) {
        float lr = o->optim.lr, wd = o->optim.weight_decay;
        o->optim = c->type == NNCW_OPTIM_SGD ? nncw_optim_config_sgd(lr, 0.9f, wd)
                                             : nncw_optim_config_adam(lr, wd);
        o->optim.type = c->type;
    }
    if (c->has & NNCW_OPT_BASE_LR)
        o->optim.lr = c->base_lr;
    if (c->has & NNCW_OPT_WEIGHT_DECAY)
        o->optim.weight_decay = c->weight_decay;
    if (c->has & NNCW_OPT_MOMENTUM)
        o->optim.momentum = c->momentum;
    if (c->has & NNCW_OPT_NESTEROV)
        o->optim.nesterov = c->nesterov;
    if (c->has & NNCW_OPT_SCHEDULE)
        o->schedule.type = c->schedule;
    if (c->has & NNCW_OPT_STEPS) {
        o->schedule.n_milestones = c->n_steps;
        memcpy(o->schedule.milestones, c->steps, (size_t)c->n_steps * sizeof c->steps[0]);
    }
    if (c->has & NNCW_OPT_GAMMA)
        o->schedule.gamma = c->gamma;
    if (c->has & NNCW_OPT_STEP_SIZE)
        o->schedule.step_size = c->step_size;
    if (c->has & NNCW_OPT_T_MAX)
        o->schedule.t_max = c->t_max;
    if (c->has & NNCW_OPT_WARMUP)
        o->schedule.warmup_epochs = c->warmup_epochs;
}
