# Shared by the end-to-end shell tests (source it): counters, `expect` and `finish`.
passed=0
failed=0

# expect NAME EXIT_CODE PATTERN -- command...: runs it, checks the exit code and that the
# combined output matches the extended regex PATTERN
expect() {
    local name=$1 code=$2 pattern=$3
    shift 4
    local out rc
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -ne "$code" ] || ! grep -Eq -- "$pattern" <<<"$out"; then
        echo "FAIL $name: exit $rc (want $code), output:"
        sed 's/^/    /' <<<"$out" | head -20
        failed=$((failed + 1))
    else
        echo "ok   $name"
        passed=$((passed + 1))
    fi
}

# prints the closing count line and returns the status for the script to exit with
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
