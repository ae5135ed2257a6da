#!/usr/bin/env bash
# Installs the build into a temporary DESTDIR and checks what lands there:
# the programs, which start (--version), the desktop entry, metainfo and
# settings schema, which validate where they are installed, the icons, and
# every translation's catalogue. Prints TAP.
set -uo pipefail

meson=${1:?usage: check-install.sh MESON BUILD_ROOT PREFIX}
build_root=${2:?}
prefix=${3:?}
app_id=org.xraylab.XRayLab
n=0
status=0
destdir=$(mktemp -d)
trap 'rm -rf "$destdir"' EXIT

ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); echo "not ok $n - $1"; status=1; }
check () { local what=$1; shift; if "$@" >"$destdir.log" 2>&1; then ok "$what"; else not_ok "$what"; sed 's/^/# /' "$destdir.log"; fi; rm -f "$destdir.log"; }

# --no-rebuild: meson test has built everything, and another ninja must not
# run in the build tree meanwhile.
if $meson install -C "$build_root" --destdir "$destdir" --no-rebuild >"$destdir.log" 2>&1; then
  ok "meson install --destdir"
else
  not_ok "meson install --destdir"
  sed 's/^/# /' "$destdir.log"
  echo "1..$n"
  exit 1
fi
rm -f "$destdir.log"

root=$destdir$prefix
echo "# installed files:"
(cd "$destdir" && find . -type f | LC_ALL=C sort | sed 's/^\./# /')

for file in \
  bin/xraylab \
  bin/xraylab-cli \
  share/applications/$app_id.desktop \
  share/metainfo/$app_id.metainfo.xml \
  share/glib-2.0/schemas/$app_id.gschema.xml \
  share/icons/hicolor/scalable/apps/$app_id.svg \
  share/icons/hicolor/symbolic/apps/$app_id-symbolic.svg
do
  check "$file is installed" test -s "$root/$file"
done

# One catalogue a language in po/LINGUAS.
srcroot=$(cd "$(dirname "$0")/../.." && pwd)
while read -r lang; do
  case "$lang" in ''|'#'*) continue ;; esac
  check "share/locale/$lang/LC_MESSAGES/xraylab.mo is installed" \
    test -s "$root/share/locale/$lang/LC_MESSAGES/xraylab.mo"
done < "$srcroot/po/LINGUAS"

check "the installed xraylab starts (--version)" \
  sh -c "'$root/bin/xraylab' --version | grep -q '^xraylab '"
check "the installed xraylab-cli starts (--version)" \
  sh -c "'$root/bin/xraylab-cli' --version | grep -q xraylab"
check "the installed desktop entry starts the installed program" \
  grep -qx 'Exec=xraylab' "$root/share/applications/$app_id.desktop"

if command -v desktop-file-validate >/dev/null; then
  check "the installed desktop entry validates" \
    desktop-file-validate "$root/share/applications/$app_id.desktop"
fi
if command -v appstreamcli >/dev/null; then
  check "the installed metainfo validates" \
    appstreamcli validate --no-net "$root/share/metainfo/$app_id.metainfo.xml"
fi
check "the installed schema compiles (--strict)" \
  glib-compile-schemas --strict --dry-run "$root/share/glib-2.0/schemas"

echo "1..$n"
exit $status
