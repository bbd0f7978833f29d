#!/bin/sh
# deps.sh installs the Debian packages that building and testing hallq need.
# Idempotent: it asks apt only for what is missing, so a second run takes
# well under a second.
set -eu

PKGS="gcc pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev
libxinerama-dev libxi-dev libxxf86vm-dev chromium xvfb xauth systemd espeak-ng
qemu-user-static"
# espeak-ng is the kiosk's offline voice (kiosk/voice; its test writes a WAV).
# qemu-user-static runs the linux/arm64 and linux/loong64 release binaries in
# the deploy tests (qemu-aarch64-static, qemu-loongarch64-static; Debian 12's
# qemu 7.2 has both).
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

# The Node conformance client (examples/conformance) needs its one package
# (ws, pinned by package-lock.json); without node its test skips.
conf="$(dirname "$0")/../examples/conformance"
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && [ ! -d "$conf/node_modules/ws" ]; then
	echo "deps: npm ci in examples/conformance"
	(cd "$conf" && npm ci --no-audit --no-fund --silent)
fi
