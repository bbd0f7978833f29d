#!/bin/sh
# deps.sh installs the Debian packages that building and testing hallq need.
# Idempotent: it asks apt only for what is missing, so a second run takes
# well under a second.
set -eu

PKGS="gcc pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev
libxinerama-dev libxi-dev libxxf86vm-dev chromium xvfb xauth systemd espeak-ng"
# `deps.sh dist` adds what release builds need: mingw-w64 for the Windows kiosk.
if [ "${1:-}" = dist ]; then
	PKGS="$PKGS gcc-mingw-w64-x86-64"
fi

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	echo "deps: installing$missing"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

go mod download
