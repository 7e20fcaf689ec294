/* The terminal: curses setup and teardown, colours, UTF-8, and quit signals. */
#include "term.h"

#include <langinfo.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static SCREEN *screen;
static FILE *term_out;
static bool utf8, color;
static volatile sig_atomic_t quit_signal;
static attr_t styles[UI_STYLE_COUNT];

static void on_quit_signal(int sig)
{
    quit_signal = sig;
}

int ui_term_signal(void)
{
    return quit_signal;
}

bool ui_term_utf8(void)
{
    return utf8;
}

bool ui_term_color(void)
{
    return color;
}

attr_t ui_style(enum ui_style s)
{
    return (unsigned)s < UI_STYLE_COUNT ? styles[s] : A_NORMAL;
}

/* attributes that work on a monochrome terminal; colours add to them when there are some */
static void setup_styles(void)
{
    static const attr_t mono[UI_STYLE_COUNT] = {
        [UI_STYLE_BAR] = A_REVERSE,       [UI_STYLE_BAR_KEY] = A_BOLD,
        [UI_STYLE_BORDER_FOCUS] = A_BOLD, [UI_STYLE_SELECTED] = A_REVERSE,
        [UI_STYLE_HEADER] = A_BOLD,       [UI_STYLE_INPUT] = A_BOLD,
        [UI_STYLE_ERROR] = A_BOLD,        [UI_STYLE_WARN] = A_BOLD,
        [UI_STYLE_DIM] = A_DIM,           [UI_STYLE_MATCH] = A_UNDERLINE,
        [UI_STYLE_SERIES2] = A_BOLD,
    };
    memcpy(styles, mono, sizeof styles);
    if (!color)
        return;
    start_color();
    use_default_colors();
    static const struct {
        enum ui_style style;
        short fg, bg;
    } pairs[] = {
        {UI_STYLE_BAR, COLOR_BLACK, COLOR_CYAN},
        {UI_STYLE_BAR_KEY, COLOR_BLACK, COLOR_CYAN},
        {UI_STYLE_BORDER, COLOR_BLUE, -1},
        {UI_STYLE_BORDER_FOCUS, COLOR_CYAN, -1},
        {UI_STYLE_SELECTED, COLOR_BLACK, COLOR_CYAN},
        {UI_STYLE_HEADER, COLOR_YELLOW, -1},
        {UI_STYLE_INPUT, COLOR_CYAN, -1},
        {UI_STYLE_ERROR, COLOR_RED, -1},
        {UI_STYLE_WARN, COLOR_YELLOW, -1},
        {UI_STYLE_MATCH, COLOR_MAGENTA, -1},
        {UI_STYLE_SERIES1, COLOR_GREEN, -1},
        {UI_STYLE_SERIES2, COLOR_MAGENTA, -1},
        {UI_STYLE_OK, COLOR_GREEN, -1},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
        short n = (short)(i + 1);
        if (init_pair(n, pairs[i].fg, pairs[i].bg) == OK)
            styles[pairs[i].style] = (styles[pairs[i].style] & ~A_REVERSE) | COLOR_PAIR(n);
    }
    styles[UI_STYLE_SELECTED] |= A_BOLD;
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_quit_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

int ui_term_open(int tty_fd, char *err, size_t err_size)
{
    const char *codeset = nl_langinfo(CODESET);
    const char *ascii = getenv("NNCW_ASCII");
    utf8 = codeset && strcmp(codeset, "UTF-8") == 0 && !(ascii && *ascii);
    term_out = fdopen(tty_fd, "w");
    if (!term_out) {
        snprintf(err, err_size, "nncw: cannot write to the terminal");
        return -1;
    }
    screen = newterm(NULL, term_out, stdin);
    if (!screen) {
        const char *t = getenv("TERM");
        snprintf(err, err_size, "nncw: cannot use the terminal (TERM=%s); try 'nncw --help'",
                 t ? t : "unset");
        fclose(term_out);
        term_out = NULL;
        return -1;
    }
    set_term(screen);
    const char *no_color = getenv("NO_COLOR");
    color = has_colors() && !(no_color && *no_color);
    raw();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);
    mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    mouseinterval(0);
    setup_styles();
    catch_signals();
    atexit(ui_term_close);
    return 0;
}

void ui_term_close(void)
{
    if (!screen)
        return;
    endwin();
    SCREEN *s = screen;
    screen = NULL;
    delscreen(s);
    if (term_out) {
        fclose(term_out);
        term_out = NULL;
    }
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
}

void ui_term_emergency(void)
{
    if (screen)
        endwin();
    if (term_out)
        fflush(term_out);
}
