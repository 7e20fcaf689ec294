/* Standard output and error redirected into the Console and the Log while the TUI runs. */
#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { PARTIAL_MAX = 4096 };

/* a stream's bytes not yet ended by a newline */
struct partial {
    char buf[PARTIAL_MAX];
    size_t len;
};

static void emit(struct capture *c, bool is_err, const char *text)
{
    line_ring_add(c->console, is_err ? LINE_ERROR : LINE_OUTPUT, text);
    if (is_err)
        line_ring_add(c->log, LINE_ERROR, text);
}

/* hands the complete lines of p to the rings; with force, the unfinished rest too */
static void flush_lines(struct capture *c, bool is_err, struct partial *p, bool force)
{
    size_t start = 0;
    for (size_t i = 0; i < p->len; i++) {
        if (p->buf[i] != '\n')
            continue;
        p->buf[i] = '\0';
        emit(c, is_err, p->buf + start);
        start = i + 1;
    }
    memmove(p->buf, p->buf + start, p->len - start);
    p->len -= start;
    if (p->len && (force || p->len == sizeof p->buf - 1)) {
        p->buf[p->len] = '\0';
        emit(c, is_err, p->buf);
        p->len = 0;
    }
}

/* reads what a pipe has; false at its end */
static bool drain(struct capture *c, int fd, bool is_err, struct partial *p)
{
    ssize_t n = read(fd, p->buf + p->len, sizeof p->buf - 1 - p->len);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    if (n <= 0)
        return false;
    p->len += (size_t)n;
    flush_lines(c, is_err, p, false);
    return true;
}

static void *drain_thread(void *arg)
{
    struct capture *c = arg;
    struct partial out = {.len = 0}, err = {.len = 0};
    struct pollfd fds[2] = {{.fd = c->out_pipe, .events = POLLIN},
                            {.fd = c->err_pipe, .events = POLLIN}};
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        int n = poll(fds, 2, 100);
        if (n < 0 && errno != EINTR)
            break;
        if (n == 0) { /* quiet for 100 ms: show a prompt-like unfinished line too */
            flush_lines(c, false, &out, true);
            flush_lines(c, true, &err, true);
            continue;
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
                !drain(c, fds[i].fd, i == 1, i == 1 ? &err : &out))
                fds[i].fd = -1;
        }
    }
    flush_lines(c, false, &out, true);
    flush_lines(c, true, &err, true);
    return NULL;
}

/* a pipe whose write end replaces descriptor target; returns the read end or -1 */
static int redirect(int target)
{
    int p[2];
    if (pipe(p) != 0)
        return -1;
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    if (dup2(p[1], target) < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    close(p[1]);
    return p[0];
}

int capture_start(struct capture *c, struct line_ring *console, struct line_ring *log)
{
    memset(c, 0, sizeof *c);
    c->console = console;
    c->log = log;
    c->out_pipe = c->err_pipe = -1;
    fflush(stdout);
    fflush(stderr);
    c->saved_out = dup(STDOUT_FILENO);
    c->saved_err = dup(STDERR_FILENO);
    int tty = dup(STDOUT_FILENO);
    if (c->saved_out < 0 || c->saved_err < 0 || tty < 0)
        goto fail;
    fcntl(c->saved_out, F_SETFD, FD_CLOEXEC);
    fcntl(c->saved_err, F_SETFD, FD_CLOEXEC);
    fcntl(tty, F_SETFD, FD_CLOEXEC);
    if ((c->out_pipe = redirect(STDOUT_FILENO)) < 0 || (c->err_pipe = redirect(STDERR_FILENO)) < 0)
        goto fail;
    /* the drain thread must not take the terminal's signals */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&c->thread, NULL, drain_thread, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        goto fail;
    c->running = true;
    return tty;
fail:;
    int saved = errno;
    capture_restore_fds(c);
    if (c->out_pipe >= 0)
        close(c->out_pipe);
    if (c->err_pipe >= 0)
        close(c->err_pipe);
    if (c->saved_out >= 0)
        close(c->saved_out);
    if (c->saved_err >= 0)
        close(c->saved_err);
    if (tty >= 0)
        close(tty);
    c->saved_out = c->saved_err = c->out_pipe = c->err_pipe = -1;
    errno = saved;
    return -1;
}

void capture_restore_fds(const struct capture *c)
{
    if (c->saved_out >= 0)
        dup2(c->saved_out, STDOUT_FILENO);
    if (c->saved_err >= 0)
        dup2(c->saved_err, STDERR_FILENO);
}

void capture_stop(struct capture *c)
{
    if (!c->running)
        return;
    fflush(stdout);
    fflush(stderr);
    /* the pipes' last write ends were descriptors 1 and 2: restoring them ends the pipes */
    capture_restore_fds(c);
    pthread_join(c->thread, NULL);
    close(c->out_pipe);
    close(c->err_pipe);
    close(c->saved_out);
    close(c->saved_err);
    c->running = false;
}
