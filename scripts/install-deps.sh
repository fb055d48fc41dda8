#!/usr/bin/env bash
# Installs everything libworkflow needs to build, test and run, from
# Debian 12 packages. Run as root, or as a user with sudo.
set -euo pipefail
PKGS=(build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
      libjansson-dev libyaml-dev libpcre2-dev libssl-dev libcriterion-dev
      libsqlite3-dev sqlite3 libpq-dev postgresql
      python3 valgrind
      python3-pytest mypy python3-pip python3-setuptools python3-wheel
      libcurl4-openssl-dev zlib1g-dev python3-aiosmtpd python3-boto3
      libmicrohttpd-dev libjemalloc-dev wrk awscli libnss-myhostname
      libgraphviz-dev libgvc6 libcgraph6 chromium)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
