#!/usr/bin/env bash
# Checks that every translation in po/LINGUAS is complete for the sources as
# they are now: extracts a fresh template from po/POTFILES.in with the same
# keywords as meson's glib preset, merges each LANG.po with it, and fails on
# any message left untranslated or fuzzy, or a format string that does not
# match (msgfmt --check). Prints TAP.
set -uo pipefail

srcroot=${1:?usage: check-translation.sh SOURCE_ROOT}
n=0
status=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); echo "not ok $n - $1"; status=1; }

cd "$srcroot" || exit 1

# meson's i18n.gettext(preset: 'glib'), minus what only matters to meson.
if xgettext --package-name=xraylab --from-code=UTF-8 --add-comments \
     --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 \
     --keyword=g_dcgettext:2 --keyword=g_dngettext:2,3 --keyword=g_dpgettext2:2c,3 \
     --flag=N_:1:pass-c-format --flag=C_:2:pass-c-format --flag=NC_:2:pass-c-format \
     --flag=g_dngettext:2:pass-c-format --flag=g_strdup_printf:1:c-format \
     --flag=g_string_printf:2:c-format --flag=g_string_append_printf:2:c-format \
     --flag=g_error_new:3:c-format --flag=g_set_error:4:c-format \
     --files-from=po/POTFILES.in --output="$tmp/xraylab.pot" 2>"$tmp/xgettext.log"; then
  ok "xgettext extracts the template from po/POTFILES.in"
else
  not_ok "xgettext extracts the template from po/POTFILES.in"
  sed 's/^/# /' "$tmp/xgettext.log"
  echo "1..$n"
  exit 1
fi

total=$(msgattrib --no-obsolete "$tmp/xraylab.pot" | grep -c '^msgid ')
echo "# the template has $((total - 1)) messages"

mapfile -t languages < <(grep -v -e '^#' -e '^[[:space:]]*$' po/LINGUAS)
if [ ${#languages[@]} -gt 0 ]; then
  ok "po/LINGUAS names ${languages[*]}"
else
  not_ok "po/LINGUAS names at least one language"
fi

for lang in "${languages[@]}"; do
  po="po/$lang.po"
  if ! msgfmt --check --output-file=/dev/null "$po" 2>"$tmp/check.log"; then
    not_ok "$po passes msgfmt --check"
    sed 's/^/# /' "$tmp/check.log"
    continue
  fi
  ok "$po passes msgfmt --check"

  msgmerge --quiet --no-fuzzy-matching --output-file="$tmp/$lang.po" "$po" "$tmp/xraylab.pot"
  msgfmt --check --statistics --output-file=/dev/null "$tmp/$lang.po" 2>"$tmp/stats.log"
  stats=$(cat "$tmp/stats.log")
  if grep -q -e untranslated -e fuzzy <<<"$stats"; then
    not_ok "$po covers every message of the sources: $stats"
    msgattrib --only-fuzzy --no-obsolete "$tmp/$lang.po" | grep -e '^#:' -e '^msgid ' \
      | grep -v '^msgid ""$' | head -40 | sed 's/^/# fuzzy: /'
    msgattrib --untranslated --no-obsolete "$tmp/$lang.po" | grep -e '^#:' -e '^msgid ' \
      | grep -v '^msgid ""$' | head -40 | sed 's/^/# untranslated: /'
    echo "# update it with: ninja -C BUILD xraylab-update-po, then translate"
  else
    ok "$po covers every message of the sources: $stats"
  fi
done

echo "1..$n"
exit $status
