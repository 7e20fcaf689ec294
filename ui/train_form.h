/*
 * The training form (t, F5): epochs, learning rate, batch, data subsets, seed, optimizer and
 * event interval, turned into the line of Lua that starts the run, e.g.
 *
 *     run = nncw.train(model, train_data:subset(1, 2000), {test = test_data:subset(1, 1000),
 *         epochs = 1, batch = 64, seed = 1, log_every = 1, optimizer = {type = "sgd", lr = 0.02}});
 *     print(("final: train loss %.6f acc %.4f, test loss %.6f acc %.4f"):format(...))
 */
#pragma once

#include <stddef.h>

#include "widgets/form.h"

/* a form with the defaults (1 epoch, lr 0.02, batch 64, 2000/1000 samples, seed 1, sgd) */
struct ui_form *ui_train_form_new(void);
void ui_train_form_free(struct ui_form *f);
/* the Lua of a checked form (ui_form_check passed); compression: the Lua name of a
 * Compression of `model` the run trains (QAT, sparsity, pruning schedules), or NULL */
void ui_train_form_lua(const struct ui_form *f, const char *compression, char *buf, size_t size);
