#!/usr/bin/env bash
# Debian packages the test suite drives for real: Chromium (browser tests, via Playwright) and
# OpenSSH's sshd (fleet provisioning over SSH, against a loopback server the tests start),
# libseccomp (the skill sandbox's syscall filter), setpriv (tests/sandbox runs as a non-root user)
# nginx (the load-balancer test runs the shipped deploy/nginx/talkative.conf; the package's own
# service is not started: tests run their own nginx on a free port) and Prometheus's promtool (the
# shipped alert rules are checked and unit-tested with it; the Prometheus server is not started).
# Installed only when missing; nothing else on the machine is changed.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)
ldconfig -p 2>/dev/null | grep -q 'libseccomp\.so\.2' || missing+=(libseccomp2)
command -v setpriv >/dev/null 2>&1 || missing+=(util-linux)
[ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
[ -x /usr/bin/python3.11 ] || missing+=(python3.11)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing Debian packages needed by the tests: ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
