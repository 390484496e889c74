#!/usr/bin/env bash
# Make sure a PostgreSQL server answers on 127.0.0.1:5432 for the test suite.
# On this project's machines one is already running; on a bare Debian machine we install and start
# one from Debian's packages, with trust authentication on loopback (test use only).
set -euo pipefail

HOST=127.0.0.1
PORT=${PGPORT:-5432}

reachable() {
  python3 - "$HOST" "$PORT" <<'PY'
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()
except OSError:
    sys.exit(1)
PY
}

reachable && exit 0
echo "PostgreSQL is not answering on $HOST:$PORT; installing/starting it from Debian packages" >&2

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi
VERSION=$(ls /etc/postgresql | sort -V | tail -n 1)
HBA=/etc/postgresql/$VERSION/main/pg_hba.conf
if ! $SUDO grep -q '^host all all 127.0.0.1/32 trust' "$HBA"; then
  $SUDO sed -i '1i host all all 127.0.0.1/32 trust' "$HBA"
fi
$SUDO pg_ctlcluster --skip-systemctl-redirect "$VERSION" main start || \
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$VERSION" main reload

for _ in $(seq 1 60); do
  reachable && exit 0
  sleep 0.5
done
echo "PostgreSQL did not come up on $HOST:$PORT" >&2
exit 1
