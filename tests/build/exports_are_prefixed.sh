#!/usr/bin/env bash
# The engine library exports only nncw_* symbols (STYLE 2.12); names starting with __ are
# the compiler's own (sanitizer instrumentation) and are left out.
set -u
lib=$1
bad=$(nm -g --defined-only "$lib" 2>/dev/null | awk 'NF == 3 { print $3 }' | grep -v '^__' | grep -v '^nncw_' | sort -u)
if [ -n "$bad" ]; then
    echo "symbols without the nncw_ prefix:"; echo "$bad" | head -20
    echo "0 passed, 1 failed"
    exit 1
fi
echo "1 passed, 0 failed"
