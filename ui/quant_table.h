/*
 * The Quantizers panel's table without curses: its columns, the text of each cell and the
 * sorted order of the rows (stable: equal keys keep the engine's order). Tested as plain C.
 *
 *     int order[n];
 *     ui_quant_sort(quantizers, n, UI_QCOL_BITS, true, order);       // widest first
 *     char cell[64];
 *     ui_quant_cell(&quantizers[order[0]], UI_QCOL_MODE, cell, sizeof cell);   // "asym"
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "compression/compression.h"

enum ui_quant_column {
    UI_QCOL_ID,
    UI_QCOL_KIND, /* W or A */
    UI_QCOL_BITS,
    UI_QCOL_MODE, /* sym / asym */
    UI_QCOL_SIGNED,
    UI_QCOL_PER_CHANNEL,
    UI_QCOL_LOW,
    UI_QCOL_HIGH,
    UI_QCOL_GROUP, /* unified scale group */
    UI_QCOL_ALTS,  /* other configurations the hardware allows */
    UI_QCOL_COUNT
};

/* the column's title ("bits") */
const char *ui_quant_column_title(enum ui_quant_column c);
/* the column's width in the table (the id column: its minimum) */
int ui_quant_column_width(enum ui_quant_column c);
/* the cell's text into buf */
char *ui_quant_cell(const struct nncw_quantizer_info *q, enum ui_quant_column c, char *buf,
                    size_t size);
/* order[0..n) = the row indices sorted by column key, descending if desc */
void ui_quant_sort(const struct nncw_quantizer_info *q, int n, enum ui_quant_column key,
                   bool desc, int *order);
