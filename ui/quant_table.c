/* The Quantizers table's cells and order. */
#include "quant_table.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *title;
    int width;
} columns[UI_QCOL_COUNT] = {
    [UI_QCOL_ID] = {"id", 24},          [UI_QCOL_KIND] = {"W/A", 3},
    [UI_QCOL_BITS] = {"bits", 4},       [UI_QCOL_MODE] = {"mode", 4},
    [UI_QCOL_SIGNED] = {"sign", 4},     [UI_QCOL_PER_CHANNEL] = {"per-ch", 6},
    [UI_QCOL_LOW] = {"low", 9},         [UI_QCOL_HIGH] = {"high", 9},
    [UI_QCOL_GROUP] = {"group", 5},     [UI_QCOL_ALTS] = {"alts", 4},
};

const char *ui_quant_column_title(enum ui_quant_column c)
{
    return c < UI_QCOL_COUNT ? columns[c].title : "?";
}

int ui_quant_column_width(enum ui_quant_column c)
{
    return c < UI_QCOL_COUNT ? columns[c].width : 0;
}

char *ui_quant_cell(const struct nncw_quantizer_info *q, enum ui_quant_column c, char *buf,
                    size_t size)
{
    switch (c) {
    case UI_QCOL_ID:
        snprintf(buf, size, "%s", q->id ? q->id : "");
        break;
    case UI_QCOL_KIND:
        snprintf(buf, size, "%s", q->is_weight ? "W" : "A");
        break;
    case UI_QCOL_BITS:
        snprintf(buf, size, "%d", q->bits);
        break;
    case UI_QCOL_MODE:
        snprintf(buf, size, "%s", q->asymmetric ? "asym" : "sym");
        break;
    case UI_QCOL_SIGNED:
        snprintf(buf, size, "%s", q->is_signed ? "yes" : "no");
        break;
    case UI_QCOL_PER_CHANNEL:
        if (q->per_channel)
            snprintf(buf, size, "%lld", (long long)q->channels);
        else
            snprintf(buf, size, "no");
        break;
    case UI_QCOL_LOW:
    case UI_QCOL_HIGH:
        snprintf(buf, size, "%.4g", c == UI_QCOL_LOW ? q->low : q->high);
        break;
    case UI_QCOL_GROUP:
        if (q->unified_group >= 0)
            snprintf(buf, size, "%d", q->unified_group);
        else
            snprintf(buf, size, "-");
        break;
    case UI_QCOL_ALTS:
        snprintf(buf, size, "%d", q->n_alternatives);
        break;
    default:
        snprintf(buf, size, "?");
        break;
    }
    return buf;
}

/* the column's numeric key (NaN sorts last), for the columns that are not text */
static double number(const struct nncw_quantizer_info *q, enum ui_quant_column c)
{
    switch (c) {
    case UI_QCOL_KIND:
        return q->is_weight;
    case UI_QCOL_BITS:
        return q->bits;
    case UI_QCOL_MODE:
        return q->asymmetric;
    case UI_QCOL_SIGNED:
        return q->is_signed;
    case UI_QCOL_PER_CHANNEL:
        return q->per_channel ? (double)q->channels : 0;
    case UI_QCOL_LOW:
        return q->low;
    case UI_QCOL_HIGH:
        return q->high;
    case UI_QCOL_GROUP:
        return q->unified_group;
    case UI_QCOL_ALTS:
        return q->n_alternatives;
    default:
        return 0;
    }
}

/* <0, 0, >0 as a sorts before, with or after b by the key alone (NaN last either way) */
static int compare(const struct nncw_quantizer_info *a, const struct nncw_quantizer_info *b,
                   enum ui_quant_column key, bool desc)
{
    int c;
    if (key == UI_QCOL_ID) {
        c = strcmp(a->id ? a->id : "", b->id ? b->id : "");
    } else {
        double x = number(a, key), y = number(b, key);
        if (isnan(x) || isnan(y))
            return isnan(x) - isnan(y);
        c = (x > y) - (x < y);
    }
    return desc ? -c : c;
}

void ui_quant_sort(const struct nncw_quantizer_info *q, int n, enum ui_quant_column key,
                   bool desc, int *order)
{
    /* insertion sort: stable, and tables are at most a few hundred rows */
    for (int i = 0; i < n; i++) {
        int j = i;
        while (j > 0) {
            if (compare(&q[order[j - 1]], &q[i], key, desc) <= 0)
                break;
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
}
