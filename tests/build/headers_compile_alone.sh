#!/usr/bin/env bash
# Every public engine header compiles on its own as strict C11 (no hidden include-order
# dependencies, no external library headers leaking into the public API).
set -u
src=$1
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
for h in $(cd "$src/engine" && find . -name '*.h' ! -name '*_internal.h' | sort); do
    h=${h#./}
    printf '#include "%s"\nint nncw_header_check_%s;\n' "$h" "$(echo "$h" | tr '/.' '__')" > "$tmp/t.c"
    if $cc -std=c11 -pedantic -Wall -Wextra -Werror -fsyntax-only -I "$src/engine" "$tmp/t.c" 2> "$tmp/err"; then
        passed=$((passed + 1))
    else
        echo "FAIL $h"; sed 's/^/    /' "$tmp/err" | head -10
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
