#!/usr/bin/env bash
# The layer check: every #include "folder/..." in the library must point to its own folder or
# one below it in this order (bottom first), so the folders form no cycle. Programs (examples/)
# and tests/ stand on top and may include any layer. Prints each include that points up and
# exits 1 when there is one.
#
#   tests/check-layers.sh            (from anywhere; checks the checkout it lives in)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
LAYERS=(core platform io nn data models metrics train capi)

rank() {
  local i
  for i in "${!LAYERS[@]}"; do [ "${LAYERS[$i]}" = "$1" ] && { echo "$i"; return; }; done
  echo -1
}

bad=0 checked=0
for dir in "${LAYERS[@]}"; do
  from=$(rank "$dir")
  while IFS= read -r hit; do
    file=${hit%%:*} rest=${hit#*:} line=${rest%%:*} target=${hit#*#include \"}
    target=${target%%\"*}
    to_dir=${target%%/*}
    to=$(rank "$to_dir")
    checked=$((checked + 1))
    if [ "$to" -lt 0 ]; then
      echo "$file:$line: includes \"$target\", which is in no layer (have: ${LAYERS[*]})"
      bad=1
    elif [ "$to" -gt "$from" ]; then
      echo "$file:$line: $dir/ includes \"$target\": $to_dir/ is above $dir/ (order: ${LAYERS[*]})"
      bad=1
    fi
  done < <(grep -rn --include='*.h' --include='*.cpp' '^[[:space:]]*#[[:space:]]*include "' "$dir" || true)
done
[ "$checked" -gt 0 ] || { echo "layer check: no includes found (run from the checkout)"; exit 1; }
if [ $bad -eq 0 ]; then
  echo "layer check: $checked includes, all point down (${LAYERS[*]})"
fi
exit $bad
