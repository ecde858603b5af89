#!/usr/bin/env bash
# FORMAT §12: spec/vectors/vectors.txt is exactly what the independent
# Python generator prints, and the independent checker accepts all of it.
# $1 = build dir (unused), $2 = source dir.
set -euo pipefail
src=${2:?source dir}
py=/usr/bin/python3
if ! "$py" -c 'import nacl.signing' 2>/dev/null; then
    echo "test_vectors_regen: PyNaCl missing for $py (apt-get install python3-nacl)" >&2
    exit 1
fi
"$py" "$src/spec/vectors/gen_vectors.py" | cmp - "$src/spec/vectors/vectors.txt"
cd "$src" && "$py" spec/vectors/check_vectors.py
