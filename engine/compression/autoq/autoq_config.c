/* AutoQ's options from a config's quantization entry (initializer.precision, type "autoq"),
 * through the quantization section's parser. */
#include "compression/autoq/autoq.h"

#include <string.h>

#include "compression/quantization/quant_config.h"

enum nncw_status nncw_autoq_options_from_config(const struct nncw_config *cfg,
                                                struct nncw_autoq_options *o,
                                                double *eval_subset_ratio, bool *found)
{
    *found = false;
    for (int i = 0; i < cfg->n_compression; i++) {
        if (strcmp(cfg->compression[i].algorithm, "quantization"))
            continue;
        struct nncw_quant_config *qc;
        NNCW_TRY(nncw_quant_config_parse(cfg, i, &qc));
        const struct nncw_precision_init *p = &qc->init.precision;
        if (qc->init.has_precision && p->type == NNCW_PRECISION_AUTOQ) {
            *o = nncw_autoq_defaults();
            o->n_bits = p->n_bits < NNCW_AUTOQ_MAX_BITS ? p->n_bits : NNCW_AUTOQ_MAX_BITS;
            memcpy(o->bits, p->bits, (size_t)o->n_bits * sizeof o->bits[0]);
            o->compression_ratio = p->compression_ratio;
            o->episodes = p->iter_number;
            o->warmup = p->warmup_iter_number;
            if (cfg->seed)
                o->seed = cfg->seed;
            *eval_subset_ratio = p->eval_subset_ratio;
            *found = true;
        }
        nncw_quant_config_free(qc);
        if (*found)
            return NNCW_OK;
    }
    return NNCW_OK;
}
