#!/usr/bin/env bash
# Checks po/POTFILES.in against the tree: sorted, every listed file exists, and
# every source or template with translatable strings under src/gui and ui/ is
# listed. Prints TAP.
set -uo pipefail

srcroot=${1:?usage: check-potfiles.sh SOURCE_ROOT}
potfiles="$srcroot/po/POTFILES.in"
status=0
n=0

ok ()
{
  n=$((n + 1))
  echo "ok $n - $1"
}

not_ok ()
{
  n=$((n + 1))
  echo "not ok $n - $1"
  status=1
}

mapfile -t listed < <(grep -v -e '^#' -e '^[[:space:]]*$' "$potfiles")

if printf '%s\n' "${listed[@]}" | LC_ALL=C sort -c 2>/dev/null; then
  ok "POTFILES.in is sorted"
else
  not_ok "POTFILES.in is sorted (LC_ALL=C sort)"
fi

for file in "${listed[@]}"; do
  if [ -f "$srcroot/$file" ]; then
    ok "$file exists"
  else
    not_ok "$file is listed in po/POTFILES.in but does not exist"
  fi
done

cd "$srcroot" || exit 1
while IFS= read -r file; do
  if grep -q -e '_(' -e 'translatable="yes"' "$file"; then
    if printf '%s\n' "${listed[@]}" | grep -qxF "$file"; then
      ok "$file is listed"
    else
      not_ok "$file has translatable strings but is not in po/POTFILES.in"
    fi
  fi
done < <(find src/gui ui -type f \( -name '*.c' -o -name '*.h' -o -name '*.ui' \) 2>/dev/null | LC_ALL=C sort)

echo "1..$n"
exit $status
