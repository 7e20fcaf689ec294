/*
 * The workbench's panels. Each constructor returns a panel owned by the screen (freed through
 * its class's destroy); the functions below are what other parts ask of a panel.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "../app.h"
#include "../graph_rows.h"

struct ui_panel *ui_graph_panel_new(struct ui_app *a);
struct ui_panel *ui_inspector_panel_new(struct ui_app *a);
struct ui_panel *ui_training_panel_new(struct ui_app *a);
struct ui_panel *ui_console_panel_new(struct ui_app *a);
struct ui_panel *ui_log_panel_new(struct ui_app *a);
/* the compression panels (over the view of `comp`) */
struct ui_panel *ui_quantizers_panel_new(struct ui_app *a);
struct ui_panel *ui_scopes_panel_new(struct ui_app *a);
struct ui_panel *ui_pruning_panel_new(struct ui_app *a);
/* mixed-precision searches: the panel, and what :hawq and :autoq ask of it */
struct ui_panel *ui_search_panel_new(struct ui_app *a);
void ui_search_panel_hawq(struct ui_panel *p);
/* episodes 0: the config's or 30; samples: of test_data evaluated per episode (0: 512) */
void ui_search_panel_autoq(struct ui_panel *p, int episodes, int samples);

/* selects the next (direction 1), previous (-1) or first from the selection (0) node whose
 * scope matches the POSIX extended regex; returns the number of matching nodes, or -1 with
 * a message in err (a bad regex) */
int ui_graph_panel_search(struct ui_panel *p, const char *regex, int direction, char *err,
                          size_t err_size);
/* the selected row (a group or a node), or NULL */
const struct ui_graph_row *ui_graph_panel_row(struct ui_panel *p);
