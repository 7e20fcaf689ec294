# Shared by the workbench's end-to-end tests (source it after setting SESSION): a private tmux
# server, screen captures, waiting for text with a deadline (never a fixed long sleep),
# typing, and the closing count line.
SOCK=nncw-test-$$
T="tmux -L $SOCK"
passed=0
failed=0

ok() { echo "ok   $1"; passed=$((passed + 1)); }
fail() {
    echo "FAIL $1"
    $T capture-pane -p -t "$SESSION" 2>/dev/null | sed 's/^/    |/'
    failed=$((failed + 1))
}

screen() { $T capture-pane -p -t "$SESSION" 2>/dev/null; }

# wait_for NAME REGEX [SECONDS]: until the pane's text matches the extended regex (GREP=-P:
# a Perl regex, for ranges of characters such as braille dots)
wait_for() {
    local name=$1 re=$2 limit=${3:-30}
    local deadline=$((SECONDS + limit))
    while [ "$SECONDS" -le "$deadline" ]; do
        if screen | grep ${GREP:--E} -q -- "$re"; then ok "$name"; return 0; fi
        sleep 0.1
    done
    fail "$name (waited ${limit}s for /$re/)"
    return 1
}

# wait_gone NAME REGEX [SECONDS]: until the pane's text no longer matches
wait_gone() {
    local name=$1 re=$2 limit=${3:-30}
    local deadline=$((SECONDS + limit))
    while [ "$SECONDS" -le "$deadline" ]; do
        if ! screen | grep -Eq -- "$re"; then ok "$name"; return 0; fi
        sleep 0.1
    done
    fail "$name (waited ${limit}s for /$re/ to go)"
    return 1
}

# check NAME COMMAND...: one assertion on a command's status
check() {
    local name=$1
    shift
    if "$@"; then ok "$name"; else fail "$name"; fi
}

keys() { $T send-keys -t "$SESSION" "$@"; }
type_text() { $T send-keys -t "$SESSION" -l "$1"; }
type_line() { type_text "$1"; keys Enter; }

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
