/*
** FLOPs and parameters as NNCF's pruning counts them (fact sheet 5.4: conv = 2 k_h k_w
** C_in/groups C_out H_out W_out, linear = 2 in out; parameters likewise, biases included), for
** the full model and for given kept counts; and NNCF-style statistics tables: the model's
** pruning level, FLOPs and parameters, each pruned layer, and the groups.
*/
#include <stdio.h>
#include <string.h>

#include "compression/pruning/pruning_internal.h"
#include "core/alloc.h"
#include "core/text_table.h"

static int64_t kept_of(const struct nncw_pruning *pr, int value, int64_t full, const int64_t *kept)
{
    return pr->an.labels[value].n ? nncw_prune_label_kept(pr, value, kept) : full;
}

void nncw_prune_cost(const struct nncw_pruning *pr, const int64_t *kept, int64_t *flops,
                     int64_t *params)
{
    *flops = *params = 0;
    for (int i = 0; i < pr->n_cost; i++) {
        const struct nncw_prune_cost_node *cn = &pr->cost[i];
        int64_t c_in = kept_of(pr, cn->in, cn->c_in, kept);
        if (cn->gemm) {
            *flops += 2 * c_in * cn->c_out;
            *params += c_in * cn->c_out + (cn->bias ? cn->c_out : 0);
            continue;
        }
        int64_t c_out = kept_of(pr, cn->out, cn->c_out, kept);
        int64_t per_group = cn->depthwise ? 1 : c_in / (cn->groups > 0 ? cn->groups : 1);
        *flops += 2 * cn->kernel * per_group * c_out * cn->spatial;
        *params += cn->kernel * per_group * c_out + (cn->bias ? c_out : 0);
    }
}

static void fmt_level(char *buf, size_t size, double v)
{
    snprintf(buf, size, "%.3f", v);
}

static char *model_table(const struct nncw_pruning *pr, const int64_t *kept)
{
    int64_t ff, fp, pf, pp;
    nncw_prune_cost(pr, NULL, &ff, &pf);
    nncw_prune_cost(pr, kept, &fp, &pp);
    char v[5][64];
    fmt_level(v[0], sizeof v[0], pf ? 1.0 - (double)pp / (double)pf : 0.0);
    fmt_level(v[1], sizeof v[1], ff ? 1.0 - (double)fp / (double)ff : 0.0);
    snprintf(v[2], sizeof v[2], "%.3f / %.3f", (double)fp / 1e9, (double)ff / 1e9);
    snprintf(v[3], sizeof v[3], "%.3f / %.3f", (double)pp / 1e6, (double)pf / 1e6);
    fmt_level(v[4], sizeof v[4], pr->st.target);
    static const char *const labels[] = {"Pruning level of the whole model", "FLOPS pruning level",
                                         "GFLOPS current / full", "MParams current / full", NULL};
    struct nncw_text_table *t =
        nncw_text_table_new(2, (const char *[]){"Statistic's name", "Value"});
    for (int i = 0; labels[i]; i++)
        nncw_text_table_add_row(t, (const char *[]){labels[i], v[i]});
    nncw_text_table_add_row(t, (const char *[]){pr->cfg->flops ? "FLOPS pruning target level"
                                                               : "Prunable layers target level",
                                                v[4]});
    char *text = nncw_text_table_render(t);
    nncw_text_table_free(t);
    return text;
}

static char *layers_table(const struct nncw_pruning *pr)
{
    struct nncw_text_table *t =
        nncw_text_table_new(4, (const char *[]){"Layer's name", "Weight's shape", "Mask's shape",
                                                "Filter pruning level"});
    for (int gi = 0; gi < pr->n_groups; gi++) {
        const struct nncw_prune_group *gr = &pr->groups[gi];
        for (int m = 0; m < gr->n_members; m++) {
            const struct nncw_node *n = nncw_graph_get_node(pr->g, gr->members[m]);
            int param, reader, port;
            char shape[128] = "?", mask[32], level[32];
            if (nncw_prune_find_weight(pr->g, n, &param, &reader, &port))
                nncw_tensor_shape_str(nncw_graph_get_value_tensor(pr->g, param), shape,
                                      sizeof shape);
            snprintf(mask, sizeof mask, "[%lld]", (long long)gr->channels);
            fmt_level(level, sizeof level, 1.0 - (double)gr->kept / (double)gr->channels);
            nncw_text_table_add_row(t, (const char *[]){nncw_node_get_name(n), shape, mask, level});
        }
    }
    char *text = nncw_text_table_render(t);
    nncw_text_table_free(t);
    return text;
}

static char *groups_table(const struct nncw_pruning *pr)
{
    struct nncw_text_table *t = nncw_text_table_new(
        5, (const char *[]){"Group", "Members", "Filters kept / all", "Excluded", "First member"});
    for (int gi = 0; gi < pr->n_groups; gi++) {
        const struct nncw_prune_group *gr = &pr->groups[gi];
        char id[16], members[16], kept[48];
        snprintf(id, sizeof id, "%d", gi);
        snprintf(members, sizeof members, "%d", gr->n_members);
        snprintf(kept, sizeof kept, "%lld / %lld", (long long)gr->kept, (long long)gr->channels);
        const char *first =
            gr->n_members ? nncw_node_get_name(nncw_graph_get_node(pr->g, gr->members[0])) : "";
        nncw_text_table_add_row(
            t, (const char *[]){id, members, kept, gr->excluded ? "yes" : "no", first});
    }
    char *text = nncw_text_table_render(t);
    nncw_text_table_free(t);
    return text;
}

enum nncw_status nncw_prune_statistics(const struct nncw_pruning *pr, char **text)
{
    nncw_prune_read_masks((struct nncw_pruning *)pr); /* the keep arrays mirror the masks */
    int64_t *kept = nncw_malloc((size_t)(pr->n_groups ? pr->n_groups : 1) * sizeof *kept);
    if (!kept)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "filter pruning statistics: out of memory");
    for (int gi = 0; gi < pr->n_groups; gi++)
        kept[gi] = pr->groups[gi].kept;
    char *parts[3] = {model_table(pr, kept), layers_table(pr), groups_table(pr)};
    nncw_free(kept);
    static const char *const titles[] = {"Statistics of the pruned model:\n",
                                         "Statistics by pruned layers:\n",
                                         "Groups of filters pruned together:\n"};
    size_t need = 1;
    bool ok = true;
    for (int i = 0; i < 3; i++) {
        ok = ok && parts[i];
        need += parts[i] ? strlen(parts[i]) + strlen(titles[i]) + 1 : 0;
    }
    char *out = ok ? nncw_malloc(need) : NULL;
    if (out) {
        out[0] = '\0';
        for (int i = 0; i < 3; i++) {
            strcat(out, titles[i]);
            strcat(out, parts[i]);
            if (i < 2)
                strcat(out, "\n");
        }
    }
    for (int i = 0; i < 3; i++)
        nncw_free(parts[i]);
    if (!out)
        return NNCW_FAIL(NNCW_ERR_NOMEM, "filter pruning statistics: out of memory");
    *text = out;
    return NNCW_OK;
}
