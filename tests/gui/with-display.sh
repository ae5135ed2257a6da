#!/bin/sh
# Runs a GUI test on the display it was given, or on a private Xvfb when there
# is none (a server, CI, plain `meson test` over ssh).
if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  exec "$@"
fi

if ! command -v xvfb-run >/dev/null 2>&1; then
  echo "with-display.sh: no DISPLAY and no xvfb-run (install xvfb and xauth)" >&2
  exit 1
fi

exec xvfb-run -a -s "-screen 0 1600x1200x24 -nolisten tcp" "$@"
