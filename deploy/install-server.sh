#!/bin/sh
# install-server.sh installs (or upgrades) the hallq queue server on a
# systemd Linux machine. Run it as root from a checkout or an unpacked
# release, with the binary to install:
#
#   sudo deploy/install-server.sh dist/queue-server-linux-amd64
#
# Idempotent: a second run changes nothing but the binary and the unit, then
# restarts the service. It
#   - creates the system user and group "hallq" (no login, no home),
#   - installs the binary as /usr/local/bin/queue-server,
#   - creates /etc/hallq with queue-server.env and hall.json (the sample hall)
#     unless they exist — edit both, then run this again,
#   - checks the hall configuration (-check-config) before touching the
#     running service,
#   - on an upgrade, stops the service and keeps a copy of the data file as
#     /var/lib/hallq/hall.db.before-upgrade,
#   - installs the systemd unit, enables and (re)starts it.
# See docs/operations.md.
set -eu

die() {
	echo "install-server: $*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: $0 QUEUE_SERVER_BINARY"
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
unit=$here/systemd/hallq-queue-server.service
sample=$here/../queue-server/hall/sample-hall.json

[ "$(id -u)" -eq 0 ] || die "run as root"
[ -x "$bin" ] || die "$bin is not an executable"
[ -r "$unit" ] || die "missing $unit"
"$bin" -version >/dev/null || die "$bin does not run on this machine (wrong architecture?)"

if ! getent group hallq >/dev/null; then
	groupadd --system hallq
fi
if ! id hallq >/dev/null 2>&1; then
	useradd --system --gid hallq --home-dir /var/lib/hallq --no-create-home \
		--shell /usr/sbin/nologin --comment "hallq queue server" hallq
fi

install -d -m 0750 -o root -g hallq /etc/hallq
if [ ! -e /etc/hallq/queue-server.env ]; then
	cat >/etc/hallq/queue-server.env <<'ENV'
# hallq queue server settings (read by hallq-queue-server.service).
# Every flag has an HALLQ_* twin; see docs/config.md and docs/operations.md.
# After a change: systemctl restart hallq-queue-server

# Listen on every interface, port 8080 (kiosks, boards and consoles connect here).
HALLQ_ADDR=0.0.0.0:8080
# The hall: services, windows, hours. Check edits with
#   queue-server -check-config /etc/hallq/hall.json
HALLQ_CONFIG=/etc/hallq/hall.json

# Forwarding to the central platform: NATS JetStream ...
#HALLQ_NATS=nats://central.example:4222
#HALLQ_NATS_CREDS=/etc/hallq/central.creds
# ... or an HTTPS sink: the central's ingest for this hall's id, the hex HMAC
# key in the file (the same as the hall's entry in the central's -hall-secrets).
#HALLQ_HTTPS_SINK=https://central.example/api/v1/halls/420102-01
#HALLQ_HTTPS_SINK_SECRET_FILE=/etc/hallq/sink.key
# The province's citizen-key secret (hex), so online bookings match at the kiosk.
#HALLQ_CITIZEN_KEY_FILE=/etc/hallq/citizen.key
ENV
	chmod 0640 /etc/hallq/queue-server.env
	chgrp hallq /etc/hallq/queue-server.env
	echo "install-server: wrote /etc/hallq/queue-server.env (edit it)"
fi
if [ ! -e /etc/hallq/hall.json ]; then
	[ -r "$sample" ] || die "no /etc/hallq/hall.json and no sample at $sample"
	install -m 0640 -o root -g hallq "$sample" /etc/hallq/hall.json
	echo "install-server: wrote the sample hall to /etc/hallq/hall.json (edit it)"
fi

# The configuration the service will load, checked by the new binary.
config=$(sed -n 's/^HALLQ_CONFIG=//p' /etc/hallq/queue-server.env | tail -n 1)
config=${config:-/etc/hallq/hall.json}
"$bin" -check-config "$config" || die "fix $config, then run this again"

if systemctl is-active --quiet hallq-queue-server; then
	systemctl stop hallq-queue-server
	if [ -e /var/lib/hallq/hall.db ]; then
		cp -p /var/lib/hallq/hall.db /var/lib/hallq/hall.db.before-upgrade
		echo "install-server: kept /var/lib/hallq/hall.db.before-upgrade"
	fi
fi
install -m 0755 "$bin" /usr/local/bin/queue-server.new
mv -f /usr/local/bin/queue-server.new /usr/local/bin/queue-server
install -m 0644 "$unit" /etc/systemd/system/hallq-queue-server.service
systemctl daemon-reload
systemctl enable hallq-queue-server >/dev/null
systemctl restart hallq-queue-server

echo "install-server: $(/usr/local/bin/queue-server -version) running"
echo "  status:  systemctl status hallq-queue-server"
echo "  logs:    journalctl -u hallq-queue-server -o cat"
echo "  admin token: /var/lib/hallq/bootstrap-token (written at the first start)"
