#!/usr/bin/env bash
# Proves that check-potfiles.sh fails when it should: runs it on small fake
# trees, each broken in one way, and once on a correct one. Prints TAP.
set -uo pipefail

check=${1:?usage: test-check-potfiles.sh CHECK_POTFILES_SH}
n=0
status=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A tree that passes: one listed source with a string, one without any.
make_tree ()
{
  rm -rf "$tmp/tree"
  mkdir -p "$tmp/tree/po" "$tmp/tree/src/gui" "$tmp/tree/src/nn" "$tmp/tree/ui" "$tmp/tree/data"
  printf '#include "x.h"\nconst char *s = _("Open");\n' > "$tmp/tree/src/gui/xl-a.c"
  printf '/* kaiming_normal_(mode="fan_out") */\nint x;\n' > "$tmp/tree/src/nn/nn-b.c"
  printf '<property name="label" translatable="yes">Go</property>\n' > "$tmp/tree/ui/xl-a.ui"
  printf '[Desktop Entry]\nName=X\n' > "$tmp/tree/data/org.example.X.desktop.in"
  printf '%s\n' '# comment' data/org.example.X.desktop.in src/gui/xl-a.c ui/xl-a.ui \
    > "$tmp/tree/po/POTFILES.in"
}

expect ()
{
  local want=$1 what=$2 grep_for=${3:-}
  local out rc

  out=$(bash "$check" "$tmp/tree" 2>&1)
  rc=$?
  n=$((n + 1))
  if [ "$want" = pass ] && [ $rc -eq 0 ]; then
    echo "ok $n - $what: passes"
  elif [ "$want" = fail ] && [ $rc -ne 0 ] && { [ -z "$grep_for" ] || grep -q -- "$grep_for" <<<"$out"; }; then
    echo "ok $n - $what: fails, naming $grep_for"
  else
    echo "not ok $n - $what: expected it to $want (exit status $rc)"
    sed 's/^/# /' <<<"$out"
    status=1
  fi
}

make_tree
expect pass "a complete, sorted list"

make_tree
printf 'const char *t = N_("Close");\n' > "$tmp/tree/src/gui/xl-new.c"
expect fail "a new source with N_() left out" "not ok.*src/gui/xl-new.c"

make_tree
printf 'g_print (ngettext ("%%d film", "%%d films", n), n);\n' > "$tmp/tree/src/gui/xl-plural.c"
expect fail "a new source with ngettext() left out" "src/gui/xl-plural.c"

make_tree
printf '<property name="title" translatable="yes">Results</property>\n' > "$tmp/tree/ui/xl-results-page.ui"
expect fail "a new template left out" "ui/xl-results-page.ui"

make_tree
printf '<schemalist/>\n' > "$tmp/tree/data/org.example.X.gschema.xml"
expect fail "the settings schema left out" "data/org.example.X.gschema.xml"

make_tree
echo "src/gui/xl-gone.c" >> "$tmp/tree/po/POTFILES.in"
expect fail "a listed file that does not exist" "src/gui/xl-gone.c"

make_tree
printf '%s\n' ui/xl-a.ui src/gui/xl-a.c data/org.example.X.desktop.in > "$tmp/tree/po/POTFILES.in"
expect fail "an unsorted list" "sorted"

echo "1..$n"
exit $status
