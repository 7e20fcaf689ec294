/* The training form and the Lua it runs. */
#include "train_form.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { F_EPOCHS, F_LR, F_BATCH, F_TRAIN, F_TEST, F_SEED, F_OPTIM, F_LOG, F_COUNT };

static const char *const optimizers[] = {"sgd", "adam", "adamw", NULL};

struct train_form {
    struct ui_form form; /* first: the form is what callers see */
    struct ui_field fields[F_COUNT];
};

struct ui_form *ui_train_form_new(void)
{
    struct train_form *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    const struct ui_field fields[F_COUNT] = {
        [F_EPOCHS] = UI_FIELD_INT_("epochs", "1", 1, 10000, "passes over the training data"),
        [F_LR] = UI_FIELD_NUMBER_("learning rate", "0.02", 0, 100, "base lr (cosine schedule)"),
        [F_BATCH] = UI_FIELD_INT_("batch", "64", 1, 65536, "samples per step"),
        [F_TRAIN] =
            UI_FIELD_INT_("train subset", "2000", 0, 1e9, "first N training samples; 0: all"),
        [F_TEST] = UI_FIELD_INT_("test subset", "1000", 0, 1e9, "first N test samples; 0: all"),
        [F_SEED] = UI_FIELD_INT_("seed", "1", 0, 1e15, "shuffling, dropout (replays match)"),
        [F_OPTIM] = UI_FIELD_CHOICE_("optimizer", optimizers, "Left/Right to choose"),
        [F_LOG] = UI_FIELD_INT_("chart every", "0", 0, 1e9, "a chart point every N steps; 0: auto"),
    };
    memcpy(t->fields, fields, sizeof fields);
    ui_form_init(&t->form, "Train `model` on `train_data`, test on `test_data`", t->fields,
                 F_COUNT);
    return &t->form;
}

void ui_train_form_free(struct ui_form *f)
{
    if (!f)
        return;
    ui_form_fini(f);
    free(f);
}

/* "name" or "name:subset(1, n)" */
static void data_expr(const char *name, long long n, char *buf, size_t size)
{
    if (n > 0)
        snprintf(buf, size, "%s:subset(1, %lld)", name, n);
    else
        snprintf(buf, size, "%s", name);
}

void ui_train_form_lua(const struct ui_form *f, const char *compression, char *buf, size_t size)
{
    const struct ui_field *d = f->fields;
    long long train = (long long)d[F_TRAIN].value, test = (long long)d[F_TEST].value;
    long long batch = (long long)d[F_BATCH].value, every = (long long)d[F_LOG].value;
    if (every == 0) /* about 40 points per epoch, every step for small subsets */
        every = train > 0 ? ((train + batch - 1) / batch + 39) / 40 : 10;
    char tr[96], te[96];
    data_expr("train_data", train, tr, sizeof tr);
    data_expr("test_data", test, te, sizeof te);
    char comp[96] = "";
    if (compression)
        snprintf(comp, sizeof comp, ", compression = %s", compression);
    snprintf(buf, size,
             "run = nncw.train(model, %s, {test = %s, epochs = %lld, batch = %lld, seed = %lld, "
             "log_every = %lld, optimizer = {type = \"%s\", lr = %.9g}%s}); "
             "print((\"final: train loss %%.6f acc %%.4f, test loss %%.6f acc %%.4f\"):format("
             "run.train_loss, run.train_acc, run.test_loss, run.test_acc))",
             tr, te, (long long)d[F_EPOCHS].value, batch, (long long)d[F_SEED].value, every,
             optimizers[d[F_OPTIM].choice], d[F_LR].value, comp);
}
