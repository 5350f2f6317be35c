#!/usr/bin/env bash
# Installs wavemq from this checkout as a systemd service.
#
#   systemd/install.sh [--hardened] [--link] [--config FILE] [--dry-run]
#
# 1. Installs the package globally: `npm pack` here, then
#    `npm install --global` of that tarball (dependencies come from the
#    registry; cbor-extract may compile). With --link, `npm link` instead,
#    which uses this checkout and its node_modules in place.
# 2. Makes /usr/local/bin/wavemq run it (the path in the unit file).
# 3. Copies a config to /etc/wavemq/wavemq.toml only when none exists
#    (default: systemd/wavemq.toml, a site router with no designated
#    router).
# 4. Installs wavemq.service, or with --hardened wavemq-hardened.service
#    (runs as the system user `wavemq`, created if missing), as
#    /etc/systemd/system/wavemq.service; then daemon-reload and
#    enable --now.
# --dry-run prints what would be done and changes nothing.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN_PATH=/usr/local/bin/wavemq
CONFIG_DIR=/etc/wavemq
CONFIG_PATH=$CONFIG_DIR/wavemq.toml
UNIT_PATH=/etc/systemd/system/wavemq.service
SERVICE_USER=wavemq
WRAPPER_MARK='# written by wavemq install.sh'

hardened=0
link=0
dry_run=0
config_src=$REPO/systemd/wavemq.toml

usage() {
  sed -n '2,18s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

say() { printf 'wavemq install: %s\n' "$*"; }
die() { say "$*" >&2; exit 1; }

# Runs a command, or prints it under --dry-run.
run() {
  if [ "$dry_run" = 1 ]; then
    printf 'would run:'
    printf ' %q' "$@"
    printf '\n'
  else
    "$@"
  fi
}

# Runs a command in a directory, or prints it under --dry-run.
run_in() {
  local dir=$1
  shift
  if [ "$dry_run" = 1 ]; then
    printf 'would run (in %q):' "$dir"
    printf ' %q' "$@"
    printf '\n'
  else
    (cd "$dir" && "$@")
  fi
}

# Writes stdin to a file with a mode, or prints it under --dry-run.
write_file() {
  local path=$1 mode=$2
  if [ "$dry_run" = 1 ]; then
    say "would write $path (mode $mode):"
    sed 's/^/    /'
  else
    local tmp
    tmp=$(mktemp "$path.XXXXXX")
    cat >"$tmp"
    chmod "$mode" "$tmp"
    mv -f "$tmp" "$path"
  fi
}

parse_args() {
  while [ $# -gt 0 ]; do
    case $1 in
      --hardened) hardened=1 ;;
      --link) link=1 ;;
      --dry-run) dry_run=1 ;;
      --config)
        [ $# -ge 2 ] || die '--config needs a file'
        config_src=$2
        shift ;;
      -h|--help) usage; exit 0 ;;
      *) usage >&2; die "unknown option: $1" ;;
    esac
    shift
  done
}

preflight() {
  command -v node >/dev/null || die 'node (>= 20) is not installed'
  command -v npm >/dev/null || die 'npm is not installed'
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || die "node $major is too old; wavemq needs >= 20"
  [ -f "$config_src" ] || die "no config file at $config_src"
  if [ "$dry_run" = 0 ]; then
    [ "$(id -u)" = 0 ] || die 'run as root (or try --dry-run)'
    command -v systemctl >/dev/null || die 'systemctl not found'
  fi
  if [ "$hardened" = 1 ] && [ "$link" = 1 ]; then
    case $REPO in
      /home/*|/root/*|/run/user/*)
        die "--link with --hardened: ProtectHome= hides $REPO" \
          'from the service; install without --link' ;;
    esac
  fi
}

install_package() {
  if [ "$link" = 1 ]; then
    say "linking the checkout $REPO globally"
    run_in "$REPO" npm link --no-fund --no-audit
    return
  fi
  local version tmp=/tmp/wavemq-pack.XXXXXX
  version=$(node -p "require('$REPO/package.json').version")
  say "installing wavemq $version from $REPO"
  if [ "$dry_run" = 0 ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
  fi
  run npm pack --silent --pack-destination "$tmp" "$REPO"
  run npm install --global --omit=dev --no-fund --no-audit \
    "$tmp/wavemq-$version.tgz"
}

# The unit runs /usr/local/bin/wavemq; npm puts the command under its own
# prefix, which is /usr/local only on some systems.
install_bin() {
  local npm_bin
  npm_bin="$(npm prefix --global)/bin/wavemq"
  if [ "$npm_bin" = "$BIN_PATH" ]; then
    say "$BIN_PATH is installed by npm"
    return
  fi
  if [ -e "$BIN_PATH" ] && ! grep -qF "$WRAPPER_MARK" "$BIN_PATH"; then
    local old
    old="$BIN_PATH.old-$(date +%Y%m%d%H%M%S)"
    say "moving the existing $BIN_PATH aside to $old"
    run mv "$BIN_PATH" "$old"
  fi
  write_file "$BIN_PATH" 0755 <<SCRIPT
#!/bin/sh
$WRAPPER_MARK
exec "$npm_bin" "\$@"
SCRIPT
}

ensure_user() {
  if getent passwd "$SERVICE_USER" >/dev/null; then
    say "user $SERVICE_USER exists"
    return
  fi
  run useradd --system --user-group --no-create-home \
    --home-dir /var/lib/wavemq --shell /usr/sbin/nologin "$SERVICE_USER"
}

# Plain: root runs the service. Hardened: group wavemq reads the config
# and may create the router entity file in /etc/wavemq.
install_config() {
  if [ "$hardened" = 1 ]; then
    run install -d -m 0770 -o root -g "$SERVICE_USER" "$CONFIG_DIR"
    run chgrp "$SERVICE_USER" "$CONFIG_DIR"
    run chmod 0770 "$CONFIG_DIR"
  else
    run install -d -m 0755 "$CONFIG_DIR"
  fi
  if [ -e "$CONFIG_PATH" ]; then
    say "keeping the existing $CONFIG_PATH"
  elif [ "$hardened" = 1 ]; then
    run install -m 0640 -o root -g "$SERVICE_USER" "$config_src" "$CONFIG_PATH"
  else
    run install -m 0644 "$config_src" "$CONFIG_PATH"
  fi
  if [ "$hardened" = 1 ]; then
    local f
    for f in "$CONFIG_PATH" "$CONFIG_DIR/router.ent"; do
      [ -e "$f" ] || continue
      run chgrp "$SERVICE_USER" "$f"
      run chmod g+r "$f"
    done
  fi
}

install_unit() {
  local unit=wavemq.service
  [ "$hardened" = 1 ] && unit=wavemq-hardened.service
  say "unit $unit -> $UNIT_PATH, config $CONFIG_PATH"
  run install -m 0644 "$REPO/systemd/$unit" "$UNIT_PATH"
  run systemctl daemon-reload
  run systemctl enable --now wavemq.service
}

main() {
  parse_args "$@"
  preflight
  [ "$dry_run" = 1 ] && say 'dry run: nothing will be changed'
  install_package
  install_bin
  [ "$hardened" = 1 ] && ensure_user
  install_config
  install_unit
  if [ "$dry_run" = 0 ]; then
    say 'done; follow the log with: journalctl -u wavemq -f'
  fi
}

main "$@"
