/*
 * Plain-text tables as NNCF prints its statistics:
 *
 *     +------------------+--------------------+
 *     | Statistic's name | Value              |
 *     +==================+====================+
 *     | Symmetric WQs    | 100.00 % (21 / 21) |
 *     +------------------+--------------------+
 *
 *     struct nncw_text_table *t = nncw_text_table_new(2, (const char *[]){"Statistic's name", "Value"});
 *     nncw_text_table_add_row(t, (const char *[]){"Symmetric WQs", "100.00 % (21 / 21)"});
 *     char *text = nncw_text_table_render(t);  // nncw_free it
 *     nncw_text_table_free(t);
 *
 * Out of memory is remembered and reported by render (NULL).
 */
#pragma once

struct nncw_text_table;

struct nncw_text_table *nncw_text_table_new(int columns, const char *const *header);
void nncw_text_table_add_row(struct nncw_text_table *t, const char *const *cells);
/* the table, lines ending in '\n'; NULL if any allocation failed */
char *nncw_text_table_render(const struct nncw_text_table *t);
void nncw_text_table_free(struct nncw_text_table *t);

/* "50.00 % (1 / 2)"; "0.00 % (0 / 0)" for an empty whole */
void nncw_format_share(char *buf, unsigned long size, long part, long whole);
