/* The global key table and key reading. */
#include "keys.h"

#include <wchar.h>

static const struct ui_binding bindings[] = {
    {{UI_KEY_FN(KEY_F(1)), '?'}, UI_ACTION_HELP, "F1 ?", "Help", "this help (any key closes it)"},
    {{'\t'}, UI_ACTION_NEXT_PANEL, "Tab", "Panel", "focus the next panel"},
    {{UI_KEY_FN(KEY_BTAB)}, UI_ACTION_PREV_PANEL, "S-Tab", NULL, "focus the previous panel"},
    {{'/'}, UI_ACTION_SEARCH, "/", "Search", "search the graph's scopes (POSIX regex)"},
    {{'t', UI_KEY_FN(KEY_F(5))},
     UI_ACTION_TRAIN,
     "t F5",
     "Train",
     "the training form: start a run"},
    {{'x', UI_KEY_FN(KEY_F(8)), UI_KEY_CTRL('c')},
     UI_ACTION_CANCEL,
     "x F8 ^C",
     "Cancel",
     "cancel the running work (a run stops after its step; the model keeps its weights)"},
    {{'s', UI_KEY_FN(KEY_F(2))},
     UI_ACTION_SAVE,
     "s F2",
     "Save",
     "save the session as a Lua script (replay: nncw run FILE)"},
    {{'o', UI_KEY_FN(KEY_F(3))},
     UI_ACTION_OPEN,
     "o F3",
     "Open",
     "open a model: an ONNX file, a built-in model name, or a checkpoint for the model"},
    {{':'},
     UI_ACTION_COMMAND,
     ":",
     "Cmd",
     "a command: :save F, :open F, :train, :cancel, :pause, :resume, :compress F, "
     ":ignore P, :unignore P, "
     ":set P bits=4 mode=asymmetric per_channel=1, :level X, :rate X, :target X, :stats, :hawq, :autoq N S, "
     ":help, :quit, or Lua"},
    {{UI_KEY_FN(KEY_F(4))},
     UI_ACTION_COMPRESS,
     "F4",
     NULL,
     "compress `model`: a compression config (JSON) becomes `comp` (:compress F)"},
    /* pausing a training run (p is the Graph panel's own key there, F7 works everywhere) */
    {{'p', UI_KEY_FN(KEY_F(7))},
     UI_ACTION_PAUSE,
     "p F7",
     NULL, /* the status line has no room left at 80 columns */
     "pause the training run after its current step, or resume it (:pause, :resume)"},
    {{'z'}, UI_ACTION_ZOOM, "z", NULL, "zoom: the focused panel alone, or all panels"},
    {{'1'},
     UI_ACTION_PANEL_1,
     "1-9",
     NULL,
     "focus Graph, Inspector, Training, Console, Log, Quantizers, Scopes, Pruning, Search"},
    {{'2'}, UI_ACTION_PANEL_2, NULL, NULL, NULL},
    {{'3'}, UI_ACTION_PANEL_3, NULL, NULL, NULL},
    {{'4'}, UI_ACTION_PANEL_4, NULL, NULL, NULL},
    {{'5'}, UI_ACTION_PANEL_5, NULL, NULL, NULL},
    {{'6'}, UI_ACTION_PANEL_6, NULL, NULL, NULL},
    {{'7'}, UI_ACTION_PANEL_7, NULL, NULL, NULL},
    {{'8'}, UI_ACTION_PANEL_8, NULL, NULL, NULL},
    {{'9'}, UI_ACTION_PANEL_9, NULL, NULL, NULL}, /* Search */
    {{UI_KEY_CTRL('l')}, UI_ACTION_REDRAW, "^L", NULL, "redraw the screen"},
    {{'q', UI_KEY_FN(KEY_F(10))},
     UI_ACTION_QUIT,
     "q F10",
     "Quit",
     "quit (asks first while work runs)"},
    {{0}, UI_ACTION_NONE, NULL, NULL, NULL},
};

const struct ui_binding *ui_keys_table(void)
{
    return bindings;
}

enum ui_action ui_keys_action(int key)
{
    for (const struct ui_binding *b = bindings; b->action != UI_ACTION_NONE; b++)
        for (int i = 0; i < 3 && b->keys[i]; i++)
            if (b->keys[i] == key)
                return b->action;
    return UI_ACTION_NONE;
}

int ui_key_read(WINDOW *w)
{
    wint_t wc;
    int rc = wget_wch(w, &wc);
    if (rc == ERR)
        return ERR;
    if (rc == KEY_CODE_YES)
        return UI_KEY_FN((int)wc);
    return (int)wc;
}

bool ui_key_is_text(int key)
{
    return key >= 0x20 && key != 0x7F && key < 0x110000;
}

int ui_key_utf8(int key, char *buf)
{
    unsigned c = (unsigned)key;
    if (c < 0x80) {
        buf[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        buf[0] = (char)(0xC0 | (c >> 6));
        buf[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        buf[0] = (char)(0xE0 | (c >> 12));
        buf[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        buf[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    buf[0] = (char)(0xF0 | (c >> 18));
    buf[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    buf[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    buf[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}
