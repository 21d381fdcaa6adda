#!/usr/bin/env bash
# Source gates: banned unsafe functions (STYLE §2.4) and clang-format (STYLE §2.12).
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
status=0
src=$(git ls-files '*.c' '*.h' | grep -v '^tests/')
banned='\b(malloc|calloc|realloc|free|strcpy|strcat|sprintf|vsprintf|atoi|atol|sscanf|strtok|gets)\('
# core/alloc.c is the one place allowed to call the C allocator.
hits=$(grep -nEH "$banned" $src | grep -v '^core/alloc.c:' | grep -vE '(fy_|json_|sqlite3_|OPENSSL_|X509_|EVP_|BN_|ASN1_)[a-z_]*\(' || true)
if [[ -n $hits ]]; then
    echo "gate: banned functions:"; echo "$hits"; status=1
else
    echo "gate: no banned functions"
fi
if command -v clang-format >/dev/null; then
    if clang-format --dry-run -Werror $(git ls-files '*.c' '*.h') 2>/tmp/fy-format.log; then
        echo "gate: clang-format clean"
    else
        echo "gate: clang-format differences:"; head -30 /tmp/fy-format.log; status=1
    fi
fi
exit $status
