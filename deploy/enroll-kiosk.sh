#!/bin/sh
# enroll-kiosk.sh creates a kiosk token on a hall server and writes the
# enrolment file the kiosk reads with `kiosk -enroll FILE`:
#
#   {"server": "https://hall.example:8080", "token": "hq_…", "ca_pem": "-----BEGIN CERTIFICATE-----…"}
#
# Usage: enroll-kiosk.sh [-c CA_PEM_FILE] [-o OUT_FILE] SERVER_URL KIOSK_NAME
#
# The admin (or manager) token is read from $HALLQ_ADMIN_TOKEN, or from the
# file named by $HALLQ_ADMIN_TOKEN_FILE, never from the command line (it
# would show in ps and the shell history). -c adds the CA certificate that
# signed the server's TLS certificate (when TLS terminates in front of the
# hall server with a private CA); curl uses it too. The output file
# (default KIOSK_NAME.enrol.json) holds a secret: it is created mode 0600;
# carry it to the kiosk and delete it afterwards.
#
# Needs curl and jq.
set -eu

usage() {
	echo "usage: $0 [-c CA_PEM_FILE] [-o OUT_FILE] SERVER_URL KIOSK_NAME" >&2
	exit 2
}

ca=""
out=""
while getopts c:o: opt; do
	case $opt in
	c) ca=$OPTARG ;;
	o) out=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || usage
server=${1%/}
name=$2
out=${out:-$name.enrol.json}

for tool in curl jq; do
	command -v "$tool" >/dev/null || { echo "$0: $tool is required" >&2; exit 1; }
done
token=${HALLQ_ADMIN_TOKEN:-}
if [ -z "$token" ] && [ -n "${HALLQ_ADMIN_TOKEN_FILE:-}" ]; then
	token=$(cat "$HALLQ_ADMIN_TOKEN_FILE")
fi
[ -n "$token" ] || { echo "$0: set HALLQ_ADMIN_TOKEN or HALLQ_ADMIN_TOKEN_FILE" >&2; exit 1; }
[ -z "$ca" ] || [ -r "$ca" ] || { echo "$0: cannot read $ca" >&2; exit 1; }
[ ! -e "$out" ] || { echo "$0: $out exists; not overwriting" >&2; exit 1; }

umask 077
body=$(mktemp)
trap 'rm -f "$body"' EXIT

# The bearer header goes through a file descriptor, not argv.
status=$(printf 'header = "Authorization: Bearer %s"\n' "$token" |
	curl --silent --show-error --config - ${ca:+--cacert "$ca"} \
		--output "$body" --write-out '%{http_code}' \
		--header 'Content-Type: application/json' \
		--data "$(jq -cn --arg name "$name" '{name: $name, role: "kiosk"}')" \
		"$server/api/v1/tokens")
if [ "$status" != 201 ]; then
	echo "$0: POST $server/api/v1/tokens: HTTP $status: $(cat "$body")" >&2
	exit 1
fi

ca_pem=""
[ -z "$ca" ] || ca_pem=$(cat "$ca")
jq --arg server "$server" --arg ca_pem "$ca_pem" \
	'{server: $server, token: .token} + (if $ca_pem == "" then {} else {ca_pem: $ca_pem} end)' \
	"$body" >"$out"
echo "kiosk $name enrolled: token id $(jq -r .id "$body"), enrolment file $out"
