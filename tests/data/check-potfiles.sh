#!/usr/bin/env bash
# Checks po/POTFILES.in against the tree: sorted, every listed file exists, and
# every file with translatable strings is listed: C sources under src/ that
# call _(), N_(), C_(), NC_(), ngettext or g_dngettext, templates under ui/
# with translatable="yes", and data/'s desktop entry, metainfo and schema.
# Prints TAP; exits 1 when anything is wrong (tests/data/test-check-potfiles.sh
# proves that it does).
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

# A gettext call: _( and friends not preceded by part of a name, so that a
# comment about kaiming_normal_( is not one.
c_pattern='(^|[^[:alnum:]_])((N|C|NC)?_|g_dngettext|ngettext)[[:space:]]*\('

translatable ()
{
  case "$1" in
    *.c|*.h) grep -qE "$c_pattern" "$1" ;;
    *.ui) grep -q 'translatable="yes"' "$1" ;;
    *) return 0 ;;   # data/: always translatable
  esac
}

cd "$srcroot" || exit 1
while IFS= read -r file; do
  if translatable "$file"; then
    if printf '%s\n' "${listed[@]}" | grep -qxF "$file"; then
      ok "$file is listed"
    else
      not_ok "$file has translatable strings but is not in po/POTFILES.in"
    fi
  fi
done < <({ find src -type f \( -name '*.c' -o -name '*.h' \)
           find ui -type f -name '*.ui'
           find data -maxdepth 1 -type f \( -name '*.desktop.in' -o -name '*.metainfo.xml.in' \
                                          -o -name '*.gschema.xml' \)
         } 2>/dev/null | LC_ALL=C sort)

echo "1..$n"
exit $status
